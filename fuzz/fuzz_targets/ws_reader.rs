//! Bytes from the network, as the rooms' WebSocket reader gets them: any bytes, cut into any
//! pieces. Reading never panics, never holds more than one frame's worth beyond the message
//! limit, and what it makes of a stream (the messages, then the fault if any) does not depend
//! on how the stream was cut.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The server's own files: the reader with the frame code and refusals it uses, and nothing
// else of the server (whose dependencies a fuzzing build would otherwise compile whole). The
// reader finds its neighbours as `super::frame` and `super::refusal`: here, the crate's root.
// (Close codes are `app`'s.)
#[path = "../../server/src/ws/frame.rs"]
mod frame;
#[path = "../../server/src/ws/reader.rs"]
mod reader;
#[path = "../../server/src/ws/refusal.rs"]
mod refusal;

use reader::{Inbound, Reader};
use refusal::Refusal;

/// Everything `reader` makes of `pieces`, fed one after another: the messages, and the fault
/// that ended the reading if one did.
fn read<'a>(max: usize, pieces: impl Iterator<Item = &'a [u8]>) -> (Vec<Inbound>, Option<Refusal>) {
    let mut reader = Reader::new(max, &[]);
    let mut messages = Vec::new();
    for piece in pieces {
        reader.buffer().extend_from_slice(piece);
        loop {
            match reader.next() {
                Ok(Some(message)) => messages.push(message),
                Ok(None) => break,
                Err(fault) => return (messages, Some(fault)),
            }
        }
    }
    (messages, None)
}

fuzz_target!(|data: &[u8]| {
    let [size, cut, stream @ ..] = data else { return };
    // Limits from a tiny one to one past the 16-bit length boundary.
    let max = [0, 1, 125, 126, 127, 1000, 65_535, 65_536][usize::from(size % 8)];
    let whole = read(max, std::iter::once(stream));
    // The same bytes in pieces of 1 to 32 bytes, by a pattern the input chooses.
    let step = usize::from(cut % 32) + 1;
    let pieces = read(max, stream.chunks(step));
    assert_eq!(whole, pieces, "cut every {step} bytes");
    let bytes = read(max, stream.chunks(1));
    assert_eq!(whole, bytes, "byte by byte");
    for message in &whole.0 {
        let len = match message {
            Inbound::Text(text) => text.len(),
            Inbound::Binary(data) | Inbound::Ping(data) => data.len(),
            Inbound::Pong | Inbound::Close(_) => 0,
        };
        assert!(len <= max.max(125), "a message of {len} bytes past the limit of {max}");
    }
});
