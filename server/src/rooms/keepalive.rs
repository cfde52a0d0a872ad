//! Keep-alive for every room connection: one pass over the rooms, a few times per ping period,
//! pings each member when its ping is due and marks it gone when its peer left the last one
//! unanswered past the deadline (a laptop lid, a dead network: no close frame ever comes).
//!
//! One task for the whole server rather than a timer in every session: an idle connection then
//! costs no timer entry and no wake-up of its own, and the pings are written by the rooms'
//! writing passes with their events, without waking the sessions. A ping goes out up to one
//! tick late, and a dead peer is noticed up to one tick after its deadline.

use super::member::{wake_if, Course};
use super::room::Inner;
use super::{Member, Room, Rooms};
use crate::ws::Frame;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How often the pass runs: a fifth of the shorter period, so that lateness stays small beside
/// it, but at most once a second and at least every 10 ms.
pub fn tick(every: Duration, deadline: Duration) -> Duration {
    (every.min(deadline) / 5).clamp(Duration::from_millis(10), Duration::from_secs(1))
}

/// Runs the pass for ever (the task is dropped with the runtime).
pub async fn run(rooms: Rooms, every: Duration, deadline: Duration) {
    let tick = tick(every, deadline);
    let in_ticks = |d: Duration| u32::try_from(d.as_nanos().div_ceil(tick.as_nanos())).unwrap_or(u32::MAX);
    let (every, deadline) = (in_ticks(every), in_ticks(deadline));
    let ping = Frame::ping(&[]);
    let mut timer = tokio::time::interval(tick);
    // After a stall (a busy server), the pass resumes its pace instead of running many times.
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Ticks count from 1: 0 means "not scheduled yet" to a member.
    let mut now: u32 = 0;
    loop {
        timer.tick().await;
        now = now.saturating_add(1);
        for room in rooms.live() {
            room.keep_alive(now, every, deadline, &ping);
        }
    }
}

impl Room {
    /// The pass's turn at every member of this room: the pings due are written by the room's
    /// writing pass, with whatever else it writes.
    pub(super) fn keep_alive(self: &Arc<Self>, now: u32, every: u32, deadline: u32, ping: &Frame) {
        let mut inner = self.inner();
        let Inner { members, dirty, .. } = &mut *inner;
        for member in members.iter() {
            if member.keep_alive(now, every, deadline, ping) {
                dirty.push(Arc::clone(member));
            }
        }
        self.release(inner);
    }
}

impl Member {
    /// The keep-alive pass's turn at this member, at tick `now`: queues a ping when one is due
    /// (`every` ticks after the last), and marks the member gone when a ping was not answered
    /// within `deadline` ticks. Returns whether the room's next writing pass is to write this
    /// member's outbox (as `Member::deliver` does): the ping goes with whatever else is
    /// queued. Called by the room, under its lock.
    pub(super) fn keep_alive(&self, now: u32, every: u32, deadline: u32, ping: &Frame) -> bool {
        let mut state = self.state();
        // A connection that cannot be pinged is kept alive by TCP (see `Session::join`).
        if !state.course.is_served() || !state.out.framing().has_ping() {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tick_is_a_fifth_of_the_shorter_period_within_bounds() {
        assert_eq!(tick(Duration::from_secs(25), Duration::from_secs(10)), Duration::from_secs(1));
        assert_eq!(tick(Duration::from_millis(200), Duration::from_millis(300)), Duration::from_millis(40));
        assert_eq!(tick(Duration::from_millis(1), Duration::from_millis(1)), Duration::from_millis(10));
    }
}
