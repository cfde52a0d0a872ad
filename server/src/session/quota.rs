//! Limits shared by every way in: what one session, and one client address, may do whichever
//! way it comes (WebSocket, form post, JSON API). A connection's own flood control
//! ([`super::flood`]) holds one connection; these hold a person with several tabs and a form,
//! and a client with many sessions or connections.
//!
//! - messages per session, at a connection's rate: one person types no faster in three tabs;
//! - messages per address, at ten times that (a household, an office behind one NAT);
//! - new sessions per address (`POST /api/session`, choosing a nickname), and new rooms per
//!   address (a message to a room that has no log creates one, for good).
//!
//! Each is a token bucket per key; a key is forgotten once its bucket has filled up again, so
//! the tables hold only who is active.

use super::flood::{Bucket, FloodPolicy, Verdict};
use crate::config::Limits;
use crate::identity::{AddressKey, SessionId};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// How many times a person's message rate one address may send: enough for a household or an
/// office behind one NAT, not for one client with many sessions.
const ADDRESS_SHARE: u32 = 10;

/// Token buckets by key, sharing one policy.
#[derive(Debug)]
pub struct Keyed<K> {
    policy: FloodPolicy,
    buckets: Mutex<Table<K>>,
}

#[derive(Debug)]
struct Table<K> {
    buckets: HashMap<K, Bucket>,
    /// Rested buckets are swept out when the table grows past this.
    sweep_at: usize,
}

/// A table swept no earlier than at this size.
const SMALLEST_SWEEP: usize = 1024;

impl<K: Hash + Eq + Copy> Keyed<K> {
    pub fn new(policy: FloodPolicy) -> Self {
        Self { policy, buckets: Mutex::new(Table { buckets: HashMap::new(), sweep_at: SMALLEST_SWEEP }) }
    }

    fn table(&self) -> MutexGuard<'_, Table<K>> {
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with<T>(&self, key: K, now: Instant, f: impl FnOnce(&mut Bucket) -> T) -> T {
        let mut table = self.table();
        if table.buckets.len() >= table.sweep_at {
            table.buckets.retain(|_, bucket| !bucket.rested(now));
            table.sweep_at = (table.buckets.len() * 2).max(SMALLEST_SWEEP);
        }
        let policy = self.policy;
        f(table.buckets.entry(key).or_insert_with(|| Bucket::new(policy, now)))
    }

    /// As [`Bucket::check`]: the caller waits its turn when throttled.
    pub fn check(&self, key: K, now: Instant) -> Verdict {
        self.with(key, now, |bucket| bucket.check(now))
    }

    /// As [`Bucket::try_take`]: the caller refuses at once when there is no token.
    pub fn try_take(&self, key: K, now: Instant) -> Result<(), Duration> {
        self.with(key, now, |bucket| bucket.try_take(now))
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.table().buckets.len()
    }
}

/// Every shared limit.
#[derive(Debug)]
pub struct Quotas {
    messages_per_session: Keyed<SessionId>,
    messages_per_address: Keyed<AddressKey>,
    new_sessions: Keyed<AddressKey>,
    new_rooms: Keyed<AddressKey>,
    searches: Keyed<AddressKey>,
}

/// Searches one address may make a minute (each is a query of the store's index): more than a
/// person types, fewer than a script scraping the rooms would like.
const SEARCHES_PER_MINUTE: u32 = 60;

/// Something refused for now, and how long until it would not be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooFast {
    pub what: Quota,
    pub retry_after: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    Messages,
    Sessions,
    Rooms,
    Searches,
}

impl TooFast {
    /// The wait in whole seconds, rounded up (as `Retry-After` gives it).
    pub fn retry_after_secs(&self) -> u64 {
        u64::try_from(self.retry_after.as_millis().div_ceil(1000)).unwrap_or(u64::MAX).max(1)
    }
}

impl std::fmt::Display for TooFast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seconds = self.retry_after_secs();
        let wait =
            if seconds < 120 { format!("{seconds} s") } else { format!("{} min", seconds.div_ceil(60)) };
        match self.what {
            Quota::Messages => write!(f, "you are sending too fast: try again in {wait}"),
            Quota::Sessions => write!(f, "too many new sessions from your address: try again in {wait}"),
            Quota::Rooms => write!(f, "too many new rooms from your address: try again in {wait}"),
            Quota::Searches => write!(f, "too many searches from your address: try again in {wait}"),
        }
    }
}

impl Quotas {
    pub fn new(limits: &Limits) -> Self {
        let person = FloodPolicy::from(limits);
        let address = FloodPolicy {
            per_second: person.per_second * f64::from(ADDRESS_SHARE),
            burst: person.burst.saturating_mul(ADDRESS_SHARE),
            ..person
        };
        let per = |count: u32, period: Duration| FloodPolicy {
            per_second: f64::from(count.max(1)) / period.as_secs_f64(),
            burst: count.max(1),
            abuse_after: u32::MAX,
        };
        Self {
            messages_per_session: Keyed::new(person),
            messages_per_address: Keyed::new(address),
            new_sessions: Keyed::new(per(limits.new_sessions_per_minute, Duration::from_secs(60))),
            new_rooms: Keyed::new(per(limits.new_rooms_per_hour, Duration::from_secs(3600))),
            searches: Keyed::new(per(SEARCHES_PER_MINUTE, Duration::from_secs(60))),
        }
    }

    /// A message from a connection, which waits when throttled: the stricter verdict of its
    /// session's and its address's.
    pub fn check_message(&self, session: SessionId, address: AddressKey, now: Instant) -> Verdict {
        let by_session = self.messages_per_session.check(session, now);
        let by_address = self.messages_per_address.check(address, now);
        match (by_session, by_address) {
            (Verdict::Abuse, _) | (_, Verdict::Abuse) => Verdict::Abuse,
            (Verdict::Throttle { wait: a, first: fa }, Verdict::Throttle { wait: b, first: fb }) => {
                Verdict::Throttle { wait: a.max(b), first: fa || fb }
            }
            (throttled @ Verdict::Throttle { .. }, Verdict::Pass) | (Verdict::Pass, throttled) => throttled,
        }
    }

    /// A message by a request, answered at once: refused while its session or address is over
    /// its rate.
    pub fn take_message(&self, session: SessionId, address: AddressKey, now: Instant) -> Result<(), TooFast> {
        let too_fast = |retry_after| TooFast { what: Quota::Messages, retry_after };
        self.messages_per_session.try_take(session, now).map_err(too_fast)?;
        self.messages_per_address.try_take(address, now).map_err(too_fast)
    }

    /// A new session from `address`.
    pub fn take_session(&self, address: AddressKey, now: Instant) -> Result<(), TooFast> {
        self.new_sessions
            .try_take(address, now)
            .map_err(|retry_after| TooFast { what: Quota::Sessions, retry_after })
    }

    /// A search from `address`.
    pub fn take_search(&self, address: AddressKey, now: Instant) -> Result<(), TooFast> {
        self.searches
            .try_take(address, now)
            .map_err(|retry_after| TooFast { what: Quota::Searches, retry_after })
    }

    /// A new room (its first message) from `address`.
    pub fn take_room(&self, address: AddressKey, now: Instant) -> Result<(), TooFast> {
        self.new_rooms
            .try_take(address, now)
            .map_err(|retry_after| TooFast { what: Quota::Rooms, retry_after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn address(s: &str) -> AddressKey {
        AddressKey::from(s.parse::<IpAddr>().unwrap())
    }

    fn limits() -> Limits {
        Limits {
            messages_per_second: 1.0,
            message_burst: 2,
            new_sessions_per_minute: 3,
            new_rooms_per_hour: 2,
            ..Limits::default()
        }
    }

    #[test]
    fn a_session_has_one_rate_whichever_way_its_messages_come() {
        let quotas = Quotas::new(&limits());
        let (alice, home) = (SessionId::named("alice"), address("10.0.0.1"));
        let now = Instant::now();
        // A connection's message, then a form's: one bucket.
        assert_eq!(quotas.check_message(alice, home, now), Verdict::Pass);
        assert_eq!(quotas.take_message(alice, home, now), Ok(()));
        let refused = quotas.take_message(alice, home, now).unwrap_err();
        assert_eq!(refused, TooFast { what: Quota::Messages, retry_after: Duration::from_secs(1) });
        assert!(matches!(quotas.check_message(alice, home, now), Verdict::Throttle { .. }));
        // Someone else at the same address is not held back by alice...
        assert_eq!(quotas.take_message(SessionId::named("bob"), home, now), Ok(()));
    }

    #[test]
    fn an_address_has_ten_peoples_rate() {
        let quotas = Quotas::new(&limits());
        let home = address("10.0.0.1");
        let now = Instant::now();
        let sent = (0..100)
            .take_while(|i| quotas.take_message(SessionId::named(&format!("s{i}")), home, now).is_ok())
            .count();
        assert_eq!(sent, 20, "ten times a person's burst");
        assert!(quotas.take_message(SessionId::named("other"), address("10.0.0.2"), now).is_ok());
    }

    #[test]
    fn sessions_and_rooms_are_made_at_a_rate_per_address() {
        let quotas = Quotas::new(&limits());
        let (home, now) = (address("2001:db8::1"), Instant::now());
        for _ in 0..3 {
            assert_eq!(quotas.take_session(home, now), Ok(()));
        }
        let refused = quotas.take_session(address("2001:db8::2"), now).unwrap_err();
        assert_eq!(refused.what, Quota::Sessions, "the same /64");
        assert_eq!(refused.retry_after, Duration::from_secs(20));
        assert!(refused.to_string().contains("try again in 20 s"), "{refused}");
        assert_eq!(quotas.take_session(home, now + Duration::from_secs(20)), Ok(()));
        for _ in 0..2 {
            assert_eq!(quotas.take_room(home, now), Ok(()));
        }
        let refused = quotas.take_room(home, now).unwrap_err();
        assert_eq!(refused.to_string(), "too many new rooms from your address: try again in 30 min");
    }

    #[test]
    fn keys_that_rested_are_forgotten() {
        let keyed = Keyed::new(FloodPolicy { per_second: 1000.0, burst: 1, abuse_after: 1 });
        let start = Instant::now();
        for i in 0..SMALLEST_SWEEP as u32 {
            keyed.try_take(i, start).unwrap();
        }
        assert_eq!(keyed.len(), SMALLEST_SWEEP);
        keyed.try_take(u32::MAX, start + Duration::from_secs(1)).unwrap();
        assert_eq!(keyed.len(), 1, "only the active one is left");
    }
}
