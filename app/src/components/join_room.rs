//! Joining (or creating: a room exists once someone is in it) a room by name. With JavaScript
//! the name is checked here and the page navigates; without, the form goes to `/join`.

use super::room_list::room_href;
use crate::names::RoomName;
use leptos::{ev::SubmitEvent, prelude::*};
use leptos_router::hooks::use_navigate;

/// The message for a room name that cannot be used.
pub fn bad_room_name(err: &crate::names::NameError) -> String {
    format!("That room name cannot be used: {err}.")
}

#[component]
pub fn JoinRoomForm(
    /// The id of the name field (and the prefix of its hint's), unique in the page.
    field_id: &'static str,
    #[prop(optional)] initial_error: Option<String>,
) -> impl IntoView {
    let hint_id = format!("{field_id}-hint");
    let hint = RwSignal::new(initial_error);
    let draft = RwSignal::new(String::new());
    let navigate = use_navigate();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match RoomName::parse(draft.get_untracked().trim()) {
            Ok(room) => {
                hint.set(None);
                draft.set(String::new());
                navigate(&room_href(&room), Default::default());
            }
            Err(err) => hint.set(Some(bad_room_name(&err))),
        }
    };
    view! {
        <form class="join-room" action="/join" method="get" on:submit=on_submit>
            <label for=field_id>"Join or create a room"</label>
            <div class="field-row">
                <input
                    id=field_id
                    name="room"
                    type="text"
                    placeholder="room-name"
                    autocomplete="off"
                    autocapitalize="none"
                    spellcheck="false"
                    aria-describedby=hint_id.clone()
                    prop:value=draft
                    on:input=move |ev| {
                        draft.set(event_target_value(&ev));
                        hint.set(None);
                    }
                />
                <button type="submit">"Go"</button>
            </div>
            <p class="hint" id=hint_id role="alert">{move || hint.get()}</p>
        </form>
    }
}
