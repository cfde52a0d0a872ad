//! What a room tells, and asks of, the other server processes sharing its rooms (see
//! `crate::cluster`, which sits above the rooms and implements this). A single server has none.
//!
//! Presence is the one thing a room must share itself: messages reach every node through the
//! log. A node *holds* a nickname in a room while one of its connections (or a lingering member
//! in its grace period) has it; the other nodes list it as a member and refuse it to other
//! sessions.

use crate::identity::SessionId;
use app::names::{Nickname, RoomName};
use futures_util::future::BoxFuture;
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
    /// This node no longer holds `name` in `room` (for `session`).
    fn released(&self, room: &RoomName, name: &Nickname, session: SessionId);
    /// `name`, a member on this node, is typing in `room`.
    fn typing(&self, room: &RoomName, name: &Nickname);
    /// What the other nodes hold in `room` now: a room that comes to life on this node starts
    /// with them.
    fn holds_in(&self, room: &RoomName) -> Vec<RemoteHold>;
    /// Asks the other nodes, before a connection enters, whether `session` may have `name` in
    /// `room`: two nodes admitting one name at the same moment would each hear of the other too
    /// late. `false`: another session has it. Not called under the room's lock; the future
    /// answers within a bounded time, `true` when the others cannot be asked (each node then
    /// goes by what it knows).
    fn claim(&self, room: &RoomName, name: &Nickname, session: SessionId) -> BoxFuture<'static, bool>;
    /// A claim that was granted and not used: the connection was refused here after all.
    fn unclaim(&self, room: &RoomName, name: &Nickname, session: SessionId);
    /// `sessions` were ended (logged out, revoked): the other nodes close their connections.
    fn ended(&self, sessions: &[SessionId]);
}

pub type DynFederation = Arc<dyn Federation>;
