//! The WebSocket layer of the rooms (RFC 6455, and the hixie drafts before it): the handshake,
//! frames, reading messages, and outboxes of encoded frames to write.
//!
//! Written for what a chat room needs: an idle connection holds no buffer, a broadcast frame is
//! encoded once and its bytes shared by every member, and everything queued for a member goes
//! out in one vectored write.

pub mod frame;
pub mod framing;
pub mod hixie;
pub mod outbox;
pub mod reader;
pub mod refusal;
pub mod socket;
pub mod stall;
pub mod upgrade;

pub use frame::Frame;
pub use framing::Framing;
pub use outbox::{writable, Outbox, WriteError};
pub use reader::Inbound;
pub use refusal::Refusal;
pub use socket::{ReadError, Socket};
pub use stall::WriteStall;
pub use upgrade::Upgrade;
