//! The client side of RFC 6455, only as much as a load generator needs: the opening handshake,
//! masked frames out, and the server's unmasked frames parsed in place from a read buffer, so that
//! one read of many queued frames costs one system call and no copies.

use std::fmt::Write as _;

pub const OP_TEXT: u8 = 0x1;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// The opening handshake for `path` (with its query) on `host`.
pub fn handshake_request(host: &str, path: &str) -> String {
    let key: [u8; 16] = std::array::from_fn(|_| fastrand::u8(..));
    let mut request = String::with_capacity(256);
    // Writing to a String cannot fail.
    let _ = write!(
        request,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n\r\n",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key)
    );
    request
}

/// Where the response head ends in `buf`, if it has arrived: the index after `\r\n\r\n`.
pub fn response_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Whether a response head accepts the upgrade.
pub fn is_switching_protocols(head: &[u8]) -> bool {
    head.starts_with(b"HTTP/1.1 101")
}

/// Appends one masked frame (FIN set) carrying `payload` to `out`.
pub fn encode(opcode: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if let Ok(len16) = u16::try_from(len) {
        out.push(0x80 | 126);
        out.extend_from_slice(&len16.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    let mask: [u8; 4] = fastrand::u32(..).to_ne_bytes();
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
}

/// One frame from the server.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub opcode: u8,
    pub payload: &'a [u8],
}

#[derive(Debug, PartialEq, Eq)]
pub enum WireError {
    /// Chat servers send each line in one frame; a load generator that reassembled fragments
    /// would only hide a difference between servers.
    Fragmented,
    /// A server must not mask its frames (RFC 6455, 5.1).
    Masked,
    TooLarge(u64),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Fragmented => write!(f, "the server fragmented a message"),
            Self::Masked => write!(f, "the server masked a frame"),
            Self::TooLarge(len) => write!(f, "a frame of {len} bytes"),
        }
    }
}

/// The largest frame accepted: far above any chat line, far below anything that could exhaust
/// the generator's memory.
pub const MAX_FRAME: u64 = 1 << 20;

/// The first frame in `buf` and the bytes it takes, or `None` while it is incomplete.
pub fn parse(buf: &[u8]) -> Result<Option<(Frame<'_>, usize)>, WireError> {
    let [b0, b1, ..] = *buf else { return Ok(None) };
    if b0 & 0x80 == 0 || b0 & 0x0F == 0 {
        return Err(WireError::Fragmented);
    }
    if b1 & 0x80 != 0 {
        return Err(WireError::Masked);
    }
    let (len, header) = match b1 & 0x7F {
        126 => match buf.get(2..4) {
            Some(bytes) => (u64::from(u16::from_be_bytes([bytes[0], bytes[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(bytes) => (u64::from_be_bytes(bytes), 10),
            None => return Ok(None),
        },
        len => (u64::from(len), 2),
    };
    if len > MAX_FRAME {
        return Err(WireError::TooLarge(len));
    }
    let end = header + len as usize;
    match buf.get(header..end) {
        Some(payload) => Ok(Some((Frame { opcode: b0 & 0x0F, payload }, end))),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unmask(frame: &[u8], header: usize) -> Vec<u8> {
        let mask = &frame[header - 4..header];
        frame[header..].iter().enumerate().map(|(i, b)| b ^ mask[i % 4]).collect()
    }

    #[test]
    fn frames_out_are_masked_with_the_right_length_encoding() {
        for (len, header) in [(5, 6), (125, 6), (126, 8), (70_000, 14)] {
            let payload = vec![b'x'; len];
            let mut out = Vec::new();
            encode(OP_TEXT, &payload, &mut out);
            assert_eq!(out[0], 0x81);
            assert_eq!(out[1] & 0x80, 0x80, "masked");
            assert_eq!(out.len(), header + len);
            assert_eq!(unmask(&out, header), payload);
        }
    }

    #[test]
    fn frames_in_are_parsed_in_place_and_incomplete_ones_wait() {
        let mut stream = vec![0x81, 3, b'a', b'b', b'c', 0x89, 0, 0x81, 126, 0x01, 0x00];
        stream.extend(std::iter::repeat_n(b'z', 256));
        let (first, used) = parse(&stream).unwrap().unwrap();
        assert_eq!((first.opcode, first.payload, used), (OP_TEXT, &b"abc"[..], 5));
        let (ping, used2) = parse(&stream[used..]).unwrap().unwrap();
        assert_eq!((ping.opcode, ping.payload.len()), (OP_PING, 0));
        let rest = &stream[used + used2..];
        assert_eq!(parse(rest).unwrap().unwrap().0.payload.len(), 256);
        for cut in 0..rest.len() {
            assert_eq!(parse(&rest[..cut]).unwrap(), None, "cut at {cut}");
        }
    }

    #[test]
    fn what_a_server_must_not_send_is_an_error() {
        assert_eq!(parse(&[0x01, 1, b'a']), Err(WireError::Fragmented));
        assert_eq!(parse(&[0x81, 0x81, 0, 0, 0, 0, b'a']), Err(WireError::Masked));
        let huge = [0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0];
        assert_eq!(parse(&huge), Err(WireError::TooLarge(1 << 32)));
    }

    #[test]
    fn the_handshake_asks_for_an_upgrade() {
        let request = handshake_request("127.0.0.1:3000", "/chat/a?name=b");
        assert!(request.starts_with("GET /chat/a?name=b HTTP/1.1\r\n"));
        assert!(request.ends_with("\r\n\r\n"));
        assert_eq!(response_head_end(b"HTTP/1.1 101 OK\r\n\r\nrest"), Some(19));
        assert!(is_switching_protocols(b"HTTP/1.1 101 Switching Protocols\r\n"));
    }
}
