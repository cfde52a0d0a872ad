//! The page's components, one per file.

pub mod chat_room;
pub mod composer;
pub mod message_log;
pub mod nickname;
pub mod room_page;
pub mod status;
