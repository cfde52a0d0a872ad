//! What a reader may do to a message: its author edits or deletes it, a moderator deletes it.
//! The actions sit behind a disclosure button on the message (reachable by keyboard as by
//! pointer); the server decides in the end, and the page offers only what it would allow.

use crate::connection::RoomLink;
use crate::names::MessageText;
use crate::protocol::{ClientMessage, Role, Seq};
use leptos::prelude::*;

/// The actions on one message, and its edit form while it is being edited.
#[component]
pub fn MessageActions(link: RoomLink, seq: Seq, author: String, editing: RwSignal<bool>) -> impl IntoView {
    let open = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let toggle = NodeRef::<leptos::html::Button>::new();
    let confirm = NodeRef::<leptos::html::Button>::new();
    // Asked to confirm, the reader is on the button that does it.
    Effect::new(move |_| {
        if let Some(button) = confirm.get() {
            let _ = button.focus();
        }
    });
    let author = StoredValue::new(author);
    let mine = move || link.me.with(|me| !me.is_empty() && author.with_value(|a| me == a));
    // Moderators delete anyone's message, but edit only their own.
    let may_delete = move || mine() || link.my_role() >= Role::Moderator;
    let close = move || {
        open.set(false);
        confirming.set(false);
        if let Some(button) = toggle.get_untracked() {
            let _ = button.focus();
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            close();
        }
    };
    let delete = move |_| {
        if link.change(ClientMessage::Delete { target: seq }) {
            close();
        }
    };
    move || {
        may_delete().then(|| {
            view! {
                <div class="actions" on:keydown=on_keydown>
                    <button
                        type="button"
                        class="actions-toggle"
                        node_ref=toggle
                        aria-label="Message actions"
                        aria-expanded=move || if open.get() { "true" } else { "false" }
                        on:click=move |_| {
                            open.update(|o| *o = !*o);
                            confirming.set(false);
                        }
                    >
                        "⋯"
                    </button>
                    <Show when=move || open.get() && !confirming.get()>
                        <div class="actions-menu">
                            <Show when=mine>
                                <button
                                    type="button"
                                    on:click=move |_| {
                                        open.set(false);
                                        editing.set(true);
                                    }
                                >
                                    "Edit"
                                </button>
                            </Show>
                            <button type="button" on:click=move |_| confirming.set(true)>"Delete"</button>
                        </div>
                    </Show>
                    <Show when=move || confirming.get()>
                        <div class="actions-menu confirm" role="group" aria-label="Delete this message?">
                            <span>"Delete this message?"</span>
                            <button type="button" class="danger" node_ref=confirm on:click=delete>"Delete"</button>
                            <button type="button" on:click=move |_| close()>"Cancel"</button>
                        </div>
                    </Show>
                </div>
            }
        })
    }
}

/// A message's text being edited: Enter saves (Shift+Enter breaks the line), Escape gives up.
#[component]
pub fn EditForm(link: RoomLink, seq: Seq, text: String, editing: RwSignal<bool>) -> impl IntoView {
    let input = NodeRef::<leptos::html::Textarea>::new();
    let problem = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    });
    let save = move || {
        let Some(value) = input.get_untracked().map(|i| i.value()) else { return };
        match MessageText::parse(&value) {
            Err(err) => problem.set(Some(format!("Not saved: {err}."))),
            Ok(text) => {
                if link.change(ClientMessage::Edit { target: seq, text }) {
                    editing.set(false);
                } else {
                    problem.set(Some("Not saved: not connected, try again in a moment.".to_owned()));
                }
            }
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            editing.set(false);
        }
        "Enter" if !ev.shift_key() => {
            ev.prevent_default();
            save();
        }
        _ => {}
    };
    view! {
        <form class="edit" on:submit=move |ev| {
            ev.prevent_default();
            save();
        }>
            <textarea node_ref=input aria-label="Edit message" rows="2" on:keydown=on_keydown prop:value=text></textarea>
            <div class="edit-buttons">
                <button type="submit">"Save"</button>
                <button type="button" on:click=move |_| editing.set(false)>"Cancel"</button>
                {move || problem.get().map(|p| view! { <span class="problem" role="alert">{p}</span> })}
            </div>
        </form>
    }
}
