//! Replies through a real server, on SQLite and on PostgreSQL: the quote in the reply's own event
//! and in history, a readable form for plain clients, the quote following an edit and a deletion
//! of what it answers, through resume, the posting API and a restart.

use crate::helpers::*;
use app::protocol::ServerEvent;
use app::quote::Quote;

/// The next message event: `(id, text, reply)`.
async fn next_message(ws: &mut Ws) -> (u64, String, Option<Quote>) {
    loop {
        if let ServerEvent::Message { id, text, reply, .. } = next_event(ws).await {
            return (id, text.to_string(), reply);
        }
    }
}

async fn reply(ws: &mut Ws, id: &str, text: &str, to: u64) {
    let frame = serde_json::json!({"type": "send", "id": id, "text": text, "reply_to": to});
    send_text(ws, &frame.to_string()).await;
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

/// What a newcomer is shown of the room's replies: `(id, reply)` of every message.
async fn replies_shown(server: &TestServer, room: &str, count: usize) -> Vec<(u64, Option<Quote>)> {
    let (mut reader, _) = server.json(&format!("/chat/{room}?name=reader")).await;
    let mut shown = Vec::new();
    while shown.len() < count {
        let (id, _, reply) = next_message(&mut reader).await;
        shown.push((id, reply));
    }
    shown
}

fn quote(id: u64, author: &str, excerpt: &str) -> Option<Quote> {
    Some(Quote { id, author: Some(nick(author)), excerpt: excerpt.to_owned() })
}

fn nick(name: &str) -> app::names::Nickname {
    app::names::Nickname::parse(name).expect("a nickname")
}

async fn replies_quote_what_they_answer_as_it_is_now(configure: impl Fn(&mut server::Config)) {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = server::Config::for_tests(data.path().to_path_buf());
    configure(&mut config);
    let server = spawn_with(config, data).await;
    let token = session_token(server.addr, "ann").await;
    let (mut ann, _) = server.json(&format!("/chat/replies?token={token}")).await;
    say_json(&mut ann, "a1", "lunch at noon?\nor later").await;
    let (mut bob, _) = server.json("/chat/replies?name=bob").await;
    assert_eq!(next_message(&mut bob).await.0, 1);
    let mut old = server.plain("/chat/replies?name=old").await;
    assert_eq!(next_said(&mut old).await, "ann:lunch at noon?");
    assert_eq!(next_said(&mut old).await, "ann:or later");
    let (away, ready) = server.json("/chat/replies?name=cat").await;
    let ServerEvent::Ready { epoch, .. } = ready else { panic!("{ready:?}") };
    drop(away);

    reply(&mut bob, "b1", "noon works", 1).await;
    for ws in [&mut ann, &mut bob] {
        assert_eq!(
            next_message(ws).await,
            (2, "noon works".into(), quote(1, "ann", "lunch at noon? …")),
            "the reply carries its quote live"
        );
    }
    assert_eq!(
        next_said(&mut old).await,
        "bob:[↩ ann: lunch at noon? …] noon works",
        "plain clients read it"
    );
    // A number that is no message of the room: stored as a message that answers nothing.
    reply(&mut bob, "b2", "to nothing", 99).await;
    assert_eq!(next_message(&mut bob).await, (3, "to nothing".into(), None));
    // The posting API takes replies too.
    let posted = http_request(
        server.addr,
        "POST",
        "/api/rooms/replies/messages",
        &format!("Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"),
        r#"{"text":"from a program","reply_to":2}"#,
    )
    .await;
    let (status, body) = (posted.status, posted.body);
    assert_eq!(status, 201, "{body}");
    assert!(body.contains(r#""reply":{"id":2,"author":"bob","excerpt":"noon works"}"#), "{body}");
    assert_eq!(next_message(&mut bob).await.2, quote(2, "bob", "noon works"));

    // The answered message edited: the quote follows, in history and for a client that resumes.
    let edit = serde_json::json!({"type": "edit", "target": 1, "text": "lunch at one?"});
    send_text(&mut ann, &edit.to_string()).await;
    while !matches!(next_event(&mut ann).await, ServerEvent::Edited { .. }) {}
    let expected =
        vec![(1, None), (2, quote(1, "ann", "lunch at one?")), (3, None), (4, quote(2, "bob", "noon works"))];
    assert_eq!(replies_shown(&server, "replies", 4).await, expected);
    let (mut cat, _) = server.json(&format!("/chat/replies?name=cat&after=1&epoch={epoch}")).await;
    assert_eq!(next_message(&mut cat).await, (2, "noon works".into(), quote(1, "ann", "lunch at one?")));

    // Deleted: no reply says what it said any more.
    send_text(&mut ann, &serde_json::json!({"type": "delete", "target": 1}).to_string()).await;
    while !matches!(next_event(&mut ann).await, ServerEvent::Deleted { .. }) {}
    drop((ann, bob, cat, old));
    let server = server.restart_with(&configure).await;
    let shown = replies_shown(&server, "replies", 4).await;
    assert_eq!(shown[1], (2, Some(Quote::gone(1))), "and after a restart");
    let (_, body) = http_get(server.addr, "/api/rooms/replies/messages").await;
    assert!(!body.contains("lunch"), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn replies_on_sqlite() {
    replies_quote_what_they_answer_as_it_is_now(|config| unthrottled(&mut config.limits)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
async fn replies_on_postgres() {
    let (url, _) = fresh_database().await;
    replies_quote_what_they_answer_as_it_is_now(|config| {
        config.database_url = Some(url.clone());
        unthrottled(&mut config.limits);
    })
    .await;
}
