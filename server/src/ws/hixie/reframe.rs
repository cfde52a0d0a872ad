//! What the server sends, rewritten for a hixie connection: the rooms encode each event once as
//! RFC 6455 frames for every connection, and a hixie connection's outbox rewrites them as it
//! queues them. Only a hixie connection pays for it (a copy per frame it is sent).
//!
//! A text frame becomes `0x00` + text + `0xFF` (UTF-8 never holds the byte `0xFF`, so the text
//! cannot end the frame early); a close frame becomes the closing handshake, `0xFF 0x00`, whose
//! status and reason the draft has no room for. Pings, pongs and binary frames have no hixie
//! form and are dropped: the server sends none of them to the plain dialect but pings, and a
//! hixie connection is kept alive by TCP instead (see `Socket::keep_alive_by_tcp`).

use super::super::frame::{self, Header};
use bytes::{BufMut, Bytes, BytesMut};

/// `frames` (one or more whole, unmasked server frames in a row) as hixie frames; `None` when
/// nothing of them has a hixie form.
pub fn reframe(frames: &[u8]) -> Option<Bytes> {
    let mut out = BytesMut::new();
    let mut rest = frames;
    while let Some(head) = Header::parse(rest) {
        let len = usize::try_from(head.payload_len).ok()?;
        let payload = rest.get(head.len..head.len.checked_add(len)?)?;
        match head.opcode {
            frame::TEXT => {
                out.reserve(len + 2);
                out.put_u8(0x00);
                out.put_slice(payload);
                out.put_u8(0xFF);
            }
            frame::CLOSE => out.put_slice(&[0xFF, 0x00]),
            _ => {}
        }
        rest = &rest[head.len + len..];
    }
    (!out.is_empty()).then(|| out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::Frame;

    #[test]
    fn text_and_close_frames_and_nothing_else() {
        let text = Frame::text("Welcome, ann !");
        assert_eq!(reframe(text.bytes()).as_deref(), Some(&b"\x00Welcome, ann !\xff"[..]));
        let close = Frame::close(1008, "flooding");
        assert_eq!(reframe(close.bytes()).as_deref(), Some(&b"\xff\x00"[..]));
        assert_eq!(reframe(Frame::ping(&[]).bytes()), None);
        assert_eq!(reframe(Frame::pong(b"x").bytes()), None);
        assert_eq!(reframe(Frame::binary(b"x").bytes()), None);
    }

    #[test]
    fn several_frames_in_a_row_and_long_ones() {
        let long = "é".repeat(40_000);
        let frames = Frame::concat(&[Frame::text("ann:one"), Frame::ping(&[]), Frame::text(&long)]);
        let mut expected = b"\x00ann:one\xff\x00".to_vec();
        expected.extend_from_slice(long.as_bytes());
        expected.push(0xff);
        assert_eq!(reframe(frames.bytes()).as_deref(), Some(&expected[..]));
    }
}
