//! The JSON dialect: `app::protocol` types to and from text frames.

use crate::ws::Frame;
use app::protocol::{ClientMessage, ErrorCode, ServerEvent};

/// The text frame of an event.
pub fn encode(event: &ServerEvent) -> Frame {
    Frame::text(&event.to_json())
}

/// A client frame, or the error event that answers it.
pub fn decode(text: &str) -> Result<ClientMessage, ServerEvent> {
    ClientMessage::from_json(text).map_err(|err| ServerEvent::Error {
        code: ErrorCode::BadRequest,
        message: format!("message refused: {err}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_becomes_an_error_event() {
        match decode(r#"{"type":"send","id":"c1","text":""}"#) {
            Err(ServerEvent::Error { code: ErrorCode::BadRequest, message }) => {
                assert!(message.contains("a message must not be empty"), "{message}")
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(decode(r#"{"type":"send","id":"c1","text":"ok"}"#).is_ok());
    }
}
