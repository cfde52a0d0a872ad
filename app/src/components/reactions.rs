//! A message's reactions: one button per emoji in use (its count; pressed when the reader is
//! among those who used it; who they are on hover and on focus), and a button that opens the
//! set to add one. A click sends the change; the line changes when the server's `reacted` comes
//! back, as it does for everyone else.

use crate::connection::RoomLink;
use crate::protocol::{ClientMessage, Seq};
use crate::reactions::{Emoji, Reaction, Reactions};
use leptos::prelude::*;

// Which button of which message had the focus when the reader reacted (`None`: the add
// button). The server's answer draws the message again, which would drop the focus on the
// page's body; the new buttons take it back from here.
#[cfg(feature = "hydrate")]
thread_local! {
    static REFOCUS: std::cell::Cell<Option<(Seq, Option<Emoji>)>> = const { std::cell::Cell::new(None) };
}

/// Notes where the focus goes back to once `seq` is drawn again.
fn refocus_later(seq: Seq, emoji: Option<Emoji>) {
    #[cfg(feature = "hydrate")]
    REFOCUS.with(|r| r.set(Some((seq, emoji))));
    #[cfg(not(feature = "hydrate"))]
    let _ = (seq, emoji);
}

/// Whether `seq`'s buttons should take the focus back, and which; only if nothing else has it.
fn refocus_now(seq: Seq) -> Option<Option<Emoji>> {
    #[cfg(feature = "hydrate")]
    {
        let wanted = REFOCUS.with(|r| r.get()).filter(|(s, _)| *s == seq)?;
        REFOCUS.with(|r| r.set(None));
        let document = web_sys::window()?.document()?;
        let body = document.body().map(web_sys::Element::from);
        let lost = document.active_element().is_none_or(|active| Some(&active) == body.as_ref());
        lost.then_some(wanted.1)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = seq;
        None
    }
}

#[component]
pub fn ReactionBar(link: RoomLink, seq: Seq, reactions: Reactions) -> impl IntoView {
    let open = RwSignal::new(false);
    let toggle = NodeRef::<leptos::html::Button>::new();
    let first = NodeRef::<leptos::html::Button>::new();
    // Opened, the picker takes the focus; closed, the focus goes back to its button.
    Effect::new(move |_| {
        if let Some(button) = first.get() {
            let _ = button.focus();
        }
    });
    let close = move || {
        open.set(false);
        if let Some(button) = toggle.get_untracked() {
            let _ = button.focus();
        }
    };
    let mine = move |reaction: &Reaction| {
        link.me.with(|me| reaction.by.iter().any(|n| n.as_str().eq_ignore_ascii_case(me)))
    };
    let react = move |emoji: Emoji, on: bool, from: Option<Emoji>| {
        if link.change(ClientMessage::React { target: seq, emoji, on }) {
            refocus_later(seq, from);
        }
    };
    let chip_nodes: Vec<(Emoji, NodeRef<leptos::html::Button>)> =
        reactions.iter().map(|r| (r.emoji, NodeRef::new())).collect();
    let nodes = StoredValue::new(chip_nodes.clone());
    // Drawn again after the reader's own reaction: the focus goes back where it was (to the add
    // button when the emoji's button is gone).
    Effect::new(move |_| {
        let Some(wanted) = refocus_now(seq) else { return };
        let chip = wanted
            .and_then(|emoji| nodes.with_value(|n| n.iter().find(|(e, _)| *e == emoji).map(|(_, n)| *n)));
        let button = match chip.and_then(|node| node.get()) {
            Some(button) => Some(button),
            None => toggle.get(),
        };
        if let Some(button) = button {
            let _ = button.focus();
        }
    });
    let chips = reactions
        .iter()
        .zip(chip_nodes)
        .map(|(reaction, (_, node))| {
            let reaction = reaction.clone();
            let emoji = reaction.emoji;
            let count = reaction.by.len();
            let who = names(&reaction);
            let pressed = {
                let reaction = reaction.clone();
                Signal::derive(move || mine(&reaction))
            };
            let label = {
                let who = who.clone();
                move || {
                    let you = if pressed.get() { "; you reacted, press to take it back" } else { "" };
                    format!("{} {}: {who}{you}", emoji.as_str(), emoji.label())
                }
            };
            view! {
                <li>
                    <button
                        type="button"
                        class="reaction"
                        node_ref=node
                        aria-pressed=move || if pressed.get() { "true" } else { "false" }
                        aria-label=label
                        on:click=move |_| react(emoji, !pressed.get_untracked(), Some(emoji))
                    >
                        <span aria-hidden="true">{emoji.as_str()}</span>
                        <span class="count" aria-hidden="true">{count}</span>
                        <span class="who" aria-hidden="true">{who}</span>
                    </button>
                </li>
            }
        })
        .collect_view();
    let used = StoredValue::new(reactions);
    let picked = move |emoji: Emoji| {
        let on = !used.with_value(|r| r.iter().any(|r| r.emoji == emoji && mine(r)));
        close();
        react(emoji, on, None);
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && open.get_untracked() {
            ev.prevent_default();
            close();
        }
    };
    view! {
        <div class="reactions" on:keydown=on_keydown>
            <ul class="reaction-list" aria-label="Reactions">{chips}</ul>
            <button
                type="button"
                class="react-toggle"
                node_ref=toggle
                aria-label="Add a reaction"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                on:click=move |_| open.update(|o| *o = !*o)
            >
                "☺+"
            </button>
            <Show when=move || open.get()>
                <div class="react-picker" role="group" aria-label="Pick a reaction">
                    {Emoji::ALL
                        .into_iter()
                        .enumerate()
                        .map(|(i, emoji)| {
                            let node = if i == 0 { first } else { NodeRef::new() };
                            view! {
                                <button type="button" node_ref=node aria-label=emoji.label() on:click=move |_| picked(emoji)>
                                    {emoji.as_str()}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
            </Show>
        </div>
    }
}

/// Who reacted, as a sentence: "ann", "ann and bob", "ann, bob and cy".
fn names(reaction: &Reaction) -> String {
    match reaction.by.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(|n| n.as_str()).collect();
            format!("{} and {last}", init.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::Nickname;

    #[test]
    fn who_reacted_reads_as_a_sentence() {
        let by = |names: &[&str]| Reaction {
            emoji: Emoji::Heart,
            by: names.iter().map(|n| Nickname::parse(n).unwrap()).collect(),
        };
        assert_eq!(names(&by(&["ann"])), "ann");
        assert_eq!(names(&by(&["ann", "bob"])), "ann and bob");
        assert_eq!(names(&by(&["ann", "bob", "cy"])), "ann, bob and cy");
    }
}
