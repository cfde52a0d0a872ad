//! Completing `@name` in the composer: typing `@` and the start of a name offers the people of
//! the room (those online first, then those who wrote lately); arrows choose, Enter or Tab takes
//! the choice, Escape closes the list, a click takes one. The field stays focused throughout and
//! names the chosen option for screen readers (`aria-activedescendant`).

use crate::connection::RoomLink;
use crate::log::LineKind;
use crate::mention;
use leptos::prelude::*;

/// Names offered at once, at most.
const MAX_OPTIONS: usize = 6;
/// How far back the log is read for names of people who wrote.
const RECENT_LINES: usize = 500;
/// The list's id, which the field points to.
pub const LIST_ID: &str = "mention-options";

/// The list open under the field.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Open {
    /// Where the mention's `@` is in the draft (bytes).
    at: usize,
    /// Where the caret was (bytes).
    caret: usize,
    names: Vec<String>,
    active: usize,
}

/// The completion's state, shared by the field and the list.
#[derive(Clone, Copy)]
pub struct Completion {
    open: RwSignal<Option<Open>>,
    link: RoomLink,
}

/// What a key did to the completion.
pub enum KeyOutcome {
    /// Not the completion's key: the field handles it.
    Ignored,
    /// Moved or closed the list.
    Handled,
    /// Took a name: the new draft, and where the caret goes (bytes).
    Completed(String, usize),
}

/// The byte offset in `text` of a position counted in UTF-16 units, as the browser counts a
/// field's caret; `None` inside a character or past the end.
pub fn byte_offset(text: &str, utf16: u32) -> Option<usize> {
    let mut units = 0;
    for (i, c) in text.char_indices() {
        if units == utf16 {
            return Some(i);
        }
        units += c.len_utf16() as u32;
    }
    (units == utf16).then_some(text.len())
}

/// The position in UTF-16 units of byte offset `byte` of `text`.
pub fn utf16_offset(text: &str, byte: usize) -> u32 {
    text.get(..byte).map_or(0, |head| head.encode_utf16().count() as u32)
}

fn option_id(i: usize) -> String {
    format!("mention-option-{i}")
}

impl Completion {
    pub fn new(link: RoomLink) -> Self {
        Self { open: RwSignal::new(None), link }
    }

    /// The draft or the caret changed: offers the names that fit the mention being typed, if any.
    pub fn update(self, draft: &str, caret: usize) {
        let Some((at, typed)) = mention::typing_at(draft, caret) else {
            return self.close();
        };
        let online: Vec<String> = self.link.roster.with_untracked(|r| r.members().cloned().collect());
        let recent: Vec<String> = self.link.log.with_untracked(|log| {
            log.lines()
                .rev()
                .take(RECENT_LINES)
                .filter_map(|line| match &line.kind {
                    LineKind::Message { author, .. } => Some(author.clone()),
                    _ => None,
                })
                .collect()
        });
        let me = self.link.me.get_untracked();
        let candidates = online.iter().chain(recent.iter()).map(String::as_str);
        let names = mention::suggestions(typed, candidates, &me, MAX_OPTIONS);
        if names.is_empty() {
            return self.close();
        }
        let active = self.open.with_untracked(|o| o.as_ref().map_or(0, |o| o.active)).min(names.len() - 1);
        self.open.set(Some(Open { at, caret, names, active }));
    }

    pub fn close(self) {
        if self.open.with_untracked(Option::is_some) {
            self.open.set(None);
        }
    }

    /// Arrows move through the list, Enter and Tab take the chosen name, Escape closes it.
    pub fn key(self, key: &str, draft: &str) -> KeyOutcome {
        let Some(open) = self.open.get_untracked() else { return KeyOutcome::Ignored };
        let count = open.names.len();
        let step = |by: usize| {
            self.open.update(|o| {
                if let Some(o) = o {
                    o.active = (o.active + by) % count;
                }
            })
        };
        match key {
            "ArrowDown" => step(1),
            "ArrowUp" => step(count - 1),
            "Escape" => self.close(),
            "Enter" | "Tab" => return self.take(open.active, draft),
            _ => return KeyOutcome::Ignored,
        }
        KeyOutcome::Handled
    }

    /// Takes option `i`.
    fn take(self, i: usize, draft: &str) -> KeyOutcome {
        let Some(open) = self.open.get_untracked() else { return KeyOutcome::Ignored };
        let Some(name) = open.names.get(i) else { return KeyOutcome::Ignored };
        let (text, caret) = mention::complete(draft, open.at, open.caret, name);
        self.open.set(None);
        KeyOutcome::Completed(text, caret)
    }

    /// The field's `aria-activedescendant`: the chosen option while the list is open.
    pub fn active_id(self) -> Option<String> {
        self.open.with(|o| o.as_ref().map(|o| option_id(o.active)))
    }

    pub fn is_open(self) -> bool {
        self.open.with(Option::is_some)
    }
}

/// The list of names under the field. `taken` receives what a click on a name gives.
#[component]
pub fn MentionOptions(
    completion: Completion,
    draft: RwSignal<String>,
    taken: impl Fn(String, usize) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let names = move || completion.open.with(|o| o.as_ref().map(|o| (o.names.clone(), o.active)));
    move || {
        names().map(|(names, active)| {
            let options = names
                .into_iter()
                .enumerate()
                .map(|(i, name)| {
                    // Pressed, not clicked: the field keeps the focus.
                    let choose = move |ev: leptos::ev::MouseEvent| {
                        ev.prevent_default();
                        if let KeyOutcome::Completed(text, caret) =
                            draft.with_untracked(|d| completion.take(i, d))
                        {
                            taken(text, caret);
                        }
                    };
                    let selected = if i == active { "true" } else { "false" };
                    view! {
                        <li id=option_id(i) role="option" aria-selected=selected on:mousedown=choose>
                            "@" {name}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <ul id=LIST_ID class="mention-options" role="listbox" aria-label="People to mention">
                    {options}
                </ul>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carets_convert_between_utf16_units_and_bytes() {
        let text = "é😀@an";
        assert_eq!(byte_offset(text, 0), Some(0));
        assert_eq!(byte_offset(text, 1), Some(2));
        assert_eq!(byte_offset(text, 2), None);
        assert_eq!(byte_offset(text, 3), Some(6));
        assert_eq!(byte_offset(text, 6), Some(9));
        assert_eq!(byte_offset(text, 7), None);
        for byte in [0, 2, 6, 9] {
            assert_eq!(byte_offset(text, utf16_offset(text, byte)), Some(byte));
        }
    }
}
