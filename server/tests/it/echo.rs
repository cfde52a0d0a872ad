//! `/echo`: an exact echo, for conformance testing.

use crate::helpers::*;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn echoes_text_and_binary_exactly() {
    let server = spawn_server().await;
    let mut ws = server.plain("/echo").await;
    for message in [
        Message::text("hello"),
        Message::text(""),
        Message::text("ünïcødé ✓ 服务端"),
        Message::binary(vec![0u8, 255, 1, 254]),
        Message::binary(Vec::new()),
    ] {
        ws.send(message.clone()).await.expect("send");
        assert_eq!(next_message(&mut ws).await, message);
    }
    server.stop().await;
}

#[tokio::test]
async fn lengths_around_the_7_16_and_64_bit_encodings() {
    let server = spawn_server().await;
    let mut ws = server.plain("/echo").await;
    for len in [125, 126, 127, 65_535, 65_536, 65_537, 1 << 20] {
        let text = Message::text("é".repeat(len / 2) + &"x".repeat(len % 2));
        assert_eq!(text.len(), len);
        ws.send(text.clone()).await.expect("send");
        assert_eq!(next_message(&mut ws).await, text, "text of {len} bytes");

        let binary = Message::binary(vec![(len % 251) as u8; len]);
        ws.send(binary.clone()).await.expect("send");
        assert_eq!(next_message(&mut ws).await, binary, "binary of {len} bytes");
    }
    server.stop().await;
}
