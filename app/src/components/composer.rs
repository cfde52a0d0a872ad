//! The message input: Enter or the button sends; an empty message is refused with a hint.

use crate::connection::RoomLink;
use crate::names::{MessageText, NameError};
use leptos::{ev::SubmitEvent, prelude::*};

#[component]
pub fn Composer(link: RoomLink) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let hint = RwSignal::new(None::<String>);
    let input = NodeRef::<leptos::html::Input>::new();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let outcome = match MessageText::parse(&draft.get_untracked()) {
            Err(NameError::Empty { .. }) => Err("Type a message first.".to_owned()),
            Err(err) => Err(format!("Not sent: {err}.")),
            Ok(text) => link.send(text).map_err(|full| full.to_string()),
        };
        match outcome {
            Ok(()) => {
                draft.set(String::new());
                hint.set(None);
            }
            Err(why) => hint.set(Some(why)),
        }
        if let Some(el) = input.get() {
            let _ = el.focus();
        }
    };
    view! {
        <form class="composer" on:submit=on_submit>
            <label for="message" class="visually-hidden">"Message"</label>
            <input
                id="message"
                name="text"
                type="text"
                autocomplete="off"
                placeholder="Write a message…"
                node_ref=input
                prop:value=draft
                on:input=move |ev| {
                    draft.set(event_target_value(&ev));
                    hint.set(None);
                }
            />
            <button type="submit">"Send"</button>
            <p class="hint" role="alert">{move || hint.get()}</p>
        </form>
    }
}
