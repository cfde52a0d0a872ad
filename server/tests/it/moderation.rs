//! Rooms run by people: the creator owns a room, the owner names moderators, moderators delete,
//! kick, time out, ban and slow the room down, and every rule holds on every way in.

use crate::accounts::{refused, register};
use crate::helpers::*;
use app::protocol::{Action, ErrorCode, Role, ServerEvent};
use serde_json::json;

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
    let form = format!(
        "Content-Type: application/x-www-form-urlencoded\r\nAccept: text/html\r\nReferer: http://{addr}/r/club\r\nCookie: chat_session={tim}\r\n"
    );
    let response = http_request(addr, "POST", "/fn/post", &form, "room=club&text=sneaky").await;
    assert_eq!(response.status, 302, "{response:?}");
    let back = response.header("location").unwrap_or_default().to_owned();
    // The page shows the server function's error, which it carries base64-encoded.
    let error = back.split("__err=").nth(1).map(|e| e.replace("%3D", "=")).unwrap_or_default();
    let error =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE, &error).unwrap_or_default();
    let error = String::from_utf8_lossy(&error);
    assert!(
        error.contains("You are timed out in #club until") && error.ends_with(": hush."),
        "{back}: {error}"
    );

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

fn nick(name: &str) -> app::names::Nickname {
    app::names::Nickname::parse(name).expect("a nickname")
}
