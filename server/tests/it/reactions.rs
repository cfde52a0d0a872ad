//! Reactions through a real server, on SQLite and on PostgreSQL: live for everyone, toggled,
//! silent to plain clients, carried by resume, held by their message in history and across a
//! restart.

use crate::helpers::*;
use app::protocol::{ErrorCode, ServerEvent};
use app::reactions::Emoji;

/// The next event that is not presence.
async fn next_change(ws: &mut Ws) -> ServerEvent {
    loop {
        match next_event(ws).await {
            ServerEvent::Joined { .. } | ServerEvent::Left { .. } | ServerEvent::Typing { .. } => {}
            other => return other,
        }
    }
}

async fn react(ws: &mut Ws, target: u64, emoji: &str, on: bool) {
    let frame = serde_json::json!({"type": "react", "target": target, "emoji": emoji, "on": on});
    send_text(ws, &frame.to_string()).await;
}

/// The reaction event `ws` is shown next: `(id, target, emoji, on, by)`.
async fn next_reacted(ws: &mut Ws) -> (u64, u64, Emoji, bool, String) {
    match next_change(ws).await {
        ServerEvent::Reacted { id, target, emoji, on, by, .. } => (id, target, emoji, on, by.to_string()),
        other => panic!("expected a reaction, got {other:?}"),
    }
}

/// The reactions a newcomer is shown on the room's first message, as JSON.
async fn reactions_shown(server: &TestServer, room: &str) -> String {
    let (mut reader, _) = server.json(&format!("/chat/{room}?name=reader")).await;
    match next_change(&mut reader).await {
        ServerEvent::Message { id: 1, reactions, .. } => serde_json::to_string(&reactions).expect("json"),
        other => panic!("expected the first message, got {other:?}"),
    }
}

/// The scenario on a server configured by `configure` (its store), which a restart keeps.
async fn reactions_live_resume_and_outlast_a_restart(configure: impl Fn(&mut server::Config)) {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = server::Config::for_tests(data.path().to_path_buf());
    configure(&mut config);
    let server = spawn_with(config, data).await;
    let (mut ann, _) = server.json("/chat/reacts?name=ann").await;
    say_json(&mut ann, "a1", "lunch?").await;
    let (mut bob, _) = server.json("/chat/reacts?name=bob").await;
    assert!(matches!(next_change(&mut bob).await, ServerEvent::Message { id: 1, .. }));
    let mut old = server.plain("/chat/reacts?name=old").await;
    assert_eq!(next_text(&mut old).await, "ann:lunch?");
    let (away, ready) = server.json("/chat/reacts?name=cat").await;
    let ServerEvent::Ready { epoch, seq: 1, .. } = ready else { panic!("{ready:?}") };
    drop(away);

    react(&mut bob, 1, "👍", true).await;
    for ws in [&mut ann, &mut bob] {
        assert_eq!(next_reacted(ws).await, (2, 1, Emoji::ThumbsUp, true, "bob".into()));
    }
    // Twice is once: nothing is numbered, nothing is said.
    react(&mut bob, 1, "👍", true).await;
    react(&mut ann, 1, "🎉", true).await;
    for ws in [&mut ann, &mut bob] {
        assert_eq!(next_reacted(ws).await, (3, 1, Emoji::Party, true, "ann".into()));
    }
    react(&mut bob, 1, "👍", false).await;
    for ws in [&mut ann, &mut bob] {
        assert_eq!(next_reacted(ws).await, (4, 1, Emoji::ThumbsUp, false, "bob".into()));
    }
    react(&mut bob, 1, "❤️", true).await;
    for ws in [&mut ann, &mut bob] {
        assert_eq!(next_reacted(ws).await, (5, 1, Emoji::Heart, true, "bob".into()));
    }
    // Only the set, only on messages that are there.
    react(&mut bob, 1, "👎", true).await;
    assert!(matches!(next_change(&mut bob).await, ServerEvent::Error { code: ErrorCode::BadRequest, .. }));
    react(&mut bob, 99, "👍", true).await;
    assert!(matches!(next_change(&mut bob).await, ServerEvent::Error { code: ErrorCode::NotFound, .. }));
    // Plain clients are shown no line for any of it: the next thing they read is the next message.
    say_json(&mut ann, "a2", "noon then").await;
    let said = loop {
        let line = next_text(&mut old).await;
        if !(line.starts_with("Welcome, ") || line.ends_with(" Logout")) {
            break line;
        }
    };
    assert_eq!(said, "ann:noon then");

    // The client that was away resumes after message 1: it learns of each reaction, in order.
    let (mut cat, _) = server.json(&format!("/chat/reacts?name=cat&after=1&epoch={epoch}")).await;
    let resumed = [
        next_reacted(&mut cat).await,
        next_reacted(&mut cat).await,
        next_reacted(&mut cat).await,
        next_reacted(&mut cat).await,
    ];
    let ids: Vec<_> = resumed.iter().map(|r| (r.0, r.2, r.3)).collect();
    assert_eq!(
        ids,
        [
            (2, Emoji::ThumbsUp, true),
            (3, Emoji::Party, true),
            (4, Emoji::ThumbsUp, false),
            (5, Emoji::Heart, true)
        ]
    );
    drop((ann, bob, cat, old));

    let expected = r#"[{"emoji":"🎉","by":["ann"]},{"emoji":"❤️","by":["bob"]}]"#;
    assert_eq!(reactions_shown(&server, "reacts").await, expected, "a newcomer reads them as they stand");
    let (status, body) = http_get(server.addr, "/api/rooms/reacts/messages").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""reactions":[{"emoji":"🎉","by":["ann"]}"#), "{body}");
    let server = server.restart_with(configure).await;
    assert_eq!(reactions_shown(&server, "reacts").await, expected, "and after a restart");
    server.stop().await;
}

#[tokio::test]
async fn reactions_on_sqlite() {
    reactions_live_resume_and_outlast_a_restart(|config| unthrottled(&mut config.limits)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
async fn reactions_on_postgres() {
    let (url, _) = fresh_database().await;
    reactions_live_resume_and_outlast_a_restart(|config| {
        config.database_url = Some(url.clone());
        unthrottled(&mut config.limits);
    })
    .await;
}
