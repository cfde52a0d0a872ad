//! `/echo`: an exact echo, for conformance testing.

use crate::helpers::*;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
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

/// With the message limit raised, as conformance runs raise it.
#[tokio::test]
async fn lengths_around_the_7_16_and_64_bit_encodings() {
    let server = spawn_with_limits(|l| l.room_max_message_bytes = 2 << 20).await;
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

/// `/echo` keeps the rooms' limits unless they are raised: the message size...
#[tokio::test]
async fn the_rooms_message_limit_holds_by_default() {
    let server = spawn_server().await;
    let mut ws = server.plain("/echo").await;
    ws.send(Message::text("x".repeat(app::protocol::MAX_FRAME_BYTES))).await.expect("send");
    assert_eq!(next_message(&mut ws).await.len(), app::protocol::MAX_FRAME_BYTES);
    ws.send(Message::binary(vec![0u8; app::protocol::MAX_FRAME_BYTES + 1])).await.expect("send");
    assert_eq!(u16::from(expect_close(&mut ws).await.code), 1009);
    server.stop().await;
}

/// Whether a connection to `/echo` is taken now (with one connection per address, whether the
/// last one's place is free).
async fn echo_admits(server: &TestServer) -> bool {
    let (mut ws, _) = connect(&server.url("/echo"), None).await;
    if ws.send(Message::text("hi")).await.is_err() {
        return false;
    }
    match next_message(&mut ws).await {
        Message::Text(text) if text.as_str() == "hi" => {
            let _ = ws.close(None).await;
            while let Some(Ok(_)) = ws.next().await {}
            true
        }
        _ => false,
    }
}

async fn admitted_within(server: &TestServer, patience: Duration) -> bool {
    let until = tokio::time::Instant::now() + patience;
    while tokio::time::Instant::now() < until {
        if echo_admits(server).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// ...and what protects the server from clients that take without giving: one that sends and
/// never reads is dropped once its replies stall, one that stops answering pings once its pong
/// is overdue, each giving its place back.
#[tokio::test]
async fn a_client_that_never_reads_or_never_answers_is_dropped() {
    let server = spawn_with_limits(|l| {
        l.max_connections_per_address = 1;
        l.write_stall = Duration::from_millis(300);
        l.ping_every = Duration::from_millis(200);
        l.pong_deadline = Duration::from_millis(200);
        l.room_max_message_bytes = 64 * 1024;
        unthrottled(l);
    })
    .await;
    // Sends and never reads: the replies fill every buffer on the way, then stall.
    let (never_reads, _) = connect(&server.url("/echo"), None).await;
    let (mut sink, _unread) = never_reads.split();
    let sending = tokio::spawn(async move {
        let big = vec![7u8; 60_000];
        while sink.send(Message::binary(big.clone())).await.is_ok() {}
    });
    tokio::time::timeout(Duration::from_secs(10), sending).await.expect("dropped").expect("sender");
    assert!(admitted_within(&server, Duration::from_secs(5)).await, "its place was given back");

    // Connected, then silent: it reads nothing, so it answers no ping.
    let (silent, _) = connect(&server.url("/echo"), None).await;
    assert!(!echo_admits(&server).await, "one connection per address, and it holds it");
    assert!(admitted_within(&server, Duration::from_secs(5)).await, "dropped once its pong was overdue");
    drop(silent);
    server.stop().await;
}
