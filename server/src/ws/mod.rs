//! The WebSocket layer of the rooms (RFC 6455): the handshake, frames, and one socket per
//! connection that writes frames encoded once per room event.
//!
//! Written for what a chat room needs: an idle connection holds no buffer, a broadcast frame is
//! encoded once and its bytes shared by every member, and everything queued for a member goes
//! out in one vectored write.

pub mod frame;
pub mod reader;
pub mod socket;
pub mod upgrade;

pub use frame::Frame;
pub use reader::{Fault, Inbound};
pub use socket::{ReadError, Socket, WriteError};
pub use upgrade::Upgrade;
