//! The draft-76 handshake's challenge: each of `Sec-WebSocket-Key1` and `Sec-WebSocket-Key2`
//! hides a number (its digits, divided by its count of spaces), and the response is the MD5
//! digest of the two numbers (32 bits each, big-endian) followed by the 8 bytes the client sent
//! after its head.
//!
//! No I/O here: the numbers are checked as the draft asks, and a key that hides none (no space,
//! or digits that the spaces do not divide, or a number past 32 bits) is refused.

use md5::{Digest, Md5};

/// Why a draft-76 key holds no number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a draft-76 key needs at least one space")]
    NoSpace,
    #[error("a draft-76 key's digits must make a number its spaces divide")]
    NotDivisible,
    #[error("a draft-76 key's number must fit in 32 bits")]
    TooBig,
}

/// The number a key hides.
pub fn key_number(key: &str) -> Result<u32, KeyError> {
    let spaces = key.bytes().filter(|&b| b == b' ').count() as u64;
    if spaces == 0 {
        return Err(KeyError::NoSpace);
    }
    let mut digits: u64 = 0;
    for digit in key.bytes().filter(u8::is_ascii_digit) {
        digits = digits
            .checked_mul(10)
            .and_then(|d| d.checked_add(u64::from(digit - b'0')))
            .filter(|&d| d <= u64::from(u32::MAX) * spaces)
            .ok_or(KeyError::TooBig)?;
    }
    if digits % spaces != 0 {
        return Err(KeyError::NotDivisible);
    }
    u32::try_from(digits / spaces).map_err(|_| KeyError::TooBig)
}

/// The 16 bytes the server sends after its response head, from the numbers the two keys hide
/// and the 8 bytes after the client's head.
pub fn challenge_response(number1: u32, number2: u32, key3: &[u8; 8]) -> [u8; 16] {
    let mut md5 = Md5::new();
    md5.update(number1.to_be_bytes());
    md5.update(number2.to_be_bytes());
    md5.update(key3);
    md5.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of draft-hixie-thewebsocketprotocol-76, section 1.3.
    #[test]
    fn the_drafts_worked_example() {
        let key1 = "4 @1  46546xW%0l 1 5";
        let key2 = "12998 5 Y3 1  .P00";
        assert_eq!(key_number(key1), Ok(829_309_203));
        assert_eq!(key_number(key2), Ok(259_970_620));
        assert_eq!(challenge_response(829_309_203, 259_970_620, b"^n:ds[4U"), *b"8jKS'y:G*Co,Wxa-");
    }

    /// The keys of seed 003's example request, whose server divides as these do.
    #[test]
    fn the_seeds_example_keys() {
        assert_eq!(key_number("d3L703 2 {63 k L1( 90"), Ok(3_703_263_190 / 5));
        assert_eq!(key_number("14 +40Z7R<12om I8 0["), Ok(144_071_280 / 3));
    }

    #[test]
    fn keys_that_hide_no_number_are_refused() {
        assert_eq!(key_number("12345"), Err(KeyError::NoSpace));
        assert_eq!(key_number("1 2 3"), Err(KeyError::NotDivisible), "123 over 2 spaces");
        assert_eq!(key_number("4294967296 "), Err(KeyError::TooBig));
        assert_eq!(key_number(&format!("{} ", "9".repeat(40))), Err(KeyError::TooBig), "no overflow");
        assert_eq!(key_number("4294967295 "), Ok(u32::MAX));
        assert_eq!(key_number(" "), Ok(0), "no digits: zero");
    }
}
