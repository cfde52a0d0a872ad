//! The members the other nodes hold, room by room, and when each node was last heard of: what a
//! room that comes to life here starts with, and what goes when a node does.
//!
//! Every operation is idempotent and returns only what changed, so that a hold, a release or a
//! heartbeat heard twice (or a heartbeat that repeats what the holds said) announces nothing
//! twice, and a node that is expired and comes back is announced once each way.

use super::wire::RoomHolds;
use crate::identity::SessionId;
use crate::rooms::{NodeId, RemoteHold};
use app::names::{Nickname, RoomName};
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// A change to what another node holds, to be applied to the room if it is live here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shift {
    Hold(RoomName, Nickname, SessionId),
    Release(RoomName, Nickname),
}

type Holds = HashMap<RoomName, HashMap<Nickname, SessionId>>;

#[derive(Debug, Default)]
pub struct Roster {
    nodes: Mutex<HashMap<NodeId, Node>>,
}

#[derive(Debug)]
struct Node {
    heard: Instant,
    holds: Holds,
}

impl Node {
    fn new(now: Instant) -> Self {
        Self { heard: now, holds: HashMap::new() }
    }
}

impl Roster {
    fn nodes(&self) -> MutexGuard<'_, HashMap<NodeId, Node>> {
        self.nodes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `node` holds `name` in `room`: whether that is news.
    pub fn hold(
        &self,
        node: NodeId,
        room: &RoomName,
        name: &Nickname,
        session: SessionId,
        now: Instant,
    ) -> bool {
        let mut nodes = self.nodes();
        let entry = nodes.entry(node).or_insert_with(|| Node::new(now));
        entry.heard = now;
        let before = entry.holds.entry(room.clone()).or_default().insert(name.clone(), session);
        before != Some(session)
    }

    /// `node` let go of `name` in `room`: whether it held it.
    pub fn release(&self, node: NodeId, room: &RoomName, name: &Nickname, now: Instant) -> bool {
        let mut nodes = self.nodes();
        let Some(entry) = nodes.get_mut(&node) else { return false };
        entry.heard = now;
        let Some(members) = entry.holds.get_mut(room) else { return false };
        let held = members.remove(name).is_some();
        if members.is_empty() {
            entry.holds.remove(room);
        }
        held
    }

    /// `node`'s heartbeat: it holds exactly `holds`. Returns what differs from what was known.
    pub fn beat(&self, node: NodeId, holds: Vec<RoomHolds>, now: Instant) -> Vec<Shift> {
        let mut fresh: Holds = HashMap::new();
        for RoomHolds { room, members } in holds {
            fresh.entry(room).or_default().extend(members.into_iter().map(|(name, s)| (name, s.0)));
        }
        let mut nodes = self.nodes();
        let entry = nodes.entry(node).or_insert_with(|| Node::new(now));
        entry.heard = now;
        let shifts = differences(&entry.holds, &fresh);
        entry.holds = fresh;
        shifts
    }

    /// Nodes not heard of for `timeout`: they are forgotten, and everything they held released.
    pub fn expire(&self, now: Instant, timeout: Duration) -> Vec<(NodeId, Vec<Shift>)> {
        let mut nodes = self.nodes();
        let dead: Vec<NodeId> = nodes
            .iter()
            .filter(|(_, n)| now.saturating_duration_since(n.heard) >= timeout)
            .map(|(&id, _)| id)
            .collect();
        dead.into_iter()
            .filter_map(|id| nodes.remove(&id).map(|node| (id, differences(&node.holds, &HashMap::new()))))
            .collect()
    }

    /// Counts every node as heard of now: after this node could hear nobody (its bus was down),
    /// the others get a full timeout to be heard again before they are given up.
    pub fn heard_all(&self, now: Instant) {
        self.nodes().values_mut().for_each(|node| node.heard = now);
    }

    /// What the other nodes hold in `room`.
    pub fn holds_in(&self, room: &RoomName) -> Vec<RemoteHold> {
        let nodes = self.nodes();
        let mut holds = Vec::new();
        for (&node, entry) in nodes.iter() {
            for (name, &session) in entry.holds.get(room).into_iter().flatten() {
                holds.push(RemoteHold { node, name: name.clone(), session });
            }
        }
        holds
    }

    /// The nodes heard of, this one aside.
    pub fn len(&self) -> usize {
        self.nodes().len()
    }
}

/// What turns `old` into `new`: releases first, so that a name that changed hands is let go
/// before it is taken.
fn differences(old: &Holds, new: &Holds) -> Vec<Shift> {
    let mut shifts = Vec::new();
    for (room, members) in old {
        let kept = new.get(room);
        for (name, session) in members {
            if kept.and_then(|k| k.get(name)) != Some(session) {
                shifts.push(Shift::Release(room.clone(), name.clone()));
            }
        }
    }
    let mut seen: HashSet<(&RoomName, &Nickname)> = HashSet::new();
    for (room, members) in new {
        let had = old.get(room);
        for (name, &session) in members {
            if had.and_then(|h| h.get(name)) != Some(&session) && seen.insert((room, name)) {
                shifts.push(Shift::Hold(room.clone(), name.clone(), session));
            }
        }
    }
    shifts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::wire::Session;
    use crate::testing::nick;

    fn room(name: &str) -> RoomName {
        RoomName::parse(name).unwrap()
    }

    #[test]
    fn holds_and_releases_are_news_once() {
        let roster = Roster::default();
        let (now, s) = (Instant::now(), SessionId::random());
        assert!(roster.hold(1, &room("a"), &nick("ann"), s, now));
        assert!(!roster.hold(1, &room("a"), &nick("ann"), s, now));
        assert_eq!(roster.holds_in(&room("a")), vec![RemoteHold { node: 1, name: nick("ann"), session: s }]);
        assert!(roster.holds_in(&room("b")).is_empty());
        assert!(roster.release(1, &room("a"), &nick("ann"), now));
        assert!(!roster.release(1, &room("a"), &nick("ann"), now));
        assert!(!roster.release(2, &room("a"), &nick("ann"), now), "a node never heard of");
    }

    #[test]
    fn a_heartbeat_makes_good_what_the_bus_lost() {
        let roster = Roster::default();
        let (now, s, t) = (Instant::now(), SessionId::random(), SessionId::random());
        roster.hold(1, &room("a"), &nick("ann"), s, now);
        roster.hold(1, &room("a"), &nick("bob"), s, now);
        // The release of ann and the hold of cat were lost; bob changed sessions.
        let beat = vec![RoomHolds {
            room: room("a"),
            members: vec![(nick("bob"), Session(t)), (nick("cat"), Session(s))],
        }];
        let mut shifts = roster.beat(1, beat.clone(), now);
        let releases: Vec<_> =
            shifts.iter().take_while(|s| matches!(s, Shift::Release(..))).cloned().collect();
        assert_eq!(releases.len(), 2, "releases first: {shifts:?}");
        shifts.sort_by_key(|s| format!("{s:?}"));
        assert_eq!(
            shifts,
            vec![
                Shift::Hold(room("a"), nick("bob"), t),
                Shift::Hold(room("a"), nick("cat"), s),
                Shift::Release(room("a"), nick("ann")),
                Shift::Release(room("a"), nick("bob")),
            ]
        );
        assert!(roster.beat(1, beat, now).is_empty(), "the same heartbeat again: nothing");
    }

    #[test]
    fn a_silent_node_is_given_up_once_and_welcomed_back_once() {
        let roster = Roster::default();
        let (t0, s) = (Instant::now(), SessionId::random());
        let timeout = Duration::from_secs(10);
        roster.hold(1, &room("a"), &nick("ann"), s, t0);
        roster.hold(2, &room("a"), &nick("bob"), s, t0 + Duration::from_secs(5));
        assert!(roster.expire(t0 + Duration::from_secs(9), timeout).is_empty());
        let gone = roster.expire(t0 + Duration::from_secs(10), timeout);
        assert_eq!(gone, vec![(1, vec![Shift::Release(room("a"), nick("ann"))])]);
        assert!(roster.expire(t0 + Duration::from_secs(11), timeout).is_empty(), "given up once");
        assert_eq!(roster.len(), 1);
        // It was only cut off: its next heartbeat brings its members back.
        let beat = vec![RoomHolds { room: room("a"), members: vec![(nick("ann"), Session(s))] }];
        assert_eq!(
            roster.beat(1, beat, t0 + Duration::from_secs(12)),
            vec![Shift::Hold(room("a"), nick("ann"), s)]
        );
        // After this node could not hear anyone, everyone has a full timeout again.
        roster.heard_all(t0 + Duration::from_secs(30));
        assert!(roster.expire(t0 + Duration::from_secs(39), timeout).is_empty());
    }
}
