//! One connection's place in a room's fan-out: the room queues each event for the member and
//! then writes to the member's socket itself; the task serving the connection is woken only
//! when the socket is full or the member fell behind.
//!
//! A member is either live or catching up. Live, the room queues events on its outbox and its
//! writing pass writes everything queued in one write (see [`super::room`]); relayed frames
//! alone are written at once. Catching up (greeting, or after falling behind), the room keeps
//! the events for it in a bounded list while its session reads the log, and the session then
//! turns it live. Whatever the path, a message is written at most once: a member
//! remembers the last one it was given, and skips what the log already delivered.
//!
//! Every queue is bounded by the room's backlog. A member that cannot keep up is not given more:
//! it is marked as having missed events and re-reads them from the log (presence, which is not
//! in the log, is made good by its session).
//!
//! The keep-alive pings go the same way: the server's [`super::keepalive`] pass queues them for
//! the room's writing pass, and marks a member whose peer did not answer in time as gone; the
//! session only notes that it heard from its peer. An idle session thus holds no timer of its
//! own. (The pass's turn at a member is in `keepalive.rs`, with the pass.)

use super::event::Turn;
use super::RoomEvent;
use crate::codec::Dialect;
use crate::identity::SessionId;
use crate::ws::{self, Frame, Framing, Outbox, WriteError};
use app::protocol::Seq;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::time::Duration;
use tokio::net::TcpStream;

/// What a member's session is woken for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attention {
    /// The socket did not take everything: wait until it does.
    Flush,
    /// The member is catching up: events were missed (this many) or are waiting.
    Behind(u64),
    /// A write failed, or the peer did not answer a ping in time: the connection is gone.
    Gone,
    /// The server is shutting down.
    Shutdown,
    /// The session the connection belongs to was ended (logged out, revoked): it is closed.
    Ended,
    /// A moderator put the person out of the room (a kick, a ban): it is closed.
    Removed,
}

#[derive(Debug)]
pub struct Member {
    tcp: Arc<TcpStream>,
    dialect: Dialect,
    /// The session the connection belongs to, so that ending a session closes its connections.
    session: Option<SessionId>,
    /// The person it is in the room (for an account, the account's one session), so that a
    /// moderator's kick or ban closes their connections.
    person: Option<SessionId>,
    /// At most this many frames queued, and as many events kept while catching up.
    limit: usize,
    /// Something came from the peer since the last ping: set by the session on every frame,
    /// without the lock.
    pub(super) heard: AtomicBool,
    state: Mutex<State>,
}

#[derive(Debug)]
pub(super) struct State {
    phase: Phase,
    pub(super) course: Course,
    /// The last message queued for this connection.
    delivered: Seq,
    pub(super) out: Outbox,
    /// The room is to write this member's outbox (it is on the room's list).
    pub(super) dirty: bool,
    /// The keep-alive pass's schedule, in its ticks: when the next ping is due (0 until the
    /// pass first sees this member), and when the answer to the last one is (0: none out).
    pub(super) next_ping: u32,
    pub(super) pong_due: u32,
    /// The session's task, when it waits for something to do.
    waker: Option<Waker>,
}

/// Where the member is in the room's order of events.
#[derive(Debug)]
enum Phase {
    /// Events are queued on its outbox as the room publishes them.
    Live,
    /// Its session reads the log. Meanwhile the room keeps what it publishes (`kept`, for the
    /// session to deliver when the member turns live), or, once it could not keep something,
    /// counts what the member missed (it is then to read the log again).
    CatchingUp { kept: VecDeque<Arc<RoomEvent>>, missed: u64 },
}

impl Phase {
    fn catching_up() -> Self {
        Self::CatchingUp { kept: VecDeque::new(), missed: 0 }
    }

    /// Fell behind: what it was not given is to be read from the log.
    fn behind() -> Self {
        Self::CatchingUp { kept: VecDeque::new(), missed: 1 }
    }
}

/// How the connection stands, from open to gone; it only ever moves down this list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Course {
    Open,
    /// The server is shutting down: the session is to say goodbye.
    ShuttingDown,
    /// The connection's session was ended: the session is to close it.
    Ended,
    /// A moderator put the person out: the session is to close it.
    Removed,
    /// The session is closing the connection: the room gives it nothing more.
    Closing,
    /// A write failed, or the peer did not answer a ping in time.
    Gone,
}

impl Course {
    /// Whether the room still gives the member what it publishes (and pings).
    pub(super) fn is_served(self) -> bool {
        matches!(self, Course::Open | Course::ShuttingDown)
    }
}

impl Member {
    /// A relay connection is live from the start (it has no history); the chat dialects catch
    /// up first.
    pub fn new(tcp: Arc<TcpStream>, dialect: Dialect, limit: usize) -> Self {
        let phase = if dialect == Dialect::Relay { Phase::Live } else { Phase::catching_up() };
        let state = State {
            phase,
            course: Course::Open,
            delivered: 0,
            out: Outbox::default(),
            dirty: false,
            next_ping: 0,
            pong_due: 0,
            waker: None,
        };
        Self {
            tcp,
            dialect,
            session: None,
            person: None,
            limit: limit.max(1),
            heard: AtomicBool::new(false),
            state: Mutex::new(state),
        }
    }

    /// A connection of `session`'s.
    pub fn of_session(self, session: SessionId) -> Self {
        Self { session: Some(session), ..self }
    }

    /// A connection of `person` in the room.
    pub fn as_person(self, person: SessionId) -> Self {
        Self { person: Some(person), ..self }
    }

    /// Whether the connection is `person`'s.
    pub fn is_person(&self, person: SessionId) -> bool {
        self.person == Some(person)
    }

    /// Where the connection comes from, as bans count it.
    pub fn address(&self) -> Option<crate::identity::AddressKey> {
        self.tcp.peer_addr().ok().map(|peer| crate::identity::AddressKey::from(peer.ip()))
    }

    /// Whether the connection belongs to `session`.
    pub fn belongs_to(&self, session: SessionId) -> bool {
        self.session == Some(session)
    }

    /// For a connection whose frames are not RFC 6455's: its outbox rewrites what it is given.
    pub fn framed(self, framing: Framing) -> Self {
        self.state().out = Outbox::new(framing);
        self
    }

    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gives this member a batch of the room's events, in order: queued if it is live, kept if
    /// it is catching up. With `now`, what is queued is written at once; otherwise this returns
    /// whether the room is to write the outbox in its next pass (see [`Member::write_queued`]),
    /// once until then. Called by the room, under its lock.
    pub fn deliver(&self, events: &[Arc<RoomEvent>], now: bool) -> bool {
        let mut state = self.state();
        if !state.course.is_served() {
            return false;
        }
        // Whoever put frames in the outbox before (the session, or the room's next pass) writes
        // these with them: only an empty one is written here.
        let idle = state.out.is_empty();
        let mut wake = false;
        for event in events {
            if let Phase::CatchingUp { kept, missed } = &mut state.phase {
                if *missed == 0 && kept.len() < self.limit {
                    kept.push_back(Arc::clone(event));
                } else {
                    // Already behind: what it is missing is re-read from the log.
                    wake |= *missed == 0;
                    *kept = VecDeque::new();
                    *missed += 1;
                }
                continue;
            }
            // A numbered event this dialect does not show (a deletion, for the plain dialect)
            // still moves the member on: otherwise the next message would look like a gap.
            let frame = event.frame(self.dialect);
            if frame.is_none() && event.seq.is_none() {
                continue;
            }
            match event.turn_after(state.delivered) {
                Turn::Seen => continue,
                Turn::Gap => {
                    // A message it has not been given was never published here (its commit
                    // outlived the writer's deadline, or the bus between nodes lost or delayed
                    // it): the log has it. The member catches up from there, keeping this event
                    // and what follows, presence included, for after it.
                    state.phase = Phase::catching_up();
                    if let Phase::CatchingUp { kept, .. } = &mut state.phase {
                        kept.push_back(Arc::clone(event));
                    }
                    wake = true;
                    continue;
                }
                Turn::Next => {}
            }
            if frame.is_some() && state.out.len() >= self.limit {
                // Its socket has not taken the last `limit` frames: it catches up from the log
                // once it has.
                state.phase = Phase::behind();
                wake = true;
                continue;
            }
            if let Some(seq) = event.seq {
                state.delivered = seq;
            }
            if let Some(frame) = frame {
                state.out.queue(frame);
            }
        }
        let mut write = false;
        if now && idle && !state.out.is_empty() {
            wake |= state.write(&self.tcp);
        } else if !now {
            write = !state.dirty && !state.out.is_empty();
            state.dirty |= write;
        }
        wake_if(state, wake);
        write
    }

    /// Writes what is queued, as far as the socket takes it now; the session is woken to wait
    /// for the rest (or to end, if the connection is gone). Called by the room.
    pub fn write_queued(&self) {
        let mut state = self.state();
        state.dirty = false;
        if state.course == Course::Gone || state.out.is_empty() {
            return;
        }
        let wake = state.write(&self.tcp);
        wake_if(state, wake);
    }

    /// Waits until the session has something to do for this member.
    pub async fn attention(&self) -> Attention {
        std::future::poll_fn(|cx| self.poll_attention(cx)).await
    }

    /// Whether the session has something to do for this member; if not, it is woken when it does.
    pub fn poll_attention(&self, cx: &mut std::task::Context<'_>) -> Poll<Attention> {
        let mut state = self.state();
        if state.course == Course::Gone {
            Poll::Ready(Attention::Gone)
        } else if state.course == Course::ShuttingDown {
            Poll::Ready(Attention::Shutdown)
        } else if state.course == Course::Ended {
            Poll::Ready(Attention::Ended)
        } else if state.course == Course::Removed {
            Poll::Ready(Attention::Removed)
        } else if let Phase::CatchingUp { missed, .. } = state.phase {
            Poll::Ready(Attention::Behind(missed))
        } else if !state.out.is_empty() {
            Poll::Ready(Attention::Flush)
        } else {
            if !state.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                state.waker = Some(cx.waker().clone());
            }
            Poll::Pending
        }
    }

    /// The session heard from its peer (any frame): the ping out, if any, is answered.
    pub fn heard(&self) {
        self.heard.store(true, Ordering::Relaxed);
    }

    /// The server is shutting down: the session is woken to close the connection.
    pub fn shut_down(&self) {
        let mut state = self.state();
        if state.course == Course::Open {
            state.course = Course::ShuttingDown;
        }
        wake_if(state, true);
    }

    /// The connection's session was ended: the session is woken to close the connection.
    pub fn end(&self) {
        self.close_as(Course::Ended);
    }

    /// A moderator put the person out: the session is woken to close the connection.
    pub fn remove(&self) {
        self.close_as(Course::Removed);
    }

    fn close_as(&self, course: Course) {
        let mut state = self.state();
        if matches!(state.course, Course::Open | Course::ShuttingDown) {
            state.course = course;
        }
        wake_if(state, true);
    }

    /// Queues one of the session's own frames (a reply, a pong, a close), after whatever is
    /// queued.
    pub fn queue(&self, frame: &Frame) {
        self.state().out.queue(frame);
    }

    /// Writes everything queued, waiting (at most `stall` at a time) while the client's window is
    /// full. The room may queue more meanwhile; that goes too.
    pub async fn flush(&self, stall: Duration) -> Result<(), WriteError> {
        loop {
            {
                let mut state = self.state();
                if state.course == Course::Gone {
                    return Err(WriteError::Gone);
                }
                if let Err(err) = state.out.write_to(&self.tcp) {
                    state.course = Course::Gone;
                    return Err(err);
                }
                if state.out.is_empty() {
                    return Ok(());
                }
            }
            ws::writable(&self.tcp, stall).await?;
        }
    }

    /// Starts (or restarts) catching up: returns the last message delivered, from which the log
    /// is to be read, and whether events were missed (presence among them, which the log does
    /// not have). What was kept for the member is dropped then: the log has its messages.
    pub fn begin_catch_up(&self) -> (Seq, bool) {
        let mut state = self.state();
        let missed = match &mut state.phase {
            Phase::CatchingUp { kept, missed } if *missed > 0 => {
                *kept = VecDeque::new();
                *missed = 0;
                true
            }
            Phase::CatchingUp { .. } => false,
            Phase::Live => {
                state.phase = Phase::catching_up();
                false
            }
        };
        (state.delivered, missed)
    }

    /// Queues entries read from the log, skipping those already delivered (and moving on past
    /// those this dialect does not show, `None`).
    pub fn queue_logged<'m>(&self, messages: impl IntoIterator<Item = (Seq, Option<&'m Frame>)>) {
        let mut state = self.state();
        for (seq, frame) in messages {
            if seq > state.delivered {
                if let Some(frame) = frame {
                    state.out.queue(frame);
                }
                state.delivered = seq;
            }
        }
    }

    /// The session is about to close the connection: what the room publishes from now on (the
    /// member's own leave among it) is not written before the close frame.
    pub fn stop(&self) {
        let mut state = self.state();
        if state.course.is_served() {
            state.course = Course::Closing;
        }
    }

    /// The last message given to this member, if it is live and of a dialect given messages.
    pub(super) fn delivered_if_live(&self) -> Option<Seq> {
        if self.dialect == Dialect::Relay {
            return None;
        }
        let state = self.state();
        (matches!(state.phase, Phase::Live) && state.course.is_served()).then_some(state.delivered)
    }

    pub fn is_live(&self) -> bool {
        matches!(self.state().phase, Phase::Live)
    }

    /// Where this connection starts: the last message it already has.
    pub fn start_after(&self, seq: Seq) {
        self.state().delivered = seq;
    }

    /// Turns live, with the events kept meanwhile queued first; `false` if events were missed
    /// since catching up began (the log is to be read again).
    pub fn go_live(&self) -> bool {
        let mut state = self.state();
        let mut kept = match &mut state.phase {
            Phase::Live => return true,
            Phase::CatchingUp { missed, .. } if *missed > 0 => return false,
            Phase::CatchingUp { kept, .. } => std::mem::take(kept),
        };
        while let Some(event) = kept.pop_front() {
            let frame = event.frame(self.dialect);
            if frame.is_none() && event.seq.is_none() {
                continue;
            }
            match event.turn_after(state.delivered) {
                Turn::Seen => continue,
                Turn::Gap => {
                    // A gap between the log as read and what the room kept (a commit the log
                    // read did not see yet): read again, keeping the rest for after it.
                    kept.push_front(event);
                    state.phase = Phase::CatchingUp { kept, missed: 0 };
                    return false;
                }
                Turn::Next => {}
            }
            if let Some(seq) = event.seq {
                state.delivered = seq;
            }
            if let Some(frame) = frame {
                state.out.queue(frame);
            }
        }
        state.phase = Phase::Live;
        true
    }

    /// Events kept while catching up (tests look at what the room published).
    #[cfg(test)]
    pub fn take_pending(&self) -> Vec<Arc<RoomEvent>> {
        match &mut self.state().phase {
            Phase::CatchingUp { kept, .. } => kept.drain(..).collect(),
            Phase::Live => Vec::new(),
        }
    }

    #[cfg(test)]
    pub fn missed(&self) -> u64 {
        match self.state().phase {
            Phase::CatchingUp { missed, .. } => missed,
            Phase::Live => 0,
        }
    }
}

impl State {
    /// Writes the outbox as far as the socket takes it now; returns whether the session is to be
    /// woken: to wait for the rest, or because the connection is gone.
    fn write(&mut self, tcp: &TcpStream) -> bool {
        match self.out.write_to(tcp) {
            Ok(()) => !self.out.is_empty(),
            Err(_) => {
                self.course = Course::Gone;
                true
            }
        }
    }
}

/// Wakes the session (outside the lock) if `wake`.
pub(super) fn wake_if(mut state: MutexGuard<'_, State>, wake: bool) {
    let waker = if wake { state.waker.take() } else { None };
    drop(state);
    if let Some(waker) = waker {
        waker.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Lines;
    use crate::rooms::event::Kind;
    use crate::testing::loopback;
    use tokio::io::AsyncReadExt;

    fn message(seq: Seq, text: &str) -> Arc<RoomEvent> {
        Arc::new(RoomEvent {
            seq: Some(seq),
            kind: Kind::Message,
            plain: Some(Frame::text(text)),
            plain_html: None,
            json: None,
            relay: None,
            tornado: Default::default(),
        })
    }

    fn typing() -> Arc<RoomEvent> {
        Arc::new(RoomEvent {
            seq: None,
            kind: Kind::Typing,
            plain: None,
            plain_html: None,
            json: None,
            relay: None,
            tornado: Default::default(),
        })
    }

    /// What the client has received so far, as the payloads of unmasked text frames.
    async fn received(client: &mut TcpStream, frames: usize) -> Vec<String> {
        let mut out = Vec::new();
        for _ in 0..frames {
            let mut head = [0u8; 2];
            client.read_exact(&mut head).await.unwrap();
            let mut payload = vec![0u8; usize::from(head[1] & 0x7f)];
            client.read_exact(&mut payload).await.unwrap();
            out.push(String::from_utf8(payload).unwrap());
        }
        out
    }

    #[tokio::test]
    async fn a_live_member_is_written_directly_in_order_and_once() {
        let (tcp, mut client) = loopback().await;
        let member = Member::new(tcp, Dialect::Plain(Lines::Verbatim), 16);
        member.start_after(1);
        member.deliver(&[message(1, "old")], false);
        assert_eq!(member.take_pending().len(), 1, "kept while catching up");
        assert!(member.go_live());
        assert!(member.deliver(&[message(1, "old"), message(2, "a"), typing()], false));
        assert!(!member.deliver(&[message(2, "a"), message(3, "b")], false), "already to be written");
        member.write_queued();
        assert!(!member.deliver(&[message(3, "b"), message(4, "c")], true), "written at once");
        assert_eq!(received(&mut client, 3).await, ["a", "b", "c"]);
        let idle = tokio::time::timeout(Duration::from_millis(20), member.attention()).await;
        assert!(idle.is_err(), "everything was written: nothing for the session to do");
    }

    #[tokio::test]
    async fn catching_up_keeps_events_then_delivers_those_the_log_did_not() {
        let (tcp, mut client) = loopback().await;
        let member = Member::new(tcp, Dialect::Plain(Lines::Verbatim), 16);
        member.deliver(&[message(1, "a"), message(2, "b"), message(3, "c")], false);
        assert_eq!(member.begin_catch_up(), (0, false));
        let logged = [Frame::text("a"), Frame::text("b")];
        member.queue_logged([(1, Some(&logged[0])), (2, Some(&logged[1]))]);
        assert!(member.go_live());
        member.flush(Duration::from_secs(1)).await.unwrap();
        assert_eq!(received(&mut client, 3).await, ["a", "b", "c"]);
    }

    /// A message that was stored but never published (its commit outlived the writer's deadline)
    /// leaves a gap in the numbers: the member reads the log rather than skip it.
    #[tokio::test]
    async fn a_gap_in_the_numbers_sends_the_member_to_the_log() {
        let (tcp, mut client) = loopback().await;
        let member = Member::new(tcp, Dialect::Plain(Lines::Verbatim), 16);
        assert!(member.go_live());
        member.deliver(&[message(1, "a")], true);
        assert!(!member.deliver(&[message(3, "c"), message(4, "d")], true), "nothing written past the gap");
        assert!(matches!(member.attention().await, Attention::Behind(0)));
        // Nothing was missed: what came from the gap on is kept, for after the log.
        assert_eq!(member.begin_catch_up(), (1, false));
        // The log has 2 and 3; 5 came meanwhile.
        member.deliver(&[message(5, "e")], false);
        let logged = [Frame::text("b"), Frame::text("c")];
        member.queue_logged([(2, Some(&logged[0])), (3, Some(&logged[1]))]);
        assert!(member.go_live());
        member.flush(Duration::from_secs(1)).await.unwrap();
        assert_eq!(received(&mut client, 5).await, ["a", "b", "c", "d", "e"]);

        // A gap between the log as read and what was kept while reading it: read again.
        let (tcp, _client) = loopback().await;
        let member = Member::new(tcp, Dialect::Plain(Lines::Verbatim), 16);
        member.start_after(1);
        member.deliver(&[message(3, "c")], false);
        assert!(!member.go_live());
        assert_eq!(member.begin_catch_up(), (1, false));
        let logged = Frame::text("b");
        member.queue_logged([(2, Some(&logged))]);
        assert!(member.go_live(), "what was kept is delivered after the log");
    }

    #[tokio::test]
    async fn a_member_that_falls_behind_keeps_nothing_and_is_told() {
        let (tcp, _client) = loopback().await;
        let member = Member::new(tcp, Dialect::Plain(Lines::Verbatim), 4);
        let events: Vec<_> = (1..=10).map(|i| message(i, "x")).collect();
        assert!(!member.deliver(&events, false), "nothing to write while catching up");
        assert_eq!(member.missed(), 6);
        assert_eq!(member.attention().await, Attention::Behind(6));
        assert_eq!(member.begin_catch_up(), (0, true));
        assert!(member.take_pending().is_empty());
        assert!(member.go_live());
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_is_not_queued_for_beyond_the_limit() {
        let (tcp, _client) = loopback().await;
        let member = Member::new(tcp, Dialect::Plain(Lines::Verbatim), 8);
        assert!(member.go_live());
        // Big frames, so that the kernel's buffers fill up.
        let big = "x".repeat(60_000);
        for seq in 1..=400 {
            member.deliver(
                &[Arc::new(RoomEvent {
                    seq: Some(seq),
                    kind: Kind::Message,
                    plain: Some(Frame::text(&big)),
                    plain_html: None,
                    json: None,
                    relay: None,
                    tornado: Default::default(),
                })],
                true,
            );
        }
        let Attention::Behind(missed) = member.attention().await else { panic!("not behind") };
        assert!(missed > 0);
        let (delivered, lost) = member.begin_catch_up();
        assert!(lost);
        assert!(delivered < 400, "the rest is to be read from the log");
        assert!(member.state().out.len() <= 8);
        let stalled = member.flush(Duration::from_millis(100)).await;
        assert_eq!(stalled, Err(WriteError::Stalled));
    }

    #[tokio::test]
    async fn the_keep_alive_pings_when_due_and_a_silent_peer_is_gone() {
        let (tcp, mut client) = loopback().await;
        let member = Member::new(tcp, Dialect::Plain(Lines::Verbatim), 16);
        assert!(member.go_live());
        let ping = Frame::ping(&[]);
        // First seen at tick 1: the first ping is due at 4 (every 3), its answer by 6.
        assert!(!member.keep_alive(1, 3, 2, &ping));
        assert!(!member.keep_alive(3, 3, 2, &ping), "no ping before it is due");
        assert!(member.keep_alive(4, 3, 2, &ping), "the room's writing pass is to write it");
        member.write_queued();
        let mut buf = [0u8; 8];
        client.read_exact(&mut buf[..2]).await.unwrap();
        assert_eq!(buf[..2], [0x89, 0], "an empty ping");
        // Answered: the next one is due at 7.
        member.heard();
        assert!(!member.keep_alive(6, 3, 2, &ping));
        assert!(tokio::time::timeout(Duration::from_millis(20), member.attention()).await.is_err());
        assert!(member.keep_alive(7, 3, 2, &ping));
        member.write_queued();
        client.read_exact(&mut buf[..2]).await.unwrap();
        // Not answered by tick 9: gone.
        assert!(!member.keep_alive(8, 3, 2, &ping));
        assert!(tokio::time::timeout(Duration::from_millis(20), member.attention()).await.is_err());
        assert!(!member.keep_alive(9, 3, 2, &ping));
        assert_eq!(member.attention().await, Attention::Gone);
    }

    #[tokio::test]
    async fn a_ping_goes_after_the_frames_already_waiting() {
        let (tcp, mut client) = loopback().await;
        let member = Member::new(tcp, Dialect::Plain(Lines::Verbatim), 16);
        member.queue(&Frame::text("first"));
        member.keep_alive(1, 1, 5, &Frame::ping(&[]));
        assert!(member.keep_alive(2, 1, 5, &Frame::ping(&[])));
        member.write_queued();
        let mut got = [0u8; 9];
        client.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"\x81\x05first\x89\x00");
    }

    #[tokio::test]
    async fn shutting_down_wakes_the_session() {
        let (tcp, _client) = loopback().await;
        let member = Member::new(tcp, Dialect::Json, 16);
        assert!(member.go_live());
        let waiting = member.attention();
        member.shut_down();
        assert_eq!(waiting.await, Attention::Shutdown);
    }
}
