//! Searching what rooms said: the words a query looks for, the results as the page shows them,
//! and (on the server) the excerpt of each message around what it matched.
//!
//! A query is words: a message matches when it has every one of them, each as a word or the start
//! of one ("deploy" finds "deployed"), whatever their case. Words are runs of letters and digits,
//! as the stores' full-text indexes read them; everything else in a query separates words.

use crate::names::{Nickname, RoomName};
use crate::protocol::{Millis, Seq};
use serde::{Deserialize, Serialize};

/// A query is read up to this many characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// At most this many words are looked for.
pub const MAX_TERMS: usize = 8;
/// Results a page shows.
pub const PAGE: u32 = 20;
/// Results past this many are not offered (a search narrows instead).
pub const MAX_OFFSET: u32 = 500;

#[cfg(any(feature = "ssr", test))]
/// The words of a query, in lower case, each at most [`MAX_TERM_CHARS`] long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms(Vec<String>);

#[cfg(any(feature = "ssr", test))]
/// A word of a query is cut to this many characters.
pub const MAX_TERM_CHARS: usize = 64;

#[cfg(any(feature = "ssr", test))]
/// Why a query cannot be searched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadQuery {
    /// No word in it (empty, or punctuation only).
    NoWords,
    TooLong,
}

#[cfg(any(feature = "ssr", test))]
impl std::fmt::Display for BadQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoWords => f.write_str("type a word to search for"),
            Self::TooLong => write!(f, "a search is at most {MAX_QUERY_CHARS} characters"),
        }
    }
}

#[cfg(any(feature = "ssr", test))]
impl Terms {
    pub fn parse(query: &str) -> Result<Self, BadQuery> {
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(BadQuery::TooLong);
        }
        let mut terms: Vec<String> = Vec::new();
        for word in words(query) {
            let word: String = word.text.to_lowercase().chars().take(MAX_TERM_CHARS).collect();
            if !terms.contains(&word) && terms.len() < MAX_TERMS {
                terms.push(word);
            }
        }
        if terms.is_empty() {
            return Err(BadQuery::NoWords);
        }
        Ok(Self(terms))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Whether a word of a message (as written) is one a term finds.
    pub fn finds(&self, word: &str) -> bool {
        let word = word.to_lowercase();
        self.0.iter().any(|term| word.starts_with(term.as_str()))
    }
}

#[cfg(any(feature = "ssr", test))]
/// A word of a text, where it stands (in bytes).
struct Word<'a> {
    start: usize,
    text: &'a str,
}

#[cfg(any(feature = "ssr", test))]
/// The words of `text`: runs of letters and digits.
fn words(text: &str) -> impl Iterator<Item = Word<'_>> {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, _) = rest.by_ref().find(|(_, c)| c.is_alphanumeric())?;
        let mut end = text.len();
        while let Some(&(at, c)) = rest.peek() {
            if !c.is_alphanumeric() {
                end = at;
                break;
            }
            rest.next();
        }
        Some(Word { start, text: &text[start..end] })
    })
}

/// A piece of a result's excerpt. On the wire `{"t": "..."}` (text) or `{"m": "..."}` (a word the
/// query found).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Span {
    #[serde(rename = "t")]
    Text(String),
    #[serde(rename = "m")]
    Match(String),
}

/// A message a search found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    pub room: RoomName,
    /// The message's number in its room's log: where its line is (`/r/{room}#m{id}`).
    pub id: Seq,
    pub author: Nickname,
    pub at: Millis,
    /// The message's text around what was found (the whole of a short one), on one line.
    pub excerpt: Vec<Span>,
}

/// A page of results, the newest messages first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Results {
    /// The words looked for.
    pub terms: Vec<String>,
    /// The room searched; every room the reader can read for `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<RoomName>,
    pub hits: Vec<Hit>,
    /// Where the next page starts, if there are more results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<u32>,
}

#[cfg(any(feature = "ssr", test))]
/// An excerpt is about this many characters long.
pub const EXCERPT_CHARS: usize = 200;
#[cfg(any(feature = "ssr", test))]
/// An excerpt starts about this many characters before the first word found.
const LEAD_CHARS: usize = 40;

#[cfg(any(feature = "ssr", test))]
/// `text`'s excerpt for `terms`: on one line, around the first word found (all of a short text),
/// with the words found marked.
pub fn excerpt(text: &str, terms: &Terms) -> Vec<Span> {
    let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let first = words(&line).find(|w| terms.finds(w.text)).map_or(0, |w| w.start);
    // The excerpt's bounds, in bytes, on character boundaries.
    let lead_start = line[..first].char_indices().rev().nth(LEAD_CHARS - 1).map_or(0, |(at, _)| at);
    // Not in the middle of a word.
    let cut_word = line[..lead_start].chars().next_back().is_some_and(char::is_alphanumeric);
    let start = words(&line[lead_start..first])
        .find(|w| !(cut_word && w.start == 0))
        .map_or(first, |w| lead_start + w.start);
    let end = line[start..].char_indices().nth(EXCERPT_CHARS).map_or(line.len(), |(at, _)| start + at);
    let mut spans = Vec::new();
    if start > 0 {
        spans.push(Span::Text("…".to_owned()));
    }
    let shown = &line[start..end];
    let mut at = 0;
    for word in words(shown) {
        if terms.finds(word.text) {
            if word.start > at {
                push_text(&mut spans, &shown[at..word.start]);
            }
            spans.push(Span::Match(word.text.to_owned()));
            at = word.start + word.text.len();
        }
    }
    push_text(&mut spans, &shown[at..]);
    if end < line.len() {
        push_text(&mut spans, "…");
    }
    spans
}

#[cfg(any(feature = "ssr", test))]
fn push_text(spans: &mut Vec<Span>, text: &str) {
    if text.is_empty() {
        return;
    }
    match spans.last_mut() {
        Some(Span::Text(last)) => last.push_str(text),
        _ => spans.push(Span::Text(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(q: &str) -> Terms {
        Terms::parse(q).expect("a query")
    }

    fn shown(spans: &[Span]) -> String {
        spans
            .iter()
            .map(|s| match s {
                Span::Text(t) => t.clone(),
                Span::Match(m) => format!("[{m}]"),
            })
            .collect()
    }

    #[test]
    fn a_query_is_its_words_in_lower_case_without_repeats() {
        assert_eq!(terms("Deploy, the  DEPLOY? v2.1").as_slice(), ["deploy", "the", "v2", "1"]);
        assert_eq!(terms("café_au-lait").as_slice(), ["café", "au", "lait"]);
        assert_eq!(Terms::parse("  ?! — "), Err(BadQuery::NoWords));
        assert_eq!(Terms::parse(""), Err(BadQuery::NoWords));
        assert_eq!(Terms::parse(&"a".repeat(MAX_QUERY_CHARS + 1)), Err(BadQuery::TooLong));
        let many = terms("a b c d e f g h i j k");
        assert_eq!(many.as_slice().len(), MAX_TERMS);
        assert_eq!(terms(&"x".repeat(100)).as_slice()[0].chars().count(), MAX_TERM_CHARS);
    }

    #[test]
    fn a_term_finds_words_it_starts() {
        let t = terms("deploy");
        assert!(t.finds("deploy") && t.finds("Deployed") && t.finds("DEPLOYMENT"));
        assert!(!t.finds("redeploy") && !t.finds("dep"));
    }

    #[test]
    fn the_words_found_are_marked_and_the_rest_is_text() {
        let spans = excerpt("We deployed it; the deploy <b>went</b> fine", &terms("deploy went"));
        assert_eq!(shown(&spans), "We [deployed] it; the [deploy] <b>[went]</b> fine");
        // Markup in a message is text like the rest: nothing here is ever read as HTML.
        assert!(spans.contains(&Span::Text(" <b>".into())));
    }

    #[test]
    fn a_long_text_is_cut_around_the_first_word_found() {
        let text = format!("{} needle {}", "hay ".repeat(100), "straw ".repeat(100));
        let shown = shown(&excerpt(&text, &terms("needle")));
        assert!(shown.starts_with("…hay "), "{shown}");
        assert!(shown.contains("[needle]"));
        assert!(shown.ends_with('…'));
        // The excerpt, its two ellipses, and the brackets that show the match here.
        assert!(shown.chars().count() <= EXCERPT_CHARS + 4);
        // Lines are joined.
        assert_eq!(self::shown(&excerpt("one\ntwo", &terms("two"))), "one [two]");
    }

    #[test]
    fn excerpts_keep_to_character_boundaries() {
        let text = format!("{}ünïcödé {}", "é ".repeat(150), "ß".repeat(300));
        let spans = excerpt(&text, &terms("ünïcödé"));
        assert!(shown(&spans).contains("[ünïcödé]"));
        assert!(shown(&spans).starts_with("…é "));
        let spans = excerpt(&"😀".repeat(500), &terms("x"));
        assert!(!shown(&spans).is_empty());
    }
}
