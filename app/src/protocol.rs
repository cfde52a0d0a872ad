//! The structured wire protocol (the JSON dialect), shared by the server and the wasm client.
//! These types are its only definition; `docs/PROTOCOL.md` describes them for other clients.
//!
//! A client selects this dialect by offering [`SUBPROTOCOL`] in `Sec-WebSocket-Protocol`. Each
//! WebSocket text message carries one JSON object whose `type` field names the variant.
//! A client that offers no subprotocol gets the seeds' plain-text dialect instead.

use crate::names::{MessageText, Nickname, RoomName};
use serde::{Deserialize, Serialize};

/// The `Sec-WebSocket-Protocol` token of this dialect. A breaking change gets a new token
/// (`chat.v2.json`), so that old and new clients can be served side by side.
pub const SUBPROTOCOL: &str = "chat.v1.json";

/// The version announced in [`ServerEvent::Ready`]; it matches the token above.
pub const PROTOCOL_VERSION: u32 = 1;

/// Milliseconds since the Unix epoch (UTC), as assigned by the server.
pub type Millis = i64;

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Post `text` to the room this connection is in.
    Send { text: MessageText },
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// The first event on every connection: the dialect version, the room, and the nickname the
    /// server bound to this connection (a guest name when the client asked for none).
    Ready { protocol: u32, room: RoomName, you: Nickname },
    /// `name` entered the room (the plain dialect's `Welcome, <name> !`).
    Joined { room: RoomName, name: Nickname, at: Millis },
    /// A chat message. `id` grows by one or more with each event of the room, so every member
    /// sees messages in the same order.
    Message { id: u64, room: RoomName, author: Nickname, text: MessageText, at: Millis },
    /// `name` left the room (the plain dialect's `<name> Logout`).
    Left { room: RoomName, name: Nickname, at: Millis },
    /// The server refused something this client sent; nothing was posted. The connection stays
    /// open unless a close frame follows.
    Error { code: ErrorCode, message: String },
}

/// Machine-readable reason of an [`ServerEvent::Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The message was not valid JSON of a known `type`, or a field failed its check
    /// (an empty or over-long text, say).
    BadRequest,
    /// A binary frame: this dialect is text only.
    Unsupported,
}

impl ClientMessage {
    pub fn to_json(&self) -> String {
        // Serialising these types cannot fail: no maps with non-string keys, no foreign types.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        // serde also reads tagged enums from arrays (`["send","hi"]`); the protocol is objects only.
        if !text.trim_start().starts_with('{') {
            return Err(serde::de::Error::custom("expected a JSON object"));
        }
        serde_json::from_str(text)
    }
}

impl ServerEvent {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nick(s: &str) -> Nickname {
        Nickname::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn client_message_wire_shape() {
        let msg = ClientMessage::Send { text: MessageText::parse("hi").unwrap_or_else(|e| panic!("{e}")) };
        assert_eq!(msg.to_json(), r#"{"type":"send","text":"hi"}"#);
        assert_eq!(ClientMessage::from_json(r#"{"type":"send","text":"hi"}"#).ok(), Some(msg));
    }

    #[test]
    fn client_message_refusals() {
        for bad in [
            "",
            "hello",
            r#"{"type":"send"}"#,
            r#"{"type":"send","text":""}"#,
            r#"{"type":"send","text":"   "}"#,
            r#"{"type":"shout","text":"x"}"#,
            r#"{"type":"send","text":"x","extra":1}"#,
            r#"["send","x"]"#,
        ] {
            assert!(ClientMessage::from_json(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!(r#"{{"type":"send","text":"{}"}}"#, "x".repeat(MessageText::MAX_BYTES + 1));
        assert!(ClientMessage::from_json(&long).is_err());
    }

    #[test]
    fn server_events_round_trip() {
        let room = RoomName::lobby();
        let events = [
            ServerEvent::Ready { protocol: PROTOCOL_VERSION, room: room.clone(), you: nick("guest-0001") },
            ServerEvent::Joined { room: room.clone(), name: nick("alice"), at: 1 },
            ServerEvent::Message {
                id: 7,
                room: room.clone(),
                author: nick("alice"),
                text: MessageText::parse("<b>not html</b> \"quoted\"").unwrap_or_else(|e| panic!("{e}")),
                at: 1_700_000_000_000,
            },
            ServerEvent::Left { room, name: nick("alice"), at: 2 },
            ServerEvent::Error { code: ErrorCode::BadRequest, message: "nope".into() },
        ];
        for event in events {
            let json = event.to_json();
            assert_eq!(ServerEvent::from_json(&json).ok(), Some(event), "{json}");
        }
    }

    #[test]
    fn server_event_wire_shape() {
        let event = ServerEvent::Message {
            id: 3,
            room: RoomName::lobby(),
            author: nick("bob"),
            text: MessageText::parse("hey").unwrap_or_else(|e| panic!("{e}")),
            at: 5,
        };
        assert_eq!(
            event.to_json(),
            r#"{"type":"message","id":3,"room":"lobby","author":"bob","text":"hey","at":5}"#
        );
        let err = ServerEvent::Error { code: ErrorCode::Unsupported, message: "m".into() };
        assert_eq!(err.to_json(), r#"{"type":"error","code":"unsupported","message":"m"}"#);
    }
}
