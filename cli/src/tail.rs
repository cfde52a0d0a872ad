//! `chat-cli tail ROOM`: the room's recent messages, then each new one, for as long as it
//! runs. A dropped connection is made again with growing pauses, resuming after the last entry
//! printed: nothing is missed or printed twice across a reconnect, or a server's restart.

use crate::connection::{self, Backoff, Who};
use crate::format;
use anyhow::Context;
use app::names::RoomName;
use app::protocol::ServerEvent;
use std::io::Write;

pub async fn run(who: &Who, room: &RoomName) -> anyhow::Result<()> {
    let mut resume = None;
    let mut backoff = Backoff::default();
    let stdout = std::io::stdout();
    loop {
        let why = match connection::connect(who, room, resume).await {
            Ok(mut ws) => loop {
                match connection::next_event(&mut ws).await {
                    Ok(Ok(event)) => {
                        if matches!(event, ServerEvent::Ready { .. }) {
                            backoff.reset();
                        }
                        if let Some(at) = connection::numbered(&event) {
                            resume = Some(at);
                        }
                        if let Some(line) = format::line(&event) {
                            let mut out = stdout.lock();
                            writeln!(out, "{line}").and_then(|()| out.flush()).context("writing")?;
                        }
                    }
                    Ok(Err(closed)) if closed.is_final() => return Err(anyhow::anyhow!("{closed}")),
                    Ok(Err(closed)) => break closed.to_string(),
                    Err(err) => break err.to_string(),
                }
            },
            Err(err) if connection::is_refused(&err) => return Err(err),
            Err(err) => format!("{err:#}"),
        };
        let pause = backoff.pause();
        eprintln!("chat-cli: {why}; connecting again in {:.1} s", pause.as_secs_f64());
        tokio::time::sleep(pause).await;
    }
}
