//! The operator's hand on a running server: `server admin …` on the command line. The server
//! listens on a Unix socket in its data directory (`admin.sock`, readable and writable by its
//! owner only: the file's permissions are the password, and nothing of it is on the network);
//! the command connects, sends one request as a line of JSON, and prints the answer. The
//! operator's actions go through the same writer and log as everyone's, so that every node and
//! every member sees them, and the room's log keeps them.

pub mod client;
pub mod handler;
pub mod listener;
pub mod transfer;

use serde::{Deserialize, Serialize};

/// The socket's file name in the data directory.
pub const SOCKET: &str = "admin.sock";

/// What the operator asks (the `server admin` subcommands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, clap::Subcommand)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Request {
    /// The rooms with a log, the most recently active first, and who is in each now.
    Rooms,
    /// The registered nicknames.
    Accounts,
    /// Who runs ROOM, its topic, slow mode and the sanctions in force.
    Room { room: String },
    /// Makes NAME (registered) ROOM's owner, a moderator, or a member again.
    Grant { room: String, name: String, role: String },
    /// Puts NAME out of ROOM (they may come back).
    Kick {
        room: String,
        name: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Keeps NAME from posting in ROOM for SECONDS.
    Timeout {
        room: String,
        name: String,
        seconds: u64,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Keeps NAME (and the addresses they come from) out of ROOM, for --seconds or for good.
    Ban {
        room: String,
        name: String,
        #[arg(long)]
        seconds: Option<u64>,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Lifts NAME's ban and timeout in ROOM.
    Pardon { room: String, name: String },
    /// Deletes the message numbered ID in ROOM.
    Delete { room: String, id: u64 },
    /// Sets ROOM's topic (empty: none).
    Topic { room: String, text: String },
    /// One message per SECONDS per member in ROOM (0: off).
    SlowMode { room: String, seconds: u64 },
    /// Forgets ROOM's messages after DAYS (0: after the server's --retention-days, if any).
    Retention { room: String, days: u32 },
    /// Every action taken in ROOM, oldest first: who, whom, when and why.
    Audit { room: String },
    /// A new API key for the bot NAME (registering the bot if the name is free): printed once.
    BotKey { name: String },
    /// Ends every key of the bot NAME, and closes its connections.
    BotRevoke { name: String },
    /// The bots, with how many keys each holds.
    Bots,
    /// POST each new message of ROOM to URL (http:// or https://), signed with a secret that
    /// is printed once: `X-Chat-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
    WebhookAdd { room: String, url: String },
    /// Stops and removes the webhook numbered ID.
    WebhookRemove { id: i64 },
    /// The webhooks: room, URL, how far each has delivered, and its failures.
    Webhooks,
}

/// The server's answer: lines to print, and whether it did what was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub ok: bool,
    pub lines: Vec<String>,
}

impl Reply {
    fn done(lines: Vec<String>) -> Self {
        Self { ok: true, lines }
    }

    fn refused(why: impl Into<String>) -> Self {
        Self { ok: false, lines: vec![why.into()] }
    }
}
