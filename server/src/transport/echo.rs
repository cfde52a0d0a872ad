//! `/echo`: every text or binary message comes back unchanged, for conformance testing. And
//! seed 004's echo server, on a listener of its own (`--echo-addr`, any path: its pages use
//! `/chat` and `/chatsocket`): each text message is answered with `服务端已收到: <message>`
//! ("server received"), escaped for a page (its page inserts what it gets as HTML).
//!
//! On the rooms' own WebSocket layer and under the rooms' limits: the message size, flood
//! control, pings with a pong deadline, the write-stall deadline (a client that sends and never
//! reads is dropped, not buffered for), and the connections per address. Conformance runs raise
//! them on the command line, as they do for the rooms.

use super::connections::HttpSlot;
use super::{refuse, take_slot, Endpoints};
use crate::codec::Lines;
use crate::config::Limits;
use crate::session::flood::{Bucket, FloodPolicy, Verdict};
use crate::ws::{Frame, Inbound, Outbox, ReadError, Refusal, Socket, Upgrade, WriteError};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::Extension;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

pub async fn echo(
    ws: Upgrade,
    State(state): State<Endpoints>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    http: Option<Extension<HttpSlot>>,
) -> Response {
    upgrade_echo(ws, state, remote, http, Reply::Same)
}

/// Seed 004's echo server.
pub async fn seed_echo(
    ws: Upgrade,
    State(state): State<Endpoints>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    http: Option<Extension<HttpSlot>>,
    headers: HeaderMap,
) -> Response {
    let lines = Lines::for_client(headers.contains_key(header::ORIGIN));
    upgrade_echo(ws, state, remote, http, Reply::Received(lines))
}

/// What an echo answers.
#[derive(Debug, Clone, Copy)]
enum Reply {
    /// The message itself, text or binary.
    Same,
    /// Seed 004's answer to a text message, written as `Lines` says.
    Received(Lines),
}

fn upgrade_echo(
    ws: Upgrade,
    state: Endpoints,
    remote: SocketAddr,
    http: Option<Extension<HttpSlot>>,
    reply: Reply,
) -> Response {
    let limits = Arc::clone(&state.limits);
    let shutdown = state.shutdown.clone();
    let tracker = state.tasks.clone();
    let slot = take_slot(&state, remote, http.map(|Extension(slot)| slot).as_ref());
    ws.max_message_size(limits.room_max_message_bytes).deadline(limits.handshake_timeout).on_upgrade(
        move |socket| {
            tracker.track_future(async move {
                match slot {
                    Ok(_slot) => {
                        let _connected = crate::metrics::Connected::new("echo");
                        Echo::new(socket, limits, reply).run(shutdown).await
                    }
                    Err(refusal) => refuse(socket, remote, &refusal, limits.write_stall).await,
                }
            })
        },
    )
}

/// Why an echo connection ends.
enum End {
    /// Gone without a word, or dropped (it stopped reading, or answering pings).
    Gone,
    /// The client closed: its close was answered.
    Closed,
    /// Closed by the server, with this refusal's code and reason.
    Refused(Refusal),
}

struct Echo {
    socket: Socket,
    reply: Reply,
    out: Outbox,
    flood: Bucket,
    limits: Arc<Limits>,
    /// When the next ping is due, and (once one is out) when its answer is.
    next_ping: Instant,
    pong_due: Option<Instant>,
}

impl Echo {
    fn new(socket: Socket, limits: Arc<Limits>, reply: Reply) -> Self {
        let now = Instant::now();
        if !socket.framing().has_ping() {
            if let Err(err) = socket.keep_alive_by_tcp(limits.ping_every, limits.pong_deadline) {
                tracing::warn!(%err, "cannot keep a connection without pings alive by TCP");
            }
        }
        Self {
            out: socket.outbox(),
            socket,
            reply,
            flood: Bucket::new(FloodPolicy::from(&*limits), now),
            next_ping: now + limits.ping_every,
            pong_due: None,
            limits,
        }
    }

    async fn run(mut self, shutdown: CancellationToken) {
        let end = loop {
            let timer = self.pong_due.unwrap_or(self.next_ping);
            let event = tokio::select! {
                () = shutdown.cancelled() => break End::Refused(Refusal::away("server shutting down")),
                () = sleep_until(timer) => None,
                message = self.socket.recv() => Some(message),
            };
            let step = match event {
                None => self.keep_alive().await,
                Some(message) => self.on_message(message).await,
            };
            if let Err(end) = step {
                break end;
            }
        };
        if let End::Refused(refusal) = end {
            self.close(refusal.code, &refusal.reason).await;
        }
    }

    /// A ping when one is due; a peer that left the last one unanswered is gone.
    async fn keep_alive(&mut self) -> Result<(), End> {
        if !self.socket.framing().has_ping() {
            // Kept alive by TCP instead (see `Echo::new`).
            self.next_ping = Instant::now() + self.limits.ping_every;
            return Ok(());
        }
        if self.pong_due.is_some_and(|due| due <= Instant::now()) {
            tracing::debug!("no answer to the last ping in time: the peer is gone");
            return Err(End::Gone);
        }
        let now = Instant::now();
        self.next_ping = now + self.limits.ping_every;
        self.pong_due = Some(now + self.limits.pong_deadline);
        self.send(&Frame::ping(&[])).await
    }

    async fn on_message(&mut self, message: Result<Inbound, ReadError>) -> Result<(), End> {
        let message = match message {
            Ok(message) => message,
            Err(ReadError::Gone) => return Err(End::Gone),
            Err(ReadError::Fault(fault)) => return Err(End::Refused(fault)),
        };
        // Anything from the peer shows it is there.
        self.pong_due = None;
        let reply = match (message, self.reply) {
            (Inbound::Text(text), Reply::Same) => {
                self.admit().await?;
                Frame::text(&text)
            }
            (Inbound::Text(text), Reply::Received(lines)) => {
                self.admit().await?;
                crate::codec::plain::line(&format!("服务端已收到: {text}"), lines)
            }
            (Inbound::Binary(data), Reply::Same) => {
                self.admit().await?;
                Frame::binary(&data)
            }
            (Inbound::Binary(_), Reply::Received(_)) => {
                return Err(End::Refused(Refusal::unsupported("binary messages are not supported")))
            }
            (Inbound::Ping(payload), _) => Frame::pong(&payload),
            (Inbound::Pong, _) => return Ok(()),
            (Inbound::Close(status), _) => {
                // The closing handshake's reply echoes the client's code (RFC 6455, 5.5.1).
                let reply = status.map_or_else(Frame::close_empty, |(code, _)| Frame::close(code, ""));
                let _ = self.send(&reply).await;
                return Err(End::Closed);
            }
        };
        self.send(&reply).await
    }

    /// Flood control, as in the rooms: over the rate a message waits its turn (and the socket is
    /// not read meanwhile); staying over it closes the connection.
    async fn admit(&mut self) -> Result<(), End> {
        match self.flood.check(Instant::now()) {
            Verdict::Pass => Ok(()),
            Verdict::Throttle { wait, .. } => {
                tokio::time::sleep(wait).await;
                Ok(())
            }
            Verdict::Abuse => Err(End::Refused(Refusal::policy("flooding: too many messages for too long"))),
        }
    }

    /// Writes `frame`, waiting at most the write-stall deadline at a time for a client that does
    /// not read: the reply is not buffered for it beyond that.
    async fn send(&mut self, frame: &Frame) -> Result<(), End> {
        self.out.queue(frame);
        self.out.flush(self.socket.tcp(), self.limits.write_stall).await.map_err(|err| {
            if err == WriteError::Stalled {
                tracing::debug!("the peer stopped reading; dropped");
            }
            End::Gone
        })
    }

    /// Sends a close frame and waits, briefly, for the peer's reply (unless it closed first).
    async fn close(&mut self, code: u16, reason: &str) {
        if self.send(&Frame::close(code, reason)).await.is_ok() {
            self.socket.wait_for_close(self.limits.close_grace).await;
        }
    }
}
