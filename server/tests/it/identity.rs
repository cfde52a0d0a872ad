//! Who a connection is: decided by the server from a signed session, never by a field the client
//! can edit; a nickname held by one person in a room cannot be taken by another.

use crate::helpers::*;
use app::protocol::{ErrorCode, ServerEvent};

#[tokio::test]
async fn a_session_token_or_cookie_decides_the_nickname() {
    let server = spawn_server().await;
    let token = session_token(server.addr, "alice").await;
    // The name in the URL is ignored when a session says otherwise.
    let (_ws, ready, _) = server.json_as(&format!("/chat/den?name=mallory&token={token}"), &[]).await;
    assert!(matches!(ready, ServerEvent::Ready { you, .. } if you.as_str() == "alice"));
    let cookie = format!("chat_session={token}");
    let (_ws, ready, members) = server.json_as("/chat/den?name=mallory", &[("Cookie", &cookie)]).await;
    assert!(matches!(ready, ServerEvent::Ready { you, .. } if you.as_str() == "alice"));
    assert_eq!(members, vec!["alice"], "two tabs of one session are one member");

    // A token edited to another name does not verify.
    let forged = token.replacen(&hex_of("alice"), &hex_of("bob"), 1);
    let mut ws = server.plain(&format!("/chat/den?token={forged}")).await;
    let close = expect_close(&mut ws).await;
    assert_eq!(u16::from(close.code), 1008);
    assert_eq!(close.reason.as_str(), "invalid session token");
    server.stop().await;
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_nickname_in_use_is_refused_to_anyone_else() {
    let server = spawn_server().await;
    let token = session_token(server.addr, "alice").await;
    let (mut alice, _, _) = server.json_as(&format!("/chat/den?token={token}"), &[]).await;
    let _ = next_event(&mut alice).await; // joined: alice

    // By URL (JSON and plain), by another case, or by asking for a session with that name.
    let (mut thief, _) = connect(&server.url("/chat/den?name=alice"), Some(app::protocol::SUBPROTOCOL)).await;
    match next_event(&mut thief).await {
        ServerEvent::Error { code: ErrorCode::NameTaken, message } => assert!(message.contains("alice")),
        other => panic!("expected name_taken, got {other:?}"),
    }
    let close = expect_close(&mut thief).await;
    assert_eq!(u16::from(close.code), 1008);
    assert_eq!(close.reason.as_str(), "the nickname alice is already in use in this room");
    let mut plain = server.plain("/chat/den?name=ALICE").await;
    assert_eq!(u16::from(expect_close(&mut plain).await.code), 1008);
    // Names a reader cannot tell from it are it: a Cyrillic а, full-width letters, a digit one.
    for lookalike in ["%D0%B0lice", "%EF%BD%81%EF%BD%8C%EF%BD%89%EF%BD%83%EF%BD%85", "a1ice"] {
        let mut plain = server.plain(&format!("/chat/den?name={lookalike}")).await;
        let close = expect_close(&mut plain).await;
        assert_eq!(u16::from(close.code), 1008, "{lookalike}");
        assert_eq!(close.reason.as_str(), "the nickname alice is already in use in this room");
    }
    let body = serde_json::json!({ "nickname": "alice", "room": "den" }).to_string();
    let refused =
        http_request(server.addr, "POST", "/api/session", "Content-Type: application/json\r\n", &body).await;
    assert_eq!(refused.status, 409);
    assert!(refused.body.contains("in use"), "{}", refused.body);

    // Alice saw none of it, and is still alone in the room.
    expect_silence(&mut alice).await;
    // In another room the name is free.
    let (_ws, ready) = server.json("/chat/elsewhere?name=alice").await;
    assert!(matches!(ready, ServerEvent::Ready { you, .. } if you.as_str() == "alice"));
    server.stop().await;
}

#[tokio::test]
async fn a_reload_is_not_a_leave_but_going_away_is() {
    let server = spawn_server().await;
    let (mut watcher, _) = server.json("/chat/den?name=watcher").await;
    let _ = next_event(&mut watcher).await; // joined: watcher
    let token = session_token(server.addr, "ann").await;
    let path = format!("/chat/den?token={token}");
    let (tab, _, _) = server.json_as(&path, &[]).await;
    assert!(
        matches!(next_event(&mut watcher).await, ServerEvent::Joined { name, .. } if name.as_str() == "ann")
    );
    // A reload: the connection drops and comes back within the grace period.
    drop(tab);
    let (tab, _, members) = server.json_as(&path, &[]).await;
    assert_eq!(members, vec!["ann", "watcher"]);
    expect_silence(&mut watcher).await;
    // A second tab, closed: ann stays.
    let (second, _, _) = server.json_as(&path, &[]).await;
    drop(second);
    expect_silence(&mut watcher).await;
    drop(tab);
    // The last tab gone: the leave follows after the grace period.
    assert!(
        matches!(next_event(&mut watcher).await, ServerEvent::Left { name, .. } if name.as_str() == "ann")
    );
    server.stop().await;
}

#[tokio::test]
async fn typing_is_shown_until_the_message_or_the_deadline() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = server::Config::for_tests(data.path().to_path_buf());
    config.limits.typing_ttl = std::time::Duration::from_millis(300);
    let server = spawn_with(config, data).await;
    let (mut ben, _) = server.json("/chat/den?name=ben").await;
    let _ = next_event(&mut ben).await;
    let (mut ann, _) = server.json("/chat/den?name=ann").await;
    let _ = next_event(&mut ann).await;
    let _ = next_event(&mut ben).await; // ann joined
    let typing = |names: &[&str]| {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        move |event: ServerEvent| match event {
            ServerEvent::Typing { names: got, .. } => {
                got.iter().map(|n| n.to_string()).collect::<Vec<_>>() == names
            }
            _ => false,
        }
    };
    send_text(&mut ann, r#"{"type":"typing"}"#).await;
    assert!(typing(&["ann"])(next_event(&mut ben).await));
    say_json(&mut ann, "a1", "hello").await;
    assert!(matches!(next_event(&mut ben).await, ServerEvent::Message { .. }));
    assert!(typing(&[])(next_event(&mut ben).await), "the message ends the typing");
    send_text(&mut ann, r#"{"type":"typing"}"#).await;
    assert!(typing(&["ann"])(next_event(&mut ben).await));
    let started = std::time::Instant::now();
    assert!(typing(&[])(next_event(&mut ben).await), "typing expires on the server");
    assert!(started.elapsed() >= std::time::Duration::from_millis(250));
    server.stop().await;
}

#[tokio::test]
async fn the_room_list_shows_members_and_activity() {
    let server = spawn_server().await;
    let (mut ann, _) = server.json("/chat/busy?name=ann").await;
    say_json(&mut ann, "a1", "hi").await;
    let (_quiet, _) = server.json("/chat/quiet?name=ben").await;
    let response = http_request(server.addr, "GET", "/api/rooms", "", "").await;
    assert_eq!(response.status, 200);
    let rooms: Vec<app::protocol::RoomSummary> = serde_json::from_str(&response.body).expect("json");
    let names: Vec<&str> = rooms.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["lobby", "busy", "quiet"]);
    assert_eq!((rooms[1].members, rooms[1].last_at.is_some()), (1, true));
    assert_eq!((rooms[2].members, rooms[2].last_at), (1, None));
    server.stop().await;
}

#[tokio::test]
async fn a_form_posts_without_javascript() {
    let server = spawn_server().await;
    let (mut reader, _) = server.json("/chat/den?name=reader").await;
    let _ = next_event(&mut reader).await;
    let form = "Content-Type: application/x-www-form-urlencoded\r\nAccept: text/html\r\n";
    let referer = format!("Referer: http://{}/r/den\r\n", server.addr);

    // No session: refused, back to the page with the reason.
    let response =
        http_request(server.addr, "POST", "/fn/post", &format!("{form}{referer}"), "room=den&text=hi").await;
    assert_eq!(response.status, 302);
    assert!(response.header("location").is_some_and(|l| l.contains("__err=")), "{response:?}");

    // Choose a nickname by form too: a cookie, and back to the page.
    let response =
        http_request(server.addr, "POST", "/fn/nickname", &format!("{form}{referer}"), "nickname=poster")
            .await;
    assert_eq!(response.status, 302, "{response:?}");
    let cookie = response.cookie().expect("a session cookie");
    assert!(response.header("set-cookie").is_some_and(|c| c.contains("HttpOnly")));
    let headers = format!("{form}{referer}Cookie: {cookie}\r\n");
    let response =
        http_request(server.addr, "POST", "/fn/post", &headers, "room=den&text=%3Cb%3Ehello%3C%2Fb%3E").await;
    assert_eq!(response.status, 302, "{response:?}");
    // Back to the page (server functions leave an empty query behind).
    let back = format!("http://{}/r/den", server.addr);
    assert!(response.header("location").is_some_and(|l| l.trim_end_matches('?') == back), "{response:?}");
    match next_event(&mut reader).await {
        ServerEvent::Message { author, text, .. } => {
            assert_eq!((author.as_str(), text.as_str()), ("poster", "<b>hello</b>"))
        }
        other => panic!("expected the posted message, got {other:?}"),
    }
    // The page it returns to shows it, as text.
    let page = http_request(server.addr, "GET", "/r/den", &format!("Cookie: {cookie}\r\n"), "").await;
    assert!(page.body.contains("&lt;b&gt;hello&lt;/b&gt;"), "{}", page.body);

    // Its form carries a fresh message id: the same form sent twice is stored once.
    let id = page
        .body
        .split(r#"name="id" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no message id in the form: {}", page.body))
        .to_owned();
    assert!(app::names::ClientId::parse(&id).is_ok(), "{id}");
    let again = http_request(server.addr, "GET", "/r/den", &format!("Cookie: {cookie}\r\n"), "").await;
    assert!(!again.body.contains(&id), "each rendering has its own id");
    for _ in 0..2 {
        let response =
            http_request(server.addr, "POST", "/fn/post", &headers, &format!("room=den&text=twice&id={id}"))
                .await;
        assert_eq!(response.status, 302, "{response:?}");
        assert!(!response.header("location").unwrap_or_default().contains("__err="), "{response:?}");
    }
    match next_event(&mut reader).await {
        ServerEvent::Message { text, .. } => assert_eq!(text.as_str(), "twice"),
        other => panic!("expected the posted message, got {other:?}"),
    }
    expect_silence(&mut reader).await;
    server.stop().await;
}
