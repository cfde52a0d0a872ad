//! Search through a real server, on SQLite and on PostgreSQL: what every way in posted is found
//! (the JSON dialect, the plain one, the API), as it reads now (edits and deletions), in one room
//! or all, the newest first, with the words found marked and user text kept text; rooms the
//! reader is banned from are left out; bad queries are told why; searches are counted; and the
//! index is still there after a restart.

use crate::accounts::{post_json, register};
use crate::helpers::*;
use app::protocol::{Action, ServerEvent};
use app::search::{Results, Span};
use serde_json::json;

/// What `query` finds for the header lines `auth`, as `(status, results or the error)`.
async fn search(server: &TestServer, query: &str, auth: &str) -> (u16, Result<Results, String>) {
    let response = http_request(server.addr, "GET", &format!("/api/search?{query}"), auth, "").await;
    let results = match response.status {
        200 => Ok(serde_json::from_str(&response.body).expect("results")),
        _ => Err(response.body.clone()),
    };
    (response.status, results)
}

/// The hits of a search that must succeed, as `(room, id)`.
async fn found(server: &TestServer, query: &str, auth: &str) -> Vec<(String, u64)> {
    let (status, results) = search(server, query, auth).await;
    let results = results.unwrap_or_else(|err| panic!("{status}: {err}"));
    results.hits.iter().map(|hit| (hit.room.to_string(), hit.id)).collect()
}

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

/// Waits for the change of message `target` to come back to whoever made it.
async fn changed(ws: &mut Ws, target_wanted: u64) {
    loop {
        match next_event(ws).await {
            ServerEvent::Edited { target, .. } | ServerEvent::Deleted { target, .. }
                if target == target_wanted =>
            {
                return
            }
            ServerEvent::Error { message, .. } => panic!("{message}"),
            _ => {}
        }
    }
}

async fn messages_are_found(configure: impl Fn(&mut server::Config)) {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = server::Config::for_tests(data.path().to_path_buf());
    configure(&mut config);
    let server = spawn_with(config, data).await;
    let addr = server.addr;

    // Olga makes den, and so runs it.
    let olga = register(addr, "olga", "the password 1").await;
    let max = register(addr, "max", "the password 2").await;
    let (mut owner, _) = server.json(&format!("/chat/den?token={olga}")).await;

    // Posted every way in, in two rooms.
    let (mut bob, _) = server.json("/chat/dig?name=bob").await;
    let first = say_json(&mut bob, "b1", "The quokka deploy went fine").await;
    let hostile = say_json(&mut bob, "b2", "quokka <img src=x onerror=alert(1)> **bold**").await;
    let mut plain = server.plain("/chat/den?name=pat").await;
    send_text(&mut plain, "quokkas in the plain dialect").await;
    let sam = session_token(addr, "sam").await;
    let posted =
        post_json(addr, "/api/rooms/den/messages", &bearer(&sam), json!({"text": "QUOKKA by the API"})).await;
    assert_eq!(posted.status, 201, "{posted:?}");
    let Ok(ServerEvent::Message { id: api_seq, .. }) = serde_json::from_str(&posted.body) else {
        panic!("{posted:?}")
    };
    let (mut watcher, _) = server.json("/chat/den?name=wes").await;
    let plain_seq = loop {
        if let ServerEvent::Message { id, author, .. } = next_event(&mut watcher).await {
            if author.as_str() == "pat" {
                break id;
            }
        }
    };

    let (dig, den) = (|id| ("dig".to_owned(), id), |id| ("den".to_owned(), id));
    let everywhere = found(&server, "q=quokka", "").await;
    assert_eq!(everywhere.len(), 4, "{everywhere:?}");
    assert!(everywhere.contains(&dig(first)) && everywhere.contains(&den(plain_seq)), "{everywhere:?}");
    assert_eq!(found(&server, "q=Quokka&room=dig", "").await, vec![dig(hostile), dig(first)], "newest first");
    assert_eq!(found(&server, "q=quokka+API&room=den", "").await, vec![den(api_seq)]);
    assert_eq!(found(&server, "q=deploy%20quok", "").await, vec![dig(first)], "every word, or its start");

    // The words found are marked; the rest is text, markup and all.
    let (_, results) = search(&server, "q=alert+quokka&room=dig", "").await;
    let results = results.expect("results");
    assert_eq!(results.terms, ["alert", "quokka"]);
    assert_eq!(
        results.hits[0].excerpt,
        vec![
            Span::Match("quokka".into()),
            Span::Text(" <img src=x onerror=".into()),
            Span::Match("alert".into()),
            Span::Text("(1)> **bold**".into()),
        ]
    );
    // The page of results, rendered by the server, shows them as text.
    let (status, page) = http_get(addr, "/search?q=alert&room=dig").await;
    assert_eq!(status, 200);
    assert!(page.contains("<mark>alert<"), "{page}");
    assert!(page.contains("&lt;img src=x onerror=") && !page.contains("<img src=x"), "{page}");
    assert!(page.contains(&format!("href=\"/r/dig#m{hostile}\"")), "{page}");

    // What messages say now: an edit and a deletion change what is found.
    send_text(&mut bob, &json!({"type": "edit", "target": first, "text": "a wombat now"}).to_string()).await;
    changed(&mut bob, first).await;
    assert_eq!(found(&server, "q=wombat", "").await, vec![dig(first)]);
    assert_eq!(found(&server, "q=quokka&room=dig", "").await, vec![dig(hostile)]);
    send_text(&mut bob, &json!({"type": "delete", "target": hostile}).to_string()).await;
    changed(&mut bob, hostile).await;
    assert_eq!(found(&server, "q=quokka&room=dig", "").await, vec![]);

    // A room the reader is banned from is not searched for them.
    send_text(&mut owner, &json!({"type": "moderate", "action": {"kind": "ban", "name": "max"}}).to_string())
        .await;
    loop {
        if let ServerEvent::Moderated { action: Action::Ban { .. }, .. } = next_event(&mut owner).await {
            break;
        }
    }
    assert_eq!(found(&server, "q=quokka", &bearer(&max)).await, vec![], "banned from den");
    assert_eq!(found(&server, "q=wombat", &bearer(&max)).await, vec![dig(first)], "dig is open");
    assert_eq!(found(&server, "q=quokka", &bearer(&sam)).await.len(), 2, "sam is not banned");

    // Bad queries are told why.
    for (query, why) in [
        ("q=", "type a word to search for"),
        ("q=%3F%21", "type a word to search for"),
        (&format!("q={}", "a".repeat(201)) as &str, "at most 200 characters"),
        ("q=x&room=no%20such", "bad room name"),
    ] {
        let (status, results) = search(&server, query, "").await;
        assert_eq!(status, 400, "{query}");
        assert!(results.as_ref().is_err_and(|err| err.contains(why)), "{query}: {results:?}");
    }

    // The index outlives the process.
    drop((bob, plain, watcher, owner));
    let server = server.restart_with(&configure).await;
    assert_eq!(found(&server, "q=wombat", "").await, vec![dig(first)]);
    assert_eq!(found(&server, "q=quokka", "").await.len(), 2);

    // Searches are counted by address: a script cannot query the index without end.
    let mut refused = None;
    for _ in 0..70 {
        let response = http_request(server.addr, "GET", "/api/search?q=quokka", "", "").await;
        if response.status == 429 {
            refused = Some(response);
            break;
        }
    }
    let refused = refused.expect("searches are limited");
    assert!(refused.body.contains("too many searches"), "{refused:?}");
    assert!(refused.header("retry-after").is_some(), "{refused:?}");
    server.stop().await;
}

#[tokio::test]
async fn search_on_sqlite() {
    messages_are_found(|config| unthrottled(&mut config.limits)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
async fn search_on_postgres() {
    let (url, _) = fresh_database().await;
    messages_are_found(|config| {
        config.database_url = Some(url.clone());
        unthrottled(&mut config.limits);
    })
    .await;
}
