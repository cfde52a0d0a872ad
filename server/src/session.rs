//! One room connection, from the greeting to the goodbye: reads the client's frames, publishes
//! what it says to the room, and writes the room's events back in the room's order.
//!
//! Written against any `Stream + Sink` of WebSocket messages, so it is the same code whatever
//! the transport underneath.

use crate::codec::{json, plain, Dialect};
use crate::config::Limits;
use crate::flood::{Bucket, Verdict};
use crate::identity::Identity;
use crate::room::{now_millis, Room, RoomEvent};
use crate::rooms::Membership;
use crate::store::{DynStore, NewMessage, Position, StoreError, StoredMessage};
use crate::writer::{WriteError, Writer};
use app::names::{ClientId, MessageText};
use app::protocol::{ClientMessage, Epoch, ErrorCode, Seq, ServerEvent, PROTOCOL_VERSION};
use axum::extract::ws::{close_code, CloseFrame, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Close code for "try again later" (RFC 6455's registry): the log could not be read or written.
pub const CLOSE_TRY_AGAIN: u16 = 1013;

/// Where a client of the JSON dialect asks to resume: after message `after` of epoch `epoch`
/// (0 when the room had no log when it last looked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    pub epoch: Epoch,
    pub after: Seq,
}

/// Why a session ended.
#[derive(Debug)]
enum End {
    /// The client closed, or the connection dropped: announce the logout.
    Gone,
    /// The client sent `quit`: the logout was announced already.
    Quit,
    /// The server is shutting down.
    Shutdown,
    /// The client broke a rule, or the log failed it; close with this code and reason, then
    /// announce the logout.
    Refused(u16, String),
}

pub struct Session<S> {
    socket: S,
    dialect: Dialect,
    identity: Identity,
    membership: Membership,
    store: DynStore,
    writer: Writer,
    resume: Option<Resume>,
    limits: Arc<Limits>,
    shutdown: CancellationToken,
    /// The last message this client has been sent: live events up to it are duplicates of what
    /// history already delivered.
    delivered: Seq,
    flood: Bucket,
}

/// What a session needs besides its socket and its name.
#[derive(Debug, Clone)]
pub struct SessionDeps {
    pub store: DynStore,
    pub writer: Writer,
    pub limits: Arc<Limits>,
    pub shutdown: CancellationToken,
}

impl<S> Session<S>
where
    S: Stream<Item = Result<Message, axum::Error>> + Sink<Message, Error = axum::Error> + Unpin,
{
    pub fn new(
        socket: S,
        dialect: Dialect,
        identity: Identity,
        membership: Membership,
        resume: Option<Resume>,
        deps: SessionDeps,
    ) -> Self {
        Self {
            socket,
            dialect,
            identity,
            membership,
            store: deps.store,
            writer: deps.writer,
            resume,
            flood: Bucket::new(deps.limits.flood_policy(), Instant::now()),
            limits: deps.limits,
            shutdown: deps.shutdown,
            delivered: 0,
        }
    }

    pub async fn run(mut self) {
        let room = Arc::clone(self.membership.room());
        if self.dialect == Dialect::Relay {
            return self.relay(&room).await;
        }
        let first = match room.enter(&self.identity) {
            Ok(first) => first,
            Err(taken) => {
                tracing::debug!(%taken, "nickname refused");
                let reason = taken.to_string();
                if self.dialect == Dialect::Json {
                    let error = ServerEvent::Error { code: ErrorCode::NameTaken, message: reason.clone() };
                    let _ = self.send_event(&error).await;
                }
                return self.close(close_code::POLICY, &reason).await;
            }
        };
        let end = match self.greet(&room, first).await {
            Ok(()) => self.serve(&room).await,
            Err(end) => end,
        };
        tracing::debug!(?end, "session ended");
        match end {
            // A dropped connection may be a reload: the leave waits for the grace period.
            End::Gone => {
                room.exit(&self.identity, Some(self.limits.presence_grace));
            }
            End::Quit => self.close(close_code::NORMAL, "bye").await,
            End::Shutdown => self.close(close_code::AWAY, "server shutting down").await,
            End::Refused(code, reason) => {
                room.exit(&self.identity, None);
                self.close(code, &reason).await;
            }
        }
    }

    /// A relay connection: no presence, no history, only frames.
    async fn relay(mut self, room: &Room) {
        let end = self.serve(room).await;
        tracing::debug!(?end, "relay ended");
        match end {
            End::Gone | End::Quit => {}
            End::Shutdown => self.close(close_code::AWAY, "server shutting down").await,
            End::Refused(code, reason) => self.close(code, &reason).await,
        }
    }

    /// Sends `ready` (JSON) and the history the client asked for: everything after its resume
    /// position, or the room's recent messages. The membership already receives live events, so
    /// nothing published meanwhile is missed; what both deliver is skipped by sequence number.
    ///
    /// The member's join was announced already (unless `first` is false: another connection of
    /// the same session is in the room), so it arrives after the history, as in the seeds.
    async fn greet(&mut self, room: &Room, first: bool) -> Result<(), End> {
        let position = self.store.position(room.name()).await.map_err(unavailable)?;
        if self.dialect == Dialect::Json {
            let ready = ServerEvent::Ready {
                protocol: PROTOCOL_VERSION,
                room: room.name().clone(),
                you: self.identity.nickname.clone(),
                epoch: position.epoch,
                seq: position.seq,
            };
            self.send_event(&ready).await?;
            let members = ServerEvent::Members { room: room.name().clone(), names: room.members() };
            self.send_event(&members).await?;
        }
        self.send_history_for(room, position).await?;
        if !first && self.dialect == Dialect::Plain {
            // The seeds greet every connection; the room announced this member only once.
            let welcome = plain::welcome(&self.identity.nickname);
            self.send(Message::Text(welcome.into())).await?;
        }
        Ok(())
    }

    async fn send_history_for(&mut self, room: &Room, position: Position) -> Result<(), End> {
        match self.resume {
            Some(resume) if resume.epoch == position.epoch || resume.epoch == 0 => {
                self.delivered = resume.after;
                self.catch_up(room).await
            }
            Some(_) => {
                self.send_event(&ServerEvent::Reset { epoch: position.epoch }).await?;
                self.send_recent(room, position).await
            }
            None => self.send_recent(room, position).await,
        }
    }

    async fn send_recent(&mut self, room: &Room, position: Position) -> Result<(), End> {
        let recent = self.store.read_before(room.name(), None, self.limits.history_on_join).await;
        let recent = recent.map_err(unavailable)?;
        self.delivered = recent.first().map_or(position.seq, |m| m.seq.saturating_sub(1));
        self.send_history(&recent).await
    }

    /// Sends every stored message after `self.delivered`, page by page, however many there are.
    async fn catch_up(&mut self, room: &Room) -> Result<(), End> {
        loop {
            let page = self.store.read_after(room.name(), self.delivered, self.limits.replay_page).await;
            let page = page.map_err(unavailable)?;
            self.send_history(&page).await?;
            if page.len() < self.limits.replay_page as usize {
                return Ok(());
            }
        }
    }

    async fn send_history(&mut self, messages: &[StoredMessage]) -> Result<(), End> {
        for stored in messages {
            if stored.seq > self.delivered {
                if let Some(frame) = self.encode(&RoomEvent::message(stored)) {
                    self.feed(frame).await?;
                }
                self.delivered = stored.seq;
            }
        }
        self.flush().await
    }

    async fn serve(&mut self, room: &Room) -> End {
        let mut keepalive = Keepalive::new(self.limits.ping_every, self.limits.pong_deadline);
        // One timer for the whole session, moved when it fires: not one per event forwarded.
        let timer = tokio::time::sleep_until(keepalive.next());
        tokio::pin!(timer);
        loop {
            tokio::select! {
                biased;
                () = self.shutdown.cancelled() => return End::Shutdown,
                () = &mut timer => {
                    // A peer that went away without closing (a laptop lid, a dead network) is
                    // noticed here: no frame at all since the last ping.
                    if keepalive.overdue() {
                        tracing::debug!("no pong in time; the peer is gone");
                        return End::Gone;
                    }
                    if keepalive.ping_due() {
                        keepalive.pinged();
                        if self.send(Message::Ping(Default::default())).await.is_err() {
                            return End::Gone;
                        }
                    }
                    timer.as_mut().reset(keepalive.next());
                },
                event = self.membership.events().recv() => {
                    let outcome = match event {
                        Ok(event) => self.forward(room, event).await,
                        // Fell behind the room's backlog: what it missed of the log is re-read
                        // from the store, so nothing is lost and memory stays bounded.
                        Err(RecvError::Lagged(missed)) => self.lagged(room, missed).await,
                        // The room outlives its members, so this cannot happen while we hold one.
                        Err(RecvError::Closed) => Err(End::Gone),
                    };
                    if let Err(end) = outcome {
                        return end;
                    }
                },
                inbound = self.socket.next() => match inbound {
                    None => return End::Gone,
                    Some(Err(err)) => {
                        return match read_fault(err) {
                            Some((code, reason)) => End::Refused(code, reason),
                            None => End::Gone,
                        };
                    }
                    Some(Ok(message)) => {
                        keepalive.heard();
                        if let Some(end) = self.admit(&message).await {
                            return end;
                        }
                        if let Some(end) = self.on_message(room, message).await {
                            return end;
                        }
                    }
                },
            }
        }
    }

    /// Writes `first` and whatever else is already queued, then flushes once.
    async fn forward(&mut self, room: &Room, first: Arc<RoomEvent>) -> Result<(), End> {
        self.feed_live(&first).await?;
        for _ in 1..self.limits.write_batch {
            match self.membership.events().try_recv() {
                Ok(event) => self.feed_live(&event).await?,
                Err(TryRecvError::Lagged(missed)) => {
                    self.flush().await?;
                    return self.lagged(room, missed).await;
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        self.flush().await
    }

    /// The room's backlog moved past this connection. Chat dialects re-read what they missed
    /// from the log, so nothing is lost and memory stays bounded; relayed frames are not kept
    /// anywhere, so a relay connection that falls behind is closed and told why.
    async fn lagged(&mut self, room: &Room, missed: u64) -> Result<(), End> {
        if self.dialect == Dialect::Relay {
            tracing::debug!(missed, "relay connection fell behind");
            return Err(End::Refused(CLOSE_TRY_AGAIN, format!("too slow: {missed} relayed frames missed")));
        }
        tracing::debug!(missed, "lagged behind the room; resyncing from the log");
        self.catch_up(room).await
    }

    /// Queues a live event unless history already delivered it, or the dialect has no frame
    /// for it.
    async fn feed_live(&mut self, event: &RoomEvent) -> Result<(), End> {
        if let Some(seq) = event.seq {
            if seq <= self.delivered {
                return Ok(());
            }
            self.delivered = seq;
        }
        match self.encode(event) {
            Some(frame) => self.feed(frame).await,
            None => Ok(()),
        }
    }

    fn encode(&self, event: &RoomEvent) -> Option<Message> {
        match self.dialect {
            Dialect::Plain => event.plain.clone().map(Message::Text),
            Dialect::Json => event.json.clone().map(Message::Text),
            Dialect::Relay => event.relay.clone(),
        }
    }

    /// Flood control: a frame over the client's rate waits its turn (the client is told once per
    /// spell), so nothing it sent is lost; a client that stays over the rate is closed.
    /// While it waits, its socket is not read: the flood backs up into its own TCP window.
    async fn admit(&mut self, message: &Message) -> Option<End> {
        if matches!(message, Message::Pong(_) | Message::Close(_)) {
            return None;
        }
        match self.flood.check(Instant::now()) {
            Verdict::Pass => None,
            Verdict::Throttle { wait, first } => {
                if first && self.dialect == Dialect::Json {
                    let warning = ServerEvent::Error {
                        code: ErrorCode::RateLimited,
                        message: format!(
                            "You are sending too fast (more than {} messages a second): \
                             the rest are sent more slowly.",
                            self.limits.messages_per_second
                        ),
                    };
                    if let Some(end) = self.reply(&warning).await {
                        return Some(end);
                    }
                }
                tokio::time::sleep(wait).await;
                None
            }
            Verdict::Abuse => {
                tracing::info!("closed for flooding");
                Some(End::Refused(close_code::POLICY, "flooding: too many messages for too long".into()))
            }
        }
    }

    async fn on_message(&mut self, room: &Room, message: Message) -> Option<End> {
        match (self.dialect, message) {
            (Dialect::Plain, Message::Text(text)) => match plain::parse(text.as_str()) {
                plain::Command::Say(text) => match self.store_message(room, text, None).await {
                    Ok(_) => None,
                    // The plain dialect has no error line: a close with the reason is the only
                    // way to say that the message was not stored.
                    Err(err) => Some(End::Refused(CLOSE_TRY_AGAIN, err.to_string())),
                },
                plain::Command::Quit => Some(self.quit().await),
                plain::Command::Nothing => None,
                plain::Command::TooLong => Some(End::Refused(
                    close_code::SIZE,
                    format!("message too long: at most {} bytes", MessageText::MAX_BYTES),
                )),
            },
            (Dialect::Json, Message::Text(text)) => match json::decode(text.as_str()) {
                Ok(ClientMessage::Send { id, text }) => {
                    let reply = match self.store_message(room, text, Some(id.clone())).await {
                        Ok(seq) => ServerEvent::Ack { client_id: id, id: seq },
                        Err(err) => {
                            ServerEvent::Error { code: ErrorCode::Unavailable, message: err.to_string() }
                        }
                    };
                    self.reply(&reply).await
                }
                Ok(ClientMessage::Ping { nonce }) => self.reply(&ServerEvent::Pong { nonce }).await,
                Ok(ClientMessage::Typing {}) => {
                    self.membership.room().typing(&self.identity.nickname, self.limits.typing_ttl);
                    None
                }
                Err(error) => self.reply(&error).await,
            },
            (Dialect::Relay, frame @ (Message::Text(_) | Message::Binary(_))) => {
                room.relay(frame);
                None
            }
            (Dialect::Plain, Message::Binary(_)) => {
                Some(End::Refused(close_code::UNSUPPORTED, "binary messages are not supported".into()))
            }
            (Dialect::Json, Message::Binary(_)) => {
                let error = ServerEvent::Error {
                    code: ErrorCode::Unsupported,
                    message: "binary messages are not supported: send JSON text".into(),
                };
                self.reply(&error).await
            }
            (_, Message::Close(_)) => {
                // Sends the close reply the protocol layer has queued.
                let _ = self.flush().await;
                Some(End::Gone)
            }
            // Pings are answered by the protocol layer; pongs need no answer.
            (_, Message::Ping(_) | Message::Pong(_)) => None,
        }
    }

    /// Stores a message; the writer publishes it to the room once it is durable.
    async fn store_message(
        &mut self,
        room: &Room,
        text: MessageText,
        client_id: Option<ClientId>,
    ) -> Result<Seq, WriteError> {
        let message = NewMessage {
            room: room.name().clone(),
            author: self.identity.nickname.clone(),
            text,
            at: now_millis(),
            client_id,
        };
        Ok(self.writer.append(message).await?.message().seq)
    }

    async fn reply(&mut self, event: &ServerEvent) -> Option<End> {
        self.send_event(event).await.err()
    }

    async fn send_event(&mut self, event: &ServerEvent) -> Result<(), End> {
        self.send(Message::Text(json::encode(event))).await
    }

    // Every write gives up when the peer has taken nothing for `limits.write_stall`: a client
    // that stopped reading (its TCP window stays shut) is dropped instead of holding a session,
    // a socket and their buffers for ever. What it missed is in the log when it comes back.

    async fn feed(&mut self, frame: Message) -> Result<(), End> {
        within(self.limits.write_stall, self.socket.feed(frame)).await
    }

    async fn flush(&mut self) -> Result<(), End> {
        within(self.limits.write_stall, self.socket.flush()).await
    }

    async fn send(&mut self, frame: Message) -> Result<(), End> {
        within(self.limits.write_stall, self.socket.send(frame)).await
    }

    /// Announces the logout, and keeps delivering until this client has seen its own
    /// `<name> Logout` line, as the seeds' room sends it to everyone before closing. (When the
    /// member stays through another connection nothing is announced: the line goes to this one.)
    async fn quit(&mut self) -> End {
        let room = Arc::clone(self.membership.room());
        let logout = plain::logout(&self.identity.nickname);
        if !room.exit(&self.identity, None) {
            let _ = self.send(Message::Text(logout.into())).await;
            return End::Quit;
        }
        let grace = self.limits.close_grace;
        loop {
            match tokio::time::timeout(grace, self.membership.events().recv()).await {
                Ok(Ok(event)) => {
                    let mine = event.seq.is_none() && event.plain.as_deref() == Some(logout.as_str());
                    if self.feed_live(&event).await.is_err() || mine {
                        break;
                    }
                }
                _ => break,
            }
        }
        let _ = self.flush().await;
        End::Quit
    }

    /// Sends a close frame and waits, briefly, for the peer's reply.
    async fn close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame { code, reason: truncate_reason(reason).into() };
        if self.send(Message::Close(Some(frame))).await.is_ok() {
            let drain = async { while let Some(Ok(_)) = self.socket.next().await {} };
            let _ = tokio::time::timeout(self.limits.close_grace, drain).await;
        }
    }
}

/// What a failed read means: a message over the size limit (1009), text that is not UTF-8
/// (1007) or a protocol error (1002) is the client's fault and is answered with that close code
/// and a reason; `None` is a connection that is simply gone.
pub(crate) fn read_fault(err: axum::Error) -> Option<(u16, String)> {
    use tungstenite::error::{CapacityError, Error, ProtocolError};
    let inner = err.into_inner();
    match inner.downcast_ref::<Error>() {
        Some(Error::Capacity(CapacityError::MessageTooLong { max_size, .. })) => {
            Some((close_code::SIZE, format!("message too big: at most {max_size} bytes")))
        }
        Some(Error::Capacity(err)) => Some((close_code::SIZE, err.to_string())),
        Some(Error::Utf8(_)) => Some((close_code::INVALID, "text is not valid UTF-8".into())),
        // A peer that vanished without a close frame is gone (a reload, a lost network), not
        // at fault: its leave waits for the grace period like any dropped connection.
        Some(Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)) => None,
        Some(Error::Protocol(err)) => Some((close_code::PROTOCOL, err.to_string())),
        _ => {
            tracing::debug!(err = %inner, "read failed");
            None
        }
    }
}

async fn within(
    limit: Duration,
    write: impl std::future::Future<Output = Result<(), axum::Error>>,
) -> Result<(), End> {
    match tokio::time::timeout(limit, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(End::Gone),
        Err(_) => {
            tracing::debug!(?limit, "the peer stopped reading; dropped");
            Err(End::Gone)
        }
    }
}

/// When to ping the peer, and whether it is overdue: any frame from it counts as a sign of life.
struct Keepalive {
    every: Duration,
    deadline: Duration,
    next_ping: Instant,
    pong_due: Option<Instant>,
}

impl Keepalive {
    fn new(every: Duration, deadline: Duration) -> Self {
        Self { every, deadline, next_ping: Instant::now() + every, pong_due: None }
    }

    /// When something is to be done: the pong's deadline if a ping is out, else the next ping.
    fn next(&self) -> Instant {
        self.pong_due.unwrap_or(self.next_ping)
    }

    fn overdue(&self) -> bool {
        self.pong_due.is_some_and(|due| Instant::now() >= due)
    }

    fn ping_due(&self) -> bool {
        Instant::now() >= self.next_ping
    }

    fn pinged(&mut self) {
        let now = Instant::now();
        self.pong_due = Some(now + self.deadline);
        self.next_ping = now + self.every;
    }

    /// Anything from the peer: no pong is awaited any more. (The timer may still fire at the
    /// old deadline; it then finds nothing overdue and waits for the next ping.)
    fn heard(&mut self) {
        self.pong_due = None;
    }
}

/// The log could not be read: the client is told to come back later; the cause is logged.
fn unavailable(err: StoreError) -> End {
    tracing::error!(%err, "reading the log failed");
    End::Refused(CLOSE_TRY_AGAIN, "history is unavailable, try again later".into())
}

/// A close frame's reason must fit in 123 bytes (RFC 6455, 5.5.1): cut at a char boundary.
pub fn truncate_reason(reason: &str) -> &str {
    const MAX: usize = 123;
    if reason.len() <= MAX {
        return reason;
    }
    let mut end = MAX;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_control_frame() {
        assert_eq!(truncate_reason("short"), "short");
        let long = "é".repeat(100);
        let cut = truncate_reason(&long);
        assert!(cut.len() <= 123);
        assert_eq!(cut.len(), 122);
    }
}
