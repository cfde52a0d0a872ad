//! Storage that fails: while the log cannot be written, senders are told and nothing is
//! acknowledged; reading goes on; once storage is back, the same resend is stored once.
//!
//! The fault is real: another process holds SQLite's write lock (as a backup or a migration
//! would), so the server's commits fail after the busy timeout, while readers, in WAL mode,
//! continue.

use crate::helpers::*;
use app::protocol::{ErrorCode, ServerEvent};
use sqlx::{Connection, Executor, SqliteConnection};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn senders_are_told_reads_go_on_and_it_recovers() {
    let server = spawn_server().await;
    let (mut ann, _) = server.json("/chat/vault?name=ann").await;
    say_json(&mut ann, "a1", "before").await;
    let db = server.data_dir().join("chat.db");

    let mut blocker = SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.expect("open");
    blocker.execute("BEGIN EXCLUSIVE").await.expect("take the write lock");

    // A JSON sender gets an error, no ack; a plain sender (no error line) is closed with 1013.
    send_text(&mut ann, r#"{"type":"send","id":"a2","text":"during"}"#).await;
    let mut plain = server.plain("/chat/vault?name=bob").await;
    let _ = next_text(&mut plain).await; // history: "ann:before"
    let _ = next_text(&mut plain).await; // "Welcome, bob !"
    send_text(&mut plain, "lost?").await;
    let error = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(15), next_event_slow(&mut ann)).await {
            Ok(ServerEvent::Error { code, message }) => break (code, message),
            Ok(ServerEvent::Ack { client_id, .. }) => {
                panic!("{client_id} acknowledged while storage was down")
            }
            Ok(_) => continue,
            Err(_) => panic!("no error for the sender"),
        }
    };
    assert_eq!(error.0, ErrorCode::Unavailable, "{}", error.1);
    let close = expect_close_slow(&mut plain).await;
    assert_eq!(close.code, CloseCode::Again);

    // Reading goes on: a newcomer gets the history, the HTTP history answers, the page renders.
    let (mut reader, _) = server.json("/chat/vault?name=carol&after=0&epoch=0").await;
    assert!(matches!(next_event(&mut reader).await, ServerEvent::Message { id: 1, .. }));
    assert_eq!(http_get(server.addr, "/api/rooms/vault/messages").await.0, 200);
    assert_eq!(http_get(server.addr, "/r/vault").await.0, 200);

    // Storage comes back; the client's resend (same id) is stored, once.
    blocker.execute("ROLLBACK").await.expect("release");
    drop(blocker);
    assert_eq!(say_json_skipping(&mut ann, "a2", "during").await, 2);
    let (mut audit, _) = server.json("/chat/vault?name=dave&after=0&epoch=0").await;
    let mut texts = Vec::new();
    while texts.len() < 2 {
        if let ServerEvent::Message { text, .. } = next_event(&mut audit).await {
            texts.push(text.to_string());
        }
    }
    assert_eq!(texts, ["before", "during"]);
    expect_quiet_log(&mut audit).await;
    server.stop().await;
}

/// Like `next_event`, with the patience a busy timeout needs.
async fn next_event_slow(ws: &mut Ws) -> ServerEvent {
    use futures_util::StreamExt;
    loop {
        match ws.next().await {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) => {
                return ServerEvent::from_json(text.as_str()).expect("an event");
            }
            Some(Ok(_)) => continue,
            other => panic!("connection ended: {other:?}"),
        }
    }
}

async fn expect_close_slow(ws: &mut Ws) -> tokio_tungstenite::tungstenite::protocol::CloseFrame {
    use futures_util::StreamExt;
    let wait = tokio::time::timeout(std::time::Duration::from_secs(15), async {
        loop {
            match ws.next().await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(frame)))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    });
    wait.await.expect("closed in time")
}

/// Sends `text` with client id `id` and returns its stored id, ignoring presence on the way.
async fn say_json_skipping(ws: &mut Ws, id: &str, text: &str) -> u64 {
    let frame = serde_json::json!({"type": "send", "id": id, "text": text}).to_string();
    send_text(ws, &frame).await;
    loop {
        match next_event(ws).await {
            ServerEvent::Ack { client_id, id: seq } if client_id.as_str() == id => return seq,
            _ => continue,
        }
    }
}

/// No further message in the log (nothing was stored twice, "lost?" was not stored).
async fn expect_quiet_log(ws: &mut Ws) {
    while let Ok(event) = tokio::time::timeout(std::time::Duration::from_millis(300), next_event(ws)).await {
        assert!(!matches!(event, ServerEvent::Message { .. }), "unexpected {event:?}");
    }
}
