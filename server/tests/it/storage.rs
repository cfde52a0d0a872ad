//! Storage that fails: while the log cannot be written, senders are told and nothing is
//! acknowledged; reading goes on; once storage is back, the same resend is stored once.
//!
//! The faults are real: another process holds SQLite's write lock (as a backup or a migration
//! would), so the server's commits fail after the busy timeout, while readers, in WAL mode,
//! continue; and the store runs out of space (its quota, which SQLite enforces exactly as a
//! full disk: SQLITE_FULL on commit).

use crate::helpers::*;
use app::protocol::{ErrorCode, ServerEvent};
use server::config::Config;
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
        match next_event_within(&mut ann, SLOW).await {
            ServerEvent::Error { code, message } => break (code, message),
            ServerEvent::Ack { client_id, .. } => panic!("{client_id} acknowledged while storage was down"),
            _ => continue,
        }
    };
    assert_eq!(error.0, ErrorCode::Unavailable, "{}", error.1);
    let close = skip_to_close_within(&mut plain, SLOW).await;
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

/// One damaged row does not make its room unjoinable: reading goes on past it, and the log names
/// the row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_row_is_skipped_and_named_in_the_log() {
    use tokio::io::AsyncReadExt;
    let data = tempfile::tempdir().expect("temp dir");
    let addr = free_addr();
    let mut child = start_server_logging(addr, data.path());
    wait_until_up(addr).await;
    let join = |name: &str| format!("ws://{addr}/chat/scar?name={name}");
    let (mut ann, _) = connect(&join("ann"), Some(app::protocol::SUBPROTOCOL)).await;
    for i in 1..=3 {
        say_json_skipping(&mut ann, &format!("a{i}"), &format!("line {i}")).await;
    }
    let db = data.path().join("chat.db");
    let mut vandal = SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.expect("open");
    vandal
        .execute("UPDATE messages SET author = 'two words' WHERE room = 'scar' AND seq = 2")
        .await
        .expect("damage");
    drop(vandal);

    let (mut bob, _) = connect(&join("bob"), Some(app::protocol::SUBPROTOCOL)).await;
    let mut history = Vec::new();
    loop {
        match next_event(&mut bob).await {
            ServerEvent::Message { id, .. } => history.push(id),
            ServerEvent::Joined { name, .. } if name.as_str() == "bob" => break,
            _ => {}
        }
    }
    assert_eq!(history, [1, 3], "the room is joinable and the rest of its history read");
    child.start_kill().expect("stop the server");
    let mut log = String::new();
    let mut stdout = child.stdout.take().expect("the server's log");
    stdout.read_to_string(&mut log).await.expect("read the log");
    let line =
        log.lines().find(|l| l.contains("damaged message")).unwrap_or_else(|| panic!("no warning in {log}"));
    assert!(line.contains("room=scar") && line.contains("seq=2"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_store_refuses_with_a_reason_and_takes_the_resend_when_space_comes_back() {
    const QUOTA: u64 = 256 * 1024;
    let data = tempfile::tempdir().expect("temp dir");
    let dir = data.path().to_path_buf();
    let quota = |bytes| {
        let mut config = Config::for_tests(dir.clone());
        unthrottled(&mut config.limits);
        config.max_database_bytes = Some(bytes);
        config
    };
    let server = spawn_with(quota(QUOTA), data).await;
    let text = |i: usize| format!("{i:05} {}", "x".repeat(3990));

    // Fill it: every message is acknowledged in order until the first refusal, which says why.
    let (mut ann, _) = server.json("/chat/attic?name=ann").await;
    let mut acked = 0;
    let refusal = loop {
        let frame = serde_json::json!({"type": "send", "id": format!("f{acked}"), "text": text(acked)});
        send_text(&mut ann, &frame.to_string()).await;
        let outcome = loop {
            match next_event(&mut ann).await {
                ServerEvent::Ack { client_id, id } => break Ok((client_id, id)),
                ServerEvent::Error { code, message } => break Err((code, message)),
                _ => continue,
            }
        };
        match outcome {
            Ok((client_id, id)) => {
                assert_eq!((client_id.as_str(), id), (format!("f{acked}").as_str(), acked as u64 + 1));
                acked += 1;
                assert!(acked < 1000, "the quota never filled");
            }
            Err(refusal) => break refusal,
        }
    };
    assert_eq!(refusal.0, ErrorCode::Unavailable);
    assert!(refusal.1.contains("full"), "{}", refusal.1);
    assert!(acked > 20, "only {acked} messages fitted in {QUOTA} bytes");
    // The log's own size, pages in the write-ahead log included (the file alone lags behind
    // until a checkpoint).
    let db = server.data_dir().join("chat.db");
    let mut inspect = SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.expect("open");
    let pages: i64 =
        sqlx::query_scalar("PRAGMA page_count").fetch_one(&mut inspect).await.expect("page_count");
    let page_size: i64 =
        sqlx::query_scalar("PRAGMA page_size").fetch_one(&mut inspect).await.expect("page_size");
    drop(inspect);
    let db_bytes = (pages * page_size) as u64;
    assert!(db_bytes <= QUOTA, "the log grew to {db_bytes} bytes");
    eprintln!(
        "storage full: {acked} messages of 4 KB in a {QUOTA}-byte quota ({db_bytes} bytes); then {:?}",
        refusal.1
    );

    // A plain sender, which has no error line, is closed with the reason. (As large as the
    // refused message: a few bytes would still fit.)
    let mut bob = server.plain("/chat/attic?name=bob").await;
    while !next_text(&mut bob).await.starts_with("Welcome, bob") {}
    send_text(&mut bob, &text(acked)).await;
    let close = skip_to_close_within(&mut bob, SLOW).await;
    assert_eq!(close.code, CloseCode::Again);
    assert!(close.reason.contains("full"), "{}", close.reason);

    // Everything acknowledged reads back, in order; the page and the HTTP history answer.
    let (mut carol, _) = server.json("/chat/attic?name=carol&after=0&epoch=0").await;
    let mut epoch = 0;
    for i in 0..acked {
        loop {
            if let ServerEvent::Message { id, text: got, epoch: e, .. } = next_event(&mut carol).await {
                assert_eq!((id, got.as_str()), (i as u64 + 1, text(i).as_str()));
                epoch = e;
                break;
            }
        }
    }
    expect_quiet_log(&mut carol).await;
    assert_eq!(http_get(server.addr, "/api/rooms/attic/messages").await.0, 200);
    assert_eq!(http_get(server.addr, "/r/attic").await.0, 200);
    drop((ann, carol));

    // The operator gives it room: the same resend is stored next in line, once.
    let data = server.stop_keeping_data().await;
    let server = spawn_with(quota(4 * QUOTA), data).await;
    let (mut ann, _) = server.json(&format!("/chat/attic?name=ann&after={acked}&epoch={epoch}")).await;
    let resent = say_json(&mut ann, &format!("f{acked}"), &text(acked)).await;
    assert_eq!(resent, acked as u64 + 1);
    let (mut audit, _) = server.json(&format!("/chat/attic?name=dave&after={acked}&epoch={epoch}")).await;
    let ServerEvent::Message { id, .. } = skip_to_message(&mut audit).await else { unreachable!() };
    assert_eq!(id, acked as u64 + 1);
    expect_quiet_log(&mut audit).await;
    server.stop().await;
}

/// The next message event, past presence.
async fn skip_to_message(ws: &mut Ws) -> ServerEvent {
    loop {
        let event = next_event(ws).await;
        if matches!(event, ServerEvent::Message { .. }) {
            return event;
        }
    }
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
