//! Flood control for one connection: a token bucket decides, for each frame a client sends,
//! whether it is handled now, handled after a pause (throttling), or is one too many (abuse).
//!
//! Throttling rather than dropping: a person who pastes twenty lines loses none of them, they
//! just arrive at the room's pace. Only a client that stays over the rate is disconnected.

use crate::config::Limits;
use std::time::Duration;
use tokio::time::Instant;

/// The policy, from `Limits`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloodPolicy {
    /// Frames per second a client may send, on average.
    pub per_second: f64,
    /// Frames it may send at once after a quiet spell.
    pub burst: u32,
    /// Throttled frames in a row (without the bucket ever filling up again) after which the
    /// client is disconnected.
    pub abuse_after: u32,
}

impl From<&Limits> for FloodPolicy {
    fn from(limits: &Limits) -> Self {
        Self {
            per_second: limits.messages_per_second,
            burst: limits.message_burst,
            abuse_after: limits.flood_abuse_after,
        }
    }
}

/// What to do with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Handle it after `wait`. `first`: the first throttled frame of this spell, when the client
    /// is told to slow down.
    Throttle {
        wait: Duration,
        first: bool,
    },
    /// Over the rate for too long: disconnect.
    Abuse,
}

/// The longest a frame is held back.
const LONGEST_WAIT: Duration = Duration::from_secs(3600);

#[derive(Debug)]
pub struct Bucket {
    policy: FloodPolicy,
    tokens: f64,
    /// Tokens are counted up to here; later than now while a throttled frame waits.
    counted_to: Instant,
    throttled: u32,
}

impl Bucket {
    pub fn new(policy: FloodPolicy, now: Instant) -> Self {
        Self { policy, tokens: f64::from(policy.burst), counted_to: now, throttled: 0 }
    }

    fn capacity(&self) -> f64 {
        f64::from(self.policy.burst.max(1))
    }

    /// Counts the tokens earned up to `now`.
    fn refill(&mut self, now: Instant) {
        if now > self.counted_to {
            let earned = now.duration_since(self.counted_to).as_secs_f64() * self.policy.per_second;
            self.tokens = (self.tokens + earned).min(self.capacity());
            self.counted_to = now;
        }
    }

    /// Whether the bucket would be full at `now`: the client has been quiet long enough that
    /// nothing about it needs remembering.
    pub fn rested(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= self.capacity()
    }

    /// Takes a token if there is one now, without waiting and without reserving one: `Err` says
    /// how long until there is. For requests that are answered at once (refused, not delayed).
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.counted_to <= now && self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let missing = (1.0 - self.tokens).max(0.0) / self.policy.per_second;
        let ahead = self.counted_to.saturating_duration_since(now);
        Err(Duration::try_from_secs_f64(missing).unwrap_or(LONGEST_WAIT).min(LONGEST_WAIT) + ahead)
    }

    pub fn check(&mut self, now: Instant) -> Verdict {
        let capacity = self.capacity();
        self.refill(now);
        if self.tokens >= capacity {
            // A full bucket: the client has been quiet long enough to be forgiven.
            self.throttled = 0;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Verdict::Pass;
        }
        self.throttled += 1;
        if self.throttled > self.policy.abuse_after {
            return Verdict::Abuse;
        }
        // The frame takes the next token: it waits until that token is earned, and counting
        // resumes from then.
        // The configuration refuses rates that are not above zero; were one to get here, waiting
        // an hour still beats a panic.
        let wait = Duration::try_from_secs_f64((1.0 - self.tokens) / self.policy.per_second)
            .unwrap_or(LONGEST_WAIT)
            .min(LONGEST_WAIT);
        self.tokens = 0.0;
        self.counted_to = self.counted_to.max(now) + wait;
        Verdict::Throttle { wait: self.counted_to - now, first: self.throttled == 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: FloodPolicy = FloodPolicy { per_second: 5.0, burst: 3, abuse_after: 4 };

    #[test]
    fn a_burst_passes_then_frames_are_paced() {
        let start = Instant::now();
        let mut bucket = Bucket::new(POLICY, start);
        for _ in 0..3 {
            assert_eq!(bucket.check(start), Verdict::Pass);
        }
        assert_eq!(bucket.check(start), Verdict::Throttle { wait: Duration::from_millis(200), first: true });
        // Already waiting for the next token: the one after that is 200 ms later still.
        assert_eq!(bucket.check(start), Verdict::Throttle { wait: Duration::from_millis(400), first: false });
    }

    #[test]
    fn a_steady_client_within_the_rate_is_never_throttled() {
        let start = Instant::now();
        let mut bucket = Bucket::new(POLICY, start);
        for i in 0..100 {
            assert_eq!(bucket.check(start + Duration::from_millis(200 * i)), Verdict::Pass);
        }
    }

    #[test]
    fn staying_over_the_rate_is_abuse() {
        let start = Instant::now();
        let mut bucket = Bucket::new(POLICY, start);
        let mut now = start;
        let mut verdicts = Vec::new();
        for _ in 0..8 {
            let verdict = bucket.check(now);
            if let Verdict::Throttle { wait, .. } = verdict {
                now += wait; // the session waits, then reads the next frame at once
            }
            verdicts.push(verdict);
        }
        assert_eq!(verdicts[..3], [Verdict::Pass; 3]);
        assert!(matches!(verdicts[3], Verdict::Throttle { first: true, .. }));
        assert!(verdicts[4..7].iter().all(|v| matches!(v, Verdict::Throttle { first: false, .. })));
        assert_eq!(verdicts[7], Verdict::Abuse);
    }

    #[test]
    fn a_rate_that_is_not_above_zero_does_not_panic() {
        let start = Instant::now();
        for per_second in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut bucket = Bucket::new(FloodPolicy { per_second, burst: 1, abuse_after: 3 }, start);
            assert_eq!(bucket.check(start), Verdict::Pass);
            let second = bucket.check(start + Duration::from_secs(1));
            assert!(matches!(second, Verdict::Throttle { .. } | Verdict::Pass), "{per_second}: {second:?}");
        }
    }

    #[test]
    fn taking_without_waiting_refuses_with_the_time_until_the_next_token() {
        let start = Instant::now();
        let mut bucket = Bucket::new(POLICY, start);
        for _ in 0..3 {
            assert_eq!(bucket.try_take(start), Ok(()));
        }
        assert_eq!(bucket.try_take(start), Err(Duration::from_millis(200)));
        assert_eq!(bucket.try_take(start), Err(Duration::from_millis(200)), "a refusal reserves nothing");
        assert_eq!(bucket.try_take(start + Duration::from_millis(200)), Ok(()));
        assert!(!bucket.rested(start + Duration::from_millis(200)));
        assert!(bucket.rested(start + Duration::from_secs(1)));
    }

    #[test]
    fn a_quiet_spell_forgives() {
        let start = Instant::now();
        let mut bucket = Bucket::new(POLICY, start);
        for _ in 0..3 {
            bucket.check(start);
        }
        assert!(matches!(bucket.check(start), Verdict::Throttle { first: true, .. }));
        // Long enough for the bucket to fill up again: a new spell starts from scratch.
        let later = start + Duration::from_secs(2);
        for _ in 0..3 {
            assert_eq!(bucket.check(later), Verdict::Pass);
        }
        assert!(matches!(bucket.check(later), Verdict::Throttle { first: true, .. }));
    }
}
