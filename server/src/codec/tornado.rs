//! Seed 004's Tornado room (SEED-PROTOCOLS.md section 4): the server's first message is a fresh
//! uuid, then every message arrives as an HTML fragment, which the page appends to itself with
//! jQuery's `append`; the page sends `{"uid": …, "message": …}` as JSON text.
//!
//! The page inserts the fragments as HTML, so everything of the message in them is escaped:
//! markup a member types shows as the text it is. The `uid` a page sends back is the one it was
//! given, and names nobody: who wrote a message is the connection's nickname, as everywhere.

use crate::ws::Frame;
use app::names::{MessageText, NameError, Nickname};
use serde::Deserialize;

/// The first message a connection is sent: a fresh uuid, the page's `uid` from then on.
pub fn uid() -> Frame {
    Frame::text(&uuid::Uuid::new_v4().to_string())
}

/// A message as the page shows it: its author and its text, each line of it a line of the
/// fragment.
pub fn fragment(author: &Nickname, text: &str) -> Frame {
    let mut html = String::with_capacity(64 + text.len());
    html.push_str(r#"<div class="message"><b>"#);
    html.push_str(&html_escape::encode_text(author.as_str()));
    html.push_str("</b>: ");
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            html.push_str("<br>");
        }
        html.push_str(&html_escape::encode_text(line));
    }
    html.push_str("</div>");
    Frame::text(&html)
}

/// What the page sends.
#[derive(Debug, Deserialize)]
struct Sent {
    /// The uuid the page was given: kept by the page, not needed here.
    #[serde(rename = "uid")]
    _uid: Option<serde_json::Value>,
    message: String,
}

/// What a text frame from the page asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Say(MessageText),
    /// An empty message (the page sends whatever is in its input): dropped, as the plain
    /// dialect drops one.
    Nothing,
    /// Not the page's JSON, or not text a message may hold: why.
    Refused(String),
    TooLong,
}

pub fn parse(frame: &str) -> Command {
    let sent: Sent = match serde_json::from_str(frame) {
        Ok(sent) => sent,
        Err(err) => return Command::Refused(format!(r#"expected {{"uid": …, "message": "…"}}: {err}"#)),
    };
    match MessageText::parse(&sent.message) {
        Ok(text) => Command::Say(text),
        Err(NameError::Empty { .. }) => Command::Nothing,
        Err(NameError::TooLong { .. }) => Command::TooLong,
        Err(err) => Command::Refused(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::nick;

    fn payload(frame: &Frame) -> &str {
        frame.payload_text()
    }

    #[test]
    fn the_first_message_is_a_fresh_uuid() {
        let (a, b) = (uid(), uid());
        assert_ne!(a, b);
        let a = uuid::Uuid::parse_str(payload(&a)).expect("a uuid");
        assert_eq!(a.get_version_num(), 4);
    }

    #[test]
    fn fragments_show_markup_as_text() {
        let text = MessageText::parse("<script>alert(1)</script> & <b>hi</b>\nsecond line").unwrap();
        let frame = fragment(&nick("ann"), text.as_str());
        assert_eq!(
            payload(&frame),
            r#"<div class="message"><b>ann</b>: &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;hi&lt;/b&gt;<br>second line</div>"#
        );
    }

    #[test]
    fn the_pages_json_and_what_is_refused() {
        let say = |s: &str| Command::Say(MessageText::parse(s).unwrap());
        assert_eq!(parse(r#"{"uid": "0b9c", "message": "hello"}"#), say("hello"));
        assert_eq!(parse(r#"{"uid": null, "message": "no uid yet"}"#), say("no uid yet"));
        assert_eq!(parse(r#"{"message": "no uid at all"}"#), say("no uid at all"));
        assert_eq!(parse(r#"{"uid": "x", "message": ""}"#), Command::Nothing);
        let long = format!(r#"{{"uid": "x", "message": "{}"}}"#, "a".repeat(MessageText::MAX_BYTES + 1));
        assert_eq!(parse(&long), Command::TooLong);
        for bad in [
            "hello",
            r#"{"uid": "x"}"#,
            r#"{"uid": "x", "message": 5}"#,
            r#"{"uid": "x", "message": "a\u0000b"}"#,
        ] {
            assert!(matches!(parse(bad), Command::Refused(_)), "{bad}");
        }
    }
}
