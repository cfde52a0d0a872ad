//! Reading the protocol's tagged objects (`{"type": "message", ...}`, `{"kind": "ban", ...}`) in
//! one pass.
//!
//! serde's derived reader for an internally tagged enum first copies the whole object into a
//! tree of its own (`Content`: every string, number and nested object allocated again), looks
//! up the tag in that copy, then reads the variant from the copy. Every event paid for that
//! twice, and the wasm carried a second reader for every type inside an event (4.5 % of the
//! gzipped page, `docs/BENCHMARKS.md`). Here each object is read once, straight from the JSON,
//! into one struct with a field for every name any of its variants uses, and the variant is
//! built from those.
//!
//! What that asks of the protocol: a field name has one type in every variant that uses it
//! (`text` is a message's text wherever it appears, `seconds` a count of seconds). The tests
//! below read every variant back from what the server writes.

use super::{Action, AuditEntry, Audited, ErrorCode, Role, RoomRules, ServerEvent};
use super::{Epoch, Millis, Seq};
use crate::markup::Markup;
use crate::names::{ClientId, MessageText, Nickname, RoomName};
use crate::quote::Quote;
use crate::reactions::{Emoji, Reactions};
use serde::de::Error;
use serde::{Deserialize, Deserializer};

/// A field the variant needs, or serde's usual "missing field" error.
fn need<T, E: Error>(value: Option<T>, field: &'static str) -> Result<T, E> {
    value.ok_or_else(|| E::missing_field(field))
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum EventType {
    Ready,
    Members,
    Joined,
    Message,
    Edited,
    Deleted,
    Reacted,
    Rules,
    Moderated,
    Ack,
    Reset,
    Pong,
    Left,
    Read,
    Typing,
    Error,
}

/// Every field of every event; like the derived reader, fields an event does not take are
/// ignored (a newer server may send more).
#[derive(Deserialize)]
struct EventFields {
    #[serde(rename = "type")]
    kind: EventType,
    protocol: Option<u32>,
    room: Option<RoomName>,
    you: Option<Nickname>,
    epoch: Option<Epoch>,
    seq: Option<Seq>,
    names: Option<Vec<Nickname>>,
    name: Option<Nickname>,
    at: Option<Millis>,
    id: Option<Seq>,
    author: Option<Nickname>,
    text: Option<MessageText>,
    client_id: Option<ClientId>,
    edited: Option<Millis>,
    deleted: Option<bool>,
    reactions: Option<Reactions>,
    reply: Option<Quote>,
    markup: Option<Markup>,
    target: Option<Seq>,
    by: Option<Nickname>,
    emoji: Option<Emoji>,
    on: Option<bool>,
    rules: Option<RoomRules>,
    action: Option<Action>,
    until: Option<Millis>,
    nonce: Option<u64>,
    code: Option<ErrorCode>,
    message: Option<String>,
}

impl<'de> Deserialize<'de> for ServerEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let f = EventFields::deserialize(deserializer)?;
        Ok(match f.kind {
            EventType::Ready => ServerEvent::Ready {
                protocol: need(f.protocol, "protocol")?,
                room: need(f.room, "room")?,
                you: need(f.you, "you")?,
                epoch: need(f.epoch, "epoch")?,
                seq: need(f.seq, "seq")?,
            },
            EventType::Members => {
                ServerEvent::Members { room: need(f.room, "room")?, names: need(f.names, "names")? }
            }
            EventType::Joined => ServerEvent::Joined {
                room: need(f.room, "room")?,
                name: need(f.name, "name")?,
                at: need(f.at, "at")?,
            },
            EventType::Message => ServerEvent::Message {
                id: need(f.id, "id")?,
                epoch: need(f.epoch, "epoch")?,
                room: need(f.room, "room")?,
                author: need(f.author, "author")?,
                text: need(f.text, "text")?,
                at: need(f.at, "at")?,
                client_id: f.client_id,
                edited: f.edited,
                deleted: f.deleted.unwrap_or(false),
                reactions: f.reactions.unwrap_or_default(),
                reply: f.reply,
                markup: f.markup,
            },
            EventType::Edited => ServerEvent::Edited {
                id: need(f.id, "id")?,
                epoch: need(f.epoch, "epoch")?,
                room: need(f.room, "room")?,
                target: need(f.target, "target")?,
                text: need(f.text, "text")?,
                by: need(f.by, "by")?,
                at: need(f.at, "at")?,
                markup: f.markup,
            },
            EventType::Deleted => ServerEvent::Deleted {
                id: need(f.id, "id")?,
                epoch: need(f.epoch, "epoch")?,
                room: need(f.room, "room")?,
                target: need(f.target, "target")?,
                by: need(f.by, "by")?,
                at: need(f.at, "at")?,
            },
            EventType::Reacted => ServerEvent::Reacted {
                id: need(f.id, "id")?,
                epoch: need(f.epoch, "epoch")?,
                room: need(f.room, "room")?,
                target: need(f.target, "target")?,
                emoji: need(f.emoji, "emoji")?,
                on: need(f.on, "on")?,
                by: need(f.by, "by")?,
                at: need(f.at, "at")?,
            },
            EventType::Rules => {
                ServerEvent::Rules { room: need(f.room, "room")?, rules: need(f.rules, "rules")? }
            }
            EventType::Moderated => ServerEvent::Moderated {
                id: need(f.id, "id")?,
                epoch: need(f.epoch, "epoch")?,
                room: need(f.room, "room")?,
                by: need(f.by, "by")?,
                action: need(f.action, "action")?,
                until: f.until,
                at: need(f.at, "at")?,
            },
            EventType::Ack => {
                ServerEvent::Ack { client_id: need(f.client_id, "client_id")?, id: need(f.id, "id")? }
            }
            EventType::Reset => ServerEvent::Reset { epoch: need(f.epoch, "epoch")? },
            EventType::Pong => ServerEvent::Pong { nonce: need(f.nonce, "nonce")? },
            EventType::Left => ServerEvent::Left {
                room: need(f.room, "room")?,
                name: need(f.name, "name")?,
                at: need(f.at, "at")?,
            },
            EventType::Read => ServerEvent::Read { room: need(f.room, "room")?, seq: need(f.seq, "seq")? },
            EventType::Typing => {
                ServerEvent::Typing { room: need(f.room, "room")?, names: need(f.names, "names")? }
            }
            EventType::Error => {
                ServerEvent::Error { code: need(f.code, "code")?, message: need(f.message, "message")? }
            }
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ActionKind {
    Kick,
    Timeout,
    Ban,
    Pardon,
    SlowMode,
    Topic,
    Retention,
    Role,
}

/// Every field of every action. Actions come from clients too, and there a field the action
/// does not take is refused, as a typo should be.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionFields {
    kind: ActionKind,
    name: Option<Nickname>,
    reason: Option<String>,
    seconds: Option<u64>,
    text: Option<String>,
    days: Option<u32>,
    role: Option<Role>,
}

const ACTION_FIELDS: &[&str] = &["kind", "name", "reason", "seconds", "text", "days", "role"];

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let ActionFields { kind, name, reason, seconds, text, days, role } =
            ActionFields::deserialize(deserializer)?;
        // The fields each action takes besides `kind`: any other one given is refused.
        let takes: &[&str] = match kind {
            ActionKind::Kick => &["name", "reason"],
            ActionKind::Timeout | ActionKind::Ban => &["name", "seconds", "reason"],
            ActionKind::Pardon => &["name"],
            ActionKind::SlowMode => &["seconds"],
            ActionKind::Topic => &["text"],
            ActionKind::Retention => &["days"],
            ActionKind::Role => &["name", "role"],
        };
        let given = [
            ("name", name.is_some()),
            ("reason", reason.is_some()),
            ("seconds", seconds.is_some()),
            ("text", text.is_some()),
            ("days", days.is_some()),
            ("role", role.is_some()),
        ];
        if let Some((field, _)) = given.iter().find(|(field, given)| *given && !takes.contains(field)) {
            return Err(D::Error::unknown_field(field, ACTION_FIELDS));
        }
        Ok(match kind {
            ActionKind::Kick => {
                Action::Kick { name: need(name, "name")?, reason: reason.unwrap_or_default() }
            }
            ActionKind::Timeout => Action::Timeout {
                name: need(name, "name")?,
                seconds: need(seconds, "seconds")?,
                reason: reason.unwrap_or_default(),
            },
            ActionKind::Ban => {
                Action::Ban { name: need(name, "name")?, seconds, reason: reason.unwrap_or_default() }
            }
            ActionKind::Pardon => Action::Pardon { name: need(name, "name")? },
            ActionKind::SlowMode => Action::SlowMode { seconds: need(seconds, "seconds")? },
            ActionKind::Topic => Action::Topic { text: need(text, "text")? },
            ActionKind::Retention => Action::Retention { days: need(days, "days")? },
            ActionKind::Role => Action::Role { name: need(name, "name")?, role: need(role, "role")? },
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum AuditKind {
    Moderated,
    Deleted,
}

#[derive(Deserialize)]
struct AuditFields {
    seq: Seq,
    at: Millis,
    by: Nickname,
    kind: AuditKind,
    action: Option<Action>,
    target: Option<Seq>,
}

impl<'de> Deserialize<'de> for AuditEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let f = AuditFields::deserialize(deserializer)?;
        let what = match f.kind {
            AuditKind::Moderated => Audited::Moderated { action: need(f.action, "action")? },
            AuditKind::Deleted => Audited::Deleted { target: need(f.target, "target")? },
        };
        Ok(AuditEntry { seq: f.seq, at: f.at, by: f.by, what })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ClientMessage;
    use crate::reactions::Reactions;

    fn nick(s: &str) -> Nickname {
        Nickname::parse(s).unwrap()
    }

    fn every_action() -> Vec<Action> {
        let reason = "spam".to_string();
        vec![
            Action::Kick { name: nick("eve"), reason: reason.clone() },
            Action::Kick { name: nick("eve"), reason: String::new() },
            Action::Timeout { name: nick("eve"), seconds: 60, reason: reason.clone() },
            Action::Ban { name: nick("eve"), seconds: Some(3600), reason: reason.clone() },
            Action::Ban { name: nick("eve"), seconds: None, reason },
            Action::Pardon { name: nick("eve") },
            Action::SlowMode { seconds: 0 },
            Action::Topic { text: "lunch <b>at</b> noon".into() },
            Action::Retention { days: 30 },
            Action::Role { name: nick("bob"), role: Role::Moderator },
        ]
    }

    #[test]
    fn every_action_reads_back_alone_in_an_event_and_in_the_audit() {
        for (seq, action) in every_action().into_iter().enumerate() {
            let json = serde_json::to_string(&action).unwrap();
            assert_eq!(serde_json::from_str::<Action>(&json).ok(), Some(action.clone()), "{json}");
            let event = ServerEvent::Moderated {
                id: seq as Seq,
                epoch: 1,
                room: RoomName::lobby(),
                by: nick("mod"),
                action: action.clone(),
                until: (seq % 2 == 0).then_some(99),
                at: 5,
            };
            let json = event.to_json();
            assert_eq!(ServerEvent::from_json(&json).ok(), Some(event), "{json}");
            let entry =
                AuditEntry { seq: seq as Seq, at: 5, by: nick("mod"), what: Audited::Moderated { action } };
            let json = serde_json::to_string(&entry).unwrap();
            assert_eq!(serde_json::from_str::<AuditEntry>(&json).ok(), Some(entry), "{json}");
        }
        let deletion = AuditEntry { seq: 4, at: 5, by: nick("mod"), what: Audited::Deleted { target: 2 } };
        let json = serde_json::to_string(&deletion).unwrap();
        assert_eq!(json, r#"{"seq":4,"at":5,"by":"mod","kind":"deleted","target":2}"#);
        assert_eq!(serde_json::from_str::<AuditEntry>(&json).ok(), Some(deletion));
    }

    #[test]
    fn events_not_covered_elsewhere_read_back() {
        let room = RoomName::lobby();
        for event in [
            ServerEvent::Joined { room: room.clone(), name: nick("alice"), at: 1 },
            ServerEvent::Read { room: room.clone(), seq: 12 },
            ServerEvent::Rules {
                room: room.clone(),
                rules: RoomRules {
                    owner: Some(nick("alice")),
                    moderators: vec![nick("bob")],
                    topic: "t".into(),
                    slow_mode: 5,
                    retention_days: 7,
                },
            },
            ServerEvent::Rules { room, rules: RoomRules::default() },
        ] {
            let json = event.to_json();
            assert_eq!(ServerEvent::from_json(&json).map_err(|e| e.to_string()), Ok(event), "{json}");
        }
    }

    #[test]
    fn what_an_event_may_leave_out_and_what_it_may_not() {
        let read = ServerEvent::from_json;
        // Optional parts take their defaults, fields of other events or of a newer server are
        // ignored, and the tag may come anywhere in the object.
        let message = read(
            r#"{"id":3,"epoch":5,"room":"lobby","author":"bob","text":"hey","at":5,"type":"message","nonce":9,"future":{"x":[1]}}"#,
        );
        match message {
            Ok(ServerEvent::Message { deleted, reactions, client_id, reply, markup, .. }) => {
                assert!(!deleted && reactions == Reactions::default());
                assert!(client_id.is_none() && reply.is_none() && markup.is_none());
            }
            other => panic!("{other:?}"),
        }
        for (bad, why) in [
            (
                r#"{"type":"message","id":3,"epoch":5,"room":"lobby","author":"bob","at":5}"#,
                "missing field `text`",
            ),
            (r#"{"type":"shout","room":"lobby"}"#, "unknown variant `shout`"),
            (r#"{"room":"lobby","seq":1}"#, "missing field `type`"),
            (r#"{"type":"read","room":"lobby","seq":1,"seq":2}"#, "duplicate field `seq`"),
            (r#"{"type":"read","room":"Not A Room!","seq":1}"#, "room"),
            (r#"{"type":"pong","nonce":-1}"#, "invalid value"),
            (r#"["pong",1]"#, "expected a JSON object"),
        ] {
            match read(bad) {
                Err(err) => assert!(err.to_string().contains(why), "{bad}: {err}"),
                Ok(event) => panic!("{bad} read as {event:?}"),
            }
        }
    }

    #[test]
    fn a_moderators_action_from_a_client_takes_only_its_own_fields() {
        let read = ClientMessage::from_json;
        assert_eq!(
            read(r#"{"type":"moderate","action":{"kind":"ban","name":"eve"}}"#).ok(),
            Some(ClientMessage::Moderate {
                action: Action::Ban { name: nick("eve"), seconds: None, reason: String::new() }
            })
        );
        for (bad, why) in [
            (r#"{"type":"moderate","action":{"kind":"kick","name":"eve","days":3}}"#, "unknown field `days`"),
            (
                r#"{"type":"moderate","action":{"kind":"pardon","name":"eve","reason":"x"}}"#,
                "unknown field `reason`",
            ),
            (
                r#"{"type":"moderate","action":{"kind":"topic","text":"t","colour":"red"}}"#,
                "unknown field `colour`",
            ),
            (r#"{"type":"moderate","action":{"kind":"timeout","name":"eve"}}"#, "missing field `seconds`"),
            (
                r#"{"type":"moderate","action":{"kind":"role","name":"eve","role":"king"}}"#,
                "unknown variant `king`",
            ),
            (r#"{"type":"moderate","action":{"kind":"nuke"}}"#, "unknown variant `nuke`"),
            (r#"{"type":"moderate","action":{"name":"eve"}}"#, "missing field `kind`"),
        ] {
            match read(bad) {
                Err(err) => assert!(err.to_string().contains(why), "{bad}: {err}"),
                Ok(message) => panic!("{bad} read as {message:?}"),
            }
        }
    }
}
