//! What the nodes tell each other on the bus: one JSON object per publication. Everything read
//! from it is checked like anything from a client (a node of another version, or whatever else
//! publishes on the channel, may send anything); what cannot be read is dropped and logged, and
//! the log makes good any message it held.

use crate::identity::SessionId;
use crate::rooms::NodeId;
use crate::store::StoredMessage;
use app::names::{Nickname, RoomName};
use serde::{Deserialize, Serialize};

/// The bus's one channel: every node publishes and listens there.
pub const CHANNEL: &str = "chat:v1:bus";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Note {
    /// Messages `node` just committed, in order within each room.
    Commit { node: NodeId, messages: Vec<StoredMessage> },
    /// `node` now holds `name` in `room` for `session`.
    Hold { node: NodeId, room: RoomName, name: Nickname, session: Session },
    /// `node` no longer holds `name` in `room`.
    Release { node: NodeId, room: RoomName, name: Nickname },
    /// `name`, held by `node`, is typing in `room`.
    Typing { node: NodeId, room: RoomName, name: Nickname },
    /// These sessions were ended on `node` (logged out, revoked): their connections close
    /// everywhere.
    Ended { node: NodeId, sessions: Vec<Session> },
    /// `node` is alive and holds exactly these members: sent every heartbeat, it makes good any
    /// hold or release the bus lost.
    Beat { node: NodeId, holds: Vec<RoomHolds> },
}

impl Note {
    pub fn node(&self) -> NodeId {
        match self {
            Self::Commit { node, .. }
            | Self::Hold { node, .. }
            | Self::Release { node, .. }
            | Self::Typing { node, .. }
            | Self::Ended { node, .. }
            | Self::Beat { node, .. } => *node,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        // A note holds strings and numbers only: serialising it cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// The members a node holds in one room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomHolds {
    pub room: RoomName,
    pub members: Vec<(Nickname, Session)>,
}

/// A session id on the bus: its 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Session(pub SessionId);

impl TryFrom<String> for Session {
    type Error = hex::FromHexError;

    fn try_from(hex: String) -> Result<Self, Self::Error> {
        hex.parse().map(Self)
    }
}

impl From<Session> for String {
    fn from(session: Session) -> Self {
        session.0.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::nick;
    use app::names::{ClientId, MessageText};

    #[test]
    fn notes_read_back_as_written() {
        let message = StoredMessage {
            room: RoomName::lobby(),
            epoch: 77,
            seq: 3,
            author: nick("ann"),
            body: crate::store::Body::Text {
                text: MessageText::parse("<b>hi</b>\nthere").unwrap(),
                edited: None,
                reactions: Default::default(),
                reply: Some(app::quote::Quote::of(2, nick("bob"), "lunch?")),
            },
            at: 5,
            client_id: Some(ClientId::parse("c-1").unwrap()),
        };
        let session = Session(SessionId::random());
        let notes = [
            Note::Commit { node: u64::MAX, messages: vec![message.clone()] },
            Note::Hold { node: 1, room: RoomName::lobby(), name: nick("ann"), session },
            Note::Release { node: 1, room: RoomName::lobby(), name: nick("ann") },
            Note::Typing { node: 1, room: RoomName::lobby(), name: nick("ann") },
            Note::Beat {
                node: 2,
                holds: vec![RoomHolds { room: RoomName::lobby(), members: vec![(nick("ann"), session)] }],
            },
        ];
        for note in notes {
            assert_eq!(Note::decode(&note.encode()).unwrap(), note);
        }
    }

    #[test]
    fn what_breaks_the_rules_is_not_read() {
        for bad in [
            r#"{"t":"hold","node":1,"room":"lobby","name":"ann","session":"zz"}"#,
            r#"{"t":"hold","node":1,"room":"lobby","name":"a\u0001b","session":"00000000000000000000000000000000"}"#,
            r#"{"t":"commit","node":1,"messages":[{"room":"lobby","epoch":1,"seq":1,"author":"ann","text":"","at":0}]}"#,
            r#"{"t":"commit","node":1,"messages":[{"room":"lobby","epoch":1,"seq":-1,"author":"ann","text":"x","at":0}]}"#,
            r#"{"t":"release","node":-1,"room":"lobby","name":"ann"}"#,
            r#"{"t":"nonsense"}"#,
            "not json",
        ] {
            assert!(Note::decode(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
