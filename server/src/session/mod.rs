//! One room connection, from the greeting to the goodbye: reads the client's frames, publishes
//! what it says to the room, and writes the room's events back in the room's order.
//!
//! The room writes its events to the connection itself (see [`crate::rooms::Member`]): the session
//! is woken for them only when the socket is full or the connection fell behind, and then
//! catches it up from the log.

mod admission;
mod dispatch;
pub mod flood;
mod greeting;
pub(crate) mod moderation;
pub mod quota;
mod reading;
mod resume;

pub use resume::Resume;

use crate::codec::{json, Dialect};
use crate::config::Limits;
use crate::identity::{Identity, SessionId};
use crate::rooms::{Attention, Member, Membership, NameTaken, Room, Rooms};
use crate::store::{DynStore, StoreError, Writer};
use crate::ws::{Frame, Inbound, ReadError, Refusal, Socket};
use app::names::{Nickname, RoomName};
use app::protocol::{close, ErrorCode, ServerEvent};
use flood::{Bucket, FloodPolicy};
use quota::Quotas;
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
    /// The client broke a rule, or the log failed it; close with this refusal's code and
    /// reason, then announce the logout.
    Refused(Refusal),
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
    /// The connection acts for an account (roles in rooms belong to accounts): decided once, as
    /// it costs a keyed hash.
    for_account: bool,
    /// A plain-dialect newcomer's own `Welcome` was announced while it was catching up: if the
    /// connection fell behind the room meanwhile, and missed it, it is sent directly.
    welcome_pending: bool,
    /// How far the reader has said they read.
    reading: reading::Reading,
}

/// What a session needs besides its socket and its name.
#[derive(Debug, Clone)]
pub struct SessionDeps {
    pub rooms: Rooms,
    pub store: DynStore,
    pub writer: Writer,
    pub limits: Arc<Limits>,
    pub quotas: Arc<Quotas>,
    pub accounts: crate::accounts::Accounts,
}

impl Session {
    /// A session of `identity` in `room`, which it joins now: from here on the room keeps what
    /// it publishes for this connection.
    pub fn join(
        socket: Socket,
        dialect: Dialect,
        identity: Identity,
        login: SessionId,
        room: &RoomName,
        deps: Arc<SessionDeps>,
    ) -> Self {
        let framing = socket.framing();
        if !framing.has_ping() {
            if let Err(err) = socket.keep_alive_by_tcp(deps.limits.ping_every, deps.limits.pong_deadline) {
                tracing::warn!(%err, "cannot keep a connection without pings alive by TCP");
            }
        }
        let member = Member::new(Arc::clone(socket.tcp()), dialect, deps.limits.room_backlog)
            .framed(framing)
            .of_session(login)
            .as_person(identity.session);
        let membership = deps.rooms.join(room, Arc::new(member));
        let for_account = deps.accounts.acting_account(&identity).is_some();
        Self {
            socket,
            dialect,
            for_account,
            identity,
            membership,
            flood: Bucket::new(FloodPolicy::from(&*deps.limits), Instant::now()),
            room_is_new: false,
            deps,
            welcome_pending: false,
            reading: reading::Reading::default(),
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
        if let Err(end) = self.may_enter(&room).await {
            self.end(&room, end).await;
            return None;
        }
        let tries = other_guest_names_to_try(self.deps.limits.guest_names);
        let mut tried = 0;
        let first = loop {
            // With several nodes, the name is claimed from all of them first; then entered here.
            let claimed = match room.claim(&self.identity) {
                Some(claim) => claim.await,
                None => true,
            };
            let entered = match claimed {
                true => room.enter(&self.identity).inspect_err(|_| room.unclaim(&self.identity)),
                false => Err(NameTaken(self.identity.nickname.clone())),
            };
            match entered {
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
            Ok(()) => {
                self.claim_if_new(&room).await;
                Some((self, room))
            }
            Err(end) => {
                self.end(&room, end).await;
                None
            }
        }
    }

    async fn end(&mut self, room: &Arc<Room>, end: End) {
        self.log_end(room, &end);
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
            End::Refused(refusal) => {
                if chat {
                    room.exit(&self.identity, None);
                }
                self.close(refusal.code, &refusal.reason).await;
            }
        }
    }

    /// Every connection's end is logged once, with its reason and peer; refusals are counted.
    fn log_end(&self, room: &Room, end: &End) {
        let peer =
            self.socket.tcp().peer_addr().map_or_else(|_| "unknown".to_owned(), |peer| peer.to_string());
        let (room, name, dialect) = (room.name(), &self.identity.nickname, self.dialect.label());
        match end {
            End::Refused(refusal) => {
                crate::metrics::get()
                    .refusals
                    .with_label_values(&[crate::metrics::close_reason(refusal.code)])
                    .inc();
                tracing::info!(%peer, %room, %name, dialect, code = refusal.code, reason = %refusal.reason, "connection refused");
            }
            End::Gone => {
                tracing::info!(%peer, %room, %name, dialect, "connection closed by the client or dropped")
            }
            End::Quit => tracing::info!(%peer, %room, %name, dialect, "connection closed: the client quit"),
            End::Shutdown => {
                tracing::info!(%peer, %room, %name, dialect, "connection closed: the server is shutting down")
            }
        }
    }

    /// Moves a guest on to the next guest name: `false` when the name was the client's own
    /// choice.
    fn next_guest_name(&mut self, guest: &mut Option<u16>) -> bool {
        let Some(number) = *guest else { return false };
        let next = next_guest(number, self.deps.limits.guest_names);
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
            Err(Attention::Ended) => Err(End::Refused(Refusal::policy("this session was logged out"))),
            Err(Attention::Removed) => Err(End::Refused(self.removal(room))),
            Ok(Err(ReadError::Gone)) => Err(End::Gone),
            Ok(Err(ReadError::Fault(fault))) => Err(End::Refused(fault)),
            Ok(Ok(message)) => {
                self.member().heard();
                if let Some(end) = self.admit(&message).await {
                    return Err(end);
                }
                self.on_message(room, message).await.map_or(Ok(()), Err)
            }
        }
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
        crate::metrics::get().slow_readers_dropped.inc();
    }
    End::Gone
}

/// How many other guest names a guest whose name is taken tries, one after another: every one
/// there is, but at most 64 (a room that full of guests is not worth a longer search).
fn other_guest_names_to_try(guest_names: u16) -> u16 {
    guest_names.saturating_sub(1).min(64)
}

/// The guest name after `number`, among `guest_names` of them (counting round).
fn next_guest(number: u16, guest_names: u16) -> u16 {
    number.saturating_add(1) % guest_names.max(1)
}

/// The log could not be read: the client is told to come back later; the cause is logged.
fn unavailable(err: StoreError) -> End {
    tracing::error!(%err, "reading the log failed");
    End::Refused(Refusal::try_again("history is unavailable, try again later"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guest_whose_name_is_taken_tries_the_next_ones_round_and_not_for_ever() {
        assert_eq!(next_guest(3, 10), 4);
        assert_eq!(next_guest(9, 10), 0, "round to the first");
        assert_eq!(next_guest(0, 1), 0, "one name: itself");
        assert_eq!(next_guest(u16::MAX - 1, u16::MAX), 0);
        assert_eq!(next_guest(5, 0), 0, "no names configured cannot divide by zero");
        assert_eq!(other_guest_names_to_try(10), 9, "every other name");
        assert_eq!(other_guest_names_to_try(1), 0, "no other name");
        assert_eq!(other_guest_names_to_try(0), 0);
        assert_eq!(other_guest_names_to_try(10_000), 64, "at most 64");
    }
}
