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
        ServerEvent::Ready { protocol, room, you, epoch, seq } => {
            assert_eq!(protocol, PROTOCOL_VERSION);
            assert_eq!((epoch, seq), (0, 0), "an empty room has no log yet");
            assert_eq!(room.as_str(), "den");
            assert_eq!(you.as_str(), "ann");
        }
        other => panic!("expected ready, got {other:?}"),
    }
    assert!(matches!(next_event(&mut ann).await, ServerEvent::Joined { name, .. } if name.as_str() == "ann"));

    let (mut ben, _) = server.json("/chat/den?name=ben").await;
    assert!(matches!(next_event(&mut ben).await, ServerEvent::Joined { name, .. } if name.as_str() == "ben"));
    assert!(matches!(next_event(&mut ann).await, ServerEvent::Joined { name, .. } if name.as_str() == "ben"));

    let stored = say_json(&mut ann, "a1", "<b>hi</b>").await;
    assert_eq!(stored, 1);
    match next_event(&mut ben).await {
        ServerEvent::Message { id, epoch, room, author, text, at, client_id, .. } => {
            assert_eq!(id, 1);
            assert_ne!(epoch, 0);
            assert_eq!(room.as_str(), "den");
            assert_eq!(author.as_str(), "ann");
            assert_eq!(text.as_str(), "<b>hi</b>");
            assert!(at > 1_700_000_000_000, "server timestamp in ms: {at}");
            assert_eq!(client_id.as_ref().map(|c| c.as_str()), Some("a1"));
        }
        other => panic!("expected a message, got {other:?}"),
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
    for bad in [
        "not json",
        r#"{"type":"send","id":"x","text":""}"#,
        r#"{"type":"send","text":"no id"}"#,
        r#"{"type":"fly"}"#,
        // Control characters are not text: PostgreSQL cannot even store U+0000.
        r#"{"type":"send","id":"x","text":"nul\u0000"}"#,
        r#"{"type":"send","id":"x","text":"\u001b[2Jcleared"}"#,
    ] {
        send_text(&mut ws, bad).await;
        match next_event(&mut ws).await {
            ServerEvent::Error { code: ErrorCode::BadRequest, message } => assert!(!message.is_empty()),
            other => panic!("expected an error for {bad:?}, got {other:?}"),
        }
    }
    ws.send(Message::binary(vec![1, 2, 3])).await.expect("send");
    assert!(matches!(next_event(&mut ws).await, ServerEvent::Error { code: ErrorCode::Unsupported, .. }));
    // Still in the room; line breaks and tabs are text.
    say_json(&mut ws, "e1", "still\there\r\nand here").await;
    send_text(&mut ws, r#"{"type":"ping","nonce":42}"#).await;
    assert_eq!(next_event(&mut ws).await, ServerEvent::Pong { nonce: 42 });
    server.stop().await;
}
