//! Replies: a message may answer an earlier one of its room, and shows a quote of it (its
//! author and the start of its text) that leads to it. The quote is read from the log as the
//! answered message is now, so that an edit shows and a deletion takes the text out of every
//! reply too.

use crate::names::Nickname;
use crate::protocol::Seq;
use serde::{Deserialize, Serialize};

/// The most characters of the answered text a quote holds: a line's worth.
pub const EXCERPT_CHARS: usize = 100;

/// What a reply answers, as it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The answered message's number in the room's log.
    pub id: Seq,
    /// Its author; `None` once it is deleted (or forgotten): the reply then says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Nickname>,
    /// The start of its text (its first line, at most [`EXCERPT_CHARS`], `…` where cut).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub excerpt: String,
}

impl Quote {
    /// The quote of message `id` by `author` reading `text`.
    pub fn of(id: Seq, author: Nickname, text: &str) -> Self {
        Self { id, author: Some(author), excerpt: excerpt(text) }
    }

    /// The quote of a message that is no longer there.
    pub fn gone(id: Seq) -> Self {
        Self { id, author: None, excerpt: String::new() }
    }

    /// The reply's own text as a client that knows nothing of replies shows it: the quote in
    /// brackets first, the way people quote by hand in a plain-text room.
    pub fn plain(&self, text: &str) -> String {
        match &self.author {
            Some(author) => format!("[↩ {author}: {}] {text}", self.excerpt),
            None => format!("[↩ a deleted message] {text}"),
        }
    }
}

/// The start of `text`: its first line, cut at [`EXCERPT_CHARS`] characters.
pub fn excerpt(text: &str) -> String {
    let first = text.trim_start().lines().next().unwrap_or("").trim_end();
    let lines = text.trim().lines().count();
    match first.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &first[..cut]),
        None if lines > 1 => format!("{first} …"),
        None => first.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_is_the_start_of_the_first_line() {
        assert_eq!(excerpt("lunch?"), "lunch?");
        assert_eq!(excerpt("  first line\nsecond"), "first line …");
        let long = "é".repeat(EXCERPT_CHARS + 5);
        assert_eq!(excerpt(&long), format!("{}…", "é".repeat(EXCERPT_CHARS)));
        assert_eq!(excerpt(&"x".repeat(EXCERPT_CHARS)), "x".repeat(EXCERPT_CHARS));
    }

    #[test]
    fn plain_clients_read_the_quote_in_brackets() {
        let quote = Quote::of(3, Nickname::parse("bob").unwrap(), "lunch at noon?");
        assert_eq!(quote.plain("sure"), "[↩ bob: lunch at noon?] sure");
        assert_eq!(Quote::gone(3).plain("sure"), "[↩ a deleted message] sure");
        assert_eq!(serde_json::to_string(&Quote::gone(3)).unwrap(), r#"{"id":3}"#);
    }
}
