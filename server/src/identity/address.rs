//! A client's address, as the limits shared by everything from one place count it.

use std::net::IpAddr;

/// One client as far as limits go: an IPv4 address, or the first 64 bits of an IPv6 one (the
/// block one subscriber gets: a single host can use any of its 2^64 addresses, so counting them
/// one by one would limit nothing).
///
/// One word, since every connection keeps one: an IPv6 block is its 64 bits, an IPv4 address
/// sits under the prefix `ffff:ffff::/32`, which is multicast and never the source of a
/// connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressKey(u64);

impl From<IpAddr> for AddressKey {
    fn from(ip: IpAddr) -> Self {
        const V4: u64 = 0xffff_ffff << 32;
        let v4 = |v4: std::net::Ipv4Addr| Self(V4 | u64::from(u32::from(v4)));
        match ip {
            IpAddr::V4(addr) => v4(addr),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(addr) => v4(addr),
                None => Self((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

/// As the store keeps it (in a ban), and other server processes name it: 16 hex digits.
impl std::fmt::Display for AddressKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl std::str::FromStr for AddressKey {
    type Err = std::num::ParseIntError;

    fn from_str(hex: &str) -> Result<Self, Self::Err> {
        u64::from_str_radix(hex, 16).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> AddressKey {
        AddressKey::from(s.parse::<IpAddr>().expect("an address"))
    }

    #[test]
    fn an_ipv6_block_is_one_client_and_ipv4_is_one_address() {
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"), "one /64");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("192.0.2.1"), key("::ffff:192.0.2.1"), "mapped IPv4 is IPv4");
        assert_ne!(key("192.0.2.1"), key("192.0.2.2"));
        assert_ne!(key("0.0.0.0"), key("::"), "IPv4 lies outside every block a client can have");
        let written = key("192.0.2.1").to_string();
        assert_eq!(written.parse::<AddressKey>(), Ok(key("192.0.2.1")));
    }
}
