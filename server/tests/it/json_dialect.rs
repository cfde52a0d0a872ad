//! The structured dialect negotiated with `Sec-WebSocket-Protocol: chat.v1.json`.

use crate::helpers::*;
use app::protocol::{ErrorCode, ServerEvent, PROTOCOL_VERSION};
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn ready_joined_message_left() {
    let server = spawn_server().await;
    let (mut ann, ready) = server.json("/chat/den?name=ann").await;
    match ready {
        ServerEvent::Ready { protocol, room, you } => {
            assert_eq!(protocol, PROTOCOL_VERSION);
            assert_eq!(room.as_str(), "den");
            assert_eq!(you.as_str(), "ann");
        }
        other => panic!("expected ready, got {other:?}"),
    }
    assert!(matches!(next_event(&mut ann).await, ServerEvent::Joined { name, .. } if name.as_str() == "ann"));

    let (mut ben, _) = server.json("/chat/den?name=ben").await;
    assert!(matches!(next_event(&mut ben).await, ServerEvent::Joined { name, .. } if name.as_str() == "ben"));
    assert!(matches!(next_event(&mut ann).await, ServerEvent::Joined { name, .. } if name.as_str() == "ben"));

    send_text(&mut ann, r#"{"type":"send","text":"<b>hi</b>"}"#).await;
    for ws in [&mut ann, &mut ben] {
        match next_event(ws).await {
            ServerEvent::Message { id, room, author, text, at } => {
                assert!(id > 0);
                assert_eq!(room.as_str(), "den");
                assert_eq!(author.as_str(), "ann");
                assert_eq!(text.as_str(), "<b>hi</b>");
                assert!(at > 1_700_000_000_000, "server timestamp in ms: {at}");
            }
            other => panic!("expected a message, got {other:?}"),
        }
    }
    ben.close(None).await.expect("close");
    assert!(matches!(next_event(&mut ann).await, ServerEvent::Left { name, .. } if name.as_str() == "ben"));
    server.stop().await;
}

#[tokio::test]
async fn bad_requests_get_an_error_event_and_the_connection_stays() {
    let server = spawn_server().await;
    let (mut ws, _) = server.json("/chat?name=eve").await;
    let _joined = next_event(&mut ws).await;
    for bad in ["not json", r#"{"type":"send","text":""}"#, r#"{"type":"fly"}"#] {
        send_text(&mut ws, bad).await;
        match next_event(&mut ws).await {
            ServerEvent::Error { code: ErrorCode::BadRequest, message } => assert!(!message.is_empty()),
            other => panic!("expected an error for {bad:?}, got {other:?}"),
        }
    }
    ws.send(Message::binary(vec![1, 2, 3])).await.expect("send");
    assert!(matches!(next_event(&mut ws).await, ServerEvent::Error { code: ErrorCode::Unsupported, .. }));
    // Still in the room.
    send_text(&mut ws, r#"{"type":"send","text":"still here"}"#).await;
    assert!(
        matches!(next_event(&mut ws).await, ServerEvent::Message { text, .. } if text.as_str() == "still here")
    );
    server.stop().await;
}
