//! The message form. Without JavaScript it posts to a server function and the page comes back
//! with the message in it; with JavaScript the same form sends over the WebSocket: Enter or the
//! button sends, Shift+Enter breaks the line (the field grows with its lines, up to a few), an
//! empty message is refused with a hint, typing is announced to the room. A
//! reply shows what it answers above the field until it is sent, or Escape (or its button) gives
//! it up.

use crate::api::{url_error, PostMessage};
use crate::components::completion::{
    byte_offset, utf16_offset, Completion, KeyOutcome, MentionOptions, LIST_ID,
};
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
    let input = NodeRef::<leptos::html::Textarea>::new();
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
    let send = move || {
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
        focus();
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        send();
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && link.replying.with_untracked(Option::is_some) {
            ev.prevent_default();
            cancel_reply();
        }
    };
    let completion = Completion::new(link);
    // Where the caret is in the draft (bytes).
    let caret = move || {
        let at = input.get_untracked().and_then(|el| el.selection_start().ok().flatten())?;
        draft.with_untracked(|d| byte_offset(d, at))
    };
    let recomplete = move || match caret() {
        Some(at) => draft.with_untracked(|d| completion.update(d, at)),
        None => completion.close(),
    };
    // A name taken: the field shows the completed text, the caret after the name.
    let completed = move |text: String, at: usize| {
        if let Some(el) = input.get_untracked() {
            el.set_value(&text);
            let unit = utf16_offset(&text, at);
            let _ = el.set_selection_range(unit, unit);
        }
        draft.set(text);
    };
    // In the field, Enter sends; Shift+Enter is a new line, and so is Enter while an input method
    // composes. While names are offered, the keys choose among them first.
    let on_field_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.is_composing() {
            return;
        }
        let key = ev.key();
        let choosing = if ev.shift_key() {
            KeyOutcome::Ignored
        } else {
            draft.with_untracked(|d| completion.key(&key, d))
        };
        match choosing {
            KeyOutcome::Handled => {
                // Escape closes the list only, not the reply too.
                ev.prevent_default();
                ev.stop_propagation();
            }
            KeyOutcome::Completed(text, at) => {
                ev.prevent_default();
                completed(text, at);
            }
            KeyOutcome::Ignored if key == "Enter" && !ev.shift_key() => {
                ev.prevent_default();
                send();
            }
            KeyOutcome::Ignored => {}
        }
    };
    // The caret moved without typing.
    let on_field_keyup = move |ev: leptos::ev::KeyboardEvent| {
        if matches!(ev.key().as_str(), "ArrowLeft" | "ArrowRight" | "Home" | "End") {
            recomplete();
        }
    };
    // One row per line, up to six; the field scrolls beyond.
    let rows = move || draft.with(|d| d.split('\n').count().clamp(1, 6)).to_string();
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
            <MentionOptions completion draft taken=completed/>
            <textarea
                id="message"
                name="text"
                rows=rows
                autocomplete="off"
                placeholder="Write a message…"
                aria-describedby="message-hint"
                aria-autocomplete="list"
                aria-controls=move || completion.is_open().then_some(LIST_ID)
                aria-activedescendant=move || completion.active_id()
                node_ref=input
                prop:value=draft
                on:keydown=on_field_keydown
                on:keyup=on_field_keyup
                on:click=move |_| recomplete()
                on:blur=move |_| completion.close()
                on:input=move |ev| {
                    draft.set(event_target_value(&ev));
                    hint.set(None);
                    link.typing();
                    recomplete();
                }
            ></textarea>
            <button type="submit">"Send"</button>
            <p class="hint" id="message-hint" role="alert">{move || hint.get().or_else(|| from_url.get())}</p>
        </form>
    }
}
