//! Bytes from the network, as a hixie (draft-75/76) connection's reader gets them: any bytes,
//! cut into any pieces. Reading never panics, never holds a frame past the message limit, and
//! what it makes of a stream (the messages, then the fault if any) does not depend on how the
//! stream was cut.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The server's own files, as in ws_reader.rs: the hixie reader finds the messages and refusals
// it makes as `super::super::reader` and `super::super::refusal`, here the crate's root.
#[path = "../../server/src/ws/frame.rs"]
mod frame;
#[path = "../../server/src/ws/reader.rs"]
mod reader;
#[path = "../../server/src/ws/refusal.rs"]
mod refusal;
// (A path on the inline module: the directory its own modules are found in.)
#[path = "../../server/src/ws/hixie"]
mod hixie {
    #[path = "reader.rs"]
    pub mod reader;
}

use hixie::reader::Reader;
use reader::Inbound;
use refusal::Refusal;

/// Everything `reader` makes of `pieces`, fed one after another.
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
    let max = [0, 1, 2, 127, 128, 129, 1000, 16_383][usize::from(size % 8)];
    let whole = read(max, std::iter::once(stream));
    let step = usize::from(cut % 32) + 1;
    let pieces = read(max, stream.chunks(step));
    assert_eq!(whole, pieces, "cut every {step} bytes");
    let bytes = read(max, stream.chunks(1));
    assert_eq!(whole, bytes, "byte by byte");
    for message in &whole.0 {
        match message {
            Inbound::Text(text) => assert!(text.len() <= max, "a message of {} bytes past {max}", text.len()),
            Inbound::Close(None) => {}
            other => panic!("a hixie client cannot send {other:?}"),
        }
    }
});
