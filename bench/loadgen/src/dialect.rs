//! How a chat line travels to each kind of server: the seeds' plain-text room (this server and
//! most peers), or the same lines inside Socket.IO's event packets.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum Dialect {
    /// One text frame per line: `Welcome, <name> !`, `<name>:<msg>`, `<name> Logout`.
    Plain,
    /// Engine.IO 4 over a WebSocket, the lines as `chat` events.
    SocketIo,
}

/// What a received text frame means to the generator.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// A chat line.
    Line(&'a [u8]),
    /// A transport message to answer with this text.
    Answer(&'static str),
    Ignore,
}

impl Dialect {
    /// The path and query that join `room` as `name`.
    pub fn path(self, room: &str, name: &str) -> String {
        match self {
            Self::Plain => format!("/chat/{room}?name={name}"),
            Self::SocketIo => format!("/socket.io/?EIO=4&transport=websocket&room={room}&name={name}"),
        }
    }

    /// The text frame that sends `line`. Lines are ASCII without quotes or backslashes, so the
    /// Socket.IO packet needs no escaping.
    pub fn wrap(self, line: &str, out: &mut String) {
        out.clear();
        match self {
            Self::Plain => out.push_str(line),
            Self::SocketIo => {
                out.push_str("42[\"chat\",\"");
                out.push_str(line);
                out.push_str("\"]");
            }
        }
    }

    pub fn unwrap(self, text: &[u8]) -> Incoming<'_> {
        match self {
            Self::Plain => Incoming::Line(text),
            Self::SocketIo => match text {
                // Engine.IO's open packet: join the default namespace.
                [b'0', ..] => Incoming::Answer("40"),
                // Engine.IO's ping.
                b"2" => Incoming::Answer("3"),
                [b'4', b'2', rest @ ..] => {
                    match rest.strip_prefix(b"[\"chat\",\"").and_then(|r| r.strip_suffix(b"\"]")) {
                        Some(line) => Incoming::Line(line),
                        None => Incoming::Ignore,
                    }
                }
                _ => Incoming::Ignore,
            },
        }
    }
}

/// What a chat line is to the generator.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// `Welcome, <name> !`
    Welcome,
    /// A benchmark message: `<name>:<sent at, ns since the epoch> …`
    Timed(u64),
    Other,
}

pub fn classify(line: &[u8], welcome_for: &[u8]) -> Line {
    if line == welcome_for {
        return Line::Welcome;
    }
    let Some(colon) = line.iter().position(|&b| b == b':') else { return Line::Other };
    let digits = &line[colon + 1..];
    let end = digits.iter().position(|b| !b.is_ascii_digit()).unwrap_or(digits.len());
    if end == 0 {
        return Line::Other;
    }
    // At most 20 digits fit a u64; anything else is not ours.
    match std::str::from_utf8(&digits[..end]).ok().and_then(|d| d.parse().ok()) {
        Some(at) => Line::Timed(at),
        None => Line::Other,
    }
}

/// The welcome line a connection waits for.
pub fn welcome(name: &str) -> Vec<u8> {
    format!("Welcome, {name} !").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_are_classified() {
        let me = welcome("r7");
        assert_eq!(classify(b"Welcome, r7 !", &me), Line::Welcome);
        assert_eq!(classify(b"Welcome, r8 !", &me), Line::Other);
        assert_eq!(classify(b"s1:1700000000000000000 xxxx", &me), Line::Timed(1_700_000_000_000_000_000));
        assert_eq!(classify(b"ann:hello", &me), Line::Other);
        assert_eq!(classify(b"r7 Logout", &me), Line::Other);
        assert_eq!(classify(b"s:99999999999999999999999", &me), Line::Other);
    }

    #[test]
    fn socket_io_packets_are_unwrapped_and_answered() {
        let d = Dialect::SocketIo;
        assert_eq!(d.unwrap(br#"0{"sid":"x","pingInterval":25000}"#), Incoming::Answer("40"));
        assert_eq!(d.unwrap(b"2"), Incoming::Answer("3"));
        assert_eq!(d.unwrap(br#"40{"sid":"y"}"#), Incoming::Ignore);
        assert_eq!(d.unwrap(br#"42["chat","a:1 x"]"#), Incoming::Line(b"a:1 x"));
        let mut out = String::new();
        d.wrap("1 x", &mut out);
        assert_eq!(out, r#"42["chat","1 x"]"#);
        assert!(d.path("a", "b").contains("room=a&name=b"));
    }
}
