//! The limits on what one client can take: its message rate, its connections, and how long it
//! may take to say what it wants.

use crate::helpers::*;
use app::protocol::{ErrorCode, ServerEvent};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

async fn spawn_with_limits(change: impl FnOnce(&mut server::Limits)) -> TestServer {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = server::Config::for_tests(data.path().to_path_buf());
    change(&mut config.limits);
    spawn_with(config, data).await
}

fn send_frame(id: &str) -> String {
    serde_json::json!({"type": "send", "id": id, "text": format!("text of {id}")}).to_string()
}

#[tokio::test]
async fn a_fast_sender_is_slowed_down_and_loses_nothing() {
    let server = spawn_with_limits(|l| {
        l.messages_per_second = 20.0;
        l.message_burst = 5;
        l.flood_abuse_after = 20;
    })
    .await;
    let (mut ws, _) = server.json("/chat/fast?name=fast").await;
    let started = Instant::now();
    for i in 0..15 {
        send_text(&mut ws, &send_frame(&format!("m{i}"))).await;
    }
    let (mut acks, mut warnings, mut echoes) = (Vec::new(), 0, 0);
    while acks.len() < 15 || echoes < 15 {
        match next_event(&mut ws).await {
            ServerEvent::Ack { client_id, .. } => acks.push(client_id.to_string()),
            ServerEvent::Message { .. } => echoes += 1,
            ServerEvent::Error { code: ErrorCode::RateLimited, .. } => warnings += 1,
            ServerEvent::Joined { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(acks, (0..15).map(|i| format!("m{i}")).collect::<Vec<_>>(), "all stored, in order");
    assert_eq!(warnings, 1, "told once");
    // Five at once, the other ten at 20 a second.
    assert!(elapsed >= Duration::from_millis(450), "paced: {elapsed:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_keeps_flooding_is_closed_with_1008() {
    let server = spawn_with_limits(|l| {
        l.messages_per_second = 50.0;
        l.message_burst = 5;
        l.flood_abuse_after = 10;
    })
    .await;
    let (mut json, _) = server.json("/chat/flood?name=flooder").await;
    let mut plain = server.plain("/chat/flood2?name=plainflooder").await;
    for i in 0..40 {
        send_text(&mut json, &send_frame(&format!("f{i}"))).await;
        send_text(&mut plain, &format!("flood {i}")).await;
    }
    let mut acked = 0;
    for ws in [&mut json, &mut plain] {
        let close = loop {
            match next_message(ws).await {
                tokio_tungstenite::tungstenite::Message::Close(Some(frame)) => break frame,
                tokio_tungstenite::tungstenite::Message::Text(text) => {
                    acked += usize::from(text.as_str().starts_with(r#"{"type":"ack""#));
                }
                _ => continue,
            }
        };
        assert_eq!(close.code, CloseCode::Policy);
        assert!(close.reason.contains("flooding"), "{}", close.reason);
    }
    // What was accepted before the close is stored, all of it: at least the burst and the
    // throttled ten (more if the bucket refilled while messages were being stored).
    let (mut reader, _) = server.json("/chat/flood?name=reader&after=0&epoch=0").await;
    let mut stored = 0;
    while let Ok(event) = tokio::time::timeout(Duration::from_millis(300), next_event(&mut reader)).await {
        if matches!(event, ServerEvent::Message { .. }) {
            stored += 1;
        }
    }
    assert!(stored >= 15 && stored < 40, "{stored} stored");
    assert_eq!(stored, acked, "everything acknowledged before the close, and nothing else");
    server.stop().await;
}

#[tokio::test]
async fn one_address_holds_at_most_its_share_of_connections() {
    let server = spawn_with_limits(|l| l.max_connections_per_address = 3).await;
    let mut held = Vec::new();
    for i in 0..3 {
        held.push(server.plain(&format!("/chat/cap?name=c{i}")).await);
    }
    // The fourth, on a room or the echo, is refused with a reason.
    for path in ["/chat/cap?name=c3", "/echo"] {
        let mut extra = server.plain(path).await;
        let close = expect_close(&mut extra).await;
        assert_eq!(close.code, CloseCode::Policy, "{path}");
        assert_eq!(close.reason, "too many connections from your address (at most 3)");
    }
    // A place is given back when a connection ends.
    drop(held.pop());
    let mut again = None;
    for _ in 0..50 {
        let mut ws = server.plain("/chat/cap?name=c4").await;
        match next_message(&mut ws).await {
            tokio_tungstenite::tungstenite::Message::Text(text) => {
                assert_eq!(text.as_str(), "Welcome, c4 !");
                again = Some(ws);
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert!(again.is_some(), "a freed place is reused");
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_says_nothing_is_disconnected() {
    let server = spawn_with_limits(|l| l.handshake_timeout = Duration::from_millis(300)).await;
    // Connects and sends nothing; another sends half a request head and stops (slowloris).
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    let mut slow = TcpStream::connect(server.addr).await.expect("connect");
    slow.write_all(b"GET /chat HTTP/1.1\r\nHost: x\r\n").await.expect("write");
    let started = Instant::now();
    for stream in [&mut silent, &mut slow] {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut buf)).await;
        assert!(matches!(read, Ok(Ok(_)) | Ok(Err(_))), "the server hung up");
    }
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    // An idle keep-alive connection is closed after the same time.
    let mut idle = TcpStream::connect(server.addr).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
    let mut buf = Vec::new();
    let read = tokio::time::timeout(PATIENCE, idle.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "closed after being idle");
    assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"));
    // A WebSocket is not idle in that sense: it stays while it answers pings.
    let mut ws = server.plain("/chat?name=quiet").await;
    assert_eq!(next_text(&mut ws).await, "Welcome, quiet !");
    tokio::time::sleep(Duration::from_millis(600)).await;
    send_text(&mut ws, "still here").await;
    assert_eq!(next_text(&mut ws).await, "quiet:still here");
    server.stop().await;
}
