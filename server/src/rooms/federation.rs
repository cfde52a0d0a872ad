//! What a room tells, and asks of, the other server processes sharing its rooms (see
//! `crate::cluster`, which sits above the rooms and implements this). A single server has none.
//!
//! Presence is the one thing a room must share itself: messages reach every node through the
//! log. A node *holds* a nickname in a room while one of its connections (or a lingering member
//! in its grace period) has it; the other nodes list it as a member and refuse it to other
//! sessions.

use crate::identity::SessionId;
use app::names::{Nickname, RoomName};
use std::sync::Arc;

/// A server process sharing rooms with others: random, chosen when it starts.
pub type NodeId = u64;

/// A nickname held in a room by another node: who holds it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteHold {
    pub node: NodeId,
    pub name: Nickname,
    pub session: SessionId,
}

/// The other nodes, as a room sees them. Called under the room's lock, so that what a room tells
/// leaves in the order it happened: nothing here may block or call back into the room.
pub trait Federation: Send + Sync + std::fmt::Debug {
    /// This node now holds `name` in `room` for `session`.
    fn held(&self, room: &RoomName, name: &Nickname, session: SessionId);
    /// This node no longer holds `name` in `room`.
    fn released(&self, room: &RoomName, name: &Nickname);
    /// `name`, a member on this node, is typing in `room`.
    fn typing(&self, room: &RoomName, name: &Nickname);
    /// What the other nodes hold in `room` now: a room that comes to life on this node starts
    /// with them.
    fn holds_in(&self, room: &RoomName) -> Vec<RemoteHold>;
}

pub type DynFederation = Arc<dyn Federation>;
