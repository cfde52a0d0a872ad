//! Read marks through a real server, on SQLite and on PostgreSQL: a reader's mark is kept for
//! the person (both devices of an account), told to their other connections, given back to the
//! next connection, never moved back, and counted in the room list (new messages by others, and
//! mentions of the reader), through a restart.

use crate::accounts::{post_json, register};
use crate::helpers::*;
use app::protocol::{RoomSummary, ServerEvent};

async fn read(ws: &mut Ws, seq: u64) {
    send_text(ws, &serde_json::json!({"type": "read", "seq": seq}).to_string()).await;
}

/// The next `read` event, skipping the others.
async fn next_read(ws: &mut Ws) -> u64 {
    loop {
        if let ServerEvent::Read { seq, .. } = next_event(ws).await {
            return seq;
        }
    }
}

/// The room list as `token`'s reader sees it: `(unread, mentions)` of `room`.
async fn counts(server: &TestServer, token: &str, room: &str) -> (Option<u32>, u32) {
    let response =
        http_request(server.addr, "GET", "/fn/rooms", &format!("Cookie: chat_session={token}\r\n"), "").await;
    assert_eq!(response.status, 200, "{response:?}");
    let list: Vec<RoomSummary> = serde_json::from_str(&response.body).expect("a room list");
    let summary = list.iter().find(|s| s.name.as_str() == room).expect("the room is listed");
    (summary.unread, summary.mentions)
}

async fn a_reader_picks_up_where_they_left_off(configure: impl Fn(&mut server::Config)) {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = server::Config::for_tests(data.path().to_path_buf());
    configure(&mut config);
    let server = spawn_with(config, data).await;
    let phone = register(server.addr, "ann", "correct horse battery").await;
    let login = post_json(
        server.addr,
        "/api/login",
        "",
        serde_json::json!({"nickname": "ann", "password": "correct horse battery"}),
    )
    .await;
    let body: serde_json::Value = serde_json::from_str(&login.body).expect("JSON");
    let laptop = body["token"].as_str().expect("a token").to_owned();

    let (mut bob, _) = server.json("/chat/reads?name=bob").await;
    for i in 1..=3 {
        say_json(&mut bob, &format!("b{i}"), &format!("message {i}")).await;
    }
    let (mut on_phone, _) = server.json(&format!("/chat/reads?token={phone}")).await;
    let (mut on_laptop, _) = server.json(&format!("/chat/reads?token={laptop}")).await;
    assert_eq!(counts(&server, &phone, "reads").await, (None, 0), "never read: nothing counted");

    // Read on the phone: the laptop is told, the phone is not told back.
    read(&mut on_phone, 2).await;
    assert_eq!(next_read(&mut on_laptop).await, 2);
    send_text(&mut on_phone, r#"{"type":"ping","nonce":7}"#).await;
    loop {
        match next_event(&mut on_phone).await {
            ServerEvent::Pong { nonce: 7 } => break,
            ServerEvent::Read { .. } => panic!("a connection is not told its own read"),
            _ => {}
        }
    }
    assert_eq!(counts(&server, &laptop, "reads").await, (Some(1), 0));
    // Never back; past the end is the end.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    read(&mut on_laptop, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    read(&mut on_laptop, 99).await;
    assert_eq!(next_read(&mut on_phone).await, 3);

    // New messages by others count, mentions of the reader apart; the reader's own do not.
    say_json(&mut bob, "b4", "@Ann lunch?").await;
    say_json(&mut bob, "b5", "or @annie?").await;
    let posted = http_request(
        server.addr,
        "POST",
        "/api/rooms/reads/messages",
        &format!("Authorization: Bearer {phone}\r\nContent-Type: application/json\r\n"),
        r#"{"text":"noon, @ann here"}"#,
    )
    .await;
    assert_eq!(posted.status, 201, "{posted:?}");
    assert_eq!(counts(&server, &laptop, "reads").await, (Some(2), 1));
    assert_eq!(counts(&server, &phone, "reads").await, (Some(2), 1), "one person on both devices");
    let guest = session_token(server.addr, "cat").await;
    assert_eq!(counts(&server, &guest, "reads").await, (None, 0), "nobody else's");

    // After a restart, a new connection is told where the reader was.
    drop((on_phone, on_laptop, bob));
    let server = server.restart_with(&configure).await;
    let (mut again, _) = server.json(&format!("/chat/reads?token={laptop}")).await;
    assert_eq!(next_read(&mut again).await, 3);
    assert_eq!(counts(&server, &phone, "reads").await, (Some(2), 1));
    server.stop().await;
}

#[tokio::test]
async fn read_marks_on_sqlite() {
    a_reader_picks_up_where_they_left_off(|config| unthrottled(&mut config.limits)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
async fn read_marks_on_postgres() {
    let (url, _) = fresh_database().await;
    a_reader_picks_up_where_they_left_off(|config| {
        config.database_url = Some(url.clone());
        unthrottled(&mut config.limits);
    })
    .await;
}
