//! Edits and deletions: live in both dialects, refused to whoever may not make them, carried by
//! resume, and kept in history across a restart.

use crate::helpers::*;
use app::protocol::{ErrorCode, ServerEvent};

/// The next event that is not presence.
async fn next_change(ws: &mut Ws) -> ServerEvent {
    loop {
        match next_event(ws).await {
            ServerEvent::Joined { .. } | ServerEvent::Left { .. } | ServerEvent::Typing { .. } => {}
            other => return other,
        }
    }
}

async fn edit(ws: &mut Ws, target: u64, text: &str) {
    send_text(ws, &serde_json::json!({"type": "edit", "target": target, "text": text}).to_string()).await;
}

async fn delete(ws: &mut Ws, target: u64) {
    send_text(ws, &serde_json::json!({"type": "delete", "target": target}).to_string()).await;
}

/// The next line of the plain dialect that is not presence.
async fn next_said(ws: &mut Ws) -> String {
    loop {
        let line = next_text(ws).await;
        if !(line.starts_with("Welcome, ") || line.ends_with(" Logout")) {
            return line;
        }
    }
}

/// What a newcomer is shown of the room: each message as it reads now.
async fn history(server: &TestServer, room: &str, count: usize) -> Vec<(u64, String, bool, bool)> {
    let (mut reader, _) = server.json(&format!("/chat/{room}?name=reader")).await;
    let mut shown = Vec::new();
    while shown.len() < count {
        if let ServerEvent::Message { id, text, edited, deleted, .. } = next_change(&mut reader).await {
            shown.push((id, text.to_string(), edited.is_some(), deleted));
        }
    }
    shown
}

#[tokio::test]
async fn authors_edit_and_delete_live_in_both_dialects_and_a_client_that_was_away_learns_of_it() {
    let server = spawn_unthrottled().await;
    let (mut ann, _) = server.json("/chat/edits?name=ann").await;
    for (i, text) in ["first", "second", "third"].iter().enumerate() {
        say_json(&mut ann, &format!("a{i}"), text).await;
    }
    let (mut bob, _) = server.json("/chat/edits?name=bob").await;
    for _ in 0..3 {
        assert!(matches!(next_change(&mut bob).await, ServerEvent::Message { .. }), "history");
    }
    let mut old = server.plain("/chat/edits?name=old").await;
    for text in ["ann:first", "ann:second", "ann:third", "Welcome, old !"] {
        assert_eq!(next_text(&mut old).await, text);
    }
    let (away, ready) = server.json("/chat/edits?name=cat").await;
    let ServerEvent::Ready { epoch, seq: 3, .. } = ready else { panic!("{ready:?}") };
    drop(away);

    edit(&mut ann, 1, "first, fixed").await;
    for ws in [&mut ann, &mut bob] {
        match next_change(ws).await {
            ServerEvent::Edited { id: 4, target: 1, text, by, .. } => {
                assert_eq!((text.as_str(), by.as_str()), ("first, fixed", "ann"))
            }
            other => panic!("expected the edit, got {other:?}"),
        }
    }
    assert_eq!(next_said(&mut old).await, "ann:* first, fixed", "plain clients read a correction");

    // Nobody else may change ann's messages.
    for request in [
        serde_json::json!({"type": "edit", "target": 1, "text": "mine now"}),
        serde_json::json!({"type": "delete", "target": 1}),
    ] {
        send_text(&mut bob, &request.to_string()).await;
        assert!(matches!(next_change(&mut bob).await, ServerEvent::Error { code: ErrorCode::Forbidden, .. }));
    }
    delete(&mut bob, 99).await;
    assert!(matches!(next_change(&mut bob).await, ServerEvent::Error { code: ErrorCode::NotFound, .. }));

    delete(&mut ann, 2).await;
    for ws in [&mut ann, &mut bob] {
        assert!(matches!(next_change(ws).await, ServerEvent::Deleted { id: 5, target: 2, .. }));
    }
    delete(&mut ann, 2).await;
    assert!(matches!(next_change(&mut ann).await, ServerEvent::Error { code: ErrorCode::NotFound, .. }));
    // A deletion has no plain line; the plain client goes on with the next message.
    say_json(&mut ann, "a4", "fourth").await;
    assert_eq!(next_said(&mut old).await, "ann:fourth");

    // The client that was away resumes after message 3: it learns of the edit and the deletion.
    let (mut cat, _) = server.json(&format!("/chat/edits?name=cat&after=3&epoch={epoch}")).await;
    assert!(matches!(next_change(&mut cat).await, ServerEvent::Edited { id: 4, target: 1, .. }));
    assert!(matches!(next_change(&mut cat).await, ServerEvent::Deleted { id: 5, target: 2, .. }));
    assert!(matches!(next_change(&mut cat).await, ServerEvent::Message { id: 6, .. }));

    // A newcomer, and the history API, read each message as it is now.
    let expected = vec![
        (1, "first, fixed".to_owned(), true, false),
        (2, "message deleted".to_owned(), false, true),
        (3, "third".to_owned(), false, false),
        (6, "fourth".to_owned(), false, false),
    ];
    assert_eq!(history(&server, "edits", 4).await, expected);
    let (status, body) = http_get(server.addr, "/api/rooms/edits/messages").await;
    assert_eq!(status, 200);
    let page: app::protocol::HistoryPage = serde_json::from_str(&body).expect("a page");
    let ids: Vec<_> = page
        .messages
        .iter()
        .filter_map(|m| match m {
            ServerEvent::Message { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(ids, [1, 2, 3, 6]);
    assert!(!body.contains("\"second\""), "a deleted text is gone: {body}");
    // A plain newcomer's history leaves the deleted message out.
    let mut late = server.plain("/chat/edits?name=late").await;
    for text in ["ann:first, fixed", "ann:third", "ann:fourth", "Welcome, late !"] {
        assert_eq!(next_text(&mut late).await, text);
    }
    server.stop().await;
}

#[tokio::test]
async fn edits_and_deletions_outlast_a_restart_and_the_author_keeps_their_messages() {
    let server = spawn_unthrottled().await;
    let token = session_token(server.addr, "ann").await;
    let (mut ann, _, _) = server.json_as(&format!("/chat/kept?token={token}"), &[]).await;
    for (i, text) in ["one", "two", "three"].iter().enumerate() {
        say_json(&mut ann, &format!("k{i}"), text).await;
    }
    edit(&mut ann, 1, "one, edited").await;
    assert!(matches!(next_change(&mut ann).await, ServerEvent::Edited { .. }));
    drop(ann);

    let server = server.restart().await;
    // The same session after the restart: still the author of its messages.
    let (mut ann, _, _) = server.json_as(&format!("/chat/kept?token={token}"), &[]).await;
    for _ in 0..3 {
        assert!(matches!(next_change(&mut ann).await, ServerEvent::Message { .. }));
    }
    delete(&mut ann, 3).await;
    let deleted = next_change(&mut ann).await;
    assert!(matches!(deleted, ServerEvent::Deleted { target: 3, .. }), "{deleted:?}");
    let expected = vec![
        (1, "one, edited".to_owned(), true, false),
        (2, "two".to_owned(), false, false),
        (3, "message deleted".to_owned(), false, true),
    ];
    assert_eq!(history(&server, "kept", 3).await, expected);
    server.stop().await;
}
