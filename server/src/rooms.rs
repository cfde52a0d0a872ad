//! The registry of live rooms. A room exists while it has members: the last one to leave
//! removes it, so connecting to random room names cannot grow the server's memory.

use crate::identity::SessionId;
use crate::room::{EventRx, Room};
use crate::store::StoredMessage;
use app::names::Nickname;
use app::names::RoomName;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Debug, Clone)]
pub struct Rooms {
    map: Arc<Mutex<HashMap<RoomName, Arc<Room>>>>,
    backlog: usize,
}

impl Rooms {
    pub fn new(backlog: usize) -> Self {
        Self { map: Arc::default(), backlog }
    }

    /// Enters `name`, creating the room if needed. Subscribing happens under the registry lock,
    /// so a room being removed by its last leaver can never be joined halfway.
    pub fn join(&self, name: &RoomName) -> Membership {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let room = map
            .entry(name.clone())
            .or_insert_with(|| Arc::new(Room::new(name.clone(), self.backlog)))
            .clone();
        let events = room.subscribe();
        Membership { rooms: self.clone(), room, events }
    }

    /// Publishes a stored message to its room, if anyone is in it.
    pub fn publish(&self, message: &StoredMessage) {
        let room = self.map.lock().unwrap_or_else(PoisonError::into_inner).get(&message.room).cloned();
        if let Some(room) = room {
            room.publish(message);
        }
    }

    fn live(&self) -> Vec<Arc<Room>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner).values().cloned().collect()
    }

    /// Every live room with the number of members in it.
    pub fn occupancy(&self) -> Vec<(RoomName, usize)> {
        self.live().iter().map(|room| (room.name().clone(), room.members().len())).collect()
    }

    /// Whether another session holds `name` in `room` now.
    pub fn held_by_other_in(&self, room: &RoomName, name: &Nickname, session: SessionId) -> bool {
        let room = self.map.lock().unwrap_or_else(PoisonError::into_inner).get(room).cloned();
        room.is_some_and(|room| room.held_by_other(name, session))
    }

    /// How many rooms exist now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Called by a leaving member whose receiver is still alive: the room is empty when that
    /// receiver is the only one. Joins subscribe under the same lock, so none can slip in.
    fn leave(&self, room: &Arc<Room>) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if room.receiver_count() <= 1 && map.get(room.name()).is_some_and(|r| Arc::ptr_eq(r, room)) {
            map.remove(room.name());
        }
    }
}

/// A connection's place in a room. Dropping it leaves the room, whatever ended the session.
#[derive(Debug)]
pub struct Membership {
    rooms: Rooms,
    room: Arc<Room>,
    events: EventRx,
}

impl Membership {
    pub fn room(&self) -> &Arc<Room> {
        &self.room
    }

    /// The events of the room since this member joined.
    pub fn events(&mut self) -> &mut EventRx {
        &mut self.events
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.rooms.leave(&self.room);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_live_while_they_have_members() {
        let rooms = Rooms::new(8);
        let a = RoomName::parse("a").unwrap();
        let first = rooms.join(&a);
        let second = rooms.join(&a);
        assert!(Arc::ptr_eq(first.room(), second.room()));
        assert_eq!(rooms.len(), 1);
        drop(first);
        assert_eq!(rooms.len(), 1);
        drop(second);
        assert!(rooms.is_empty());
        // A room made anew after the last member left is a fresh one.
        let third = rooms.join(&a);
        assert_eq!(third.room().receiver_count(), 1);
        assert_eq!(rooms.len(), 1);
    }
}
