//! The registry of live rooms. A room exists while it has members: the last one to leave
//! removes it, so connecting to random room names cannot grow the server's memory.

use super::{DynFederation, Member, Room};
use crate::identity::SessionId;
use crate::store::writer::Publish;
use crate::store::StoredMessage;
use app::names::Nickname;
use app::names::RoomName;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

#[derive(Debug, Clone, Default)]
pub struct Rooms {
    registry: Arc<Mutex<Registry>>,
    /// The other nodes sharing these rooms, if any.
    federation: Option<DynFederation>,
}

#[derive(Debug, Default)]
struct Registry {
    map: HashMap<RoomName, Arc<Room>>,
    /// The server is shutting down: whoever joins now is told at once.
    closed: bool,
}

impl Rooms {
    /// Rooms shared with other nodes.
    pub fn federated(federation: DynFederation) -> Self {
        Self { registry: Arc::default(), federation: Some(federation) }
    }

    /// The room `name`, if it is live on this node.
    pub fn get(&self, name: &RoomName) -> Option<Arc<Room>> {
        self.registry().map.get(name).cloned()
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Enters `name`, creating the room if needed. Joining happens under the registry lock, so a
    /// room being removed by its last leaver can never be joined halfway.
    pub fn join(&self, name: &RoomName, member: Arc<Member>) -> Membership {
        let mut registry = self.registry();
        let federation = &self.federation;
        let room = registry
            .map
            .entry(name.clone())
            .or_insert_with(|| match federation {
                Some(federation) => Arc::new(Room::federated(name.clone(), Arc::clone(federation))),
                None => Arc::new(Room::new(name.clone())),
            })
            .clone();
        if registry.closed {
            member.shut_down();
        }
        room.add(Arc::clone(&member));
        Membership { rooms: self.clone(), room, member }
    }

    /// The server is shutting down: every session in every room is told to close, and so is
    /// any that joins from now on.
    pub fn shut_down(&self) {
        let live = {
            let mut registry = self.registry();
            registry.closed = true;
            registry.map.values().cloned().collect::<Vec<_>>()
        };
        for room in live {
            room.shut_down();
        }
    }

    /// Closes every connection of `sessions` (logged out, revoked), here and, with other nodes,
    /// there.
    pub fn end_sessions(&self, sessions: &[SessionId]) {
        if sessions.is_empty() {
            return;
        }
        self.end_sessions_here(sessions);
        if let Some(federation) = &self.federation {
            federation.ended(sessions);
        }
    }

    /// Closes every connection of `sessions` on this node.
    pub fn end_sessions_here(&self, sessions: &[SessionId]) {
        for room in self.live() {
            for session in sessions {
                room.end_session(*session);
            }
        }
    }

    pub(crate) fn live(&self) -> Vec<Arc<Room>> {
        self.registry().map.values().cloned().collect()
    }

    /// Every live room with the number of members in it.
    pub fn occupancy(&self) -> Vec<(RoomName, usize)> {
        self.live().iter().map(|room| (room.name().clone(), room.members().len())).collect()
    }

    /// Whether another session holds `name` in `room` now.
    pub fn held_by_other_in(&self, room: &RoomName, name: &Nickname, session: SessionId) -> bool {
        let room = self.registry().map.get(room).cloned();
        room.is_some_and(|room| room.held_by_other(name, session))
    }

    /// How many rooms exist now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.registry().map.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A member leaves; the room goes with its last one. Joins happen under the same lock, so
    /// none can slip in.
    fn leave(&self, room: &Arc<Room>, member: &Arc<Member>) {
        let mut registry = self.registry();
        if room.remove(member) == 0 && registry.map.get(room.name()).is_some_and(|r| Arc::ptr_eq(r, room)) {
            registry.map.remove(room.name());
        }
    }
}

impl Publish for Rooms {
    /// Publishes stored messages (in sequence order) to their rooms, if anyone is in them: each
    /// room's share as one batch.
    fn publish(&self, messages: &[&StoredMessage]) {
        let mut rest = messages;
        while let Some(first) = rest.first() {
            let same = rest.iter().take_while(|m| m.room == first.room).count();
            let (batch, next) = rest.split_at(same);
            let room = self.registry().map.get(&first.room).cloned();
            if let Some(room) = room {
                room.publish(batch);
            }
            rest = next;
        }
    }
}

/// A connection's place in a room. Dropping it leaves the room, whatever ended the session.
#[derive(Debug)]
pub struct Membership {
    rooms: Rooms,
    room: Arc<Room>,
    member: Arc<Member>,
}

impl Membership {
    pub fn room(&self) -> &Arc<Room> {
        &self.room
    }

    /// This connection's share of the room's fan-out.
    pub fn member(&self) -> &Member {
        &self.member
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.rooms.leave(&self.room, &self.member);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::codec::Dialect;
    use crate::testing::loopback;

    async fn member() -> Arc<Member> {
        Arc::new(Member::new(loopback().await.0, Dialect::Plain(crate::codec::Lines::Verbatim), 8))
    }

    #[tokio::test]
    async fn rooms_live_while_they_have_members() {
        let rooms = Rooms::default();
        let a = RoomName::parse("a").unwrap();
        let first = rooms.join(&a, member().await);
        let second = rooms.join(&a, member().await);
        assert!(Arc::ptr_eq(first.room(), second.room()));
        let first_room = Arc::clone(first.room());
        assert_eq!(rooms.len(), 1);
        drop(first);
        assert_eq!(rooms.len(), 1);
        drop(second);
        assert!(rooms.is_empty());
        // A room made anew after the last member left is a fresh one.
        let third = rooms.join(&a, member().await);
        assert!(!Arc::ptr_eq(&first_room, third.room()));
        assert_eq!(rooms.len(), 1);
    }

    #[tokio::test]
    async fn shutting_down_tells_every_member_and_whoever_joins_after() {
        let rooms = Rooms::default();
        let (a, b) = (RoomName::parse("a").unwrap(), RoomName::parse("b").unwrap());
        let first = rooms.join(&a, member().await);
        let second = rooms.join(&b, member().await);
        rooms.shut_down();
        let late = rooms.join(&a, member().await);
        for membership in [&first, &second, &late] {
            assert_eq!(membership.member().attention().await, super::super::Attention::Shutdown);
        }
    }
}
