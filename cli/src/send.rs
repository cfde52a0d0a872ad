//! `chat-cli send ROOM TEXT`: posts one message and waits until the server has stored it. A
//! connection lost before the acknowledgement is made again and the message sent again under
//! the same id: the server stores it once however many times it arrives.

use crate::connection::{self, Backoff, Who};
use anyhow::bail;
use app::names::{ClientId, MessageText, RoomName};
use app::protocol::{ClientMessage, ErrorCode, ServerEvent};
use std::time::Duration;

/// How long a send keeps trying.
const PATIENCE: Duration = Duration::from_secs(30);

pub async fn run(who: &Who, room: &RoomName, text: &str) -> anyhow::Result<()> {
    let text = MessageText::parse(text).map_err(|err| anyhow::anyhow!("{err}"))?;
    let id = ClientId::parse(&format!("cli-{:016x}", fastrand::u64(..)))
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    let message = ClientMessage::Send { id: id.clone(), text, reply_to: None };
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut backoff = Backoff::default();
    loop {
        let why = match attempt(who, room, &message, &id).await {
            Ok(Ok(stored)) => {
                println!("{stored}");
                return Ok(());
            }
            Ok(Err(refused)) => bail!("{refused}"),
            Err(err) if connection::is_refused(&err) => return Err(err),
            Err(err) => format!("{err:#}"),
        };
        let pause = backoff.pause();
        if tokio::time::Instant::now() + pause > deadline {
            bail!("not stored: {why}");
        }
        eprintln!("chat-cli: {why}; trying again in {:.1} s", pause.as_secs_f64());
        tokio::time::sleep(pause).await;
    }
}

/// One connection's try: `Ok(Ok(id))` once stored as `id`, `Ok(Err(why))` when refused for
/// good, `Err` when worth another try.
async fn attempt(
    who: &Who,
    room: &RoomName,
    message: &ClientMessage,
    id: &ClientId,
) -> anyhow::Result<Result<u64, String>> {
    let mut ws = connection::connect(who, room, None).await?;
    let mut sent = false;
    loop {
        match connection::next_event(&mut ws).await? {
            Ok(ServerEvent::Ready { .. }) if !sent => {
                connection::send(&mut ws, message).await?;
                sent = true;
            }
            Ok(ServerEvent::Ack { client_id, id: stored }) if client_id == *id => {
                let _ = ws.close(None).await;
                return Ok(Ok(stored));
            }
            // Storage down, or too soon (flood control, slow mode): worth another try later.
            Ok(ServerEvent::Error { code: ErrorCode::Unavailable | ErrorCode::RateLimited, message }) => {
                anyhow::bail!("{message}")
            }
            Ok(ServerEvent::Error { message, .. }) => return Ok(Err(message)),
            Ok(_) => {}
            Err(closed) if closed.is_final() => return Ok(Err(closed.to_string())),
            Err(closed) => anyhow::bail!("{closed}"),
        }
    }
}
