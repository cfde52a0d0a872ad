//! Rooms run by people: the creator owns a room, the owner names moderators, moderators delete,
//! kick, time out, ban and slow the room down, and every rule holds on every way in.

use crate::accounts::{post_json, refused, register};
use crate::helpers::*;
use app::protocol::{Action, AuditEntry, AuditPage, Audited, ErrorCode, Role, ServerEvent};
use serde_json::json;
use std::net::SocketAddr;

/// The next event that is not presence or typing.
async fn next_news(ws: &mut Ws) -> ServerEvent {
    loop {
        match next_event(ws).await {
            ServerEvent::Joined { .. } | ServerEvent::Left { .. } | ServerEvent::Typing { .. } => {}
            other => return other,
        }
    }
}

async fn moderate(ws: &mut Ws, action: serde_json::Value) {
    send_text(ws, &json!({"type": "moderate", "action": action}).to_string()).await;
}

/// Reads until a `moderated` event, and the `rules` that follow it if `rules`.
async fn expect_moderated(ws: &mut Ws) -> (String, Action) {
    loop {
        match next_news(ws).await {
            ServerEvent::Moderated { by, action, .. } => return (by.to_string(), action),
            ServerEvent::Rules { .. }
            | ServerEvent::Message { .. }
            | ServerEvent::Deleted { .. }
            | ServerEvent::Ack { .. } => {}
            other => panic!("expected an action, got {other:?}"),
        }
    }
}

async fn expect_error(ws: &mut Ws) -> (ErrorCode, String) {
    loop {
        match next_news(ws).await {
            ServerEvent::Error { code, message } => return (code, message),
            ServerEvent::Rules { .. }
            | ServerEvent::Moderated { .. }
            | ServerEvent::Message { .. }
            | ServerEvent::Deleted { .. }
            | ServerEvent::Ack { .. } => {}
            other => panic!("expected an error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_owner_names_moderators_who_act_and_every_sanction_holds() {
    let server = spawn_unthrottled().await;
    let addr = server.addr;
    let olga = register(addr, "olga", "the password 1").await;
    let mo = register(addr, "mo", "the password 2").await;
    let max = register(addr, "max", "the password 3").await;

    // The first registered person in a new room owns it.
    let (mut owner, _, _) = server.json_as(&format!("/chat/club?token={olga}"), &[]).await;
    assert_eq!(
        expect_moderated(&mut owner).await,
        ("olga".into(), Action::Role { name: nick("olga"), role: Role::Owner })
    );
    moderate(&mut owner, json!({"kind": "role", "name": "mo", "role": "moderator"})).await;
    expect_moderated(&mut owner).await;

    let (mut moderator, _, _) = server.json_as(&format!("/chat/club?token={mo}"), &[]).await;
    match next_news(&mut moderator).await {
        ServerEvent::Rules { rules, .. } => {
            assert_eq!(rules.owner, Some(nick("olga")));
            assert_eq!(rules.moderators, vec![nick("mo")]);
        }
        other => panic!("expected the rules, got {other:?}"),
    }
    let (mut member, _, _) = server.json_as(&format!("/chat/club?token={max}"), &[]).await;
    let (mut guest, _) = server.json("/chat/club?name=gus").await;
    let mut plain = server.plain("/chat/club?name=pat").await;

    // A member may not act; a moderator may not act on the owner.
    moderate(&mut member, json!({"kind": "kick", "name": "gus"})).await;
    assert_eq!(expect_error(&mut member).await.0, ErrorCode::Forbidden);
    moderate(&mut moderator, json!({"kind": "kick", "name": "olga"})).await;
    assert_eq!(expect_error(&mut moderator).await.0, ErrorCode::Forbidden);
    moderate(&mut moderator, json!({"kind": "role", "name": "max", "role": "moderator"})).await;
    assert_eq!(expect_error(&mut moderator).await.0, ErrorCode::Forbidden, "only the owner names moderators");

    // A moderator deletes anyone's message.
    let spam = say_json(&mut guest, "g1", "spam").await;
    send_text(&mut moderator, &json!({"type": "delete", "target": spam}).to_string()).await;
    loop {
        if let ServerEvent::Deleted { target, by, .. } = next_news(&mut guest).await {
            assert_eq!((target, by.as_str()), (spam, "mo"));
            break;
        }
    }

    // A timeout: the guest is told why and until when, on the WebSocket; a plain client is closed.
    moderate(
        &mut moderator,
        json!({"kind": "timeout", "name": "gus", "seconds": 600, "reason": "calm down"}),
    )
    .await;
    while !matches!(expect_moderated(&mut guest).await.1, Action::Timeout { .. }) {}
    send_text(&mut guest, &json!({"type": "send", "id": "g2", "text": "again"}).to_string()).await;
    let (code, why) = expect_error(&mut guest).await;
    assert_eq!(code, ErrorCode::TimedOut);
    assert!(why.contains("timed out") && why.contains("until") && why.contains("calm down"), "{why}");
    moderate(&mut moderator, json!({"kind": "timeout", "name": "pat", "seconds": 60})).await;
    while !matches!(expect_moderated(&mut moderator).await.1, Action::Timeout { ref name, .. } if name.as_str() == "pat")
    {
    }
    send_text(&mut plain, "still talking").await;
    let close = skip_to_close_within(&mut plain, PATIENCE).await;
    assert!(close.reason.contains("timed out"), "{close:?}");

    // The page's form without JavaScript is held to the same timeout.
    let tim = session_token(addr, "tim").await;
    let (_tim_ws, _, _) = server.json_as(&format!("/chat/club?token={tim}"), &[]).await;
    moderate(&mut moderator, json!({"kind": "timeout", "name": "tim", "seconds": 60, "reason": "hush"}))
        .await;
    while !matches!(expect_moderated(&mut moderator).await.1, Action::Timeout { ref name, .. } if name.as_str() == "tim")
    {
    }
    let error = form_post(addr, "club", &tim, "sneaky").await.expect("refused");
    assert!(error.contains("You are timed out in #club until") && error.ends_with(": hush."), "{error}");

    // A kick puts a member out; they may come back.
    moderate(&mut moderator, json!({"kind": "kick", "name": "max", "reason": "off topic"})).await;
    let close = skip_to_close_within(&mut member, PATIENCE).await;
    assert_eq!(u16::from(close.code), 1008);
    let (mut member, _, _) = server.json_as(&format!("/chat/club?token={max}"), &[]).await;

    // A ban puts the guest out and keeps its address out, whatever the name; a pardon lifts it.
    moderate(&mut moderator, json!({"kind": "ban", "name": "gus", "reason": "spam"})).await;
    let close = skip_to_close_within(&mut guest, PATIENCE).await;
    assert!(close.reason.contains("banned") && close.reason.contains("for good"), "{close:?}");
    let (code, why) = refused(&server, "/chat/club?name=gus2").await;
    assert_eq!(code, 1008);
    assert!(why.contains("banned from #club"), "{why}");
    let (mut again, _, _) = server.json_as(&format!("/chat/club?token={mo}"), &[]).await;
    drop(again.close(None).await);
    moderate(&mut moderator, json!({"kind": "pardon", "name": "gus"})).await;
    while !matches!(expect_moderated(&mut moderator).await.1, Action::Pardon { .. }) {}
    let (_back, _) = server.json("/chat/club?name=gus2").await;

    // Slow mode holds members (not moderators) to one message per period.
    moderate(&mut moderator, json!({"kind": "slow_mode", "seconds": 30})).await;
    while !matches!(expect_moderated(&mut member).await.1, Action::SlowMode { .. }) {}
    say_json(&mut member, "m1", "first").await;
    send_text(&mut member, &json!({"type": "send", "id": "m2", "text": "second"}).to_string()).await;
    let (code, why) = expect_error(&mut member).await;
    assert_eq!(code, ErrorCode::RateLimited);
    assert!(why.contains("Slow mode"), "{why}");
    for id in ["d1", "d2"] {
        send_text(&mut moderator, &json!({"type": "send", "id": id, "text": "quick"}).to_string()).await;
        loop {
            match next_news(&mut moderator).await {
                ServerEvent::Ack { client_id, .. } if client_id.as_str() == id => break,
                ServerEvent::Error { message, .. } => panic!("a moderator is not slowed down: {message}"),
                _ => {}
            }
        }
    }

    // The owner hands the room over; the log keeps every action (the audit).
    moderate(&mut owner, json!({"kind": "role", "name": "mo", "role": "owner"})).await;
    let (reader, _) = server.json("/chat/club?name=auditor&after=0&epoch=0").await;
    drop(reader);
    let (mut reader, _) = server.json("/chat/club?name=auditor2&after=0&epoch=0").await;
    let mut actions = Vec::new();
    while actions.len() < 10 {
        if let ServerEvent::Moderated { by, action, .. } = next_news(&mut reader).await {
            actions.push(action.describe(&by));
        }
    }
    assert_eq!(actions[0], "olga created the room");
    assert_eq!(actions[9], "olga handed the room over to mo");
    assert!(actions.iter().any(|a| a == "mo timed gus out for 10 minutes: calm down"), "{actions:?}");
    server.stop().await;
}

/// Posts `text` to `room` as the page's form does without JavaScript, with the session of
/// `token`: the error the page would show, if any.
async fn form_post(addr: SocketAddr, room: &str, token: &str, text: &str) -> Option<String> {
    let form = format!(
        "Content-Type: application/x-www-form-urlencoded\r\nAccept: text/html\r\nReferer: http://{addr}/r/{room}\r\nCookie: chat_session={token}\r\n"
    );
    let response = http_request(addr, "POST", "/fn/post", &form, &format!("room={room}&text={text}")).await;
    assert_eq!(response.status, 302, "{response:?}");
    let back = response.header("location").unwrap_or_default().to_owned();
    // The page shows the server function's error, which it carries base64-encoded.
    let error = back.split("__err=").nth(1)?.replace("%3D", "=");
    let error =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE, &error).unwrap_or_default();
    Some(String::from_utf8_lossy(&error).into_owned())
}

/// Posts to `room` by the JSON API with the session of `token` (none for `""`).
async fn api_post(addr: SocketAddr, room: &str, token: &str, body: serde_json::Value) -> HttpResponse {
    let auth = if token.is_empty() { String::new() } else { format!("Authorization: Bearer {token}\r\n") };
    post_json(addr, &format!("/api/rooms/{room}/messages"), &auth, body).await
}

/// Reads `room`'s audit with the header lines `auth`.
async fn audit(addr: SocketAddr, room: &str, query: &str, auth: &str) -> HttpResponse {
    http_request(addr, "GET", &format!("/api/rooms/{room}/audit{query}"), auth, "").await
}

#[tokio::test]
async fn the_json_api_and_the_form_are_held_to_every_rule() {
    let server = spawn_unthrottled().await;
    let addr = server.addr;
    let olga = register(addr, "olga", "the password 1").await;
    let (mut owner, _, _) = server.json_as(&format!("/chat/club?token={olga}"), &[]).await;
    expect_moderated(&mut owner).await;

    // A post by the API is stored once, however often it is sent, and reaches the room live.
    let gus = session_token(addr, "gus").await;
    let hello = json!({"text": "hello by api", "client_id": "a1"});
    let first = api_post(addr, "club", &gus, hello.clone()).await;
    assert_eq!(first.status, 201, "{first:?}");
    let stored: ServerEvent = serde_json::from_str(&first.body).expect("a message");
    let ServerEvent::Message { id, ref author, .. } = stored else { panic!("{stored:?}") };
    assert_eq!(author.as_str(), "gus");
    let again = api_post(addr, "club", &gus, hello).await;
    assert_eq!(again.status, 200, "a resend stores nothing: {again:?}");
    assert!(
        matches!(serde_json::from_str(&again.body), Ok(ServerEvent::Message { id: same, .. }) if same == id)
    );
    loop {
        match next_news(&mut owner).await {
            ServerEvent::Rules { .. } => {}
            ServerEvent::Message { id: live, text, .. } => {
                break assert_eq!((live, text.as_str()), (id, "hello by api"));
            }
            other => panic!("expected the message, got {other:?}"),
        }
    }

    // Requests that cannot be taken are told why.
    assert_eq!(api_post(addr, "club", "", json!({"text": "who am I"})).await.status, 401);
    assert_eq!(api_post(addr, "club", &gus, json!({"text": ""})).await.status, 400);
    assert_eq!(api_post(addr, "no room!", &gus, json!({"text": "x"})).await.status, 400);
    let form = http_request(
        addr,
        "POST",
        "/api/rooms/club/messages",
        &format!("Authorization: Bearer {gus}\r\n"),
        "text=x",
    )
    .await;
    assert_eq!(form.status, 415, "{form:?}");

    // The operator's name is nobody's to take.
    let operator = http_request(
        addr,
        "POST",
        "/api/session",
        "Content-Type: application/json\r\n",
        r#"{"nickname":"0perator"}"#,
    )
    .await;
    assert_eq!(operator.status, 409, "{operator:?}");
    assert!(operator.body.contains("operator's"), "{operator:?}");
    let taken =
        post_json(addr, "/api/accounts", "", json!({"nickname": "Operator", "password": "the password 9"}))
            .await;
    assert_eq!(taken.status, 400, "{taken:?}");
    let (code, why) = refused(&server, "/chat/club?name=operator").await;
    assert_eq!((code, why.contains("operator's")), (1008, true), "{why}");

    // A timeout holds on the API, with its reason and end.
    moderate(&mut owner, json!({"kind": "timeout", "name": "gus", "seconds": 600, "reason": "breathe"}))
        .await;
    while !matches!(expect_moderated(&mut owner).await.1, Action::Timeout { .. }) {}
    let held = api_post(addr, "club", &gus, json!({"text": "sneaky"})).await;
    assert_eq!(held.status, 403, "{held:?}");
    assert!(held.body.contains("timed out in #club until") && held.body.contains("breathe"), "{held:?}");

    // Slow mode holds on the API (with the wait) and on the form alike.
    moderate(&mut owner, json!({"kind": "slow_mode", "seconds": 30})).await;
    while !matches!(expect_moderated(&mut owner).await.1, Action::SlowMode { .. }) {}
    let sam = session_token(addr, "sam").await;
    assert_eq!(api_post(addr, "club", &sam, json!({"text": "one"})).await.status, 201);
    let slowed = api_post(addr, "club", &sam, json!({"text": "two"})).await;
    assert_eq!(slowed.status, 429, "{slowed:?}");
    assert!(slowed.body.contains("Slow mode"), "{slowed:?}");
    let wait: u64 = slowed.header("retry-after").and_then(|w| w.parse().ok()).expect("Retry-After");
    assert!((1..=30).contains(&wait), "{wait}");
    let fay = session_token(addr, "fay").await;
    assert_eq!(form_post(addr, "club", &fay, "first").await, None);
    let error = form_post(addr, "club", &fay, "second").await.expect("slowed down");
    assert!(error.contains("Slow mode: one message every 30 s in #club"), "{error}");
    assert_eq!(api_post(addr, "club", &olga, json!({"text": "owners are not slowed"})).await.status, 201);
    assert_eq!(api_post(addr, "club", &olga, json!({"text": "nor twice"})).await.status, 201);

    // A ban holds on the API.
    moderate(&mut owner, json!({"kind": "ban", "name": "sam", "reason": "spam"})).await;
    while !matches!(expect_moderated(&mut owner).await.1, Action::Ban { .. }) {}
    let banned = api_post(addr, "club", &sam, json!({"text": "let me in"})).await;
    assert_eq!(banned.status, 403, "{banned:?}");
    assert!(banned.body.contains("banned from #club"), "{banned:?}");
    server.stop().await;
}

#[tokio::test]
async fn an_account_is_banned_on_every_device_and_those_who_run_the_room_read_the_audit() {
    let server = spawn_unthrottled().await;
    let addr = server.addr;
    let olga = register(addr, "olga", "the password 1").await;
    let mo = register(addr, "mo", "the password 2").await;
    let max = register(addr, "max", "the password 3").await;
    let (mut owner, _, _) = server.json_as(&format!("/chat/den?token={olga}"), &[]).await;
    expect_moderated(&mut owner).await;
    moderate(&mut owner, json!({"kind": "role", "name": "mo", "role": "moderator"})).await;
    expect_moderated(&mut owner).await;

    // Max is not here: the ban is by account alone, and holds on any device of it.
    moderate(&mut owner, json!({"kind": "ban", "name": "max", "seconds": 3600, "reason": "trolling"})).await;
    while !matches!(expect_moderated(&mut owner).await.1, Action::Ban { .. }) {}
    let (code, why) = refused(&server, &format!("/chat/den?token={max}")).await;
    assert_eq!(code, 1008);
    assert!(why.contains("banned from #den until") && why.contains("trolling"), "{why}");
    let login =
        post_json(addr, "/api/login", "", json!({"nickname": "max", "password": "the password 3"})).await;
    let phone: serde_json::Value = serde_json::from_str(&login.body).expect("JSON");
    let phone = phone["token"].as_str().expect("a token");
    let (code, _) = refused(&server, &format!("/chat/den?token={phone}")).await;
    assert_eq!(code, 1008, "the account's other device is banned too");
    assert_eq!(api_post(addr, "den", phone, json!({"text": "hi"})).await.status, 403);
    // Not by address: a guest from the same one comes in.
    let (mut guest, _) = server.json("/chat/den?name=gus").await;

    // A deletion by a moderator is an action too.
    let spam = say_json(&mut guest, "g1", "spam").await;
    let (mut moderator, _, _) = server.json_as(&format!("/chat/den?token={mo}"), &[]).await;
    send_text(&mut moderator, &json!({"type": "delete", "target": spam}).to_string()).await;
    while !matches!(next_news(&mut owner).await, ServerEvent::Deleted { .. }) {}

    // The owner and moderators read the audit, newest first, a page at a time; nobody else does.
    let read = audit(addr, "den", "", &format!("Authorization: Bearer {olga}\r\n")).await;
    assert_eq!(read.status, 200, "{read:?}");
    let page: AuditPage = serde_json::from_str(&read.body).expect("an audit page");
    let said: Vec<_> = page.entries.iter().map(AuditEntry::describe).collect();
    assert_eq!(
        said,
        [
            format!("mo deleted message {spam}"),
            "olga banned max for 1 hour: trolling".to_owned(),
            "olga made mo a moderator".to_owned(),
            "olga created the room".to_owned(),
        ]
    );
    assert!(!page.more);
    let first = audit(addr, "den", "?limit=1", &format!("Cookie: chat_session={mo}\r\n")).await;
    let first: AuditPage = serde_json::from_str(&first.body).expect("an audit page");
    assert_eq!((first.entries.len(), first.more), (1, true));
    let before = first.entries[0].seq;
    let rest =
        audit(addr, "den", &format!("?before={before}&limit=2"), &format!("Cookie: chat_session={mo}\r\n"))
            .await;
    let rest: AuditPage = serde_json::from_str(&rest.body).expect("an audit page");
    assert_eq!(rest.entries.iter().map(AuditEntry::describe).collect::<Vec<_>>(), said[1..3]);
    assert!(rest.more);
    assert!(matches!(
        &rest.entries[0].what,
        Audited::Moderated { action: Action::Ban { seconds: Some(3600), .. } }
    ));
    let gus = session_token(addr, "gus2").await;
    assert_eq!(audit(addr, "den", "", &format!("Authorization: Bearer {gus}\r\n")).await.status, 403);
    assert_eq!(audit(addr, "den", "", &format!("Authorization: Bearer {max}\r\n")).await.status, 403);
    assert_eq!(audit(addr, "den", "", "").await.status, 401);
    server.stop().await;
}

fn nick(name: &str) -> app::names::Nickname {
    app::names::Nickname::parse(name).expect("a nickname")
}
