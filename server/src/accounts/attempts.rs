//! How often an address may try a password or register a nickname, and how often a nickname's
//! password may be tried from anywhere: the per-address limit stops one client guessing many
//! accounts' passwords, the per-nickname one stops many clients guessing one account's.

use crate::config::Limits;
use crate::identity::AddressKey;
use crate::session::flood::FloodPolicy;
use crate::session::quota::Keyed;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug)]
pub struct Attempts {
    logins_by_address: Keyed<AddressKey>,
    /// By a hash of the nickname's key, keyed with this process's random state: a collision
    /// shares a budget, which costs someone a wait, nothing more.
    logins_by_name: Keyed<u64>,
    names: RandomState,
    registrations: Keyed<AddressKey>,
}

fn per(count: u32, period: Duration) -> FloodPolicy {
    FloodPolicy {
        per_second: f64::from(count.max(1)) / period.as_secs_f64(),
        burst: count.max(1),
        abuse_after: u32::MAX,
    }
}

impl Attempts {
    pub fn new(limits: &Limits) -> Self {
        let logins = per(limits.logins_per_minute, Duration::from_secs(60));
        Self {
            logins_by_address: Keyed::new(logins),
            logins_by_name: Keyed::new(logins),
            names: RandomState::new(),
            registrations: Keyed::new(per(limits.registrations_per_hour, Duration::from_secs(3600))),
        }
    }

    /// A password tried for the nickname whose key is `key`, from `address`.
    pub fn log_in(&self, address: AddressKey, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        self.logins_by_address.try_take(address, now)?;
        self.logins_by_name.try_take(self.names.hash_one(key), now)
    }

    /// A nickname registered from `address`.
    pub fn register(&self, address: AddressKey) -> Result<(), Duration> {
        self.registrations.try_take(address, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn address(s: &str) -> AddressKey {
        AddressKey::from(s.parse::<IpAddr>().unwrap())
    }

    #[test]
    fn one_nickname_gets_its_guesses_whichever_addresses_they_come_from() {
        let attempts = Attempts::new(&Limits { logins_per_minute: 3, ..Limits::default() });
        for n in 0..3 {
            assert!(attempts.log_in(address(&format!("10.0.0.{n}")), "ann").is_ok());
        }
        assert!(attempts.log_in(address("10.0.0.9"), "ann").is_err(), "a fourth address, the same nickname");
        assert!(attempts.log_in(address("10.0.0.9"), "bob").is_ok(), "another nickname");
    }

    #[test]
    fn one_address_gets_its_guesses_whichever_nicknames_it_tries() {
        let attempts =
            Attempts::new(&Limits { logins_per_minute: 2, registrations_per_hour: 1, ..Limits::default() });
        assert!(attempts.log_in(address("10.0.0.1"), "a").is_ok());
        assert!(attempts.log_in(address("10.0.0.1"), "b").is_ok());
        let wait = attempts.log_in(address("10.0.0.1"), "c").unwrap_err();
        assert!(wait > Duration::from_secs(20) && wait <= Duration::from_secs(30), "{wait:?}");
        assert!(attempts.register(address("10.0.0.1")).is_ok());
        assert!(attempts.register(address("10.0.0.1")).is_err());
        assert!(attempts.register(address("10.0.0.2")).is_ok());
    }
}
