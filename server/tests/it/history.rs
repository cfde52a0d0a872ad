//! Durable history: what a client gets on join, resuming after a gap, resends, restarts.

use crate::helpers::*;
use app::protocol::ServerEvent;

fn ids(events: &[ServerEvent]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Message { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

/// Reads events until `n` messages have arrived; returns every event read.
async fn messages(ws: &mut Ws, n: usize) -> Vec<ServerEvent> {
    let mut events = Vec::new();
    while ids(&events).len() < n {
        events.push(next_event(ws).await);
    }
    events
}

#[tokio::test]
async fn joining_clients_get_the_recent_history_then_live_messages() {
    let server = spawn_server().await;
    let (mut ann, _) = server.json("/chat/h?name=ann").await;
    next_event(&mut ann).await; // joined
    for i in 1..=3 {
        say_json(&mut ann, &format!("a{i}"), &format!("line {i}")).await;
    }

    // The plain dialect gets the seed lines of the history, then its welcome.
    let mut old = server.plain("/chat/h?name=old").await;
    for i in 1..=3 {
        assert_eq!(next_text(&mut old).await, format!("ann:line {i}"));
    }
    assert_eq!(next_text(&mut old).await, "Welcome, old !");

    // The JSON dialect gets ready (with the log position), the history, then live events.
    let (mut bob, ready) = server.json("/chat/h?name=bob").await;
    assert!(matches!(ready, ServerEvent::Ready { seq: 3, epoch, .. } if epoch != 0));
    assert_eq!(ids(&messages(&mut bob, 3).await), vec![1, 2, 3]);
    say_json(&mut ann, "a4", "live").await;
    let live = messages(&mut bob, 1).await;
    assert_eq!(ids(&live), vec![4]);
    server.stop().await;
}

#[tokio::test]
async fn a_client_resumes_exactly_where_it_left_off() {
    let server = spawn_unthrottled().await;
    let (mut ann, _) = server.json("/chat/r?name=ann").await;
    let (mut bob, _) = server.json("/chat/r?name=bob").await;
    say_json(&mut ann, "a1", "before").await;
    let seen = messages(&mut bob, 1).await;
    let epoch = match seen.iter().find(|e| matches!(e, ServerEvent::Message { .. })) {
        Some(ServerEvent::Message { epoch, .. }) => *epoch,
        _ => unreachable!(),
    };
    drop(bob);

    // Far more than one page of replay and more than the room's live backlog, sent without
    // waiting for each ack (so the writer commits them in groups).
    for i in 2..=1_200 {
        let frame = serde_json::json!({"type": "send", "id": format!("a{i}"), "text": format!("away {i}")});
        send_text(&mut ann, &frame.to_string()).await;
    }
    let (mut acks, mut last_echo) = (0, 0);
    while acks < 1_199 || last_echo < 1_200 {
        match next_event(&mut ann).await {
            ServerEvent::Ack { .. } => acks += 1,
            ServerEvent::Message { id, .. } => last_echo = id,
            _ => {}
        }
    }
    let (mut bob, ready) = server.json(&format!("/chat/r?name=bob&after=1&epoch={epoch}")).await;
    assert!(matches!(ready, ServerEvent::Ready { seq: 1_200, .. }));
    let missed = messages(&mut bob, 1_199).await;
    assert_eq!(ids(&missed), (2..=1_200).collect::<Vec<_>>(), "everything missed, once, in order");
    say_json(&mut ann, "a1201", "back again").await;
    assert_eq!(ids(&messages(&mut bob, 1).await), vec![1_201]);
    server.stop().await;
}

#[tokio::test]
async fn a_resend_is_acknowledged_but_not_stored_or_shown_twice() {
    let server = spawn_server().await;
    let (mut ann, _) = server.json("/chat/d?name=ann").await;
    let (mut bob, _) = server.json("/chat/d?name=bob").await;
    next_event(&mut ann).await; // bob joined
    let first = say_json(&mut ann, "same", "once").await;
    assert_eq!(ids(&messages(&mut bob, 1).await), vec![first]);

    // The same id again, as after a reconnect that lost the ack: acked with the same id, not
    // broadcast again.
    send_text(&mut ann, r#"{"type":"send","id":"same","text":"once"}"#).await;
    assert!(matches!(next_event(&mut ann).await, ServerEvent::Ack { id, .. } if id == first));
    expect_silence(&mut bob).await;
    let next = say_json(&mut ann, "other", "twice").await;
    assert_eq!(next, first + 1, "the resend took no number");
    server.stop().await;
}

/// Reads the history a JSON client gets on joining, up to its own `joined`: the texts.
async fn history_until_joined(ws: &mut Ws) -> Vec<String> {
    let mut texts = Vec::new();
    loop {
        match next_event(ws).await {
            ServerEvent::Message { text, .. } => texts.push(text.to_string()),
            ServerEvent::Joined { .. } => return texts,
            _ => {}
        }
    }
}

/// A resend is recognised for the session that sent the original only: someone who later holds
/// the same nickname and reuses an id is not taken for a resend, and no ack ever names a
/// message its receiver did not send.
#[tokio::test]
async fn an_id_reused_by_another_session_under_the_same_name_is_a_new_message() {
    let server = spawn_server().await;
    let (mut first, _) = server.json("/chat/n?name=alice").await;
    assert!(history_until_joined(&mut first).await.is_empty());
    let original = say_json(&mut first, "c1", "the first alice").await;
    drop(first);

    // The name is free again; another person takes it and happens to use the same id.
    let (mut second, _) = server.json("/chat/n?name=alice").await;
    assert_eq!(history_until_joined(&mut second).await, ["the first alice"]);
    let theirs = say_json(&mut second, "c1", "the second alice").await;
    assert_eq!(theirs, original + 1, "stored as a message of its own");
    let (mut reader, _) = server.json("/chat/n?name=reader").await;
    assert_eq!(history_until_joined(&mut reader).await, ["the first alice", "the second alice"]);

    // A session's own resend, from a new connection, is still recognised.
    let token = session_token(server.addr, "bob").await;
    let (mut bob, _) = server.json(&format!("/chat/n?token={token}")).await;
    history_until_joined(&mut bob).await;
    let sent = say_json(&mut bob, "b1", "once").await;
    drop(bob);
    // (Back within the grace period: no join is announced, the history ends with its message.)
    let (mut bob, _) = server.json(&format!("/chat/n?token={token}")).await;
    assert_eq!(ids(&messages(&mut bob, 3).await), [1, 2, 3]);
    send_text(&mut bob, r#"{"type":"send","id":"b1","text":"once"}"#).await;
    assert!(matches!(next_event(&mut bob).await, ServerEvent::Ack { id, .. } if id == sent));
    server.stop().await;
}

#[tokio::test]
async fn acknowledged_messages_survive_a_restart() {
    let server = spawn_server().await;
    let (mut ann, _) = server.json("/chat/p?name=ann").await;
    let epoch = match server.json("/chat/p?name=x").await.1 {
        ServerEvent::Ready { epoch, .. } => epoch,
        _ => unreachable!(),
    };
    assert_eq!(epoch, 0);
    for i in 1..=5 {
        say_json(&mut ann, &format!("k{i}"), &format!("kept {i}")).await;
    }
    drop(ann);
    let server = server.restart().await;
    let (_, ready) = server.json("/chat/p?name=x").await;
    let ServerEvent::Ready { epoch, .. } = ready else { unreachable!() };
    let (mut bob, ready) = server.json(&format!("/chat/p?name=bob&after=2&epoch={epoch}")).await;
    assert!(matches!(ready, ServerEvent::Ready { seq: 5, .. }));
    assert_eq!(ids(&messages(&mut bob, 3).await), vec![3, 4, 5]);
    server.stop().await;
}

#[tokio::test]
async fn a_position_from_another_epoch_resets_the_client() {
    let server = spawn_server().await;
    let (mut ann, _) = server.json("/chat/e?name=ann").await;
    say_json(&mut ann, "a1", "hello").await;
    let (mut bob, _) = server.json("/chat/e?name=bob&after=99&epoch=12345").await;
    assert!(
        matches!(next_event(&mut bob).await, ServerEvent::Reset { epoch } if epoch != 12345 && epoch != 0)
    );
    assert_eq!(ids(&messages(&mut bob, 1).await), vec![1]);
    server.stop().await;
}

/// A resume position the log does not have is not trusted: a number past the log's end (a
/// database restored from an older backup), or a position without its epoch, resets the client
/// instead of skipping the messages it would be told about next.
#[tokio::test]
async fn a_position_the_log_does_not_have_resets_the_client() {
    let server = spawn_server().await;
    let (mut ann, ready) = server.json("/chat/b?name=ann").await;
    assert!(matches!(ready, ServerEvent::Ready { epoch: 0, seq: 0, .. }));
    say_json(&mut ann, "a1", "one").await;
    say_json(&mut ann, "a2", "two").await;
    let epoch = match server.json("/chat/b?name=x").await.1 {
        ServerEvent::Ready { epoch, .. } => epoch,
        _ => unreachable!(),
    };
    let resumes = [format!("after=7&epoch={epoch}"), "after=1".to_owned(), "after=1&epoch=0".to_owned()];
    for (i, resume) in resumes.iter().enumerate() {
        let (mut bob, _) = server.json(&format!("/chat/b?name=bob{i}&{resume}")).await;
        assert!(
            matches!(next_event(&mut bob).await, ServerEvent::Reset { epoch: e } if e == epoch),
            "{resume}"
        );
        assert_eq!(ids(&messages(&mut bob, 2).await), vec![1, 2], "{resume}: the recent messages");
    }
    // What a client that saw the room before its log began holds is good: everything follows.
    let (mut carol, _) = server.json("/chat/b?name=carol&after=0&epoch=0").await;
    assert_eq!(ids(&messages(&mut carol, 2).await), vec![1, 2]);
    // And the log's own position: nothing to send but what comes next.
    let (mut dave, _) = server.json(&format!("/chat/b?name=dave&after=2&epoch={epoch}")).await;
    say_json(&mut ann, "a3", "three").await;
    assert_eq!(ids(&messages(&mut dave, 1).await), vec![3]);
    server.stop().await;
}

#[tokio::test]
async fn older_pages_over_http() {
    let server = spawn_server().await;
    let (mut ann, _) = server.json("/chat/old?name=ann").await;
    for i in 1..=7 {
        say_json(&mut ann, &format!("o{i}"), &format!("old {i}")).await;
    }
    let page = |path: &str| {
        let addr = server.addr;
        let path = path.to_owned();
        async move {
            let (status, body) = http_get(addr, &path).await;
            assert_eq!(status, 200, "{body}");
            serde_json::from_str::<app::protocol::HistoryPage>(&body)
                .unwrap_or_else(|e| panic!("{e}: {body}"))
        }
    };
    let newest = page("/api/rooms/old/messages?limit=3").await;
    assert_eq!(ids(&newest.messages), vec![5, 6, 7]);
    assert!(newest.more);
    let older = page("/api/rooms/old/messages?before=5&limit=3").await;
    assert_eq!(ids(&older.messages), vec![2, 3, 4]);
    assert!(older.more);
    let oldest = page("/api/rooms/old/messages?before=2&limit=3").await;
    assert_eq!(ids(&oldest.messages), vec![1]);
    assert!(!oldest.more);
    let empty = page("/api/rooms/nobody-here/messages").await;
    assert!(empty.messages.is_empty() && !empty.more);
    assert_eq!(http_get(server.addr, "/api/rooms/Bad%20Name/messages").await.0, 400);
    server.stop().await;
}

#[tokio::test]
async fn the_room_page_is_rendered_with_its_history_as_text() {
    let server = spawn_server().await;
    let (mut ann, _) = server.json("/chat/ssr?name=ann").await;
    say_json(&mut ann, "s1", "first words").await;
    say_json(&mut ann, "s2", "<b>not bold</b> & <script>alert(1)</script>").await;
    let (status, body) = http_get(server.addr, "/r/ssr").await;
    assert_eq!(status, 200);
    assert!(body.contains("first words"), "{body}");
    assert!(
        body.contains("&lt;b&gt;not bold&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{body}"
    );
    assert!(!body.contains("<b>not bold</b>"), "user text is never markup");
    server.stop().await;
}
