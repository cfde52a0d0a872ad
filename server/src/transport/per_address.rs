//! How many WebSocket connections each client address holds, with a cap: one client cannot
//! take every socket the server has.
//!
//! IPv6 addresses count by /64, the block one subscriber gets: a single host can use any of
//! its 2^64 addresses, so counting them one by one would limit nothing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// What a cap applies to: an IPv4 address, or the first 64 bits of an IPv6 one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    V4(u32),
    V6(u64),
}

impl From<IpAddr> for Key {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Key::V4(v4.into()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Key::V4(v4.into()),
                None => Key::V6((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct AddressSlots {
    held: Arc<Mutex<HashMap<Key, usize>>>,
}

/// One connection's place; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    slots: AddressSlots,
    key: Key,
}

impl AddressSlots {
    /// A place for one more connection from `ip`, unless it holds `max` already.
    pub fn take(&self, ip: IpAddr, max: usize) -> Option<Slot> {
        let key = Key::from(ip);
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(key).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot { slots: self.clone(), key })
    }

    #[cfg(test)]
    fn addresses(&self) -> usize {
        self.held.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.key) {
            *count -= 1;
            // Forget addresses with nothing open, so the map does not grow with every visitor.
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_address_gets_at_most_max() {
        let slots = AddressSlots::default();
        let a: Vec<_> = (0..3).map(|_| slots.take(ip("10.0.0.1"), 3).unwrap()).collect();
        assert!(slots.take(ip("10.0.0.1"), 3).is_none());
        // Another address is not affected.
        let _b = slots.take(ip("10.0.0.2"), 3).unwrap();
        drop(a);
        assert!(slots.take(ip("10.0.0.1"), 3).is_some());
    }

    #[test]
    fn ipv6_counts_by_slash_64_and_mapped_v4_as_v4() {
        let slots = AddressSlots::default();
        let _one = slots.take(ip("2001:db8:1:2::1"), 2).unwrap();
        let _two = slots.take(ip("2001:db8:1:2:ffff::9"), 2).unwrap();
        assert!(slots.take(ip("2001:db8:1:2::7"), 2).is_none());
        assert!(slots.take(ip("2001:db8:1:3::1"), 2).is_some());
        let _v4 = slots.take(ip("192.0.2.1"), 1).unwrap();
        assert!(slots.take(ip("::ffff:192.0.2.1"), 1).is_none());
    }

    #[test]
    fn nothing_is_kept_for_addresses_that_left() {
        let slots = AddressSlots::default();
        for i in 0..100u8 {
            drop(slots.take(IpAddr::from([10, 0, 0, i]), 1));
        }
        assert_eq!(slots.addresses(), 0);
    }
}
