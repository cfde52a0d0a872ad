//! How many connections the server holds, with caps: one client address cannot take every socket
//! the server has, and all of them together stay under the files the process may open (past
//! that, accepting fails for everyone, and so does opening the database).
//!
//! Two kinds are counted per address apart: connections still speaking HTTP (requests, form
//! posts, handshakes) and WebSocket connections, so that a client holding its share of sockets
//! can still load a page. IPv6 addresses count by /64, the block one subscriber gets: a single
//! host can use any of its 2^64 addresses, so counting them one by one would limit nothing.

use crate::config::Limits;
use crate::identity::AddressKey;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Which count a connection is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Http,
    WebSocket,
}

/// The caps: per address (for each kind) and for the whole server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub per_address: usize,
    pub total: usize,
}

impl From<&Limits> for Caps {
    fn from(limits: &Limits) -> Self {
        Self { per_address: limits.max_connections_per_address, total: limits.max_connections }
    }
}

/// Why a connection was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Full {
    #[error("too many connections from your address (at most {0})")]
    Address(usize),
    #[error("the server is full, try again later")]
    Server,
}

#[derive(Debug, Clone, Default)]
pub struct Connections {
    counts: Arc<Mutex<Counts>>,
}

#[derive(Debug, Default)]
struct Counts {
    http: HashMap<AddressKey, usize>,
    websocket: HashMap<AddressKey, usize>,
    total: usize,
}

impl Counts {
    fn of(&mut self, kind: Kind) -> &mut HashMap<AddressKey, usize> {
        match kind {
            Kind::Http => &mut self.http,
            Kind::WebSocket => &mut self.websocket,
        }
    }
}

/// One connection's place; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    connections: Connections,
    kind: Kind,
    key: AddressKey,
}

impl Connections {
    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A place for one more connection of `kind` from `ip`, unless its address or the server
    /// is at its cap.
    pub fn take(&self, kind: Kind, ip: IpAddr, caps: Caps) -> Result<Slot, Full> {
        let key = AddressKey::from(ip);
        let mut counts = self.counts();
        if counts.total >= caps.total {
            return Err(Full::Server);
        }
        let count = counts.of(kind).entry(key).or_default();
        if *count >= caps.per_address {
            // Nothing is kept for an address that holds nothing.
            if *count == 0 {
                counts.of(kind).remove(&key);
            }
            return Err(Full::Address(caps.per_address));
        }
        *count += 1;
        counts.total += 1;
        Ok(Slot { connections: self.clone(), kind, key })
    }

    /// Connections held now, of both kinds.
    pub fn total(&self) -> usize {
        self.counts().total
    }

    #[cfg(test)]
    fn addresses(&self) -> usize {
        let counts = self.counts();
        counts.http.len() + counts.websocket.len()
    }
}

impl Slot {
    /// This connection, counted now as a WebSocket (it was one of the HTTP connections, and it is
    /// one file either way): unless its address holds its share of WebSockets already, and then
    /// its place is given back.
    pub fn into_websocket(mut self, caps: Caps) -> Result<Slot, Full> {
        if self.kind == Kind::WebSocket {
            return Ok(self);
        }
        let connections = self.connections.clone();
        let mut counts = connections.counts();
        let websockets = counts.websocket.get(&self.key).copied().unwrap_or(0);
        if websockets >= caps.per_address {
            drop(counts);
            return Err(Full::Address(caps.per_address));
        }
        *counts.websocket.entry(self.key).or_default() += 1;
        if let Some(http) = counts.http.get_mut(&self.key) {
            *http -= 1;
            if *http == 0 {
                counts.http.remove(&self.key);
            }
        }
        self.kind = Kind::WebSocket;
        Ok(self)
    }
}

/// A connection's place while it speaks HTTP, where the request that turns it into a WebSocket
/// can take it over.
#[derive(Debug, Clone)]
pub struct HttpSlot(Arc<Mutex<Option<Slot>>>);

impl HttpSlot {
    pub fn new(slot: Slot) -> Self {
        Self(Arc::new(Mutex::new(Some(slot))))
    }

    /// The place, once: the connection is a WebSocket from now on.
    pub fn take(&self) -> Option<Slot> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.connections.counts();
        counts.total = counts.total.saturating_sub(1);
        let held = counts.of(self.kind);
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

    const ROOMY: usize = 1000;

    fn per_address(n: usize) -> Caps {
        Caps { per_address: n, total: ROOMY }
    }

    #[test]
    fn an_address_gets_at_most_its_share_of_each_kind() {
        let slots = Connections::default();
        let a: Vec<_> =
            (0..3).map(|_| slots.take(Kind::WebSocket, ip("10.0.0.1"), per_address(3)).unwrap()).collect();
        assert_eq!(
            slots.take(Kind::WebSocket, ip("10.0.0.1"), per_address(3)).unwrap_err(),
            Full::Address(3)
        );
        // Another address is not affected, nor the other kind.
        let _b = slots.take(Kind::WebSocket, ip("10.0.0.2"), per_address(3)).unwrap();
        let _page = slots.take(Kind::Http, ip("10.0.0.1"), per_address(3)).unwrap();
        drop(a);
        assert!(slots.take(Kind::WebSocket, ip("10.0.0.1"), per_address(3)).is_ok());
    }

    #[test]
    fn the_server_holds_at_most_its_total() {
        let slots = Connections::default();
        let caps = Caps { per_address: 10, total: 3 };
        let held: Vec<_> = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
            .iter()
            .enumerate()
            .map(|(i, a)| slots.take([Kind::Http, Kind::WebSocket][i % 2], ip(a), caps).unwrap())
            .collect();
        assert_eq!(slots.total(), 3);
        assert_eq!(slots.take(Kind::Http, ip("10.0.0.4"), caps).unwrap_err(), Full::Server);
        drop(held);
        assert_eq!(slots.total(), 0);
        assert!(slots.take(Kind::Http, ip("10.0.0.4"), caps).is_ok());
    }

    #[test]
    fn a_connection_that_becomes_a_websocket_keeps_its_place_in_all() {
        let slots = Connections::default();
        let caps = Caps { per_address: 1, total: 2 };
        let http = slots.take(Kind::Http, ip("10.0.0.1"), caps).unwrap();
        let _other = slots.take(Kind::Http, ip("10.0.0.2"), caps).unwrap();
        let ws = http.into_websocket(caps).unwrap();
        assert_eq!(slots.total(), 2, "still one file");
        // Its address may open a page again, though the server is full.
        assert_eq!(slots.take(Kind::Http, ip("10.0.0.1"), caps).unwrap_err(), Full::Server);
        drop(ws);
        let page = slots.take(Kind::Http, ip("10.0.0.1"), caps).unwrap();
        // A second WebSocket from that address is past its share: refused, and its place freed.
        let _first = slots.take(Kind::Http, ip("10.0.0.3"), Caps { total: 9, ..caps }).unwrap();
        drop(_first);
        let held = slots.take(Kind::WebSocket, ip("10.0.0.1"), Caps { total: 9, ..caps }).unwrap();
        assert_eq!(page.into_websocket(caps).unwrap_err(), Full::Address(1));
        drop(held);
        assert_eq!(slots.total(), 1);
        assert_eq!(slots.addresses(), 1);
    }

    #[test]
    fn ipv6_counts_by_slash_64_and_mapped_v4_as_v4() {
        let slots = Connections::default();
        let ws = |a: &str, n| slots.take(Kind::WebSocket, ip(a), per_address(n));
        let _one = ws("2001:db8:1:2::1", 2).unwrap();
        let _two = ws("2001:db8:1:2:ffff::9", 2).unwrap();
        assert!(ws("2001:db8:1:2::7", 2).is_err());
        assert!(ws("2001:db8:1:3::1", 2).is_ok());
        let _v4 = ws("192.0.2.1", 1).unwrap();
        assert!(ws("::ffff:192.0.2.1", 1).is_err());
    }

    #[test]
    fn nothing_is_kept_for_addresses_that_left() {
        let slots = Connections::default();
        for i in 0..100u8 {
            drop(slots.take(Kind::Http, IpAddr::from([10, 0, 0, i]), per_address(1)));
            assert!(slots.take(Kind::Http, IpAddr::from([10, 0, 1, i]), per_address(0)).is_err());
        }
        assert_eq!(slots.addresses(), 0);
    }
}
