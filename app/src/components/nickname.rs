//! Choosing a nickname: checked here for a quick hint, decided by the server on reconnect.

use crate::connection::RoomLink;
use crate::names::Nickname;
use leptos::{ev::SubmitEvent, prelude::*};

#[component]
pub fn NicknameForm(link: RoomLink) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let hint = RwSignal::new(None::<String>);
    // Show the name the server bound, once it says.
    Effect::new(move |_| {
        let me = link.me.get();
        if !me.is_empty() {
            draft.set(me);
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match Nickname::parse(&draft.get_untracked()) {
            Err(err) => hint.set(Some(format!("Not changed: {err}."))),
            Ok(name) => {
                hint.set(None);
                #[cfg(feature = "hydrate")]
                crate::client::storage::save_nickname(name.as_str());
                link.rename(name.to_string());
            }
        }
    };
    view! {
        <form class="nickname" on:submit=on_submit>
            <label for="nickname">"Nickname"</label>
            <input
                id="nickname"
                name="nickname"
                type="text"
                autocomplete="nickname"
                maxlength=Nickname::MAX_LEN
                prop:value=draft
                on:input=move |ev| draft.set(event_target_value(&ev))
            />
            <button type="submit">"Change"</button>
            <p class="hint" role="alert">{move || hint.get()}</p>
        </form>
    }
}
