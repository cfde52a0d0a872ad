//! The connection to the room, kept up in a task of its own: it connects, resumes after the
//! last numbered entry it passed on, and connects again with growing pauses when the connection
//! drops, telling the screen each step. Both ways are bounded channels.
//!
//! Each connection has a number (its generation). The screen tags what it sends with the
//! generation it saw ready; requests meant for an earlier connection are dropped rather than sent
//! on a later one, where they would overtake the outbox's resends and change the order of
//! messages. What is dropped that way is still in the outbox and is sent again after `ready`.

use crate::connection::{self, Backoff, Who};
use app::names::RoomName;
use app::protocol::{ClientMessage, ServerEvent};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What the link tells the screen.
#[derive(Debug)]
pub enum Up {
    /// Connection number `generation` is open; events follow, `ready` first.
    Connected {
        generation: u64,
    },
    Event(ServerEvent),
    /// The connection is gone (`why`); the next attempt is at `next`.
    Waiting {
        why: String,
        next: Instant,
    },
    /// The server refused this client for good (a ban, a name taken, a certificate not trusted):
    /// no more attempts.
    Ended {
        why: String,
    },
}

/// A request for connection number `generation`.
#[derive(Debug)]
pub struct Down {
    pub generation: u64,
    pub message: ClientMessage,
}

/// How many events may wait for the screen: past it the link stops reading the socket (and the
/// server, in time, counts this reader as slow) rather than queueing more.
const UP_QUEUE: usize = 256;
/// More than the outbox holds (100) plus the edits and typing a person can add meanwhile.
pub const DOWN_QUEUE: usize = 256;
/// A ping this often; a connection that answers nothing for `SILENCE` is taken for dead (a
/// laptop's lid closed, a NAT that forgot it), as no close would ever arrive.
const PING_EVERY: Duration = Duration::from_secs(20);
const SILENCE: Duration = Duration::from_secs(45);

pub fn spawn(who: Who, room: RoomName) -> (mpsc::Receiver<Up>, mpsc::Sender<Down>) {
    let (up, up_rx) = mpsc::channel(UP_QUEUE);
    let (down_tx, down) = mpsc::channel(DOWN_QUEUE);
    tokio::spawn(run(who, room, up, down));
    (up_rx, down_tx)
}

/// Runs until the screen goes away (either channel closed) or the server refuses for good.
async fn run(who: Who, room: RoomName, up: mpsc::Sender<Up>, mut down: mpsc::Receiver<Down>) {
    let mut resume = None;
    let mut backoff = Backoff::default();
    let mut generation = 0;
    loop {
        let why = match connection::connect(&who, &room, resume).await {
            Ok(mut ws) => {
                generation += 1;
                if up.send(Up::Connected { generation }).await.is_err() {
                    return;
                }
                let mut last_heard = Instant::now();
                let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
                let why = loop {
                    tokio::select! {
                        event = connection::next_event(&mut ws) => match event {
                            Ok(Ok(event)) => {
                                last_heard = Instant::now();
                                if matches!(event, ServerEvent::Ready { .. }) {
                                    backoff.reset();
                                }
                                if let Some(at) = connection::numbered(&event) {
                                    resume = Some(at);
                                }
                                if up.send(Up::Event(event)).await.is_err() {
                                    return;
                                }
                            }
                            Ok(Err(closed)) if closed.is_final() => {
                                let _ = up.send(Up::Ended { why: closed.to_string() }).await;
                                return;
                            }
                            Ok(Err(closed)) => break closed.to_string(),
                            Err(err) => break err.to_string(),
                        },
                        request = down.recv() => match request {
                            None => {
                                let _ = ws.close(None).await;
                                return;
                            }
                            Some(Down { generation: g, message }) if g == generation => {
                                if let Err(err) = connection::send(&mut ws, &message).await {
                                    break format!("{err:#}");
                                }
                            }
                            Some(_) => {}
                        },
                        _ = ping.tick() => {
                            if last_heard.elapsed() > SILENCE {
                                break format!("no answer from the server for {} s", SILENCE.as_secs());
                            }
                            let nonce = fastrand::u64(..);
                            if let Err(err) = connection::send(&mut ws, &ClientMessage::Ping { nonce }).await {
                                break format!("{err:#}");
                            }
                        }
                    }
                };
                why
            }
            Err(err) if connection::is_refused(&err) => {
                let _ = up.send(Up::Ended { why: format!("{err:#}") }).await;
                return;
            }
            Err(err) => format!("{err:#}"),
        };
        let pause = backoff.pause();
        let next = Instant::now() + pause;
        if up.send(Up::Waiting { why, next }).await.is_err() {
            return;
        }
        // Requests made meanwhile belong to a connection that is gone: the outbox keeps the
        // messages among them.
        let sleep = tokio::time::sleep_until(next);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                request = down.recv() => if request.is_none() { return },
            }
        }
    }
}
