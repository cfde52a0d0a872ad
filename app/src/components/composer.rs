//! The message form. Without JavaScript it posts to a server function and the page comes back
//! with the message in it; with JavaScript the same form sends over the WebSocket: Enter or the
//! button sends, an empty message is refused with a hint, typing is announced to the room.

use crate::api::{url_error, PostMessage};
use crate::connection::RoomLink;
use crate::names::{MessageText, NameError};
use leptos::server_fn::ServerFn;
use leptos::{ev::SubmitEvent, prelude::*};

/// The id of the message this form posts without JavaScript, fresh each time the page is
/// rendered: a form sent twice (a double click, a resubmission after going back) is stored once.
/// (With JavaScript the form sends over the WebSocket, with ids of its own.)
fn form_message_id() -> String {
    #[cfg(feature = "ssr")]
    {
        crate::names::ClientId::from_random([fastrand::u32(..), fastrand::u32(..), fastrand::u32(..)])
            .to_string()
    }
    #[cfg(not(feature = "ssr"))]
    {
        String::new()
    }
}

#[component]
pub fn Composer(link: RoomLink) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let from_url = url_error(PostMessage::PATH);
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
    let room = link.room.get_value().to_string();
    view! {
        <form class="composer" method="post" action=PostMessage::url() on:submit=on_submit>
            <input type="hidden" name="room" value=room/>
            <input type="hidden" name="id" value=form_message_id()/>
            <label for="message" class="visually-hidden">"Message"</label>
            <input
                id="message"
                name="text"
                type="text"
                autocomplete="off"
                placeholder="Write a message…"
                aria-describedby="message-hint"
                node_ref=input
                prop:value=draft
                on:input=move |ev| {
                    draft.set(event_target_value(&ev));
                    hint.set(None);
                    link.typing();
                }
            />
            <button type="submit">"Send"</button>
            <p class="hint" id="message-hint" role="alert">{move || hint.get().or_else(|| from_url.get())}</p>
        </form>
    }
}
