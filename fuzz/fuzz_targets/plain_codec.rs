//! Any text a plain-dialect client sends, through the plain codec: parsing never panics; what it
//! accepts as a message is text a message may hold; and the lines the room is sent for it are
//! one `<name>:<line>` frame per line, with no line break or control character anywhere, HTML
//! escaping (for pages in a browser) that hides every markup character and decodes back to the
//! line exactly.
#![no_main]

use app::names::{MessageText, Nickname};
use libfuzzer_sys::fuzz_target;

// The server's own files: the codec and the frame code it writes with (see ws_reader.rs); the
// codec finds frames as `crate::ws::Frame`.
#[path = "../../server/src/ws/frame.rs"]
mod frame;
#[path = "../../server/src/codec/plain.rs"]
mod plain;
mod ws {
    pub use super::frame::Frame;
}

use plain::{Command, Lines};

/// The payloads of the unmasked text frames in `bytes`.
fn payloads(mut bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while let [0x81, len, rest @ ..] = bytes {
        let (len, rest) = match len {
            126 => (usize::from(u16::from_be_bytes([rest[0], rest[1]])), &rest[2..]),
            127 => panic!("a line longer than 64 KiB"),
            short => (usize::from(*short), rest),
        };
        let (payload, next) = rest.split_at(len);
        out.push(String::from_utf8(payload.to_vec()).expect("text frames hold UTF-8"));
        bytes = next;
    }
    assert!(bytes.is_empty(), "only whole text frames");
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Command::Say(message) = plain::parse(text) else { return };
    assert_eq!(MessageText::parse(message.as_str()).as_ref(), Ok(&message), "parsing is stable");
    let author = Nickname::parse("bob").expect("a nickname");
    let lines = plain::message(&author, message.as_str());
    assert!(!lines.is_empty(), "a message that is not blank has a line");
    for line in &lines {
        assert!(line.starts_with("bob:"), "{line:?}");
        assert!(!line.chars().any(|c| c.is_control() && c != '\t'), "{line:?}");
    }
    let verbatim = payloads(plain::message_frames(&author, message.as_str(), Lines::Verbatim).bytes());
    assert_eq!(verbatim, lines);
    let escaped = payloads(plain::message_frames(&author, message.as_str(), Lines::Html).bytes());
    assert_eq!(escaped.len(), lines.len());
    for (html, line) in escaped.iter().zip(&lines) {
        assert!(!html.contains(['<', '>', '"', '\'']), "{html:?}");
        assert_eq!(html_escape::decode_html_entities(html), line.as_str());
    }
});
