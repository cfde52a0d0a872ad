//! RFC 6455 frames, server side: frames the server sends are encoded once into bytes that any
//! number of connections can write (server frames are not masked, so they are the same for
//! everyone); frames clients send are parsed by [`Header::parse`].

use bytes::{BufMut, Bytes, BytesMut};

pub const CONTINUATION: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;

/// Control frames carry at most this many bytes (RFC 6455, 5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A whole frame, ready to be written to any connection. Cloning shares the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame(Bytes);

impl Frame {
    pub fn text(payload: &str) -> Self {
        Self::encode(TEXT, payload.as_bytes())
    }

    pub fn binary(payload: &[u8]) -> Self {
        Self::encode(BINARY, payload)
    }

    pub fn ping(payload: &[u8]) -> Self {
        Self::encode(PING, payload)
    }

    pub fn pong(payload: &[u8]) -> Self {
        Self::encode(PONG, payload)
    }

    /// A close frame with a status code and a reason, cut to fit a control frame.
    pub fn close(code: u16, reason: &str) -> Self {
        let reason = truncate_reason(reason);
        let mut payload = Vec::with_capacity(2 + reason.len());
        payload.extend_from_slice(&code.to_be_bytes());
        payload.extend_from_slice(reason.as_bytes());
        Self::encode(CLOSE, &payload)
    }

    /// A close frame without a status (the answer to a close that had none).
    pub fn close_empty() -> Self {
        Self::encode(CLOSE, &[])
    }

    /// One unfragmented frame with FIN set.
    pub fn encode(opcode: u8, payload: &[u8]) -> Self {
        let len = payload.len();
        let mut out = BytesMut::with_capacity(10 + len);
        out.put_u8(0x80 | opcode);
        if len < 126 {
            out.put_u8(len as u8);
        } else if let Ok(short) = u16::try_from(len) {
            out.put_u8(126);
            out.put_u16(short);
        } else {
            out.put_u8(127);
            out.put_u64(len as u64);
        }
        out.put_slice(payload);
        Self(out.freeze())
    }

    /// Several frames in one buffer, written one after the other.
    pub fn concat(frames: &[Frame]) -> Self {
        match frames {
            [one] => one.clone(),
            _ => Self(frames.iter().flat_map(|f| f.0.iter().copied()).collect::<Vec<u8>>().into()),
        }
    }

    pub fn bytes(&self) -> &Bytes {
        &self.0
    }

    /// The payload of a frame made alone (not by [`Frame::concat`]).
    pub fn payload(&self) -> &[u8] {
        match self.0.get(1).map(|b| b & 0x7f) {
            Some(126) => self.0.get(4..).unwrap_or_default(),
            Some(127) => self.0.get(10..).unwrap_or_default(),
            Some(_) => self.0.get(2..).unwrap_or_default(),
            None => &[],
        }
    }

    /// The payload as text (empty if it is not).
    pub fn payload_text(&self) -> &str {
        std::str::from_utf8(self.payload()).unwrap_or_default()
    }
}

/// A close frame's reason must fit in 123 bytes (RFC 6455, 5.5.1): cut at a char boundary.
pub fn truncate_reason(reason: &str) -> &str {
    const MAX: usize = MAX_CONTROL_PAYLOAD - 2;
    if reason.len() <= MAX {
        return reason;
    }
    let mut end = MAX;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

/// The head of a client's frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub fin: bool,
    /// Any of RSV1-3: no extension is negotiated, so none may be set.
    pub reserved: bool,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    pub payload_len: u64,
    /// Bytes the head itself takes.
    pub len: usize,
}

impl Header {
    /// Parses a frame head from the start of `buf`; `None` until enough bytes are there.
    pub fn parse(buf: &[u8]) -> Option<Self> {
        let (&b0, &b1) = (buf.first()?, buf.get(1)?);
        let masked = b1 & 0x80 != 0;
        let (payload_len, mut len) = match b1 & 0x7f {
            126 => (u64::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])), 4),
            127 => {
                let bytes: [u8; 8] = buf.get(2..10)?.try_into().ok()?;
                (u64::from_be_bytes(bytes), 10)
            }
            short => (u64::from(short), 2),
        };
        let mask = if masked {
            let key: [u8; 4] = buf.get(len..len + 4)?.try_into().ok()?;
            len += 4;
            Some(key)
        } else {
            None
        };
        Some(Self {
            fin: b0 & 0x80 != 0,
            reserved: b0 & 0x70 != 0,
            opcode: b0 & 0x0f,
            mask,
            payload_len,
            len,
        })
    }
}

/// Unmasks a client's payload in place, eight bytes at a time.
pub fn unmask(payload: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    let mut chunks = payload.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_take_the_shortest_form() {
        let short = Frame::text("hi");
        assert_eq!(short.bytes().as_ref(), b"\x81\x02hi");
        let medium = Frame::binary(&[7; 300]);
        assert_eq!(&medium.bytes()[..4], &[0x82, 126, 1, 44]);
        assert_eq!(medium.payload(), &[7; 300][..]);
        let long = Frame::binary(&vec![1; 70_000]);
        assert_eq!(&long.bytes()[..10], &[0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
        assert_eq!(long.payload().len(), 70_000);
    }

    #[test]
    fn close_frames_carry_code_and_reason() {
        let close = Frame::close(1008, "no");
        assert_eq!(close.bytes().as_ref(), b"\x88\x04\x03\xf0no");
        let long = Frame::close(1000, &"é".repeat(100));
        assert!(long.payload().len() <= MAX_CONTROL_PAYLOAD);
        assert_eq!(Frame::close_empty().bytes().as_ref(), b"\x88\x00");
    }

    #[test]
    fn reasons_are_cut_at_a_char_boundary() {
        assert_eq!(truncate_reason("short"), "short");
        let long = "é".repeat(100);
        assert_eq!(truncate_reason(&long).len(), 122);
    }

    #[test]
    fn heads_parse_once_complete() {
        let frame = [0x81, 0x85, 1, 2, 3, 4, b'h' ^ 1, b'e' ^ 2, b'l' ^ 3, b'l' ^ 4, b'o' ^ 1];
        for cut in 0..6 {
            assert_eq!(Header::parse(&frame[..cut]), None);
        }
        let head = Header::parse(&frame).unwrap();
        assert_eq!(
            head,
            Header {
                fin: true,
                reserved: false,
                opcode: TEXT,
                mask: Some([1, 2, 3, 4]),
                payload_len: 5,
                len: 6
            }
        );
        let mut payload = frame[6..].to_vec();
        unmask(&mut payload, [1, 2, 3, 4]);
        assert_eq!(payload, b"hello");
        assert_eq!(Header::parse(&[0x02, 127, 0, 0, 0, 0, 0, 1, 0, 0]).unwrap().payload_len, 65536);
        assert!(Header::parse(&[0xc1, 0]).unwrap().reserved);
    }

    #[test]
    fn unmasking_long_payloads_matches_byte_by_byte() {
        let key = [9, 8, 7, 6];
        let plain: Vec<u8> = (0..=255).collect();
        let mut masked: Vec<u8> = plain.iter().enumerate().map(|(i, b)| b ^ key[i % 4]).collect();
        unmask(&mut masked, key);
        assert_eq!(masked, plain);
    }
}
