//! One room: a total order of events and their fan-out to every member.
//!
//! Each event is encoded once per dialect when it is published; every member then gets a cheap
//! clone of the same bytes. The fan-out queue is a bounded ring (`tokio::sync::broadcast`), so
//! a member that cannot keep up falls behind the ring instead of growing memory, and is told so.

use crate::codec::{json, plain};
use app::names::{MessageText, Nickname, RoomName};
use app::protocol::{Millis, ServerEvent};
use axum::extract::ws::Utf8Bytes;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

/// What a member does in a room.
#[derive(Debug, Clone)]
pub enum Action {
    Join(Nickname),
    Say(Nickname, MessageText),
    Leave(Nickname),
}

/// One published event, already encoded for each dialect.
#[derive(Debug)]
pub struct RoomEvent {
    /// Position in the room's order: strictly increasing.
    pub seq: u64,
    pub plain: Utf8Bytes,
    pub json: Utf8Bytes,
}

pub type EventRx = broadcast::Receiver<Arc<RoomEvent>>;

#[derive(Debug)]
pub struct Room {
    name: RoomName,
    tx: broadcast::Sender<Arc<RoomEvent>>,
    /// The next sequence number. Held while an event is numbered *and* queued, so that the
    /// order of numbers is the order every member receives.
    next_seq: Mutex<u64>,
}

impl Room {
    pub fn new(name: RoomName, backlog: usize) -> Self {
        let (tx, _) = broadcast::channel(backlog.max(1));
        Self { name, tx, next_seq: Mutex::new(1) }
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

    /// Numbers, encodes and queues `action` for every member; returns its sequence number.
    pub fn publish(&self, action: Action) -> u64 {
        let at = now_millis();
        let mut next = self.next_seq.lock().unwrap_or_else(PoisonError::into_inner);
        let seq = *next;
        *next += 1;
        let event = self.encode(seq, at, action);
        // An error only means nobody is listening, which is fine for a room.
        let _ = self.tx.send(Arc::new(event));
        seq
    }

    fn encode(&self, seq: u64, at: Millis, action: Action) -> RoomEvent {
        let room = self.name.clone();
        let (plain, event) = match action {
            Action::Join(name) => (plain::welcome(&name), ServerEvent::Joined { room, name, at }),
            Action::Say(author, text) => {
                (plain::message(&author, &text), ServerEvent::Message { id: seq, room, author, text, at })
            }
            Action::Leave(name) => (plain::logout(&name), ServerEvent::Left { room, name, at }),
        };
        RoomEvent { seq, plain: plain.into(), json: json::encode(&event) }
    }
}

fn now_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nick(s: &str) -> Nickname {
        Nickname::parse(s).unwrap()
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
                        let text = MessageText::parse(&format!("{w}-{i}")).unwrap();
                        room.publish(Action::Say(nick("w"), text));
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let mut orders = Vec::new();
        for rx in &mut members {
            let mut seqs = Vec::new();
            while let Ok(event) = rx.try_recv() {
                seqs.push((event.seq, event.plain.to_string()));
            }
            assert_eq!(seqs.len(), 400);
            assert!(seqs.windows(2).all(|w| w[0].0 < w[1].0), "sequence numbers grow");
            orders.push(seqs);
        }
        assert!(orders.windows(2).all(|w| w[0] == w[1]), "all members saw one order");
    }

    #[tokio::test]
    async fn events_carry_both_dialects() {
        let room = Room::new(RoomName::lobby(), 8);
        let mut rx = room.subscribe();
        room.publish(Action::Join(nick("ann")));
        room.publish(Action::Say(nick("ann"), MessageText::parse("hi").unwrap()));
        room.publish(Action::Leave(nick("ann")));
        let joined = rx.try_recv().unwrap();
        assert_eq!(joined.plain.as_str(), "Welcome, ann !");
        assert!(joined.json.as_str().starts_with(r#"{"type":"joined","room":"lobby","name":"ann","#));
        let said = rx.try_recv().unwrap();
        assert_eq!(said.plain.as_str(), "ann:hi");
        assert!(said.json.as_str().contains(r#""id":2"#));
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
