//! Client frames to messages: reassembles fragments, answers nothing itself (the socket does),
//! and refuses what RFC 6455 forbids with the close code a client is owed. No I/O here, so every
//! rule is tested directly.
//!
//! Bytes wait in one buffer that exists only while some are pending: an idle connection holds
//! no read buffer at all.

use super::frame::{self, Header, MAX_CONTROL_PAYLOAD};
use super::refusal::Refusal;
use app::protocol::close;

/// A complete message from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong,
    /// The client is closing, with its status code and reason if it gave one.
    Close(Option<(u16, String)>),
}

/// A broken rule of RFC 6455: the connection is closed with the code a client is owed.
fn not_utf8(what: &str) -> Refusal {
    Refusal::invalid(format!("{what} is not valid UTF-8"))
}

/// A fragmented message in progress.
#[derive(Debug)]
struct Partial {
    opcode: u8,
    data: Vec<u8>,
    /// Text: bytes known to be valid UTF-8 so far (invalid text is refused at its first bad
    /// byte, not when the message ends).
    checked: usize,
}

#[derive(Debug)]
pub struct Reader {
    buf: Vec<u8>,
    /// Bytes of `buf` already parsed.
    start: usize,
    /// Boxed: most connections never fragment a message, and an idle one keeps no room for it.
    partial: Option<Box<Partial>>,
    max_message: usize,
    /// The client sent a close frame (valid or not): it will send nothing more.
    closed: bool,
}

/// What one read asks room for: a chat frame fits many times over.
const READ_CHUNK: usize = 4096;

impl Reader {
    /// `leftover`: bytes that arrived with the handshake.
    pub fn new(max_message: usize, leftover: &[u8]) -> Self {
        Self { buf: leftover.to_vec(), start: 0, partial: None, max_message, closed: false }
    }

    /// Whether the client has sent its close frame.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// The buffer to read into, with room for at least the frame being received.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let wanted = match Header::parse(&self.buf) {
            // The rest of a large frame in one go; its size was checked against the limit.
            Some(head) => {
                (head.len + usize::try_from(head.payload_len).unwrap_or(0)).saturating_sub(self.buf.len())
            }
            None => 0,
        };
        self.buf.reserve(wanted.max(READ_CHUNK));
        &mut self.buf
    }

    /// The next complete message among the bytes received so far, if there is one.
    pub fn next(&mut self) -> Result<Option<Inbound>, Refusal> {
        loop {
            let Some(frame) = self.frame()? else {
                self.release_if_drained();
                return Ok(None);
            };
            if let Some(message) = frame {
                self.release_if_drained();
                return Ok(Some(message));
            }
        }
    }

    /// Gives an emptied buffer's memory back: most connections read a frame now and then.
    fn release_if_drained(&mut self) {
        if self.start == self.buf.len() {
            self.buf = Vec::new();
            self.start = 0;
        }
    }

    /// Parses one frame: `None` if it is not all there yet, `Some(None)` for a fragment that
    /// completed no message.
    fn frame(&mut self) -> Result<Option<Option<Inbound>>, Refusal> {
        let available = &self.buf[self.start..];
        let Some(head) = Header::parse(available) else { return Ok(None) };
        let payload_len = self.check(&head)?;
        if available.len() < head.len + payload_len {
            return Ok(None);
        }
        let begin = self.start + head.len;
        let payload = &mut self.buf[begin..begin + payload_len];
        if let Some(key) = head.mask {
            frame::unmask(payload, key);
        }
        self.start = begin + payload_len;
        let payload = &self.buf[begin..begin + payload_len];
        match head.opcode {
            frame::PING => Ok(Some(Some(Inbound::Ping(payload.to_vec())))),
            frame::PONG => Ok(Some(Some(Inbound::Pong))),
            frame::CLOSE => {
                self.closed = true;
                close(payload).map(|close| Some(Some(Inbound::Close(close))))
            }
            frame::TEXT | frame::BINARY if head.fin => {
                let message = if head.opcode == frame::TEXT {
                    let text = String::from_utf8(payload.to_vec()).map_err(|_| not_utf8("text"))?;
                    Inbound::Text(text)
                } else {
                    Inbound::Binary(payload.to_vec())
                };
                Ok(Some(Some(message)))
            }
            opcode @ (frame::TEXT | frame::BINARY) => {
                let mut partial = Box::new(Partial { opcode, data: payload.to_vec(), checked: 0 });
                check_utf8(&mut partial, false)?;
                self.partial = Some(partial);
                Ok(Some(None))
            }
            _ => {
                // A continuation: `check` made sure a message is in progress.
                let Some(mut partial) = self.partial.take() else {
                    return Err(Refusal::protocol("a continuation frame with no message to continue"));
                };
                partial.data.extend_from_slice(payload);
                check_utf8(&mut partial, head.fin)?;
                if !head.fin {
                    self.partial = Some(partial);
                    return Ok(Some(None));
                }
                let message = if partial.opcode == frame::TEXT {
                    Inbound::Text(String::from_utf8(partial.data).map_err(|_| not_utf8("text"))?)
                } else {
                    Inbound::Binary(partial.data)
                };
                Ok(Some(Some(message)))
            }
        }
    }

    /// The rules a frame head must follow; returns its payload length.
    fn check(&self, head: &Header) -> Result<usize, Refusal> {
        if head.reserved {
            return Err(Refusal::protocol("reserved bits set with no extension negotiated"));
        }
        if head.mask.is_none() {
            return Err(Refusal::protocol("a client's frames must be masked"));
        }
        let too_big = || Refusal {
            code: close::SIZE,
            reason: format!("message too big: at most {} bytes", self.max_message),
        };
        let len = usize::try_from(head.payload_len).map_err(|_| too_big())?;
        match head.opcode {
            frame::CLOSE | frame::PING | frame::PONG => {
                if !head.fin {
                    return Err(Refusal::protocol("a control frame cannot be fragmented"));
                }
                if len > MAX_CONTROL_PAYLOAD {
                    return Err(Refusal::protocol("a control frame carries at most 125 bytes"));
                }
            }
            frame::TEXT | frame::BINARY => {
                if self.partial.is_some() {
                    return Err(Refusal::protocol("a new message began before the last one ended"));
                }
                if len > self.max_message {
                    return Err(too_big());
                }
            }
            frame::CONTINUATION => match &self.partial {
                None => return Err(Refusal::protocol("a continuation frame with no message to continue")),
                Some(partial) if partial.data.len().saturating_add(len) > self.max_message => {
                    return Err(too_big())
                }
                Some(_) => {}
            },
            other => return Err(Refusal::protocol(format!("unknown opcode {other}"))),
        }
        Ok(len)
    }
}

/// Checks the text received so far, from where the last check stopped; a character cut by a
/// fragment boundary waits for the next fragment unless the message is complete.
fn check_utf8(partial: &mut Partial, complete: bool) -> Result<(), Refusal> {
    if partial.opcode != frame::TEXT {
        return Ok(());
    }
    let unchecked = &partial.data[partial.checked..];
    match std::str::from_utf8(unchecked) {
        Ok(_) => partial.checked = partial.data.len(),
        Err(err) if err.error_len().is_none() && !complete => partial.checked += err.valid_up_to(),
        Err(_) => return Err(not_utf8("text")),
    }
    Ok(())
}

/// A close frame's payload: nothing, or a status code and a UTF-8 reason.
fn close(payload: &[u8]) -> Result<Option<(u16, String)>, Refusal> {
    let Some((code, reason)) = payload.split_first_chunk::<2>() else {
        return if payload.is_empty() {
            Ok(None)
        } else {
            Err(Refusal::protocol("a close frame with a one-byte payload"))
        };
    };
    let code = u16::from_be_bytes(*code);
    if !close::may_be_sent(code) {
        return Err(Refusal::protocol(format!("close code {code} may not be sent")));
    }
    let reason = std::str::from_utf8(reason).map_err(|_| not_utf8("the close reason"))?;
    Ok(Some((code, reason.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut out = vec![first];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= 0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        out
    }

    fn read_all(bytes: &[u8], max: usize) -> Vec<Result<Inbound, Refusal>> {
        let mut reader = Reader::new(max, &[]);
        let mut out = Vec::new();
        // One byte at a time: every frame is seen cut at every place.
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

    fn code(results: &[Result<Inbound, Refusal>]) -> Option<u16> {
        results.iter().find_map(|r| r.as_ref().err().map(|f| f.code))
    }

    #[test]
    fn whole_and_fragmented_messages() {
        let mut bytes = masked(0x81, b"hello");
        bytes.extend(masked(0x01, b"he"));
        bytes.extend(masked(0x89, b"p")); // a ping between fragments
        bytes.extend(masked(0x00, b"ll"));
        bytes.extend(masked(0x80, b"o"));
        bytes.extend(masked(0x82, &[0, 1, 2]));
        bytes.extend(masked(0x8a, b""));
        bytes.extend(masked(0x88, b"\x03\xe8bye"));
        assert_eq!(
            read_all(&bytes, 100),
            vec![
                Ok(Inbound::Text("hello".into())),
                Ok(Inbound::Ping(b"p".to_vec())),
                Ok(Inbound::Text("hello".into())),
                Ok(Inbound::Binary(vec![0, 1, 2])),
                Ok(Inbound::Pong),
                Ok(Inbound::Close(Some((1000, "bye".into())))),
            ]
        );
    }

    #[test]
    fn long_lengths() {
        let big = vec![b'x'; 70_000];
        let read = read_all(&masked(0x82, &big), 100_000);
        assert_eq!(read, vec![Ok(Inbound::Binary(big))]);
        let medium = "y".repeat(300);
        assert_eq!(read_all(&masked(0x81, medium.as_bytes()), 1000), vec![Ok(Inbound::Text(medium))]);
    }

    #[test]
    fn protocol_faults_get_1002() {
        let unmasked = [0x81, 0x01, b'a'];
        assert_eq!(code(&read_all(&unmasked, 10)), Some(1002));
        assert_eq!(code(&read_all(&masked(0xc1, b"a"), 10)), Some(1002), "RSV1");
        assert_eq!(code(&read_all(&masked(0x83, b"a"), 10)), Some(1002), "opcode 3");
        assert_eq!(code(&read_all(&masked(0x8b, b""), 10)), Some(1002), "opcode 11");
        assert_eq!(code(&read_all(&masked(0x80, b"a"), 10)), Some(1002), "continuation first");
        assert_eq!(code(&read_all(&masked(0x09, b""), 10)), Some(1002), "fragmented ping");
        assert_eq!(code(&read_all(&masked(0x89, &[0; 126]), 1000)), Some(1002), "long ping");
        let mut interleaved = masked(0x01, b"a");
        interleaved.extend(masked(0x81, b"b"));
        assert_eq!(code(&read_all(&interleaved, 10)), Some(1002), "new message inside another");
        assert_eq!(code(&read_all(&masked(0x88, b"\x03"), 10)), Some(1002), "one-byte close");
        let mut reader = Reader::new(10, &masked(0x88, b"\x03"));
        assert!(reader.next().is_err());
        assert!(reader.closed(), "no close reply is to be awaited after a bad close");
        for bad in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            let payload = bad.to_be_bytes();
            assert_eq!(code(&read_all(&masked(0x88, &payload), 10)), Some(1002), "close code {bad}");
        }
        for good in [1000u16, 1001, 1003, 1007, 1011, 1013, 3000, 4999] {
            let read = read_all(&masked(0x88, &good.to_be_bytes()), 10);
            assert_eq!(read, vec![Ok(Inbound::Close(Some((good, String::new()))))]);
        }
    }

    #[test]
    fn size_limits_get_1009_before_the_payload_arrives() {
        let mut reader = Reader::new(10, &[]);
        reader.buffer().extend_from_slice(&masked(0x82, &[0; 11])[..6]);
        assert_eq!(reader.next().unwrap_err().code, 1009);
        let mut fragments = masked(0x01, b"123456");
        fragments.extend(masked(0x80, b"78901"));
        assert_eq!(code(&read_all(&fragments, 10)), Some(1009));
    }

    #[test]
    fn bad_utf8_gets_1007_at_the_first_bad_byte() {
        assert_eq!(code(&read_all(&masked(0x81, b"\xff"), 10)), Some(1007));
        assert_eq!(code(&read_all(&masked(0x88, b"\x03\xe8\xff"), 10)), Some(1007));
        // A character split between fragments is fine...
        let mut split = masked(0x01, "é".as_bytes().get(..1).unwrap());
        split.extend(masked(0x80, "é".as_bytes().get(1..).unwrap()));
        assert_eq!(read_all(&split, 10), vec![Ok(Inbound::Text("é".into()))]);
        // ...an invalid byte is refused before the message ends.
        let mut bad = masked(0x01, b"ok\xc0");
        bad.extend(masked(0x00, b"never"));
        let read = read_all(&bad[..9], 100);
        assert_eq!(code(&read), Some(1007));
        // A message that ends inside a character is refused too.
        let mut cut = masked(0x01, b"a");
        cut.extend(masked(0x80, &"é".as_bytes()[..1]));
        assert_eq!(code(&read_all(&cut, 10)), Some(1007));
    }

    #[test]
    fn an_idle_reader_holds_no_buffer() {
        let mut reader = Reader::new(100, &masked(0x81, b"hi"));
        assert_eq!(reader.next(), Ok(Some(Inbound::Text("hi".into()))));
        assert_eq!(reader.next(), Ok(None));
        assert_eq!(reader.buf.capacity(), 0);
    }
}
