//! Registered nicknames: only their owner's sessions may use one, whichever way they come in;
//! logging out, ending a session and changing the password end sessions everywhere, their open
//! connections included; guessing is rate limited and tells nothing.

use crate::helpers::*;
use app::protocol::{close, ServerEvent};
use std::net::SocketAddr;

const JSON: &str = "Content-Type: application/json\r\n";

/// `POST` of a JSON body, with extra header lines.
pub(crate) async fn post_json(
    addr: SocketAddr,
    path: &str,
    headers: &str,
    body: serde_json::Value,
) -> HttpResponse {
    http_request(addr, "POST", path, &format!("{JSON}{headers}"), &body.to_string()).await
}

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

/// Registers `nickname`; returns its token.
pub(crate) async fn register(addr: SocketAddr, nickname: &str, password: &str) -> String {
    let response =
        post_json(addr, "/api/accounts", "", serde_json::json!({"nickname": nickname, "password": password}))
            .await;
    assert_eq!(response.status, 201, "{response:?}");
    assert!(response.header("set-cookie").is_some_and(|c| c.contains("HttpOnly")), "{response:?}");
    token_of(&response)
}

fn token_of(response: &HttpResponse) -> String {
    let body: serde_json::Value = serde_json::from_str(&response.body).expect("JSON");
    body["token"].as_str().expect("a token").to_owned()
}

async fn log_in(addr: SocketAddr, nickname: &str, password: &str) -> HttpResponse {
    post_json(addr, "/api/login", "", serde_json::json!({"nickname": nickname, "password": password})).await
}

/// The close a connection refused after its handshake gets.
pub(crate) async fn refused(server: &TestServer, path: &str) -> (u16, String) {
    let mut ws = server.plain(path).await;
    let frame = expect_close(&mut ws).await;
    (u16::from(frame.code), frame.reason.to_string())
}

#[tokio::test]
async fn a_registered_nickname_is_its_owners_on_every_way_in() {
    let (server, _, tornado) = spawn_with_seed_004(|_| {}).await;
    let addr = server.addr;
    // A guest session for "ann", minted before anyone registered the name.
    let guest_token = session_token(addr, "ann").await;
    let owner = register(addr, "Ann", "correct horse battery").await;

    // The owner's session uses it, in either dialect.
    let (_ws, ready, _) = server.json_as(&format!("/chat/den?token={owner}"), &[]).await;
    assert!(matches!(ready, ServerEvent::Ready { ref you, .. } if you.as_str() == "Ann"), "{ready:?}");
    // Nobody else: a seed page's `?name=` (or a lookalike of it), the old guest token, the
    // Tornado listener, a new guest session, a form post with a guest cookie.
    for path in [
        "/chat/den?name=ann".to_owned(),
        "/chat/den?name=ANN".to_owned(),
        format!("/chat/den?token={guest_token}"),
    ] {
        let (code, reason) = refused(&server, &path).await;
        assert_eq!(code, close::POLICY, "{path}");
        assert!(reason.contains("registered: log in"), "{path}: {reason}");
    }
    let mut seed = connect(&format!("ws://{tornado}/chat?name=ann"), None).await.0;
    assert!(expect_close(&mut seed).await.reason.contains("registered"));
    let response = post_json(addr, "/api/session", "", serde_json::json!({"nickname": "ann"})).await;
    assert_eq!(response.status, 409, "{response:?}");
    assert!(response.body.contains("registered: log in"), "{}", response.body);
    let form = format!(
        "Content-Type: application/x-www-form-urlencoded\r\nAccept: text/html\r\nReferer: http://{addr}/r/den\r\nCookie: chat_session={guest_token}\r\n"
    );
    let response = http_request(addr, "POST", "/fn/post", &form, "room=den&text=hi").await;
    assert!(response.header("location").is_some_and(|l| l.contains("__err=")), "{response:?}");
    let response = http_request(addr, "POST", "/fn/nickname", &form, "nickname=ann").await;
    assert!(response.header("location").is_some_and(|l| l.contains("__err=")), "{response:?}");
    // A client of the JSON dialect is closed with the same reason.
    let (mut ws, _) = connect(&server.url("/chat/den?name=ann"), Some(app::protocol::SUBPROTOCOL)).await;
    assert!(expect_close(&mut ws).await.reason.contains("registered"));

    // Registering it again, or a lookalike, or a guest's name, is refused.
    for (nickname, status) in [("ann", 409), ("Аnn", 409), ("guest-0042", 400)] {
        let body = serde_json::json!({"nickname": nickname, "password": "another password"});
        let response = post_json(addr, "/api/accounts", "", body).await;
        assert_eq!(response.status, status, "{nickname}: {response:?}");
    }
    let body = serde_json::json!({"nickname": "bea", "password": "short"});
    assert_eq!(post_json(addr, "/api/accounts", "", body).await.status, 400, "a password too short");
    // Guests keep every other name.
    let (_ws, ready) = server.json("/chat/den?name=bob").await;
    assert!(matches!(ready, ServerEvent::Ready { ref you, .. } if you.as_str() == "bob"));
    server.stop().await;
}

#[tokio::test]
async fn logging_in_out_and_ending_sessions_reach_open_connections() {
    // In the lobby, which nobody owns: a new room would tell its creator that it is theirs.
    let server = spawn_with_limits(|limits| limits.logins_per_minute = 100).await;
    let addr = server.addr;
    let laptop = register(addr, "cy", "first password").await;

    // A wrong password and an unknown nickname read the same.
    let wrong = log_in(addr, "cy", "not the password").await;
    let unknown = log_in(addr, "nobody", "not the password").await;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert_eq!(wrong.body, unknown.body);

    let response = log_in(addr, "CY", "first password").await;
    assert_eq!(response.status, 200, "a lookalike of the nickname logs in to it: {response:?}");
    let phone = token_of(&response);
    assert_ne!(phone, laptop, "a new session");
    let listed = http_request(addr, "GET", "/api/sessions", &bearer(&laptop), "").await;
    let sessions: Vec<serde_json::Value> = serde_json::from_str(&listed.body).expect("JSON");
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(
        !listed.body.contains(&laptop) && !listed.body.contains(laptop.split('.').nth(1).unwrap()),
        "ids are not tokens"
    );

    // Logging out closes the session's connections, and its token names nobody any more.
    let (mut on_phone, _, _) = server.json_as(&format!("/chat/lobby?token={phone}"), &[]).await;
    let (mut on_laptop, _, members) = server.json_as(&format!("/chat/lobby?token={laptop}"), &[]).await;
    assert_eq!(members, vec!["cy"], "one person on two devices is one member");
    let response = http_request(addr, "POST", "/api/logout", &bearer(&phone), "").await;
    assert_eq!(response.status, 204, "{response:?}");
    assert!(response.header("set-cookie").is_some_and(|c| c.contains("Max-Age=0")));
    let frame = skip_to_close_within(&mut on_phone, PATIENCE).await;
    assert_eq!(
        (u16::from(frame.code), frame.reason.as_str()),
        (close::POLICY, "this session was logged out")
    );
    assert_eq!(refused(&server, &format!("/chat/lobby?token={phone}")).await.0, close::POLICY);
    assert_eq!(http_request(addr, "POST", "/api/logout", &bearer(&phone), "").await.status, 401);
    expect_silence(&mut on_laptop).await;

    // Ending a session from another one.
    let tablet = token_of(&log_in(addr, "cy", "first password").await);
    let (mut on_tablet, _, _) = server.json_as(&format!("/chat/lobby?token={tablet}"), &[]).await;
    let listed = http_request(addr, "GET", "/api/sessions", &bearer(&laptop), "").await;
    let sessions: Vec<serde_json::Value> = serde_json::from_str(&listed.body).expect("JSON");
    let other = sessions.iter().find(|s| s["current"] == false).expect("the tablet's");
    let path = format!("/api/sessions/{}", other["id"].as_str().unwrap());
    assert_eq!(http_request(addr, "DELETE", &path, &bearer(&laptop), "").await.status, 204);
    assert_eq!(http_request(addr, "DELETE", &path, &bearer(&laptop), "").await.status, 404);
    skip_to_close_within(&mut on_tablet, PATIENCE).await;

    // Changing the password ends every other session.
    let desktop = token_of(&log_in(addr, "cy", "first password").await);
    let (mut on_desktop, _, _) = server.json_as(&format!("/chat/lobby?token={desktop}"), &[]).await;
    let change = |current: &str, new: &str| serde_json::json!({"current": current, "new": new});
    let response =
        post_json(addr, "/api/password", &bearer(&laptop), change("wrong one", "second password")).await;
    assert_eq!(response.status, 401);
    let response =
        post_json(addr, "/api/password", &bearer(&laptop), change("first password", "second password")).await;
    assert_eq!(response.status, 204, "{response:?}");
    skip_to_close_within(&mut on_desktop, PATIENCE).await;
    expect_silence(&mut on_laptop).await;
    assert_eq!(log_in(addr, "cy", "first password").await.status, 401);
    assert_eq!(log_in(addr, "cy", "second password").await.status, 200);
    // Sending still works for the session that stayed.
    assert!(say_json(&mut on_laptop, "m1", "still here").await > 0);
    server.stop().await;
}

#[tokio::test]
async fn guessing_passwords_is_limited_per_address_and_per_nickname() {
    let server = spawn_with_limits(|limits| {
        limits.logins_per_minute = 3;
        limits.registrations_per_hour = 2;
    })
    .await;
    let addr = server.addr;
    register(addr, "dee", "the password").await;
    for _ in 0..3 {
        assert_eq!(log_in(addr, "dee", "a guess at it").await.status, 401);
    }
    let response = log_in(addr, "dee", "the password").await;
    assert_eq!(response.status, 429, "even the right password waits: {response:?}");
    assert!(response.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)));
    // Registering: the second registration from the address passes, the third waits.
    register(addr, "eve", "the password").await;
    let body = serde_json::json!({"nickname": "fay", "password": "the password"});
    assert_eq!(post_json(addr, "/api/accounts", "", body).await.status, 429);
    server.stop().await;
}

#[tokio::test]
async fn accounts_survive_a_restart() {
    let server = spawn_server().await;
    let token = register(server.addr, "gus", "the password").await;
    let server = server.restart().await;
    let (_ws, ready, _) = server.json_as(&format!("/chat/den?token={token}"), &[]).await;
    assert!(matches!(ready, ServerEvent::Ready { ref you, .. } if you.as_str() == "gus"));
    assert_eq!(refused(&server, "/chat/den?name=gus").await.0, close::POLICY);
    assert_eq!(log_in(server.addr, "gus", "the password").await.status, 200);
    server.stop().await;
}
