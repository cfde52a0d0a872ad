//! Checked strings: room names, nicknames and message text. Everything that comes from a user
//! passes through one of these `parse` constructors, so the rest of the code never holds an
//! unchecked string.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a room name, nickname or message text was refused; the text is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{what} must not be empty")]
    Empty { what: &'static str },
    #[error("{what} is too long: at most {max} characters")]
    TooLong { what: &'static str, max: usize },
    #[error("{what} may only contain {allowed}")]
    BadCharacter { what: &'static str, allowed: &'static str },
    #[error(
        "{what} may not contain control characters (it has U+{code:04X}); line breaks and tabs are allowed"
    )]
    ControlCharacter { what: &'static str, code: u32 },
}

/// A room name: what follows `/chat/` and `/r/` in a URL, so it is kept URL-safe and lowercase,
/// like a Slack channel name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoomName(String);

impl RoomName {
    pub const MAX_LEN: usize = 64;
    /// The default room: `/chat`, `/` and the seeds' pages land here.
    pub const LOBBY: &'static str = "lobby";

    pub fn parse(raw: &str) -> Result<Self, NameError> {
        const WHAT: &str = "a room name";
        if raw.is_empty() {
            return Err(NameError::Empty { what: WHAT });
        }
        if raw.chars().count() > Self::MAX_LEN {
            return Err(NameError::TooLong { what: WHAT, max: Self::MAX_LEN });
        }
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        let starts_well = raw.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        if !raw.chars().all(ok_char) || !starts_well {
            return Err(NameError::BadCharacter {
                what: WHAT,
                allowed: "lowercase letters, digits, '-' and '_', starting with a letter or digit",
            });
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn lobby() -> Self {
        Self(Self::LOBBY.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A nickname. It appears in the plain-text dialect as `<name>:<msg>` and `Welcome, <name> !`,
/// so it can hold neither ':' nor white space, which would make those lines ambiguous.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nickname(String);

impl Nickname {
    pub const MAX_LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, NameError> {
        const WHAT: &str = "a nickname";
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(NameError::Empty { what: WHAT });
        }
        if raw.chars().count() > Self::MAX_LEN {
            return Err(NameError::TooLong { what: WHAT, max: Self::MAX_LEN });
        }
        let ok_char = |c: char| c.is_alphanumeric() || c == '-' || c == '_' || c == '.';
        if !raw.chars().all(ok_char) {
            return Err(NameError::BadCharacter { what: WHAT, allowed: "letters, digits, '-', '_' and '.'" });
        }
        Ok(Self(raw.to_owned()))
    }

    /// A name for someone who gave none: never derived from the peer's address (the seeds leaked
    /// the client's IP to the whole room that way).
    pub fn guest(number: u16) -> Self {
        Self(format!("guest-{number:04}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of one chat message: not blank, at most `MAX_BYTES` of UTF-8, printable text with
/// line breaks and tabs.
///
/// Control characters are refused: PostgreSQL cannot store U+0000, a terminal obeys escape
/// sequences, and a line-oriented client reads a carriage return or a separator as the start of
/// a line someone else wrote. Line breaks arrive as `\r\n` from HTML forms and some systems:
/// every `\r\n` and lone `\r` becomes `\n`, the one line break that is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageText(String);

impl MessageText {
    /// A few KiB, like the limits of Slack (40,000 characters), Zulip (10,000) and Discord (2,000):
    /// room traffic is chat, not file transfer.
    pub const MAX_BYTES: usize = 4096;

    pub fn parse(raw: &str) -> Result<Self, NameError> {
        const WHAT: &str = "a message";
        let text = normalize_line_breaks(raw);
        if text.trim().is_empty() {
            return Err(NameError::Empty { what: WHAT });
        }
        if text.len() > Self::MAX_BYTES {
            return Err(NameError::TooLong { what: WHAT, max: Self::MAX_BYTES });
        }
        if let Some(bad) = text.chars().find(|&c| !allowed_in_text(c)) {
            return Err(NameError::ControlCharacter { what: WHAT, code: u32::from(bad) });
        }
        Ok(Self(text.into_owned()))
    }

    /// A text read back from storage, written perhaps before today's rules: what they forbid is
    /// shown as U+FFFD rather than losing the message. Blank and over-long texts are still refused.
    pub fn parse_stored(raw: &str) -> Result<Self, NameError> {
        let keep = |c: char| c == '\r' || allowed_in_text(c);
        if raw.chars().all(keep) {
            return Self::parse(raw);
        }
        Self::parse(&raw.chars().map(|c| if keep(c) { c } else { '\u{FFFD}' }).collect::<String>())
    }

    /// What a deleted message reads as for clients that know nothing of deletions (the text
    /// itself is gone from the log).
    pub fn deleted() -> Self {
        Self("message deleted".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text's lines (split at its line breaks).
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.0.split('\n')
    }
}

/// Whether a message may hold `c`: anything but control characters (Unicode's Cc: C0, DEL and
/// C1) and the line and paragraph separators, with the line break and the tab excepted.
fn allowed_in_text(c: char) -> bool {
    c == '\n' || c == '\t' || !(c.is_control() || c == '\u{2028}' || c == '\u{2029}')
}

/// `\r\n` and lone `\r` as `\n`.
fn normalize_line_breaks(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.contains('\r') {
        std::borrow::Cow::Owned(raw.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(raw)
    }
}

/// The id a client gives each message it sends, so that a resend after a reconnect is recognised
/// and neither stored nor shown twice. Unique within the sender's session (a random id, as the
/// web client makes, is unique anywhere): a resend is recognised only for the session that sent
/// the original, so another person reusing an id is never taken for a resend.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, NameError> {
        const WHAT: &str = "a message id";
        if raw.is_empty() {
            return Err(NameError::Empty { what: WHAT });
        }
        if raw.len() > Self::MAX_LEN {
            return Err(NameError::TooLong { what: WHAT, max: Self::MAX_LEN });
        }
        if !raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.') {
            return Err(NameError::BadCharacter {
                what: WHAT,
                allowed: "ASCII letters, digits, '-', '_' and '.'",
            });
        }
        Ok(Self(raw.to_owned()))
    }

    /// An id made of random bits (valid by construction: `c` and 24 hex digits).
    pub fn from_random(words: [u32; 3]) -> Self {
        Self(format!("c{:08x}{:08x}{:08x}", words[0], words[1], words[2]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_impls {
    ($($t:ty),*) => {$(
        impl TryFrom<String> for $t {
            type Error = NameError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }
        impl From<$t> for String {
            fn from(value: $t) -> String {
                value.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )*};
}
string_newtype_impls!(RoomName, Nickname, MessageText, ClientId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names() {
        assert!(RoomName::parse("lobby").is_ok());
        assert!(RoomName::parse("rust-2026_q4").is_ok());
        assert!(RoomName::parse(&"a".repeat(64)).is_ok());
        assert_eq!(
            RoomName::parse(&"a".repeat(65)),
            Err(NameError::TooLong { what: "a room name", max: 64 })
        );
        for bad in ["", "Lobby", "a b", "-x", "_x", "../etc", "é", "a/b", "a?b"] {
            assert!(RoomName::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn nicknames() {
        assert_eq!(Nickname::parse("  alice ").map(|n| n.0), Ok("alice".to_owned()));
        assert!(Nickname::parse("Zoë.b-1_").is_ok());
        assert!(Nickname::parse(&"x".repeat(32)).is_ok());
        for bad in ["", "   ", "a:b", "a b", "<script>", &"x".repeat(33)] {
            assert!(Nickname::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(Nickname::guest(7).as_str(), "guest-0007");
    }

    #[test]
    fn message_text() {
        assert!(MessageText::parse("hi").is_ok());
        assert!(MessageText::parse(" leading and trailing space is kept ").is_ok());
        assert!(MessageText::parse(" \n\t").is_err());
        assert!(MessageText::parse(&"é".repeat(2048)).is_ok());
        assert!(MessageText::parse(&"é".repeat(2049)).is_err());
        assert!(MessageText::parse("tabs\tand\nline breaks").is_ok());
        assert!(MessageText::parse("<b>markup</b> & \"quotes\" are text").is_ok());
    }

    #[test]
    fn message_text_refuses_control_characters() {
        for (bad, code) in [
            ("nul\0", 0),
            ("bell\u{7}", 7),
            ("\u{1b}[31mred", 0x1b),
            ("del\u{7f}", 0x7f),
            ("next line\u{85}", 0x85),
            ("line\u{2028}separator", 0x2028),
            ("para\u{2029}", 0x2029),
        ] {
            assert_eq!(
                MessageText::parse(bad),
                Err(NameError::ControlCharacter { what: "a message", code }),
                "{bad:?}"
            );
        }
        let err = MessageText::parse("a\0b").unwrap_err().to_string();
        assert!(err.contains("U+0000"), "{err}");
    }

    #[test]
    fn message_line_breaks_become_one_kind() {
        let text = MessageText::parse("windows\r\nold mac\runix\n").unwrap();
        assert_eq!(text.as_str(), "windows\nold mac\nunix\n");
        assert_eq!(text.lines().collect::<Vec<_>>(), ["windows", "old mac", "unix", ""]);
    }

    #[test]
    fn stored_text_from_before_the_rules_is_repaired_not_lost() {
        assert_eq!(MessageText::parse_stored("a\0b\u{1b}c").unwrap().as_str(), "a\u{FFFD}b\u{FFFD}c");
        assert_eq!(MessageText::parse_stored("fine\r\n").unwrap().as_str(), "fine\n");
        assert!(MessageText::parse_stored("").is_err());
        assert!(MessageText::parse_stored("\0").is_ok(), "a repaired character is not blank");
    }

    #[test]
    fn client_ids() {
        assert!(ClientId::parse("c-1f3a.7_x").is_ok());
        assert!(ClientId::parse(&"a".repeat(64)).is_ok());
        for bad in ["", "a b", "a/b", "é", &"a".repeat(65)] {
            assert!(ClientId::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let random = ClientId::from_random([0, u32::MAX, 7]);
        assert_eq!(ClientId::parse(random.as_str()), Ok(random));
    }

    #[test]
    fn serde_goes_through_parse() {
        assert!(serde_json::from_str::<Nickname>("\"bob\"").is_ok());
        assert!(serde_json::from_str::<Nickname>("\"a:b\"").is_err());
        assert_eq!(serde_json::to_string(&RoomName::lobby()).ok().as_deref(), Some("\"lobby\""));
    }
}
