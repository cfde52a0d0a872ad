//! One room connection, from the greeting to the goodbye: reads the client's frames, publishes
//! what it says to the room, and writes the room's events back in the room's order.
//!
//! The room writes its events to the connection itself (see [`crate::rooms::Member`]): the session
//! is woken for them only when the socket is full or the connection fell behind, and then
//! catches it up from the log.

pub mod flood;
pub mod quota;
mod resume;

pub use resume::Resume;

use crate::clock::now_millis;
use crate::codec::{json, plain, Dialect};
use crate::config::Limits;
use crate::identity::{AddressKey, Identity};
use crate::rooms::{Attention, Member, Membership, NameTaken, Room, RoomEvent, Rooms};
use crate::store::{DynStore, NewMessage, Position, StoreError, StoredMessage, WriteError, Writer};
use crate::ws::{Frame, Inbound, ReadError, Socket};
use app::names::{ClientId, MessageText, Nickname, RoomName};
use app::protocol::close;
use app::protocol::{ClientMessage, ErrorCode, Seq, ServerEvent, PROTOCOL_VERSION};
use flood::{Bucket, FloodPolicy, Verdict};
use quota::{Quotas, TooFast};
use std::sync::Arc;
use std::task::Poll;
use tokio::time::Instant;

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

pub struct Session {
    socket: Socket,
    dialect: Dialect,
    identity: Identity,
    membership: Membership,
    /// Shared by every session: one pointer each.
    deps: Arc<SessionDeps>,
    flood: Bucket,
    /// The room had no log when this connection joined: its first message creates one, which
    /// counts against the address's new rooms.
    room_is_new: bool,
    /// A plain-dialect newcomer's own `Welcome` was announced while it was catching up: if the
    /// connection fell behind the room meanwhile, and missed it, it is sent directly.
    welcome_pending: bool,
}

/// What a session needs besides its socket and its name.
#[derive(Debug, Clone)]
pub struct SessionDeps {
    pub rooms: Rooms,
    pub store: DynStore,
    pub writer: Writer,
    pub limits: Arc<Limits>,
    pub quotas: Arc<Quotas>,
}

impl Session {
    /// A session of `identity` in `room`, which it joins now: from here on the room keeps what
    /// it publishes for this connection.
    pub fn join(
        socket: Socket,
        dialect: Dialect,
        identity: Identity,
        room: &RoomName,
        deps: Arc<SessionDeps>,
    ) -> Self {
        let member = Member::new(Arc::clone(socket.tcp()), dialect, deps.limits.room_backlog);
        let membership = deps.rooms.join(room, Arc::new(member));
        Self {
            socket,
            dialect,
            identity,
            membership,
            flood: Bucket::new(FloodPolicy::from(&*deps.limits), Instant::now()),
            room_is_new: false,
            deps,
            welcome_pending: false,
        }
    }

    /// Serves the connection to its end. `resume`: where a JSON client asked to start; `guest`:
    /// the number of the guest name the server gave it, if it did (should that name be taken in
    /// the room, the session takes the next free one rather than refuse the client).
    ///
    /// Not an `async fn`: one of those keeps its arguments twice in its future (as given, and
    /// moved into the body), and this future lives as long as the connection. The greeting is
    /// a future of its own, boxed, so that what it holds is gone once it is over.
    pub fn run(
        self,
        resume: Option<Resume>,
        guest: Option<u16>,
    ) -> impl std::future::Future<Output = ()> + Send {
        let greeting = Box::pin(self.start(resume, guest));
        async move {
            let Some((mut session, room)) = greeting.await else { return };
            let end = session.serve(&room).await;
            Box::pin(session.end(&room, end)).await;
        }
    }

    /// Enters the room and greets the client: the session and its room to serve, or nothing if
    /// it is over already (refused, or gone during the greeting).
    async fn start(mut self, resume: Option<Resume>, mut guest: Option<u16>) -> Option<(Self, Arc<Room>)> {
        let room = Arc::clone(self.membership.room());
        // A relay connection has no presence and no history: only frames.
        if self.dialect == Dialect::Relay {
            return Some((self, room));
        }
        // A guest tries the names after its own, every one of them at most (64 at most).
        let tries = self.deps.limits.guest_names.saturating_sub(1).min(64);
        let mut tried = 0;
        let first = loop {
            match room.enter(&self.identity) {
                Ok(first) => break first,
                Err(_) if tried < tries && self.next_guest_name(&mut guest) => tried += 1,
                Err(taken) => {
                    self.refuse_name(taken).await;
                    return None;
                }
            }
        };
        self.welcome_pending = first && self.dialect.is_plain();
        match self.greet(&room, first, resume).await {
            Ok(()) => Some((self, room)),
            Err(end) => {
                self.end(&room, end).await;
                None
            }
        }
    }

    async fn end(&mut self, room: &Arc<Room>, end: End) {
        tracing::debug!(?end, "session ended");
        // Whatever the room publishes now (this member's own leave among it) is not for this
        // connection: its close frame is the last thing it gets.
        self.member().stop();
        let chat = self.dialect != Dialect::Relay;
        match end {
            // A dropped connection may be a reload: the leave waits for the grace period.
            End::Gone if chat => {
                room.exit(&self.identity, Some(self.deps.limits.presence_grace));
            }
            End::Gone => {}
            End::Quit if chat => self.close(close::NORMAL, "bye").await,
            End::Quit => {}
            End::Shutdown => self.close(close::AWAY, "server shutting down").await,
            End::Refused(code, reason) => {
                if chat {
                    room.exit(&self.identity, None);
                }
                self.close(code, &reason).await;
            }
        }
    }

    /// Moves a guest on to the next guest name: `false` when the name was the client's own
    /// choice.
    fn next_guest_name(&mut self, guest: &mut Option<u16>) -> bool {
        let Some(number) = *guest else { return false };
        let next = (number + 1) % self.deps.limits.guest_names.max(1);
        *guest = Some(next);
        self.identity.nickname = Nickname::guest(next);
        true
    }

    /// Another session holds the nickname here: the client is told, and closed.
    async fn refuse_name(&mut self, taken: NameTaken) {
        tracing::debug!(%taken, "nickname refused");
        let reason = taken.to_string();
        if self.dialect == Dialect::Json {
            let error = ServerEvent::Error { code: ErrorCode::NameTaken, message: reason.clone() };
            let _ = self.send_event(&error).await;
        }
        self.close(close::POLICY, &reason).await;
    }

    fn member(&self) -> &Member {
        self.membership.member()
    }

    /// Sends `ready` (JSON) and the history the client asked for: everything after its resume
    /// position, or the room's recent messages. The room keeps what it publishes meanwhile for
    /// this member, so nothing is missed; what both deliver is skipped by sequence number.
    ///
    /// The member's join was announced already (unless `first` is false: another connection of
    /// the same session is in the room), so it arrives after the history, as in the seeds.
    async fn greet(&mut self, room: &Room, first: bool, resume: Option<Resume>) -> Result<(), End> {
        let position = self.deps.store.position(room.name()).await.map_err(unavailable)?;
        self.room_is_new = position.epoch == 0;
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
        self.send_history_for(room, position, resume).await?;
        if !first && self.dialect.is_plain() {
            // The seeds greet every connection; the room announced this member only once.
            self.member().queue(&self.plain_line(&plain::welcome(&self.identity.nickname)));
        }
        self.catch_up(room).await.map(|_| ())
    }

    async fn send_history_for(
        &mut self,
        room: &Room,
        position: Position,
        resume: Option<Resume>,
    ) -> Result<(), End> {
        match resume {
            // The log after it is read by the catch-up that follows.
            Some(resume) if resume.holds(position) => {
                self.member().start_after(resume.after);
                Ok(())
            }
            Some(_) => {
                self.send_event(&ServerEvent::Reset { epoch: position.epoch }).await?;
                self.send_recent(room, position).await
            }
            None => self.send_recent(room, position).await,
        }
    }

    async fn send_recent(&mut self, room: &Room, position: Position) -> Result<(), End> {
        let recent = self.deps.store.read_before(room.name(), None, self.deps.limits.history_on_join).await;
        let recent = recent.map_err(unavailable)?;
        self.member().start_after(recent.first().map_or(position.seq, |m| m.seq.saturating_sub(1)));
        self.send_logged(&recent).await
    }

    /// Sends every stored message after the last one delivered, then turns the member live with
    /// what the room kept for it meanwhile. Presence it missed on the way is made good: a JSON
    /// client gets the members again, a plain newcomer its own welcome. Returns whether it had
    /// missed anything.
    async fn catch_up(&mut self, room: &Room) -> Result<bool, End> {
        let mut lost = false;
        loop {
            let (mut after, missed) = self.member().begin_catch_up();
            lost |= missed;
            loop {
                let page = self.deps.store.read_after(room.name(), after, self.deps.limits.replay_page).await;
                let page = page.map_err(unavailable)?;
                self.send_logged(&page).await?;
                match page.last() {
                    Some(last) if page.len() >= self.deps.limits.replay_page as usize => after = last.seq,
                    _ => break,
                }
            }
            if missed {
                tracing::debug!("fell behind the room; caught up from the log");
                match self.dialect {
                    Dialect::Json => {
                        let members =
                            ServerEvent::Members { room: room.name().clone(), names: room.members() };
                        self.member().queue(&json::encode(&members));
                    }
                    _ if self.welcome_pending => {
                        self.welcome_pending = false;
                        self.member().queue(&self.plain_line(&plain::welcome(&self.identity.nickname)));
                    }
                    _ => {}
                }
            }
            if self.member().go_live() {
                // Its own join was published before the first catch-up began: unless it was
                // missed (and sent above), it was among what the room kept.
                self.welcome_pending = false;
                self.flush().await?;
                return Ok(lost);
            }
        }
    }

    /// Queues messages read from the log (those not delivered yet), and flushes.
    async fn send_logged(&mut self, messages: &[StoredMessage]) -> Result<(), End> {
        let frames: Vec<(Seq, Frame)> = messages.iter().map(|m| (m.seq, self.logged_frame(m))).collect();
        self.member().queue_logged(frames.iter().map(|(seq, frame)| (*seq, frame)));
        self.flush().await
    }

    /// A stored message in this connection's dialect.
    fn logged_frame(&self, stored: &StoredMessage) -> Frame {
        RoomEvent::logged(stored, self.dialect)
    }

    /// One of the plain dialect's lines, written as this connection's lines are.
    fn plain_line(&self, line: &str) -> Frame {
        match self.dialect {
            Dialect::Plain(lines) => plain::line(line, lines),
            _ => Frame::text(line),
        }
    }

    /// The connection's life after the greeting: the room writes to it, and the session only
    /// wakes for the client's frames or when the room needs it (its socket is full, it fell
    /// behind, it is gone, the server is stopping). Pings are the keep-alive pass's (see
    /// [`crate::rooms::keepalive`]): nothing here waits on a timer, so an idle session is small.
    async fn serve(&mut self, room: &Room) -> End {
        loop {
            let woken = std::future::poll_fn(|cx| {
                // The room first: a connection that is gone or told to close is not read any
                // further.
                if let Poll::Ready(attention) = self.membership.member().poll_attention(cx) {
                    return Poll::Ready(Err(attention));
                }
                self.socket.poll_recv(cx).map(Ok)
            })
            .await;
            // Boxed: what handling an event needs exists only while it is handled.
            if let Err(end) = Box::pin(self.handle(room, woken)).await {
                return end;
            }
        }
    }

    async fn handle(
        &mut self,
        room: &Room,
        woken: Result<Result<Inbound, ReadError>, Attention>,
    ) -> Result<(), End> {
        match woken {
            // The socket did not take everything the room wrote: the rest goes when it can (or
            // the client is dropped once it stalls).
            Err(Attention::Flush) => self.flush().await,
            Err(Attention::Behind(missed)) => self.behind(room, missed).await,
            Err(Attention::Gone) => Err(End::Gone),
            Err(Attention::Shutdown) => Err(End::Shutdown),
            Ok(Err(ReadError::Gone)) => Err(End::Gone),
            Ok(Err(ReadError::Fault(fault))) => Err(End::Refused(fault.code, fault.reason)),
            Ok(Ok(message)) => {
                self.member().heard();
                if let Some(end) = self.admit(&message).await {
                    return Err(end);
                }
                self.on_message(room, message).await.map_or(Ok(()), Err)
            }
        }
    }

    /// The member fell behind the room. Chat dialects re-read what they missed from the log, so
    /// nothing is lost and memory stays bounded; relayed frames are not kept anywhere, so a relay
    /// connection that falls behind is closed and told why.
    async fn behind(&mut self, room: &Room, missed: u64) -> Result<(), End> {
        if self.dialect == Dialect::Relay {
            tracing::debug!(missed, "relay connection fell behind");
            return Err(End::Refused(close::TRY_AGAIN, format!("too slow: {missed} relayed frames missed")));
        }
        // Drained first: the log is read from the last message the client was given.
        self.flush().await?;
        self.catch_up(room).await.map(|_| ())
    }

    /// Flood control: a frame over the client's rate waits its turn (the client is told once per
    /// spell), so nothing it sent is lost; a client that stays over the rate is closed.
    /// While it waits, its socket is not read: the flood backs up into its own TCP window.
    async fn admit(&mut self, message: &Inbound) -> Option<End> {
        if matches!(message, Inbound::Pong | Inbound::Close(_)) {
            return None;
        }
        let verdict = self.flood.check(Instant::now());
        self.obey(verdict).await
    }

    /// The share of messages this connection's session and address have, whichever way the
    /// rest of theirs come (other tabs, forms): over it, the message waits its turn as above.
    async fn admit_message(&mut self) -> Option<End> {
        let verdict = self.deps.quotas.check_message(self.identity.session, self.address(), Instant::now());
        self.obey(verdict).await
    }

    /// The client's address, for the limits it shares with everything else from there: read
    /// off the socket when a message needs it, rather than kept by every idle connection. (A
    /// socket too broken to say is the unknown address's.)
    fn address(&self) -> AddressKey {
        let ip = self.socket.tcp().peer_addr().map_or(std::net::IpAddr::from([0, 0, 0, 0]), |peer| peer.ip());
        AddressKey::from(ip)
    }

    async fn obey(&mut self, verdict: Verdict) -> Option<End> {
        match verdict {
            Verdict::Pass => None,
            Verdict::Throttle { wait, first } => {
                if first && self.dialect == Dialect::Json {
                    let warning = ServerEvent::Error {
                        code: ErrorCode::RateLimited,
                        message: format!(
                            "You are sending too fast (more than {} messages a second): \
                             the rest are sent more slowly.",
                            self.deps.limits.messages_per_second
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
                tracing::info!(room = %self.membership.room().name(), name = %self.identity.nickname, "closed for flooding");
                Some(End::Refused(close::POLICY, "flooding: too many messages for too long".into()))
            }
        }
    }

    /// A message to a room without a log creates one, for good: the address pays for it from
    /// its new rooms (once per connection).
    fn take_room(&mut self) -> Result<(), TooFast> {
        if self.room_is_new {
            self.deps.quotas.take_room(self.address(), Instant::now())?;
            self.room_is_new = false;
        }
        Ok(())
    }

    async fn on_message(&mut self, room: &Room, message: Inbound) -> Option<End> {
        match (self.dialect, message) {
            (Dialect::Plain(_), Inbound::Text(text)) => match plain::parse(&text) {
                plain::Command::Say(text) => {
                    if let Some(end) = self.admit_message().await {
                        return Some(end);
                    }
                    if let Err(too_fast) = self.take_room() {
                        return Some(End::Refused(close::POLICY, too_fast.to_string()));
                    }
                    self.say_plain(room, text).await
                }
                plain::Command::Quit => Some(self.quit().await),
                plain::Command::Nothing => None,
                plain::Command::TooLong => Some(End::Refused(
                    close::SIZE,
                    format!("message too long: at most {} bytes", MessageText::MAX_BYTES),
                )),
                // Not stored, and the dialect has no error line: the close says why (1007: the
                // text is not what a message may hold).
                plain::Command::Refused(why) => Some(End::Refused(close::INVALID, format!("refused: {why}"))),
            },
            (Dialect::Json, Inbound::Text(text)) => match json::decode(&text) {
                Ok(ClientMessage::Send { id, text }) => {
                    if let Some(end) = self.admit_message().await {
                        return Some(end);
                    }
                    if let Err(too_fast) = self.take_room() {
                        let error = ServerEvent::Error {
                            code: ErrorCode::RateLimited,
                            message: too_fast.to_string(),
                        };
                        return self.reply(&error).await;
                    }
                    let reply = match self.store_message(room, text, Some(id.clone())).await {
                        Ok(seq) => ServerEvent::Ack { client_id: id, id: seq },
                        Err(err) => {
                            let code = match err {
                                WriteError::Refused => ErrorCode::BadRequest,
                                _ => ErrorCode::Unavailable,
                            };
                            ServerEvent::Error { code, message: err.to_string() }
                        }
                    };
                    self.reply(&reply).await
                }
                Ok(ClientMessage::Ping { nonce }) => self.reply(&ServerEvent::Pong { nonce }).await,
                Ok(ClientMessage::Typing {}) => {
                    self.membership.room().typing(&self.identity.nickname, self.deps.limits.typing_ttl);
                    None
                }
                Err(error) => self.reply(&error).await,
            },
            (Dialect::Relay, Inbound::Text(text)) => {
                if let Some(end) = self.admit_message().await {
                    return Some(end);
                }
                self.membership.room().relay(Frame::text(&text));
                None
            }
            (Dialect::Relay, Inbound::Binary(data)) => {
                if let Some(end) = self.admit_message().await {
                    return Some(end);
                }
                self.membership.room().relay(Frame::binary(&data));
                None
            }
            (Dialect::Plain(_), Inbound::Binary(_)) => {
                Some(End::Refused(close::UNSUPPORTED, "binary messages are not supported".into()))
            }
            (Dialect::Json, Inbound::Binary(_)) => {
                let error = ServerEvent::Error {
                    code: ErrorCode::Unsupported,
                    message: "binary messages are not supported: send JSON text".into(),
                };
                self.reply(&error).await
            }
            (_, Inbound::Close(status)) => {
                // The closing handshake's reply echoes the client's code (RFC 6455, 5.5.1).
                let reply = match status {
                    Some((code, _)) => Frame::close(code, ""),
                    None => Frame::close_empty(),
                };
                let _ = self.send(&reply).await;
                Some(End::Gone)
            }
            (_, Inbound::Ping(payload)) => self.send(&Frame::pong(&payload)).await.err(),
            (_, Inbound::Pong) => None,
        }
    }

    /// A plain client's message, stored; the dialect has no error line, so a close with the
    /// reason is the only way to say that it was not.
    async fn say_plain(&mut self, room: &Room, text: MessageText) -> Option<End> {
        match self.store_message(room, text, None).await {
            Ok(_) => None,
            Err(err @ WriteError::Refused) => Some(End::Refused(close::POLICY, err.to_string())),
            Err(err) => Some(End::Refused(close::TRY_AGAIN, err.to_string())),
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
            session: self.identity.session,
            text,
            at: now_millis(),
            client_id,
        };
        Ok(self.deps.writer.append(message).await?.message().seq)
    }

    async fn reply(&mut self, event: &ServerEvent) -> Option<End> {
        self.send_event(event).await.err()
    }

    async fn send_event(&mut self, event: &ServerEvent) -> Result<(), End> {
        self.send(&json::encode(event)).await
    }

    // Every write gives up when the peer has taken nothing for `limits.write_stall`: a client
    // that stopped reading (its TCP window stays shut) is dropped instead of holding a session,
    // a socket and their buffers for ever. What it missed is in the log when it comes back.

    async fn flush(&mut self) -> Result<(), End> {
        self.member().flush(self.deps.limits.write_stall).await.map_err(written)
    }

    async fn send(&mut self, frame: &Frame) -> Result<(), End> {
        self.member().queue(frame);
        self.flush().await
    }

    /// Announces the logout, and sends it to this client too, as the seeds' room sends
    /// `<name> Logout` to everyone before closing. (When the member stays through another
    /// connection nothing is announced: the line goes to this one alone.)
    async fn quit(&mut self) -> End {
        let room = Arc::clone(self.membership.room());
        let logout = self.plain_line(&plain::logout(&self.identity.nickname));
        if !room.exit(&self.identity, None) {
            let _ = self.send(&logout).await;
            return End::Quit;
        }
        // The room wrote the announcement to this member with everyone else's, unless it was
        // catching up: then it is in what the room kept, or was missed and is sent here.
        if !self.member().is_live() {
            match self.catch_up(&room).await {
                Ok(true) => self.member().queue(&logout),
                Ok(false) => {}
                Err(end) => return end,
            }
        }
        let _ = self.flush().await;
        End::Quit
    }

    /// Sends a close frame and waits, briefly, for the peer's reply (unless it closed first).
    async fn close(&mut self, code: u16, reason: &str) {
        if self.send(&Frame::close(code, reason)).await.is_ok() {
            self.socket.wait_for_close(self.deps.limits.close_grace).await;
        }
    }
}

/// A write that failed or stalled ends the session; a stall is worth a line in the log.
fn written(err: crate::ws::WriteError) -> End {
    if err == crate::ws::WriteError::Stalled {
        tracing::debug!("the peer stopped reading; dropped");
    }
    End::Gone
}

/// The log could not be read: the client is told to come back later; the cause is logged.
fn unavailable(err: StoreError) -> End {
    tracing::error!(%err, "reading the log failed");
    End::Refused(close::TRY_AGAIN, "history is unavailable, try again later".into())
}
