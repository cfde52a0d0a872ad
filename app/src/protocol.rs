//! The structured wire protocol (the JSON dialect), shared by the server and the wasm client.
//! These types are its only definition; `docs/PROTOCOL.md` describes them for other clients.
//!
//! A client selects this dialect by offering [`SUBPROTOCOL`] in `Sec-WebSocket-Protocol`. Each
//! WebSocket text message carries one JSON object whose `type` field names the variant.
//! A client that offers no subprotocol gets the seeds' plain-text dialect instead.

use crate::markup::Markup;
use crate::names::{ClientId, MessageText, Nickname, RoomName};
use crate::quote::Quote;
use crate::reactions::{Emoji, Reactions};
use serde::{Deserialize, Serialize};

// Serde's derived readers buffer internally tagged enums; the events, actions and audit entries
// are read in one pass instead (see `read`).
mod read;

/// The `Sec-WebSocket-Protocol` token of this dialect. A breaking change gets a new token
/// (`chat.v2.json`), so that old and new clients can be served side by side.
pub const SUBPROTOCOL: &str = "chat.v1.json";

/// The largest WebSocket message a server accepts from a room connection by default (larger ones
/// are closed with 1009). A client checks its frames against it before sending, so that a text
/// whose JSON escapes make it too large is refused at once rather than retried for ever.
pub const MAX_FRAME_BYTES: usize = 8 * 1024;

/// The version announced in [`ServerEvent::Ready`]; it matches the token above.
pub const PROTOCOL_VERSION: u32 = 1;

/// Close codes (RFC 6455, 7.4.1, and IANA's registry of them): one spelling for the server and
/// the client.
pub mod close {
    /// The purpose of the connection is fulfilled (`quit`).
    pub const NORMAL: u16 = 1000;
    /// The server is going away (shutting down).
    pub const AWAY: u16 = 1001;
    /// A frame that breaks the protocol.
    pub const PROTOCOL: u16 = 1002;
    /// A kind of data this endpoint does not take (binary frames in the plain dialect).
    pub const UNSUPPORTED: u16 = 1003;
    /// Data that does not fit the message's type (text that is not UTF-8, or not chat text).
    pub const INVALID: u16 = 1007;
    /// A policy was broken (a name, a flood, too many connections).
    pub const POLICY: u16 = 1008;
    /// A message too big to take.
    pub const SIZE: u16 = 1009;
    /// Try again later: the service cannot do it now.
    pub const TRY_AGAIN: u16 = 1013;

    /// Codes an endpoint may send (RFC 6455 7.4 and the IANA registry): 1004-1006 and 1015 are
    /// reserved for reports that never go on the wire, 1016-2999 are unassigned, 3000-4999 are
    /// for libraries and applications.
    pub fn may_be_sent(code: u16) -> bool {
        matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

/// Milliseconds since the Unix epoch (UTC), as assigned by the server.
pub type Millis = i64;

/// A message's place in its room's log: grows by one with each stored message.
pub type Seq = u64;

/// Identifies one incarnation of a room's log. It changes only if the log is reset, which tells
/// a resuming client that its `(epoch, seq)` no longer means anything. 0: the room has no log yet.
pub type Epoch = i64;

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Post `text` to the room this connection is in. `id` is the client's own name for the
    /// message: the server answers with [`ServerEvent::Ack`] once it is durably stored, and a
    /// resend with the same `id` (after a reconnect, say) is acknowledged but not stored again.
    /// `reply_to`: the number of an earlier message of the room that this one answers.
    Send {
        id: ClientId,
        text: MessageText,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<Seq>,
    },
    /// Asks for a [`ServerEvent::Pong`]; lets a browser, which cannot send WebSocket pings,
    /// notice a dead connection.
    Ping { nonce: u64 },
    /// The sender is typing. Clients send it at most every few seconds while the reader types;
    /// the server shows the sender as typing until a few seconds after the last one, or until
    /// their message arrives.
    Typing {},
    /// Replaces the text of the message numbered `target` (one of the sender's own). Answered by
    /// an [`ServerEvent::Edited`] to everyone in the room, this client included, once it is
    /// stored, or by an [`ServerEvent::Error`].
    Edit { target: Seq, text: MessageText },
    /// Deletes the message numbered `target`: one of the sender's own, or anyone's for a
    /// moderator of the room. Answered by a [`ServerEvent::Deleted`] to everyone, or an error.
    Delete { target: Seq },
    /// A moderator's (or the owner's) action on the room or one of its people: decided by the
    /// server, answered by a [`ServerEvent::Moderated`] to everyone, or an error.
    Moderate { action: Action },
    /// Puts the sender's `emoji` on the message numbered `target` (`on`), or takes it back.
    /// Answered by a [`ServerEvent::Reacted`] to everyone once it is stored; one that changes
    /// nothing (a second click of a slow connection) is answered by nothing.
    React { target: Seq, emoji: Emoji, on: bool },
    /// The reader has read the room up to the message numbered `seq` (the newest they have
    /// seen): kept for them, so that every device of theirs opens the room there, and told to
    /// their other connections to the room as a [`ServerEvent::Read`]. A mark never moves back.
    Read { seq: Seq },
}

/// What moderators and owners do. `name` is the person's nickname in the room: a registered
/// one stands for its account (every session of it), a guest's for its session; bans and
/// timeouts hold for the address its connections come from too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Disconnects them; they may come back.
    Kick { name: Nickname, reason: String },
    /// They cannot post for `seconds`.
    Timeout { name: Nickname, seconds: u64, reason: String },
    /// They cannot enter (and are put out) for `seconds`, or for good without it.
    Ban {
        name: Nickname,
        #[serde(skip_serializing_if = "Option::is_none")]
        seconds: Option<u64>,
        reason: String,
    },
    /// Lifts their ban and timeout.
    Pardon { name: Nickname },
    /// One message per `seconds` per member (moderators excepted); 0 turns it off.
    SlowMode { seconds: u64 },
    /// The room's topic; empty clears it.
    Topic { text: String },
    /// Messages older than `days` are forgotten (the owner only); 0: the server's own retention.
    /// Where the server has one, a room keeps its messages at most that long.
    Retention { days: u32 },
    /// Makes a registered person a moderator, or a plain member again; `owner` hands the room
    /// over (the owner only; the old owner stays a moderator).
    Role { name: Nickname, role: Role },
}

impl Action {
    /// The action as a sentence, for the room's log: `by` is who took it.
    pub fn describe(&self, by: &Nickname) -> String {
        let why = |reason: &str| if reason.is_empty() { String::new() } else { format!(": {reason}") };
        match self {
            Self::Kick { name, reason } => format!("{by} put {name} out of the room{}", why(reason)),
            Self::Timeout { name, seconds, reason } => {
                format!("{by} timed {name} out for {}{}", duration(*seconds), why(reason))
            }
            Self::Ban { name, seconds: Some(seconds), reason } => {
                format!("{by} banned {name} for {}{}", duration(*seconds), why(reason))
            }
            Self::Ban { name, seconds: None, reason } => format!("{by} banned {name}{}", why(reason)),
            Self::Pardon { name } => format!("{by} lifted the sanctions on {name}"),
            Self::SlowMode { seconds: 0 } => format!("{by} turned slow mode off"),
            Self::SlowMode { seconds } => {
                format!("{by} turned slow mode on: one message every {}", duration(*seconds))
            }
            Self::Topic { text } if text.is_empty() => format!("{by} cleared the topic"),
            Self::Topic { text } => format!("{by} set the topic: {text}"),
            Self::Retention { days: 0 } => format!("{by} left keeping messages to the server"),
            Self::Retention { days } => {
                format!("{by} set the room to forget messages after {}", duration(u64::from(*days) * 86_400))
            }
            Self::Role { name, role: Role::Owner } if name == by => format!("{by} created the room"),
            Self::Role { name, role: Role::Owner } => format!("{by} handed the room over to {name}"),
            Self::Role { name, role: Role::Moderator } => format!("{by} made {name} a moderator"),
            Self::Role { name, role: Role::Member } => format!("{by} made {name} a member"),
        }
    }
}

/// A duration as people say it: the largest whole unit.
fn duration(seconds: u64) -> String {
    let (count, unit) = match seconds {
        s if s >= 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s >= 3600 && s % 3600 == 0 => (s / 3600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

/// A person's standing in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Moderator,
    Owner,
}

/// A room's rules as a member needs them: who runs it, its topic, slow mode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRules {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Nickname>,
    #[serde(default)]
    pub moderators: Vec<Nickname>,
    #[serde(default)]
    pub topic: String,
    /// One message per this many seconds per member; 0: off.
    #[serde(default)]
    pub slow_mode: u64,
    /// Days after which the room's messages are forgotten, as its owner set it; 0: the
    /// server's own retention (if any).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retention_days: u32,
}

fn is_zero(days: &u32) -> bool {
    *days == 0
}

impl RoomRules {
    /// `name`'s role here.
    pub fn role_of(&self, name: &Nickname) -> Role {
        let same = |n: &Nickname| n.as_str().eq_ignore_ascii_case(name.as_str());
        if self.owner.as_ref().is_some_and(same) {
            Role::Owner
        } else if self.moderators.iter().any(same) {
            Role::Moderator
        } else {
            Role::Member
        }
    }
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// The first event on every connection: the dialect version, the room, the nickname the
    /// server bound to this connection (a guest name when the client asked for none), and the
    /// room's log position. The messages the client asked for (the recent ones, or everything
    /// after its resume position) follow as `message` events, then live events.
    Ready { protocol: u32, room: RoomName, you: Nickname, epoch: Epoch, seq: Seq },
    /// Who is in the room, sent once after `ready`; `joined` and `left` events follow it.
    Members { room: RoomName, names: Vec<Nickname> },
    /// `name` entered the room (the plain dialect's `Welcome, <name> !`). Several connections of
    /// one session count as one member: only the first announces it.
    Joined { room: RoomName, name: Nickname, at: Millis },
    /// A stored chat message. `id` is its sequence number in the room's log (epoch `epoch`):
    /// every member sees messages in this order, and a client resumes after the last `id` it saw.
    /// `client_id` is the id its author gave it.
    Message {
        id: Seq,
        epoch: Epoch,
        room: RoomName,
        author: Nickname,
        text: MessageText,
        at: Millis,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<ClientId>,
        /// When its text was last edited; `None` if never.
        #[serde(skip_serializing_if = "Option::is_none")]
        edited: Option<Millis>,
        /// The message was deleted: `text` is then [`MessageText::deleted`], a placeholder for
        /// clients that know nothing of deletions, and the rest of the event what it was.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        deleted: bool,
        /// Its reactions as they stand (none for a deleted message).
        #[serde(skip_serializing_if = "Reactions::is_empty")]
        reactions: Reactions,
        /// The message it answers, as that one reads now.
        #[serde(skip_serializing_if = "Option::is_none")]
        reply: Option<Quote>,
        /// The formatting its text uses, read by the server; absent when it uses none.
        #[serde(skip_serializing_if = "Option::is_none")]
        markup: Option<Markup>,
    },
    /// The message numbered `target` now reads `text`, as `by` (its author) edited it at `at`.
    /// Numbered in the log like a message (`id`), so that a client that was away learns of it
    /// when it resumes.
    Edited {
        id: Seq,
        epoch: Epoch,
        room: RoomName,
        target: Seq,
        text: MessageText,
        by: Nickname,
        at: Millis,
        /// The formatting of the new text, as for a message.
        #[serde(skip_serializing_if = "Option::is_none")]
        markup: Option<Markup>,
    },
    /// The message numbered `target` was deleted by `by` (its author or a moderator) at `at`:
    /// clients show a tombstone in its place. Numbered in the log like a message (`id`).
    Deleted { id: Seq, epoch: Epoch, room: RoomName, target: Seq, by: Nickname, at: Millis },
    /// `by` put `emoji` on the message numbered `target` (`on`), or took it back, at `at`.
    /// Numbered in the log like a message (`id`), so that a client that was away learns of it.
    Reacted {
        id: Seq,
        epoch: Epoch,
        room: RoomName,
        target: Seq,
        emoji: Emoji,
        on: bool,
        by: Nickname,
        at: Millis,
    },
    /// The room's rules (owner, moderators, topic, slow mode): sent after `members`, and again
    /// whenever they change.
    Rules { room: RoomName, rules: RoomRules },
    /// A moderator (`by`) acted: numbered in the log like a message, so that it is kept (the
    /// room's audit log) and a client that was away learns of it. `until`: when a timeout or a
    /// ban ends (`None` for good, or for actions without an end).
    Moderated {
        id: Seq,
        epoch: Epoch,
        room: RoomName,
        by: Nickname,
        action: Action,
        #[serde(skip_serializing_if = "Option::is_none")]
        until: Option<Millis>,
        at: Millis,
    },
    /// The message this client sent as `client_id` is durably stored as `id`.
    Ack { client_id: ClientId, id: Seq },
    /// The client's resume position belongs to an earlier incarnation of the room's log (it was
    /// reset): the client should forget what it shows; the current log follows.
    Reset { epoch: Epoch },
    /// Answers [`ClientMessage::Ping`].
    Pong { nonce: u64 },
    /// `name` left the room (the plain dialect's `<name> Logout`): on purpose, or a few seconds
    /// after their last connection dropped (a reload in that time announces nothing).
    Left { room: RoomName, name: Nickname, at: Millis },
    /// The reader has read the room up to the message numbered `seq`: sent after `members` when
    /// they have read it before, and whenever another of their connections (another tab or
    /// device) reads further.
    Read { room: RoomName, seq: Seq },
    /// Everyone typing in the room now (an empty list: nobody). Sent whenever that changes.
    Typing { room: RoomName, names: Vec<Nickname> },
    /// The server refused something this client sent; nothing was posted. The connection stays
    /// open unless a close frame follows.
    Error { code: ErrorCode, message: String },
}

/// A page of a room's older history, as `GET /api/rooms/{room}/messages?before=<id>&limit=<n>`
/// returns it: the messages before `before` (the newest ones without it), oldest first. Each
/// element of `messages` is a [`ServerEvent::Message`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub room: RoomName,
    pub messages: Vec<ServerEvent>,
    /// Whether older messages exist before the first one of this page.
    pub more: bool,
}

/// One entry of a room's audit: an action a moderator took, or a deletion (by its author or a
/// moderator). `GET /api/rooms/{room}/audit` returns them, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Its number in the room's log.
    pub seq: Seq,
    pub at: Millis,
    /// Who took it.
    pub by: Nickname,
    #[serde(flatten)]
    pub what: Audited,
}

/// What an [`AuditEntry`] records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Audited {
    Moderated {
        action: Action,
    },
    /// The message numbered `target` was deleted.
    Deleted {
        target: Seq,
    },
}

impl AuditEntry {
    /// The entry as a sentence.
    pub fn describe(&self) -> String {
        match &self.what {
            Audited::Moderated { action } => action.describe(&self.by),
            Audited::Deleted { target } => format!("{} deleted message {target}", self.by),
        }
    }
}

/// A page of a room's audit, newest first; `more` when older entries remain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub room: RoomName,
    pub entries: Vec<AuditEntry>,
    pub more: bool,
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
    /// The message could not be stored (storage is unavailable); it was not posted. Resending it
    /// later, with the same id, is safe.
    Unavailable,
    /// Another person holds this nickname in this room; the connection is closed (1008).
    NameTaken,
    /// The client sends faster than its rate: what it sends is handled at that rate from now on
    /// (nothing is dropped); a client that stays over it is closed (1008).
    RateLimited,
    /// The message an edit or a delete names is not in the room's log, or is deleted already.
    NotFound,
    /// The sender may not do this: edit another's message, or delete one without being its
    /// author or a moderator of the room, or act as a moderator without being one.
    Forbidden,
    /// A moderator timed the sender out: nothing it sends is posted until the time `message`
    /// names (its pending messages will not be).
    TimedOut,
}

/// One room in the room list (`GET /api/rooms`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSummary {
    pub name: RoomName,
    /// Members online now.
    pub members: u32,
    /// When its last message was posted; `None` if it has none.
    pub last_at: Option<Millis>,
    /// Its topic; empty for none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub topic: String,
    /// For a reader who has read the room before: the messages by others since (at most
    /// [`UNREAD_COUNTED`]; `None`: never read, nothing counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<u32>,
    /// Of those, the ones that mention the reader.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mentions: u32,
}

/// How many new messages a room's count goes up to ("99+" past it).
pub const UNREAD_COUNTED: u32 = 99;

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
        // As for client messages: objects only (serde reads structs from arrays too).
        if !text.trim_start().starts_with('{') {
            return Err(serde::de::Error::custom("expected a JSON object"));
        }
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nick(s: &str) -> Nickname {
        Nickname::parse(s).unwrap()
    }

    fn cid(s: &str) -> ClientId {
        ClientId::parse(s).unwrap()
    }

    #[test]
    fn client_message_wire_shape() {
        let msg =
            ClientMessage::Send { id: cid("c1"), text: MessageText::parse("hi").unwrap(), reply_to: None };
        assert_eq!(msg.to_json(), r#"{"type":"send","id":"c1","text":"hi"}"#);
        assert_eq!(ClientMessage::from_json(r#"{"type":"send","id":"c1","text":"hi"}"#).ok(), Some(msg));
        let reply = ClientMessage::Send {
            id: cid("c2"),
            text: MessageText::parse("yes").unwrap(),
            reply_to: Some(1),
        };
        assert_eq!(reply.to_json(), r#"{"type":"send","id":"c2","text":"yes","reply_to":1}"#);
        let ping = ClientMessage::Ping { nonce: 7 };
        assert_eq!(ping.to_json(), r#"{"type":"ping","nonce":7}"#);
        assert_eq!(ClientMessage::from_json(r#"{"type":"typing"}"#).ok(), Some(ClientMessage::Typing {}));
        let edit = ClientMessage::Edit { target: 7, text: MessageText::parse("fixed").unwrap() };
        assert_eq!(edit.to_json(), r#"{"type":"edit","target":7,"text":"fixed"}"#);
        assert_eq!(
            ClientMessage::from_json(r#"{"type":"delete","target":7}"#).ok(),
            Some(ClientMessage::Delete { target: 7 })
        );
        let react = ClientMessage::React { target: 7, emoji: Emoji::ThumbsUp, on: true };
        assert_eq!(react.to_json(), r#"{"type":"react","target":7,"emoji":"👍","on":true}"#);
        assert!(ClientMessage::from_json(r#"{"type":"react","target":7,"emoji":"<b>","on":true}"#).is_err());
    }

    #[test]
    fn client_message_refusals() {
        for bad in [
            "",
            "hello",
            r#"{"type":"send","id":"c1"}"#,
            r#"{"type":"send","text":"no id"}"#,
            r#"{"type":"send","id":"c1","text":""}"#,
            r#"{"type":"send","id":"c1","text":"   "}"#,
            r#"{"type":"send","id":"not ok","text":"x"}"#,
            r#"{"type":"shout","text":"x"}"#,
            r#"{"type":"send","id":"c1","text":"x","extra":1}"#,
            r#"["send","c1","x"]"#,
        ] {
            assert!(ClientMessage::from_json(bad).is_err(), "{bad:?} should be refused");
        }
        let long =
            format!(r#"{{"type":"send","id":"c","text":"{}"}}"#, "x".repeat(MessageText::MAX_BYTES + 1));
        assert!(ClientMessage::from_json(&long).is_err());
    }

    #[test]
    fn server_events_round_trip() {
        let room = RoomName::lobby();
        let events = [
            ServerEvent::Ready {
                protocol: PROTOCOL_VERSION,
                room: room.clone(),
                you: nick("guest-0001"),
                epoch: 42,
                seq: 9,
            },
            ServerEvent::Joined { room: room.clone(), name: nick("alice"), at: 1 },
            ServerEvent::Message {
                id: 7,
                epoch: 42,
                room: room.clone(),
                author: nick("alice"),
                text: MessageText::parse("<b>not html</b> \"quoted\"").unwrap(),
                at: 1_700_000_000_000,
                client_id: Some(cid("c7")),
                edited: Some(1_700_000_000_001),
                deleted: false,
                reactions: Reactions::default(),
                reply: Some(Quote::of(3, nick("bob"), "lunch?")),
                markup: None,
            },
            ServerEvent::Edited {
                id: 8,
                epoch: 42,
                room: room.clone(),
                target: 7,
                text: MessageText::parse("*fixed*").unwrap(),
                by: nick("alice"),
                at: 3,
                markup: Some(vec![crate::markup::Block::Paragraph(vec![crate::markup::Inline::Emphasis(
                    vec![crate::markup::Inline::Text("fixed".into())],
                )])]),
            },
            ServerEvent::Deleted { id: 9, epoch: 42, room: room.clone(), target: 7, by: nick("mod"), at: 4 },
            ServerEvent::Reacted {
                id: 10,
                epoch: 42,
                room: room.clone(),
                target: 7,
                emoji: Emoji::Party,
                on: true,
                by: nick("bob"),
                at: 5,
            },
            ServerEvent::Ack { client_id: cid("c7"), id: 7 },
            ServerEvent::Members { room: room.clone(), names: vec![nick("alice"), nick("bob")] },
            ServerEvent::Typing { room: room.clone(), names: vec![] },
            ServerEvent::Reset { epoch: 43 },
            ServerEvent::Pong { nonce: 1 },
            ServerEvent::Left { room, name: nick("alice"), at: 2 },
            ServerEvent::Error { code: ErrorCode::BadRequest, message: "nope".into() },
            ServerEvent::Error { code: ErrorCode::NameTaken, message: "taken".into() },
            ServerEvent::Error { code: ErrorCode::RateLimited, message: "slow down".into() },
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
            epoch: 5,
            room: RoomName::lobby(),
            author: nick("bob"),
            text: MessageText::parse("hey").unwrap(),
            at: 5,
            client_id: None,
            edited: None,
            deleted: false,
            reactions: Reactions::default(),
            reply: None,
            markup: None,
        };
        assert_eq!(
            event.to_json(),
            r#"{"type":"message","id":3,"epoch":5,"room":"lobby","author":"bob","text":"hey","at":5}"#
        );
        let err = ServerEvent::Error { code: ErrorCode::Unavailable, message: "m".into() };
        assert_eq!(err.to_json(), r#"{"type":"error","code":"unavailable","message":"m"}"#);
    }
}
