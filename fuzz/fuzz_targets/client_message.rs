//! Any text frame a client sends in the JSON dialect: decoding never panics, and whatever is
//! accepted encodes back to a frame that decodes to the same message (nothing a client can send
//! changes meaning on a round trip through the server).
#![no_main]

use app::protocol::ClientMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(message) = ClientMessage::from_json(text) {
        let again = ClientMessage::from_json(&message.to_json());
        assert_eq!(again.ok(), Some(message));
    }
});
