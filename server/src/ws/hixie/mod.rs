//! The WebSocket of before RFC 6455, as drafts 75 and 76 ("hixie") defined it and the seeds'
//! servers spoke it: a handshake that proves nothing (draft 75) or answers a challenge (draft
//! 76), then messages as `0x00` + UTF-8 text + `0xFF`, and `0xFF 0x00` to close. There is no
//! ping, no binary message and no close status.
//!
//! The rest of the server speaks RFC 6455 frames: what it sends a hixie connection is rewritten
//! on its way out ([`reframe`]), and what such a connection sends is read into the same
//! messages as RFC 6455's ([`Reader`]).

mod challenge;
mod reader;
mod reframe;

pub use challenge::{challenge_response, key_number, KeyError};
pub use reader::Reader;
pub use reframe::reframe;
