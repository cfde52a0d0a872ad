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
//! own.

use super::RoomEvent;
use crate::codec::Dialect;
use crate::ws::{self, Frame, Outbox, WriteError};
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
}

#[derive(Debug)]
pub struct Member {
    tcp: Arc<TcpStream>,
    dialect: Dialect,
    /// At most this many frames queued, and as many events kept while catching up.
    limit: usize,
    /// Something came from the peer since the last ping: set by the session on every frame,
    /// without the lock.
    heard: AtomicBool,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    phase: Phase,
    course: Course,
    /// The last message queued for this connection.
    delivered: Seq,
    out: Outbox,
    /// The room is to write this member's outbox (it is on the room's list).
    dirty: bool,
    /// The keep-alive pass's schedule, in its ticks: when the next ping is due (0 until the
    /// pass first sees this member), and when the answer to the last one is (0: none out).
    next_ping: u32,
    pong_due: u32,
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
enum Course {
    Open,
    /// The server is shutting down: the session is to say goodbye.
    ShuttingDown,
    /// The session is closing the connection: the room gives it nothing more.
    Closing,
    /// A write failed, or the peer did not answer a ping in time.
    Gone,
}

impl Course {
    /// Whether the room still gives the member what it publishes (and pings).
    fn is_served(self) -> bool {
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
        Self { tcp, dialect, limit: limit.max(1), heard: AtomicBool::new(false), state: Mutex::new(state) }
    }

    fn state(&self) -> MutexGuard<'_, State> {
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
            let Some(frame) = event.frame(self.dialect) else { continue };
            if let Some(seq) = event.seq {
                if seq <= state.delivered {
                    continue;
                }
                if seq > state.delivered + 1 {
                    // A message it has not been given was never published (its commit outlived
                    // the writer's deadline): the log has it.
                    state.phase = Phase::behind();
                    wake = true;
                    continue;
                }
            }
            if state.out.len() >= self.limit {
                // Its socket has not taken the last `limit` frames: it catches up from the log
                // once it has.
                state.phase = Phase::behind();
                wake = true;
                continue;
            }
            if let Some(seq) = event.seq {
                state.delivered = seq;
            }
            state.out.queue(frame);
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

    /// The keep-alive pass's turn at this member, at tick `now`: queues a ping when one is due
    /// (`every` ticks after the last), and marks the member gone when a ping was not answered
    /// within `deadline` ticks. Returns whether the room's next writing pass is to write this
    /// member's outbox (as [`Member::deliver`] does): the ping goes with whatever else is
    /// queued. Called by the room, under its lock.
    pub fn keep_alive(&self, now: u32, every: u32, deadline: u32, ping: &Frame) -> bool {
        let mut state = self.state();
        if !state.course.is_served() {
            return false;
        }
        if state.next_ping == 0 {
            // First seen: a full period from now.
            state.next_ping = now.saturating_add(every.max(1));
            return false;
        }
        if state.pong_due != 0 {
            if self.heard.load(Ordering::Relaxed) {
                state.pong_due = 0;
            } else if now >= state.pong_due {
                tracing::debug!("no answer to the last ping in time: the peer is gone");
                state.course = Course::Gone;
                wake_if(state, true);
                return false;
            }
        }
        if now < state.next_ping {
            return false;
        }
        self.heard.store(false, Ordering::Relaxed);
        state.pong_due = now.saturating_add(deadline.max(1));
        state.next_ping = now.saturating_add(every.max(1));
        state.out.queue(ping);
        let write = !state.dirty;
        state.dirty = true;
        write
    }

    /// The server is shutting down: the session is woken to close the connection.
    pub fn shut_down(&self) {
        let mut state = self.state();
        if state.course == Course::Open {
            state.course = Course::ShuttingDown;
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

    /// Queues messages read from the log, skipping those already delivered.
    pub fn queue_logged<'m>(&self, messages: impl IntoIterator<Item = (Seq, &'m Frame)>) {
        let mut state = self.state();
        for (seq, frame) in messages {
            if seq > state.delivered {
                state.out.queue(frame);
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
        let kept = match &mut state.phase {
            Phase::Live => return true,
            Phase::CatchingUp { missed, .. } if *missed > 0 => return false,
            Phase::CatchingUp { kept, .. } => std::mem::take(kept),
        };
        for event in kept {
            let Some(frame) = event.frame(self.dialect) else { continue };
            if let Some(seq) = event.seq {
                if seq <= state.delivered {
                    continue;
                }
                if seq > state.delivered + 1 {
                    // A gap between the log as read and what the room kept: read again.
                    state.phase = Phase::behind();
                    return false;
                }
                state.delivered = seq;
            }
            state.out.queue(frame);
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
fn wake_if(mut state: MutexGuard<'_, State>, wake: bool) {
    let waker = if wake { state.waker.take() } else { None };
    drop(state);
    if let Some(waker) = waker {
        waker.wake();
    }
}
