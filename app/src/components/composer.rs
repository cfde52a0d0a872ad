//! The message form. Without JavaScript it posts to a server function and the page comes back
//! with the message in it; with JavaScript the same form sends over the WebSocket: Enter or the
//! button sends, an empty message is refused with a hint, typing is announced to the room. A
//! reply shows what it answers above the field until it is sent, or Escape (or its button) gives
//! it up.

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
    let focus = move || {
        if let Some(el) = input.get_untracked() {
            let _ = el.focus();
        }
    };
    // Asked to answer a message, the reader is taken to the field to write the answer.
    Effect::new(move |_| {
        if link.replying.with(Option::is_some) {
            focus();
        }
    });
    let cancel_reply = move || {
        link.replying.set(None);
        focus();
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && link.replying.with_untracked(Option::is_some) {
            ev.prevent_default();
            cancel_reply();
        }
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let reply_to = link.replying.with_untracked(|r| r.as_ref().map(|q| q.id));
        let outcome = match MessageText::parse(&draft.get_untracked()) {
            Err(NameError::Empty { .. }) => Err("Type a message first.".to_owned()),
            Err(err) => Err(format!("Not sent: {err}.")),
            Ok(text) => link.send(text, reply_to).map_err(|full| full.to_string()),
        };
        match outcome {
            Ok(()) => {
                draft.set(String::new());
                hint.set(None);
                link.replying.set(None);
            }
            Err(why) => hint.set(Some(why)),
        }
        if let Some(el) = input.get() {
            let _ = el.focus();
        }
    };
    let room = link.room.get_value().to_string();
    let replying = move || {
        link.replying.get().map(|quote| {
            let who = quote.author.map(|a| a.to_string()).unwrap_or_default();
            view! {
                <div class="replying" role="group" aria-label="Replying">
                    <span>"Replying to "<b>{who}</b>": "<span class="quote-text">{quote.excerpt}</span></span>
                    <button type="button" aria-label="Cancel the reply" on:click=move |_| cancel_reply()>"×"</button>
                </div>
            }
        })
    };
    view! {
        <form class="composer" method="post" action=PostMessage::url() on:submit=on_submit on:keydown=on_keydown>
            {replying}
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
