//! The page's components, one per file.

pub mod account;
pub mod chat_room;
pub mod completion;
pub mod composer;
pub mod join_room;
pub mod member_actions;
pub mod member_list;
pub mod message_actions;
pub mod message_log;
pub mod message_text;
pub mod nickname;
pub mod notifications;
pub mod reactions;
pub mod reply;
pub mod room_audit;
pub mod room_list;
pub mod room_page;
pub mod room_settings;
pub mod search;
pub mod shell;
pub mod status;
pub mod theme;
pub mod typing;
