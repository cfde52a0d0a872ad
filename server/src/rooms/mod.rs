//! Rooms: the total order of each room's events and their fan-out to its members.
//!
//! - [`registry`]: the live rooms by name; a room exists while it has members.
//! - [`room`]: one room's members, order and presence.
//! - [`passes`]: the writing passes that put what a room queued on its members' sockets.
//! - [`event`]: what a room publishes, with its frame for each dialect.
//! - [`member`]: one connection's place in a room's fan-out (its outbox and catch-up).
//! - [`presence`]: who is in a room and who is typing, without timers.
//! - [`keepalive`]: one pass over every member for pings, instead of a timer per connection.
//! - [`federation`]: what a room tells the other server processes sharing it (presence).
//! - [`moderation`]: a live room's rules and sanctions.
//!
//! Sessions join rooms and publish to them; the store's writer publishes what it has stored.
//! Nothing here writes the store; a room reads its rules from it once, when it comes to life.

mod event;
pub mod federation;
pub mod keepalive;
mod member;
pub mod moderation;
mod passes;
mod presence;
mod registry;
mod room;

pub use event::RoomEvent;
pub use federation::{DynFederation, Federation, NodeId, RemoteHold};
pub use member::{Attention, Member};
pub use presence::NameTaken;
pub use registry::{Membership, Rooms};
pub use room::Room;
