//! The connection to Redis: publishes what this node tells the others and hands on what they
//! tell it, through one channel. The bus may lose anything (Redis restarts, a connection is cut,
//! a publication is dropped under load), and nothing depends on it but speed: the log has every
//! message, and each heartbeat restates what its node holds.
//!
//! The connection is given up, and made again with a backoff, when Redis says it is gone, when
//! a publication fails or takes too long, and when nothing at all is heard for a while: this
//! node's own heartbeat comes back on the channel every beat, so silence means a dead path
//! (a cut connection whose end never learnt of it) rather than a quiet room.

use super::subscriber::Subscriber;
use super::wire::CHANNEL;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// The publications waiting for the connection, at most: past it they are dropped (the bus is
/// lossy by design; the log and the next heartbeat make good what is dropped).
pub const OUTBOX: usize = 4096;
/// Publications read off the subscribing connection and not yet handled, at most.
const HEARD_QUEUE: usize = 64;
/// How long a publication, or connecting, may take before the connection is given up.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// Between two attempts to connect, at first and at most.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(2));

/// Whether the bus is up, since when, and why not: for the log and the health endpoint.
#[derive(Debug, Clone, Default)]
pub struct Health(Arc<Mutex<Status>>);

#[derive(Debug, Clone)]
pub struct Status {
    pub up: bool,
    pub since: Instant,
    /// Why it is down (or went down last).
    pub reason: Option<String>,
    /// How many times it came up.
    pub connects: u64,
}

impl Default for Status {
    fn default() -> Self {
        Self { up: false, since: Instant::now(), reason: Some("not connected yet".to_owned()), connects: 0 }
    }
}

impl Health {
    pub fn status(&self) -> Status {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn set(&self, up: bool, reason: Option<String>) {
        let mut status = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if status.up != up {
            status.since = Instant::now();
        }
        status.up = up;
        if up {
            status.connects += 1;
        }
        if reason.is_some() || up {
            status.reason = reason;
        }
    }
}

/// What the bus hands on: every publication heard, and each time it (re)connects.
pub trait Listener: Send + 'static {
    fn heard(&mut self, payload: &[u8]);
    /// Connected (again): whatever was said meanwhile was not heard here.
    fn connected(&mut self);
}

/// Runs the bus until the outbox's senders are all gone.
pub async fn run(
    client: redis::Client,
    mut outbox: mpsc::Receiver<Vec<u8>>,
    mut listener: impl Listener,
    health: Health,
    silence: Duration,
) {
    let mut backoff = BACKOFF.0;
    loop {
        let reason = match connect(&client).await {
            Ok((publisher, subscriber)) => {
                tracing::info!("connected to the bus (Redis)");
                health.set(true, None);
                backoff = BACKOFF.0;
                listener.connected();
                match serve(publisher, subscriber, &mut outbox, &mut listener, silence).await {
                    Ok(()) => return,
                    Err(reason) => reason,
                }
            }
            Err(err) => format!("cannot connect: {err}"),
        };
        if health.status().up {
            tracing::warn!(%reason, "the bus (Redis) is down: delivering from the log until it is back");
        } else {
            tracing::debug!(%reason, "the bus (Redis) is still down");
        }
        health.set(false, Some(reason));
        // What waited for the connection is old news by now: the log and the next heartbeat say
        // it again, and a stale hold must not follow a newer release.
        while outbox.try_recv().is_ok() {}
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF.1);
    }
}

async fn connect(client: &redis::Client) -> Result<(redis::aio::MultiplexedConnection, Subscriber), String> {
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(ANSWER_WITHIN))
        .set_response_timeout(Some(ANSWER_WITHIN));
    let publisher =
        client.get_multiplexed_async_connection_with_config(&config).await.map_err(|e| e.to_string())?;
    let subscriber =
        tokio::time::timeout(ANSWER_WITHIN, Subscriber::connect(client.get_connection_info(), CHANNEL))
            .await
            .map_err(|_| format!("subscribing took over {ANSWER_WITHIN:?}"))?
            .map_err(|e| format!("subscribing failed: {e}"))?;
    Ok((publisher, subscriber))
}

/// Serves one connection: `Ok` once the outbox is closed, or why the connection was given up.
async fn serve(
    mut publisher: redis::aio::MultiplexedConnection,
    mut subscriber: Subscriber,
    outbox: &mut mpsc::Receiver<Vec<u8>>,
    listener: &mut impl Listener,
    silence: Duration,
) -> Result<(), String> {
    // Reading a reply is not cancel-safe (a select dropping it halfway would lose the frame's
    // place in the stream), so it has a task of its own, handing on through a small bounded
    // queue: when that is full the task stops reading and the backlog waits in the socket.
    let (tell, mut heard) = mpsc::channel(HEARD_QUEUE);
    let reading = tokio::spawn(async move {
        loop {
            let message = subscriber.next().await;
            let failed = message.is_err();
            if tell.send(message).await.is_err() || failed {
                return;
            }
        }
    });
    let _stop_reading = AbortOnDrop(reading);
    let mut last_heard = Instant::now();
    let mut batch = Vec::with_capacity(64);
    loop {
        tokio::select! {
            message = heard.recv() => {
                let Some(message) = message else { return Err("the listening task ended".to_owned()) };
                let payload = message.map_err(|e| format!("listening failed: {e}"))?;
                last_heard = Instant::now();
                listener.heard(&payload);
            }
            count = outbox.recv_many(&mut batch, 64) => {
                if count == 0 {
                    return Ok(());
                }
                // One round trip for whatever queued up meanwhile.
                let mut pipe = redis::pipe();
                for payload in batch.drain(..) {
                    pipe.cmd("PUBLISH").arg(CHANNEL).arg(payload).ignore();
                }
                match tokio::time::timeout(ANSWER_WITHIN, pipe.query_async::<()>(&mut publisher)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => return Err(format!("publishing failed: {err}")),
                    Err(_) => return Err(format!("publishing took over {ANSWER_WITHIN:?}")),
                }
            }
            () = tokio::time::sleep_until(last_heard + silence) => {
                return Err(format!("nothing heard for {silence:?}, this node's heartbeats included"));
            }
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
