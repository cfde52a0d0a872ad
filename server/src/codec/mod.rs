//! Frames to protocol messages and back, for the dialects a room speaks.

pub mod json;
pub mod plain;
pub mod tornado;

use app::protocol::SUBPROTOCOL;
pub use plain::Lines;

/// Which dialect a connection speaks, fixed at the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The seeds' plain-text room: `Welcome, <name> !`, `<name>:<msg>`, `quit`, `<name> Logout`,
    /// its lines written as [`Lines`] says.
    Plain(Lines),
    /// The structured JSON dialect of `app::protocol`.
    Json,
    /// Seed 004's Tornado room: a uuid first, then messages (and nothing else) as HTML
    /// fragments; the page sends JSON. Only on its own listener (`--tornado-addr`), since its
    /// handshake is the plain dialect's.
    Tornado,
    /// A live relay for programs: every text or binary frame a relay connection sends reaches
    /// every relay connection of the room (itself included) exactly as sent. Nothing is stored,
    /// relay connections are not members, and the other dialects never see these frames.
    Relay,
}

/// The relay dialect's subprotocol.
pub const RELAY_SUBPROTOCOL: &str = "chat.v1.relay";

/// The subprotocols the server accepts, most preferred first. `chat` is what seed 002's page
/// offers (with `superchat`); a browser fails the connection unless one of its offers is echoed.
pub const OFFERED_SUBPROTOCOLS: [&str; 3] = [SUBPROTOCOL, RELAY_SUBPROTOCOL, "chat"];

impl Dialect {
    /// The dialect for the subprotocol the handshake selected (`None`: the client offered none
    /// that the server speaks), and whether a browser page opened the connection.
    pub fn from_handshake(selected: Option<&str>, from_browser: bool) -> Self {
        match selected {
            Some(SUBPROTOCOL) => Self::Json,
            Some(RELAY_SUBPROTOCOL) => Self::Relay,
            _ => Self::Plain(Lines::for_client(from_browser)),
        }
    }

    pub fn is_plain(self) -> bool {
        matches!(self, Self::Plain(_))
    }

    /// The dialect's name in metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            Self::Plain(_) => "plain",
            Self::Json => "json",
            Self::Tornado => "tornado",
            Self::Relay => "relay",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        assert_eq!(Dialect::from_handshake(Some(SUBPROTOCOL), true), Dialect::Json);
        assert_eq!(Dialect::from_handshake(Some(RELAY_SUBPROTOCOL), false), Dialect::Relay);
        assert_eq!(Dialect::from_handshake(Some("chat"), false), Dialect::Plain(Lines::Verbatim));
        assert_eq!(Dialect::from_handshake(None, false), Dialect::Plain(Lines::Verbatim));
        assert_eq!(Dialect::from_handshake(None, true), Dialect::Plain(Lines::Html));
    }
}
