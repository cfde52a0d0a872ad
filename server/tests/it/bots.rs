//! Bots: accounts of programs, with API keys the operator makes and revokes from the command
//! line. A key posts by HTTP and over a WebSocket, under the rules everyone posts under; its
//! name is nobody else's; a revoked key stops at once, its connections closed.

use crate::admin::admin;
use crate::helpers::*;
use app::protocol::{ServerEvent, SUBPROTOCOL};
use serde_json::json;

async fn post(addr: std::net::SocketAddr, room: &str, key: &str, text: &str, id: &str) -> HttpResponse {
    let body = json!({"text": text, "client_id": id}).to_string();
    let headers = format!("Content-Type: application/json\r\nAuthorization: Bearer {key}\r\n");
    http_request(addr, "POST", &format!("/api/rooms/{room}/messages"), &headers, &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_posts_by_http_and_over_a_websocket_until_its_key_is_revoked() {
    let data = tempfile::tempdir().expect("temp dir");
    let addr = free_addr();
    let _server = start_server(addr, data.path());
    wait_until_up(addr).await;
    let url = |path: &str| format!("ws://{addr}{path}");
    let (mut watcher, _) = connect(&url("/chat/ops?name=wat"), Some(SUBPROTOCOL)).await;

    let (ok, key) = admin(data.path(), &["bot-key", "deploybot"]).await;
    assert!(ok, "{key}");
    let key = key.trim().to_owned();

    // By HTTP: stored once however often it is sent, and seen live under the bot's name.
    let first = post(addr, "ops", &key, "build 41 is green", "b1").await;
    assert_eq!(first.status, 201, "{first:?}");
    assert_eq!(post(addr, "ops", &key, "build 41 is green", "b1").await.status, 200, "a resend");
    loop {
        if let ServerEvent::Message { author, text, .. } = next_event(&mut watcher).await {
            assert_eq!((author.as_str(), text.as_str()), ("deploybot", "build 41 is green"));
            break;
        }
    }

    // Over a WebSocket, with the key in the Authorization header: a member like any other.
    let auth = format!("Bearer {key}");
    let (mut bot, _) = connect_with(&url("/chat/ops"), Some(SUBPROTOCOL), &[("Authorization", &auth)]).await;
    match next_event(&mut bot).await {
        ServerEvent::Ready { you, .. } => assert_eq!(you.as_str(), "deploybot"),
        other => panic!("expected ready, got {other:?}"),
    }
    // The member list and the room's history, then quiet.
    while tokio::time::timeout(std::time::Duration::from_millis(300), next_message(&mut bot)).await.is_ok() {}
    say_json(&mut bot, "w1", "deploying build 41").await;
    // A bad key is refused, not taken for a guest.
    let (mut forged, _) =
        connect_with(&url("/chat/ops"), Some(SUBPROTOCOL), &[("Authorization", "Bearer not-a-key")]).await;
    let close = skip_to_close_within(&mut forged, PATIENCE).await;
    assert_eq!(u16::from(close.code), 1008, "{close:?}");

    // The bot's name is nobody else's, and nobody logs in to it.
    let (mut impostor, _) = connect(&url("/chat/ops?name=deploybot"), None).await;
    let close = skip_to_close_within(&mut impostor, PATIENCE).await;
    assert!(close.reason.contains("registered"), "{close:?}");
    let login = json!({"nickname": "deploybot", "password": "bot (no password)"}).to_string();
    let refused =
        http_request(addr, "POST", "/api/login", "Content-Type: application/json\r\n", &login).await;
    assert_eq!(refused.status, 401, "{refused:?}");
    // A person's account cannot be made a bot.
    let person = json!({"nickname": "olga", "password": "the password 1"}).to_string();
    let registered =
        http_request(addr, "POST", "/api/accounts", "Content-Type: application/json\r\n", &person).await;
    assert_eq!(registered.status, 201, "{registered:?}");
    let (ok, said) = admin(data.path(), &["bot-key", "olga"]).await;
    assert!(!ok && said.contains("registered already"), "{said}");
    let (ok, said) = admin(data.path(), &["bots"]).await;
    assert!(ok && said.trim() == "deploybot\t1 keys", "{said}");

    // Revoked: its connection is closed, and its key posts nothing more.
    let (ok, said) = admin(data.path(), &["bot-revoke", "deploybot"]).await;
    assert!(ok && said.contains("1 keys of deploybot revoked"), "{said}");
    let close = skip_to_close_within(&mut bot, PATIENCE).await;
    assert_eq!(u16::from(close.code), 1008, "{close:?}");
    let after = post(addr, "ops", &key, "still here?", "b2").await;
    assert_eq!(after.status, 403, "{after:?}");
    // A new key works; the old one stays dead.
    let (ok, fresh) = admin(data.path(), &["bot-key", "deploybot"]).await;
    assert!(ok, "{fresh}");
    assert_eq!(post(addr, "ops", fresh.trim(), "back", "b3").await.status, 201);
    assert_eq!(post(addr, "ops", &key, "me too", "b4").await.status, 403);
}

/// A bot is held to the message rates everyone is (the other tests here run without them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_posting_too_fast_is_told_when_to_try_again() {
    let server = spawn_server().await;
    wait_until_up(server.addr).await;
    let (ok, key) = admin(server.data_dir(), &["bot-key", "ratebot"]).await;
    assert!(ok, "{key}");
    let key = key.trim().to_owned();
    let addr = server.addr;
    // A burst past the session's allowance is told when to try again.
    let mut refused = None;
    for i in 0..40 {
        let answer = post(addr, "ops", &key, &format!("status {i}"), &format!("burst-{i}")).await;
        if answer.status == 429 {
            refused = Some(answer);
            break;
        }
        assert_eq!(answer.status, 201, "{answer:?}");
    }
    let refused = refused.expect("a burst of 40 is past the allowance");
    let wait = refused.header("retry-after").and_then(|s| s.parse::<u64>().ok());
    assert!(wait.is_some_and(|s| s >= 1), "{refused:?}");

    server.stop().await;
}
