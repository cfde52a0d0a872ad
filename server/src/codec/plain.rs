//! The seeds' plain-text dialect (SEED-PROTOCOLS.md section 2), line for line.
//!
//! Every frame holds one line, and no line can pass for someone else's: a message of several
//! lines is sent as several `<name>:<line>` frames (control characters never reach a message:
//! see [`MessageText`]). A browser page gets its lines HTML-escaped, because every page written
//! for the original servers inserts what it receives with `innerHTML`: escaped, `<b>` shows as
//! `<b>` instead of running as markup in the reader's page.

use crate::ws::Frame;
use app::names::{MessageText, NameError, Nickname};
use std::borrow::Cow;

/// How a plain-text connection's lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// As they are, for programs.
    Verbatim,
    /// HTML-escaped, for pages in a browser (the handshake carried an `Origin`).
    Html,
}

impl Lines {
    /// Browsers send `Origin` with every WebSocket handshake (RFC 6455, 4.1); programs need not.
    pub fn for_client(from_browser: bool) -> Self {
        if from_browser {
            Self::Html
        } else {
            Self::Verbatim
        }
    }

    /// Whether lines holding `text` are written otherwise than as they are.
    pub fn changes(self, text: &str) -> bool {
        matches!(self.render(text), Cow::Owned(_))
    }

    fn render<'a>(self, line: &'a str) -> Cow<'a, str> {
        match self {
            Self::Verbatim => Cow::Borrowed(line),
            Self::Html => html_escape::encode_quoted_attribute(line),
        }
    }
}

/// Sent to the whole room, the newcomer included, when someone joins.
pub fn welcome(name: &Nickname) -> String {
    format!("Welcome, {name} !")
}

/// Sent to the whole room when someone leaves, by `quit` or by closing.
pub fn logout(name: &Nickname) -> String {
    format!("{name} Logout")
}

/// Sent to the whole room for each message: `<name>:<line>` for each of its lines that is not
/// blank (a reply's text as [`Quote::plain`](app::quote::Quote::plain) writes it).
pub fn message(author: &Nickname, text: &str) -> Vec<String> {
    text.split('\n').filter(|line| !line.trim().is_empty()).map(|line| format!("{author}:{line}")).collect()
}

/// Sent to the whole room when a message is edited: `<name>:* <line>` for each line of its new
/// text, the correction people write by hand on IRC. Deletions have no line: a page that shows
/// lines as they come cannot take one back.
pub fn correction(author: &Nickname, text: &MessageText) -> Vec<String> {
    text.lines().filter(|line| !line.trim().is_empty()).map(|line| format!("{author}:* {line}")).collect()
}

/// One line as a frame.
pub fn line(text: &str, lines: Lines) -> Frame {
    Frame::text(&lines.render(text))
}

/// A message's lines as frames, in one buffer: they are always written together.
pub fn message_frames(author: &Nickname, text: &str, lines: Lines) -> Frame {
    frames(&message(author, text), lines)
}

/// An edit's lines as frames, in one buffer.
pub fn correction_frames(author: &Nickname, text: &MessageText, lines: Lines) -> Frame {
    frames(&correction(author, text), lines)
}

fn frames(texts: &[String], lines: Lines) -> Frame {
    let frames: Vec<Frame> = texts.iter().map(|l| line(l, lines)).collect();
    Frame::concat(&frames)
}

/// What a plain-text client's text frame asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Exactly `quit`: announce the logout and close this connection.
    Quit,
    Say(MessageText),
    /// Blank text: the seeds' page refuses to send it, and the dialect has no way to say why,
    /// so it is dropped.
    Nothing,
    /// Longer than a chat message may be.
    TooLong,
    /// Not text a message may hold (control characters): why.
    Refused(NameError),
}

pub fn parse(text: &str) -> Command {
    if text == "quit" {
        return Command::Quit;
    }
    match MessageText::parse(text) {
        Ok(text) => Command::Say(text),
        Err(NameError::TooLong { .. }) => Command::TooLong,
        Err(NameError::Empty { .. }) => Command::Nothing,
        Err(err) => Command::Refused(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::nick;

    fn text(s: &str) -> MessageText {
        MessageText::parse(s).unwrap()
    }

    /// The payloads of the text frames in `frame`'s bytes.
    fn payloads(frame: &Frame) -> Vec<String> {
        let mut bytes = &frame.bytes()[..];
        let mut out = Vec::new();
        while let [0x81, len, rest @ ..] = bytes {
            let (payload, next) = rest.split_at(usize::from(*len));
            out.push(String::from_utf8(payload.to_vec()).unwrap());
            bytes = next;
        }
        assert!(bytes.is_empty(), "only short text frames");
        out
    }

    #[test]
    fn the_seed_lines() {
        assert_eq!(welcome(&nick("alice")), "Welcome, alice !");
        assert_eq!(message(&nick("alice"), text("hello there").as_str()), ["alice:hello there"]);
        assert_eq!(logout(&nick("alice")), "alice Logout");
    }

    #[test]
    fn a_line_break_cannot_forge_someone_elses_line() {
        let forged = text("hi\nalice:I am alice\r\n\n  \nbye");
        assert_eq!(message(&nick("bob"), forged.as_str()), ["bob:hi", "bob:alice:I am alice", "bob:bye"]);
        let frames = message_frames(&nick("bob"), forged.as_str(), Lines::Verbatim);
        assert_eq!(payloads(&frames), ["bob:hi", "bob:alice:I am alice", "bob:bye"]);
    }

    #[test]
    fn programs_get_text_verbatim_and_pages_get_it_escaped() {
        let markup = text(r#"a:b  <img src=x onerror="alert(1)"> & 'c'"#);
        let verbatim = message_frames(&nick("bob"), markup.as_str(), Lines::Verbatim);
        assert_eq!(payloads(&verbatim), [r#"bob:a:b  <img src=x onerror="alert(1)"> & 'c'"#]);
        let escaped = message_frames(&nick("bob"), markup.as_str(), Lines::Html);
        assert_eq!(
            payloads(&escaped),
            ["bob:a:b  &lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#x27;c&#x27;"]
        );
        assert_eq!(Lines::for_client(true), Lines::Html);
        assert_eq!(Lines::for_client(false), Lines::Verbatim);
    }

    #[test]
    fn commands() {
        assert_eq!(parse("quit"), Command::Quit);
        assert_eq!(parse("quit "), Command::Say(text("quit ")));
        assert_eq!(parse("Quit"), Command::Say(text("Quit")));
        assert_eq!(parse(""), Command::Nothing);
        assert_eq!(parse("  "), Command::Nothing);
        assert_eq!(parse(&"x".repeat(MessageText::MAX_BYTES + 1)), Command::TooLong);
        assert!(matches!(parse("bell\u{7}"), Command::Refused(NameError::ControlCharacter { code: 7, .. })));
    }
}
