//! A hixie client's bytes to messages (draft-76, section 5.3, as a server reads them): a frame
//! whose type byte has its high bit clear runs to the next `0xFF` and is text when its type is
//! `0x00`; one whose type byte has it set carries a length (base 128, high bit: more digits)
//! and is the closing handshake when it is `0xFF` with length 0. Frames of other types are
//! skipped, as the draft says. No I/O here, so every rule is tested directly.
//!
//! A frame is held to the message limit while it arrives: one that never ends is refused once
//! it has passed the limit, not buffered for ever.

use super::super::reader::Inbound;
use super::super::refusal::Refusal;

#[derive(Debug)]
pub struct Reader {
    buf: Vec<u8>,
    /// Bytes of `buf` already parsed.
    start: usize,
    /// Bytes of the text frame in progress already searched for its end, so that a frame
    /// arriving in many reads is searched once.
    searched: usize,
    max_message: usize,
    closed: bool,
}

/// What one read asks room for.
const READ_CHUNK: usize = 4096;

/// The closing handshake's frame: type `0xFF`, length 0.
const CLOSE: u8 = 0xFF;
const TEXT: u8 = 0x00;
const END: u8 = 0xFF;

impl Reader {
    /// `leftover`: bytes that arrived with the handshake.
    pub fn new(max_message: usize, leftover: &[u8]) -> Self {
        Self { buf: leftover.to_vec(), start: 0, searched: 0, max_message, closed: false }
    }

    /// Whether the client has sent the closing handshake.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// The buffer to read into.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.reserve(READ_CHUNK);
        &mut self.buf
    }

    /// The next complete message among the bytes received so far, if there is one.
    pub fn next(&mut self) -> Result<Option<Inbound>, Refusal> {
        loop {
            let parsed = self.frame();
            if self.start == self.buf.len() {
                // An idle connection keeps no buffer.
                self.buf = Vec::new();
                self.start = 0;
            }
            match parsed? {
                Parsed::Incomplete => return Ok(None),
                Parsed::Skipped => {}
                Parsed::Message(message) => return Ok(Some(message)),
            }
        }
    }

    fn frame(&mut self) -> Result<Parsed, Refusal> {
        if self.closed {
            // Nothing counts after the closing handshake.
            self.start = self.buf.len();
            return Ok(Parsed::Incomplete);
        }
        let available = &self.buf[self.start..];
        let Some(&kind) = available.first() else { return Ok(Parsed::Incomplete) };
        if kind & 0x80 == 0 {
            self.delimited(kind)
        } else {
            self.counted(kind)
        }
    }

    /// A frame that ends at the next `0xFF`.
    fn delimited(&mut self, kind: u8) -> Result<Parsed, Refusal> {
        let body = &self.buf[self.start + 1..];
        let Some(len) = body[self.searched..].iter().position(|&b| b == END).map(|at| self.searched + at)
        else {
            self.searched = body.len();
            return if body.len() > self.max_message { Err(self.too_big()) } else { Ok(Parsed::Incomplete) };
        };
        if len > self.max_message {
            return Err(self.too_big());
        }
        let payload = &body[..len];
        let message = (kind == TEXT)
            .then(|| String::from_utf8(payload.to_vec()))
            .transpose()
            .map_err(|_| Refusal::invalid("text is not valid UTF-8"))?;
        self.start += 1 + len + 1;
        self.searched = 0;
        Ok(message.map_or(Parsed::Skipped, |text| Parsed::Message(Inbound::Text(text))))
    }

    /// A frame with its length before it.
    fn counted(&mut self, kind: u8) -> Result<Parsed, Refusal> {
        let available = &self.buf[self.start + 1..];
        let mut len: usize = 0;
        let mut digits = 0;
        loop {
            let Some(&digit) = available.get(digits) else { return Ok(Parsed::Incomplete) };
            digits += 1;
            len = len
                .checked_mul(128)
                .map(|l| l | usize::from(digit & 0x7f))
                .filter(|&l| l <= self.max_message)
                .ok_or_else(|| self.too_big())?;
            if digit & 0x80 == 0 {
                break;
            }
        }
        if kind == CLOSE && len == 0 {
            self.closed = true;
            self.start += 1 + digits;
            return Ok(Parsed::Message(Inbound::Close(None)));
        }
        if available.len() < digits + len {
            return Ok(Parsed::Incomplete);
        }
        self.start += 1 + digits + len;
        Ok(Parsed::Skipped)
    }

    fn too_big(&self) -> Refusal {
        Refusal::too_big(format!("message too big: at most {} bytes", self.max_message))
    }
}

/// What one frame made.
enum Parsed {
    Incomplete,
    /// A frame of a type that carries nothing for this server.
    Skipped,
    Message(Inbound),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything read from `bytes` fed one byte at a time (every frame is seen cut at every
    /// place), then the fault if one ended the reading.
    fn read_all(bytes: &[u8], max: usize) -> Vec<Result<Inbound, Refusal>> {
        let mut reader = Reader::new(max, &[]);
        let mut out = Vec::new();
        for byte in bytes {
            reader.buffer().push(*byte);
            loop {
                match reader.next() {
                    Ok(Some(message)) => out.push(Ok(message)),
                    Ok(None) => break,
                    Err(fault) => {
                        out.push(Err(fault));
                        return out;
                    }
                }
            }
        }
        out
    }

    fn text(s: &str) -> Result<Inbound, Refusal> {
        Ok(Inbound::Text(s.to_owned()))
    }

    #[test]
    fn text_frames_and_the_closing_handshake() {
        let bytes = b"\x00hello\xff\x00\xff\x00caf\xc3\xa9\xff\xff\x00";
        assert_eq!(
            read_all(bytes, 100),
            vec![text("hello"), text(""), text("café"), Ok(Inbound::Close(None))]
        );
        let mut whole = Reader::new(100, bytes);
        assert_eq!(whole.next(), Ok(Some(Inbound::Text("hello".into()))));
        assert!(!whole.closed());
    }

    #[test]
    fn nothing_counts_after_the_close() {
        let mut reader = Reader::new(100, b"\xff\x00\x00after\xff");
        assert_eq!(reader.next(), Ok(Some(Inbound::Close(None))));
        assert!(reader.closed());
        assert_eq!(reader.next(), Ok(None));
    }

    #[test]
    fn frames_of_other_types_are_skipped() {
        // A delimited frame of type 0x01, a counted one of type 0x80 with 130 bytes (two length
        // digits), and a counted 0xFF that is not empty: all skipped, the text after them read.
        let mut bytes = b"\x01skip\xff".to_vec();
        bytes.extend_from_slice(&[0x80, 0x81, 0x02]);
        bytes.extend_from_slice(&[7; 130]);
        bytes.extend_from_slice(b"\xff\x01z\x00kept\xff");
        assert_eq!(read_all(&bytes, 200), vec![text("kept")]);
    }

    #[test]
    fn a_frame_that_never_ends_is_refused_at_the_limit() {
        let mut bytes = b"\x00".to_vec();
        bytes.extend_from_slice(&[b'a'; 11]);
        let read = read_all(&bytes, 10);
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].as_ref().unwrap_err().code, 1009);
        // One at the limit is fine; one past it is refused even when its end is there.
        assert_eq!(read_all(b"\x00aaaaaaaaaa\xff", 10), vec![text("aaaaaaaaaa")]);
        let mut reader = Reader::new(10, b"\x00aaaaaaaaaaa\xff");
        assert_eq!(reader.next().unwrap_err().code, 1009);
        // A counted frame longer than the limit, or with a length past any size, likewise.
        assert_eq!(Reader::new(10, &[0x80, 0x0b]).next().unwrap_err().code, 1009);
        // Nine digits make 63 bits: a tenth can only overflow.
        let endless = [0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(Reader::new(usize::MAX, &endless).next(), Ok(None), "waits for more digits");
        let mut huge = endless.to_vec();
        huge.push(0x7f);
        assert_eq!(Reader::new(usize::MAX, &huge).next().unwrap_err().code, 1009, "no overflow");
    }

    #[test]
    fn a_long_frame_in_many_reads_is_searched_once() {
        let mut reader = Reader::new(100_000, b"\x00");
        for _ in 0..1000 {
            reader.buffer().extend_from_slice(&[b'x'; 50]);
            assert_eq!(reader.next(), Ok(None));
            assert_eq!(reader.searched, reader.buf.len() - 1);
        }
        reader.buffer().push(0xff);
        assert_eq!(reader.next(), Ok(Some(Inbound::Text("x".repeat(50_000)))));
    }

    #[test]
    fn bad_utf8_is_refused() {
        assert_eq!(read_all(b"\x00\xc3(\xff", 10)[0].as_ref().unwrap_err().code, 1007);
        // Not in a frame that is skipped.
        assert_eq!(read_all(b"\x05\xc3(\xff\x00ok\xff", 10), vec![text("ok")]);
    }

    #[test]
    fn an_idle_reader_holds_no_buffer() {
        let mut reader = Reader::new(100, b"\x00hi\xff");
        assert_eq!(reader.next(), Ok(Some(Inbound::Text("hi".into()))));
        assert_eq!(reader.next(), Ok(None));
        assert_eq!(reader.buf.capacity(), 0);
    }
}
