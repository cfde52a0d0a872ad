//! Mentions: `@name` in a message calls the person of that nickname. They are read from the text
//! itself, so a mention typed in any client (a plain one included) calls the person, and every
//! reader finds the same ones. Names compare without letter case, as people type them.
//!
//! A mention starts at the beginning of the text or after a character that cannot be in a name
//! (`bob@example.org` mentions nobody), and takes the longest run of name characters after the
//! `@`, less the dots that end a sentence (`thanks @ann.` mentions ann).

use crate::names::Nickname;

/// A character a nickname may hold.
pub fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// A piece of text: plain, or a mention (`@` and the name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Mention(&'a str),
}

/// The name mentioned by the text right after an `@`, if it is one.
fn name_after_at(rest: &str) -> Option<&str> {
    let run = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
    let name = rest[..run].trim_end_matches('.');
    let fits = !name.is_empty() && name.chars().count() <= Nickname::MAX_LEN;
    fits.then_some(name)
}

/// Every mention in `text`, as the byte range of `@name`, in order.
fn spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(found) = text[from..].find('@') {
            let at = from + found;
            from = at + 1;
            let boundary = !text[..at].ends_with(|c: char| is_name_char(c) || c == '@');
            if let Some(name) = name_after_at(&text[at + 1..]).filter(|_| boundary) {
                let end = at + 1 + name.len();
                from = end;
                return Some((at, end));
            }
        }
        None
    })
}

/// The names `text` mentions, as written, in order (repeats included).
pub fn names(text: &str) -> impl Iterator<Item = &str> + '_ {
    spans(text).map(move |(start, end)| &text[start + 1..end])
}

/// Whether `name` (as written in a mention) calls the person named `nickname`. A nickname that
/// ends with dots is called without them, as a sentence would write it.
pub fn calls(name: &str, nickname: &str) -> bool {
    let nickname = nickname.trim_end_matches('.');
    !nickname.is_empty() && name.to_lowercase() == nickname.to_lowercase()
}

/// Whether `text` mentions `nickname`.
pub fn mentions(text: &str, nickname: &str) -> bool {
    names(text).any(|name| calls(name, nickname))
}

/// Splits `text` into plain pieces and mentions, in order; joined they give `text` back.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut done = 0;
    for (start, end) in spans(text) {
        if start > done {
            out.push(Piece::Text(&text[done..start]));
        }
        out.push(Piece::Mention(&text[start..end]));
        done = end;
    }
    if done < text.len() {
        out.push(Piece::Text(&text[done..]));
    }
    out
}

/// The mention being typed where the caret is (`caret`: a byte offset into `draft`): where its
/// `@` is, and the part of the name typed so far (possibly empty).
pub fn typing_at(draft: &str, caret: usize) -> Option<(usize, &str)> {
    let before = draft.get(..caret)?;
    let at = before.rfind('@')?;
    let typed = &before[at + 1..];
    let boundary = !before[..at].ends_with(|c: char| is_name_char(c) || c == '@');
    let whole = typed.chars().all(is_name_char) && typed.chars().count() <= Nickname::MAX_LEN;
    (boundary && whole).then_some((at, typed))
}

/// The names worth offering for `typed`: those that start with it (any letter case), the first
/// `candidates` first, without `me` and without repeats, at most `max`.
pub fn suggestions<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    me: &str,
    max: usize,
) -> Vec<String> {
    let typed = typed.to_lowercase();
    let mut out: Vec<String> = Vec::new();
    for name in candidates {
        let lower = name.to_lowercase();
        let seen = out.iter().any(|n| n.to_lowercase() == lower);
        if lower.starts_with(&typed) && !seen && lower != me.to_lowercase() {
            out.push(name.to_owned());
            if out.len() == max {
                break;
            }
        }
    }
    out
}

/// `draft` with the mention typed at `at` (up to `caret`) completed to `name`, followed by a
/// space; and where the caret goes (a byte offset).
pub fn complete(draft: &str, at: usize, caret: usize, name: &str) -> (String, usize) {
    let after = draft.get(caret..).unwrap_or("");
    // The rest of a name already written after the caret is replaced too.
    let tail = after.find(|c: char| !is_name_char(c)).unwrap_or(after.len());
    let after = &after[tail..];
    // A space to go on typing after, unless the text goes on there already; the caret after it.
    let (space, past) = match after.chars().next() {
        None => (" ", 1),
        Some(' ') => ("", 1),
        Some(_) => ("", 0),
    };
    let head = draft.get(..at).unwrap_or("");
    let text = format!("{head}@{name}{space}{after}");
    (text, head.len() + 1 + name.len() + past)
}

#[cfg(test)]
mod tests {
    use super::Piece::{Mention, Text};
    use super::*;

    #[test]
    fn mentions_are_found_at_word_starts() {
        let found = |t: &str| names(t).map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(found("@ann hi"), ["ann"]);
        assert_eq!(found("hi @ann, @Bob_2 and (@c.d)"), ["ann", "Bob_2", "c.d"]);
        assert_eq!(found("thanks @ann."), ["ann"]);
        assert_eq!(found("thanks @ann..."), ["ann"]);
        assert!(found("mail bob@example.org").is_empty());
        assert!(found("@@ann @ @. a@").is_empty());
        assert_eq!(found("@élodie! @名前"), ["élodie", "名前"]);
        assert!(found(&format!("@{}", "a".repeat(33))).is_empty());
        assert_eq!(found(&format!("@{}", "a".repeat(32))), ["a".repeat(32)]);
    }

    #[test]
    fn a_mention_calls_its_person_in_any_letter_case() {
        assert!(mentions("hey @ANN look", "ann"));
        assert!(mentions("hey @ann look", "Ann"));
        assert!(!mentions("hey @anna look", "ann"));
        assert!(!mentions("hey ann look", "ann"));
        assert!(!mentions("hey @ann.b look", "ann"));
        assert!(mentions("hey @ann.b look", "ann.b"));
        // A name ending with a dot is called as a sentence writes it.
        assert!(mentions("thanks @jr.", "jr."));
        assert!(!mentions("@x", ""));
    }

    #[test]
    fn pieces_give_the_text_back() {
        assert_eq!(pieces("hi @ann!"), vec![Text("hi "), Mention("@ann"), Text("!")]);
        assert_eq!(pieces("@a @b"), vec![Mention("@a"), Text(" "), Mention("@b")]);
        for text in ["", "plain", "a@b @c. @@d é@f @g", "@"] {
            let joined: String = pieces(text)
                .into_iter()
                .map(|p| match p {
                    Text(t) | Mention(t) => t,
                })
                .collect();
            assert_eq!(joined, text);
        }
    }

    #[test]
    fn the_mention_being_typed_is_found_before_the_caret() {
        assert_eq!(typing_at("hi @an", 6), Some((3, "an")));
        assert_eq!(typing_at("hi @", 4), Some((3, "")));
        assert_eq!(typing_at("@an more", 3), Some((0, "an")));
        assert_eq!(typing_at("hi @an more", 11), None);
        assert_eq!(typing_at("mail bob@ex", 11), None);
        assert_eq!(typing_at("no at", 5), None);
        // A caret inside a character is no position.
        assert_eq!(typing_at("@é", 2), None);
    }

    #[test]
    fn suggestions_start_with_what_is_typed() {
        let names = ["ann", "Anna", "bob", "ann", "annie"];
        assert_eq!(suggestions("an", names, "annie", 5), ["ann", "Anna"]);
        assert_eq!(suggestions("AN", names, "bob", 2), ["ann", "Anna"]);
        assert_eq!(suggestions("", names, "bob", 9), ["ann", "Anna", "annie"]);
        assert!(suggestions("z", names, "bob", 9).is_empty());
    }

    #[test]
    fn completing_replaces_what_was_typed() {
        assert_eq!(complete("hi @an", 3, 6, "ann"), ("hi @ann ".to_owned(), 8));
        assert_eq!(complete("@an, look", 0, 3, "ann"), ("@ann, look".to_owned(), 4));
        assert_eq!(complete("@a there", 0, 2, "ann"), ("@ann there".to_owned(), 5));
        // The rest of a name after the caret goes too.
        assert_eq!(complete("@anxx there", 0, 3, "ann"), ("@ann there".to_owned(), 5));
    }
}
