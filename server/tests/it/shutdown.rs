//! Draining on shutdown: every WebSocket client is told (close 1001) and the server returns.

use crate::helpers::*;
use sqlx::{Connection, Executor, SqliteConnection};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn shutdown_closes_every_session_with_1001() {
    let server = spawn_server().await;
    let mut plain = server.plain("/chat?name=p").await;
    assert_eq!(next_text(&mut plain).await, "Welcome, p !");
    let (mut json, _) = server.json("/chat/other?name=j").await;
    let mut echo = server.plain("/echo").await;
    server.shutdown.cancel();
    for ws in [&mut plain, &mut json, &mut echo] {
        loop {
            match next_message(ws).await {
                tokio_tungstenite::tungstenite::Message::Close(Some(frame)) => {
                    assert_eq!(frame.code, CloseCode::Away);
                    break;
                }
                _ => continue,
            }
        }
    }
    let result = tokio::time::timeout(std::time::Duration::from_secs(15), server.handle).await;
    assert!(matches!(result, Ok(Ok(Ok(())))), "{result:?}");
}

/// A request whose body never ends: it holds its connection until the body deadline.
async fn hold_a_request(addr: std::net::SocketAddr) -> TcpStream {
    let mut held = TcpStream::connect(addr).await.expect("connect");
    let head = "POST /api/session HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
    held.write_all(head.as_bytes()).await.expect("write");
    held
}

/// Draining has one deadline in all, from when it begins: requests in progress, sessions and
/// the last commits share it, rather than each waiting its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drain_has_one_deadline_in_all() {
    const DRAIN: Duration = Duration::from_millis(1500);
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = server::Config::for_tests(data.path().to_path_buf());
    config.limits.drain_timeout = DRAIN;
    config.limits.body_deadline = Duration::from_secs(30);
    let server = spawn_with(config, data).await;
    let (mut ann, _) = server.json("/chat/held?name=ann").await;
    say_json(&mut ann, "a1", "creates the log").await;

    // Every stage has something that would take it past the deadline: a request whose body
    // never ends, a session waiting for its message to be stored, the writer waiting for a lock.
    let _request = hold_a_request(server.addr).await;
    let db = server.data_dir().join("chat.db");
    let mut blocker = SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.expect("open");
    blocker.execute("BEGIN EXCLUSIVE").await.expect("take the write lock");
    send_text(&mut ann, r#"{"type":"send","id":"a2","text":"stuck"}"#).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let began = Instant::now();
    server.shutdown.cancel();
    let result = tokio::time::timeout(Duration::from_secs(15), server.handle).await;
    let took = began.elapsed();
    assert!(matches!(result, Ok(Ok(Ok(())))), "{result:?}");
    assert!(took >= DRAIN - Duration::from_millis(100), "it waited for what was in progress: {took:?}");
    assert!(took < DRAIN * 2, "one deadline, not one for each stage: {took:?}");
    blocker.execute("ROLLBACK").await.expect("release");
}

/// A second SIGTERM (or Ctrl-C) ends a draining process at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_stops_the_drain() {
    let data = tempfile::tempdir().expect("temp dir");
    let addr = free_addr();
    let mut child = start_server(addr, data.path());
    wait_until_up(addr).await;
    let _held = hold_a_request(addr).await;
    // Its head read, the request is in progress (a connection yet to be read would just close).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = child.id().expect("pid").to_string();
    let term = || std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(term().success());
    // Draining: the request holds it (up to its 10 s deadline).
    assert!(tokio::time::timeout(Duration::from_millis(500), child.wait()).await.is_err(), "still draining");
    let began = Instant::now();
    assert!(term().success());
    let status =
        tokio::time::timeout(Duration::from_secs(3), child.wait()).await.expect("exited").expect("reap");
    assert!(began.elapsed() < Duration::from_secs(2), "{:?}", began.elapsed());
    assert!(!status.success(), "a drain cut short is not a clean exit: {status}");
}

/// The soft limit on open files is raised to the hard one at start, and the log says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_files_limit_is_raised_at_start() {
    let data = tempfile::tempdir().expect("temp dir");
    let addr = free_addr();
    let server = env!("CARGO_BIN_EXE_server");
    let mut child = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -Sn 512 && exec {server} --addr {addr} --data-dir {}", data.path().display()))
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server");
    wait_until_up(addr).await;
    let pid = child.id().expect("pid");
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("its limits");
    let files = limits.lines().find(|l| l.starts_with("Max open files")).expect("the open-files line");
    let numbers: Vec<&str> =
        files.split_whitespace().filter(|w| w.chars().all(|c| c.is_ascii_digit())).collect();
    assert_eq!(numbers.len(), 2, "{files}");
    assert_eq!(numbers[0], numbers[1], "soft raised to hard: {files}");
    child.start_kill().expect("stop");
    let mut log = String::new();
    child.stdout.take().expect("log").read_to_string(&mut log).await.expect("read the log");
    let line = log.lines().find(|l| l.contains("open-files limit")).unwrap_or_else(|| panic!("{log}"));
    assert!(line.contains("before=512"), "{line}");
}
