//! Moving a room (`server export`, `server import`) and forgetting old messages
//! (`--retention-days`, a room's own retention): what a client sees of both.

use crate::admin::admin;
use crate::helpers::*;
use app::protocol::ServerEvent;
use server::config::Config;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const DAY: i64 = 86_400_000;

/// Runs `server --data-dir <data> <args>`: whether it succeeded, and what it printed on each
/// stream.
async fn command(data: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the server's command");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.unwrap_or_default().as_bytes()).await.expect("write stdin");
    drop(input);
    let output = child.wait_with_output().await.expect("the command ends");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}

/// The texts of a room's history over HTTP.
async fn history(server: &TestServer, room: &str) -> Vec<String> {
    let (status, body) = http_get(server.addr, &format!("/api/rooms/{room}/messages")).await;
    assert_eq!(status, 200, "{body}");
    let page: app::protocol::HistoryPage = serde_json::from_str(&body).expect("a history page");
    page.messages
        .into_iter()
        .filter_map(|m| match m {
            ServerEvent::Message { text, .. } => Some(text.to_string()),
            _ => None,
        })
        .collect()
}

/// Reads the `count` messages of history a client is given as it joins.
async fn read_history(ws: &mut Ws, count: usize) {
    for _ in 0..count {
        let event = next_event(ws).await;
        assert!(matches!(event, ServerEvent::Message { .. }), "expected history, got {event:?}");
    }
}

/// An export of `room` whose messages were written `age` ago, one per line, numbered from 1.
fn export_of(room: &str, epoch: i64, texts: &[&str], age: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970");
    let at = i64::try_from(now.as_millis()).expect("in range") - age;
    let header = serde_json::json!({
        "format": "chat-room-log", "version": 1, "room": room, "epoch": epoch, "seq": texts.len(),
    });
    let mut lines = vec![header.to_string()];
    for (i, text) in texts.iter().enumerate() {
        let entry = serde_json::json!({
            "room": room, "epoch": epoch, "seq": i + 1, "author": "ann",
            "body": { "kind": "text", "text": text, "edited": null }, "at": at + i as i64,
        });
        lines.push(entry.to_string());
    }
    lines.join("\n") + "\n"
}

/// A room exported from one server (while it runs) and imported into another (while it runs):
/// the same history, and a client of the first resumes on the second without missing or
/// repeating anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_moves_to_another_server_and_its_clients_resume_there() {
    let old = spawn_server().await;
    let (mut ann, _) = old.json("/chat/travel?name=ann").await;
    say_json(&mut ann, "1", "packing").await;
    let seen = say_json(&mut ann, "2", "at the station").await;
    let (mut bob, ready) = old.json("/chat/travel?name=bob").await;
    let ServerEvent::Ready { epoch, .. } = ready else { unreachable!() };
    assert_ne!(epoch, 0);
    read_history(&mut bob, 2).await;
    say_json(&mut bob, "1", "on the train").await;

    let (ok, file, err) = command(old.data_dir(), &["export", "travel"], None).await;
    assert!(ok, "{err}");
    assert_eq!(file.lines().count(), 4, "a header and three messages: {file}");

    let new = spawn_server().await;
    // Its store exists once it answers.
    wait_until_up(new.addr).await;
    let (ok, _, err) = command(new.data_dir(), &["import"], Some(&file)).await;
    assert!(ok, "{err}");
    assert_eq!(history(&new, "travel").await, ["packing", "at the station", "on the train"]);

    // Where ann stopped on the old server: the next message, no reset.
    let (mut back, _) = new.json(&format!("/chat/travel?name=ann&after={seen}&epoch={epoch}")).await;
    match next_event(&mut back).await {
        ServerEvent::Message { text, id, .. } => {
            assert_eq!((text.to_string(), id), ("on the train".into(), 3))
        }
        other => panic!("expected the message after {seen}, got {other:?}"),
    }
    assert_eq!(say_json(&mut back, "3", "arrived").await, 4, "the log goes on after it");

    // Again: the room has a log now.
    let (ok, _, err) = command(new.data_dir(), &["import"], Some(&file)).await;
    assert!(!ok && err.contains("has a log already"), "{err}");
    // A file that is not an export.
    let (ok, _, err) = command(new.data_dir(), &["import", "--room", "x"], Some("hello\n")).await;
    assert!(!ok && err.contains("line 1"), "{err}");
    old.stop().await;
    new.stop().await;
}

/// Messages past the server's retention, or past a room's own, are forgotten in the background;
/// a client whose resume position was forgotten is reset and given what is left, one after it
/// resumes as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_forgets_old_messages_and_resets_clients_behind_it() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_tests(data.path().to_path_buf());
    config.retention_days = Some(7);
    config.limits.retention_sweep = Duration::from_millis(200);
    let server = spawn_with(config, data).await;
    // The store exists once the server answers.
    wait_until_up(server.addr).await;
    let import = |room: &str, texts: &[&str], age: i64| export_of(room, 77, texts, age);
    for (room, texts, age) in [
        ("attic", vec!["dust", "cobwebs"], 10 * DAY),
        ("cellar", vec!["wine"], 3 * DAY),
        ("porch", vec!["chairs"], 3 * DAY),
    ] {
        let (ok, _, err) = command(server.data_dir(), &["import"], Some(&import(room, &texts, age))).await;
        assert!(ok, "{err}");
    }
    // The porch's owner keeps a day's messages: the operator stands in for them here.
    let (ok, said) = admin(server.data_dir(), &["retention", "porch", "1"]).await;
    assert!(ok, "{said}");
    let (mut ann, _) = server.json("/chat/attic?name=ann").await;
    read_history(&mut ann, 2).await;
    say_json(&mut ann, "1", "new boxes").await;

    let deadline = tokio::time::Instant::now() + SLOW;
    while history(&server, "attic").await != ["new boxes"] || !history(&server, "porch").await.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "retention never forgot the old messages");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(history(&server, "cellar").await, ["wine"], "within the server's retention");

    // Behind the horizon: reset, then what is left.
    let (mut behind, _) = server.json("/chat/attic?name=bob&after=1&epoch=77").await;
    assert!(matches!(next_event(&mut behind).await, ServerEvent::Reset { epoch: 77 }));
    match next_event(&mut behind).await {
        ServerEvent::Message { text, id: 3, .. } => assert_eq!(text.as_str(), "new boxes"),
        other => panic!("expected what is left, got {other:?}"),
    }
    // At the horizon: nothing it had not seen was forgotten.
    let (mut caught, _) = server.json("/chat/attic?name=carol&after=2&epoch=77").await;
    match next_event(&mut caught).await {
        ServerEvent::Message { id, .. } => assert_eq!(id, 3),
        other => panic!("expected the next entry, got {other:?}"),
    }
    server.stop().await;
}
