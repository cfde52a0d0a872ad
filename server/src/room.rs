//! One room: a total order of events and their fan-out to every member.
//!
//! Each event is encoded once per dialect when it is published; every member then gets a cheap
//! clone of the same bytes. The fan-out queue is a bounded ring (`tokio::sync::broadcast`), so
//! a member that cannot keep up falls behind the ring instead of growing memory, and is told so.
//!
//! Messages are published by the writer only, after they are stored, in sequence order.
//! Presence (joins, leaves) is published by sessions and is not stored.

use crate::codec::{json, plain};
use crate::store::StoredMessage;
use app::names::{Nickname, RoomName};
use app::protocol::{Millis, Seq, ServerEvent};
use axum::extract::ws::Utf8Bytes;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

/// What happens in a room.
#[derive(Debug, Clone)]
pub enum Action {
    Join(Nickname),
    Say(StoredMessage),
    Leave(Nickname),
}

/// One event, already encoded for each dialect.
#[derive(Debug)]
pub struct RoomEvent {
    /// The message's sequence number; `None` for presence, which is not part of the log.
    pub seq: Option<Seq>,
    pub plain: Utf8Bytes,
    pub json: Utf8Bytes,
}

impl RoomEvent {
    /// The protocol event of a stored message.
    pub fn message_event(stored: &StoredMessage) -> ServerEvent {
        ServerEvent::Message {
            id: stored.seq,
            epoch: stored.epoch,
            room: stored.room.clone(),
            author: stored.author.clone(),
            text: stored.text.clone(),
            at: stored.at,
            client_id: stored.client_id.clone(),
        }
    }

    /// The frames of a stored message: for live delivery and for history alike.
    pub fn message(stored: &StoredMessage) -> Self {
        let event = Self::message_event(stored);
        Self {
            seq: Some(stored.seq),
            plain: plain::message(&stored.author, &stored.text).into(),
            json: json::encode(&event),
        }
    }

    fn presence(room: &RoomName, action: Action) -> Self {
        let at = now_millis();
        let room = room.clone();
        let (plain, event) = match action {
            Action::Join(name) => (plain::welcome(&name), ServerEvent::Joined { room, name, at }),
            Action::Leave(name) => (plain::logout(&name), ServerEvent::Left { room, name, at }),
            Action::Say(stored) => return Self::message(&stored),
        };
        Self { seq: None, plain: plain.into(), json: json::encode(&event) }
    }
}

pub type EventRx = broadcast::Receiver<Arc<RoomEvent>>;

#[derive(Debug)]
pub struct Room {
    name: RoomName,
    tx: broadcast::Sender<Arc<RoomEvent>>,
}

impl Room {
    pub fn new(name: RoomName, backlog: usize) -> Self {
        let (tx, _) = broadcast::channel(backlog.max(1));
        Self { name, tx }
    }

    pub fn name(&self) -> &RoomName {
        &self.name
    }

    /// A new receiver that sees every event published from now on.
    pub(crate) fn subscribe(&self) -> EventRx {
        self.tx.subscribe()
    }

    pub(crate) fn member_count(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Encodes and queues `action` for every member.
    pub fn publish(&self, action: Action) {
        let event = RoomEvent::presence(&self.name, action);
        // An error only means nobody is listening, which is fine for a room.
        let _ = self.tx.send(Arc::new(event));
    }
}

pub fn now_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::names::MessageText;

    fn nick(s: &str) -> Nickname {
        Nickname::parse(s).unwrap()
    }

    fn stored(seq: Seq, text: &str) -> StoredMessage {
        StoredMessage {
            room: RoomName::lobby(),
            epoch: 9,
            seq,
            author: nick("ann"),
            text: MessageText::parse(text).unwrap(),
            at: 5,
            client_id: None,
        }
    }

    #[tokio::test]
    async fn every_member_sees_the_same_order() {
        let room = Arc::new(Room::new(RoomName::lobby(), 1024));
        let mut members: Vec<EventRx> = (0..4).map(|_| room.subscribe()).collect();
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let room = Arc::clone(&room);
                std::thread::spawn(move || {
                    for i in 0..100 {
                        room.publish(Action::Join(nick(&format!("w{w}-{i}"))));
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let mut orders = Vec::new();
        for rx in &mut members {
            let mut seen = Vec::new();
            while let Ok(event) = rx.try_recv() {
                seen.push(event.plain.to_string());
            }
            assert_eq!(seen.len(), 400);
            orders.push(seen);
        }
        assert!(orders.windows(2).all(|w| w[0] == w[1]), "all members saw one order");
    }

    #[tokio::test]
    async fn events_carry_both_dialects() {
        let room = Room::new(RoomName::lobby(), 8);
        let mut rx = room.subscribe();
        room.publish(Action::Join(nick("ann")));
        room.publish(Action::Say(stored(2, "hi")));
        room.publish(Action::Leave(nick("ann")));
        let joined = rx.try_recv().unwrap();
        assert_eq!(joined.plain.as_str(), "Welcome, ann !");
        assert_eq!(joined.seq, None);
        assert!(joined.json.as_str().starts_with(r#"{"type":"joined","room":"lobby","name":"ann","#));
        let said = rx.try_recv().unwrap();
        assert_eq!(said.plain.as_str(), "ann:hi");
        assert_eq!(said.seq, Some(2));
        assert_eq!(
            said.json.as_str(),
            r#"{"type":"message","id":2,"epoch":9,"room":"lobby","author":"ann","text":"hi","at":5}"#
        );
        assert_eq!(rx.try_recv().unwrap().plain.as_str(), "ann Logout");
    }

    #[tokio::test]
    async fn a_member_that_falls_behind_the_backlog_is_told() {
        let room = Room::new(RoomName::lobby(), 4);
        let mut rx = room.subscribe();
        for _ in 0..10 {
            room.publish(Action::Join(nick("x")));
        }
        assert!(matches!(rx.try_recv(), Err(broadcast::error::TryRecvError::Lagged(6))));
    }
}
