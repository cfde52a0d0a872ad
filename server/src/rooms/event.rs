//! The fan-out's one event type: what a room publishes, encoded once for each dialect when it
//! is published, and the one place where a connection's dialect picks its frame.

use super::presence::Change;
use crate::clock;
use crate::codec::{json, plain, tornado, Dialect, Lines};
use crate::store::{Body, StoredMessage};
use crate::ws::Frame;
use app::names::{Nickname, RoomName};
use app::protocol::{Seq, ServerEvent};
use std::sync::OnceLock;

/// What an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Message,
    /// An edit, a deletion or a moderator's action: numbered like a message, shown by the JSON
    /// and plain dialects only.
    Change,
    Joined(Nickname),
    Left(Nickname),
    Typing,
    /// Who runs the room, its topic, slow mode: for the JSON dialect.
    Rules,
    /// What one of a person's connections tells their others (how far they have read): for the
    /// JSON dialect.
    Personal,
    Relay,
}

/// Where an event stands in a member's order of messages, given the last one it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Turn {
    /// A message it has already.
    Seen,
    /// The next message, or presence (which is not numbered and always in turn).
    Next,
    /// A message after one it was never given.
    Gap,
}

/// One event, already encoded as a WebSocket frame for each dialect.
#[derive(Debug)]
pub struct RoomEvent {
    /// The message's sequence number; `None` for presence, which is not part of the log.
    pub seq: Option<Seq>,
    pub kind: Kind,
    /// `None`: the plain dialect has no line for it (typing, relayed frames).
    pub plain: Option<Frame>,
    /// The same lines HTML-escaped, for the plain dialect in a browser page (the same bytes
    /// when escaping changes nothing).
    pub plain_html: Option<Frame>,
    /// `None` for relayed frames, which only relay connections receive.
    pub json: Option<Frame>,
    /// A frame for the relay dialect, exactly as a relay connection sent it.
    pub relay: Option<Frame>,
    /// The Tornado dialect's fragment of a message, made from its JSON the first time a member
    /// of that dialect needs it: a room without one pays nothing for it.
    pub(super) tornado: OnceLock<Option<Frame>>,
}

impl RoomEvent {
    /// The frames of a stored entry (a message, or a change to one): for live delivery and for
    /// history alike.
    pub fn message(stored: &StoredMessage) -> Self {
        let event = stored.event();
        let (plain, plain_html) = match &stored.body {
            Body::Text { text, reply, .. } => {
                let text = shown(text, reply);
                both(plain_frames(&text, |lines| plain::message_frames(&stored.author, &text, lines)))
            }
            Body::Edit { text: Some(text), .. } => both(plain_frames(text.as_str(), |lines| {
                plain::correction_frames(&stored.author, text, lines)
            })),
            Body::Moderation(record) => {
                let line = record.action.describe(&stored.author);
                both(plain_frames(&line, |lines| plain::line(&line, lines)))
            }
            // Reactions are not lines: a text room would fill with them.
            Body::Deleted | Body::Edit { text: None, .. } | Body::Delete { .. } | Body::React { .. } => {
                (None, None)
            }
        };
        let kind = match stored.body {
            Body::Text { .. } | Body::Deleted => Kind::Message,
            Body::Edit { .. } | Body::Delete { .. } | Body::React { .. } | Body::Moderation(_) => {
                Kind::Change
            }
        };
        Self {
            seq: Some(stored.seq),
            kind,
            plain,
            plain_html,
            json: Some(json::encode(&event)),
            relay: None,
            tornado: OnceLock::new(),
        }
    }

    pub(super) fn presence(room: &RoomName, change: Change) -> Self {
        let at = clock::now_millis();
        let room = room.clone();
        let (kind, plain, event) = match change {
            Change::Joined(name) => (
                Kind::Joined(name.clone()),
                Some(plain::welcome(&name)),
                ServerEvent::Joined { room, name, at },
            ),
            Change::Left(name) => {
                (Kind::Left(name.clone()), Some(plain::logout(&name)), ServerEvent::Left { room, name, at })
            }
            Change::Typing(names) => (Kind::Typing, None, ServerEvent::Typing { room, names }),
        };
        let json = Some(json::encode(&event));
        let (plain, plain_html) = plain.map(|l| plain_frames(&l, |lines| plain::line(&l, lines))).unzip();
        Self { seq: None, kind, plain, plain_html, json, relay: None, tornado: OnceLock::new() }
    }

    /// The room's rules, for the JSON dialect (the others had the action's line).
    pub(super) fn rules(room: &RoomName, rules: &app::protocol::RoomRules) -> Self {
        let event = ServerEvent::Rules { room: room.clone(), rules: rules.clone() };
        Self {
            seq: None,
            kind: Kind::Rules,
            plain: None,
            plain_html: None,
            json: Some(json::encode(&event)),
            relay: None,
            tornado: OnceLock::new(),
        }
    }

    /// Where this event stands for a member whose last message is `delivered`.
    pub(super) fn turn_after(&self, delivered: Seq) -> Turn {
        match self.seq {
            None => Turn::Next,
            Some(seq) if seq <= delivered => Turn::Seen,
            Some(seq) if seq == delivered.saturating_add(1) => Turn::Next,
            Some(_) => Turn::Gap,
        }
    }

    /// This event's frame for a connection of `dialect`, if that dialect has one.
    pub fn frame(&self, dialect: Dialect) -> Option<&Frame> {
        match dialect {
            Dialect::Plain(Lines::Verbatim) => self.plain.as_ref(),
            Dialect::Plain(Lines::Html) => self.plain_html.as_ref(),
            Dialect::Json => self.json.as_ref(),
            Dialect::Relay => self.relay.as_ref(),
            Dialect::Tornado => self.tornado.get_or_init(|| self.fragment()).as_ref(),
        }
    }

    /// A message's fragment for the Tornado dialect, which shows messages and nothing else.
    fn fragment(&self) -> Option<Frame> {
        if self.kind != Kind::Message {
            return None;
        }
        match ServerEvent::from_json(self.json.as_ref()?.payload_text()) {
            Ok(ServerEvent::Message { author, text, deleted: false, reply, .. }) => {
                Some(tornado::fragment(&author, &shown(&text, &reply)))
            }
            _ => None,
        }
    }

    /// A stored entry's frame for one connection of `dialect` (history, catch-up), if that
    /// dialect shows it: only that dialect's encoding is made.
    pub fn logged(stored: &StoredMessage, dialect: Dialect) -> Option<Frame> {
        match (dialect, &stored.body) {
            (Dialect::Json | Dialect::Relay, _) => Some(json::encode(&stored.event())),
            (Dialect::Plain(lines), Body::Text { text, reply, .. }) => {
                Some(plain::message_frames(&stored.author, &shown(text, reply), lines))
            }
            (Dialect::Plain(lines), Body::Edit { text: Some(text), .. }) => {
                Some(plain::correction_frames(&stored.author, text, lines))
            }
            (Dialect::Plain(lines), Body::Moderation(record)) => {
                Some(plain::line(&record.action.describe(&stored.author), lines))
            }
            (Dialect::Tornado, Body::Text { text, reply, .. }) => {
                Some(tornado::fragment(&stored.author, &shown(text, reply)))
            }
            _ => None,
        }
    }

    /// One of the plain dialect's own lines (a greeting, a logout) for one connection of
    /// `dialect`, written as that connection's lines are.
    pub fn line(line: &str, dialect: Dialect) -> Frame {
        match dialect {
            Dialect::Plain(lines) => plain::line(line, lines),
            Dialect::Json | Dialect::Relay => Frame::text(line),
            Dialect::Tornado => plain::line(line, Lines::Html),
        }
    }

    /// A JSON event for some members only (see [`Kind::Personal`]).
    pub fn personal(json: Frame) -> Self {
        Self {
            seq: None,
            kind: Kind::Personal,
            plain: None,
            plain_html: None,
            json: Some(json),
            relay: None,
            tornado: OnceLock::new(),
        }
    }

    /// A frame relayed as it was sent, for relay connections only.
    pub fn relayed(frame: Frame) -> Self {
        Self {
            seq: None,
            kind: Kind::Relay,
            plain: None,
            plain_html: None,
            json: None,
            relay: Some(frame),
            tornado: OnceLock::new(),
        }
    }
}

/// The plain dialect's frames of `text` for programs and for pages: encoded twice only when
/// escaping changes something.
fn plain_frames(text: &str, encode: impl Fn(plain::Lines) -> Frame) -> (Frame, Frame) {
    let verbatim = encode(plain::Lines::Verbatim);
    let html = if plain::Lines::Html.changes(text) { encode(plain::Lines::Html) } else { verbatim.clone() };
    (verbatim, html)
}

fn both((verbatim, html): (Frame, Frame)) -> (Option<Frame>, Option<Frame>) {
    (Some(verbatim), Some(html))
}

/// A message's text for the dialects that know nothing of replies: a reply's quote goes first,
/// in brackets.
fn shown<'t>(
    text: &'t app::names::MessageText,
    reply: &Option<app::quote::Quote>,
) -> std::borrow::Cow<'t, str> {
    match reply {
        None => std::borrow::Cow::Borrowed(text.as_str()),
        Some(quote) => std::borrow::Cow::Owned(quote.plain(text.as_str())),
    }
}
