//! `chat-cli`: the chat in a terminal. `tail ROOM` prints a room as it goes, `send ROOM TEXT`
//! posts one message, `join ROOM` opens the room full screen. It speaks the JSON dialect (`chat.v1.json`, see docs/PROTOCOL.md) as a
//! guest by name, or as an account or a bot with a session token or an API key.

mod args;
mod connection;
mod format;
mod interactive;
mod send;
mod tail;
mod tls;

use clap::Parser;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args = args::Args::parse();
    let done = match &args.command {
        args::Command::Tail { room } => tail::run(&args.who(), room).await,
        args::Command::Send { room, text } => send::run(&args.who(), room, &text.join(" ")).await,
        args::Command::Join { room } => interactive::run(&args.who(), room).await,
    };
    match done {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("chat-cli: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
