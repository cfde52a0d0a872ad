//! The relay dialect: frames between programs in a room, exactly as sent, never stored and never
//! shown to the chat.

use crate::helpers::*;
use app::protocol::ServerEvent;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message};

const RELAY: &str = "chat.v1.relay";

#[tokio::test]
async fn relay_connections_get_every_frame_as_sent_and_the_chat_sees_none() {
    let server = spawn_server().await;
    let (mut chat, _, members) = server.json_as("/chat/lab?name=person", &[]).await;
    assert_eq!(members, vec!["person"]);
    assert!(matches!(next_event(&mut chat).await, ServerEvent::Joined { .. }));
    let (mut a, selected) = connect(&server.url("/chat/lab"), Some(RELAY)).await;
    assert_eq!(selected.as_deref(), Some(RELAY));
    let (mut b, _) = connect(&server.url("/chat/lab"), Some(RELAY)).await;
    let (mut elsewhere, _) = connect(&server.url("/chat/other"), Some(RELAY)).await;

    let binary = Message::Binary(Bytes::from_static(&[0, 159, 255, 1]));
    a.send(Message::text("")).await.expect("send");
    a.send(binary.clone()).await.expect("send");
    a.send(Message::text("{\"not\":\"a chat message\"}")).await.expect("send");
    for ws in [&mut a, &mut b] {
        assert_eq!(next_message(ws).await, Message::text(""));
        assert_eq!(next_message(ws).await, binary);
        assert_eq!(next_text(ws).await, "{\"not\":\"a chat message\"}");
    }
    // Not the chat: no member joined, nothing was said, nothing was stored.
    expect_silence(&mut chat).await;
    expect_silence(&mut elsewhere).await;
    let (_reader, ready) = server.json("/chat/lab?name=reader").await;
    assert!(matches!(ready, ServerEvent::Ready { seq: 0, .. }), "{ready:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_relay_frame_over_the_limit_closes_with_1009() {
    let server = spawn_server().await;
    let (mut a, _) = connect(&server.url("/chat/lab"), Some(RELAY)).await;
    a.send(Message::Binary(Bytes::from(vec![7u8; 9 * 1024]))).await.expect("send");
    let close = expect_close(&mut a).await;
    assert_eq!(close.code, CloseCode::Size);
    server.stop().await;
}
