//! The command line.

use crate::connection::Who;
use app::names::RoomName;

#[derive(Debug, clap::Parser)]
#[command(name = "chat-cli", version, about)]
pub struct Args {
    /// The server's address.
    #[arg(long, env = "CHAT_SERVER", default_value = "http://127.0.0.1:3000", global = true)]
    pub server: String,
    /// A session token or a bot's API key: posts as its account.
    #[arg(long, env = "CHAT_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// A nickname to use as a guest (without a token); the server picks one otherwise.
    #[arg(long, env = "CHAT_NAME", global = true)]
    pub name: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Prints ROOM's recent messages, then each new one as it comes, until interrupted; a
    /// dropped connection is made again and resumed where it stopped.
    Tail {
        #[arg(value_parser = room)]
        room: RoomName,
    },
    /// Posts TEXT to ROOM, once, and waits until it is stored.
    Send {
        #[arg(value_parser = room)]
        room: RoomName,
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Opens ROOM full screen: its log, its members, and a line to write in (/help lists the
    /// commands). Messages typed while the connection is down are sent once it is back.
    Join {
        #[arg(value_parser = room)]
        room: RoomName,
    },
}

/// A room's name as the server would take it, checked before anything is sent.
fn room(name: &str) -> Result<RoomName, String> {
    RoomName::parse(name).map_err(|err| format!("bad room name: {err}"))
}

impl Args {
    pub fn who(&self) -> Who {
        Who { server: self.server.clone(), token: self.token.clone(), name: self.name.clone() }
    }
}
