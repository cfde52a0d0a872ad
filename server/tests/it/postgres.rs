//! The server on PostgreSQL when the database misbehaves: a row lock held by someone else, a
//! connection that goes quiet mid-transaction. Senders are told within a few seconds, every room
//! keeps working as far as it can, and writing recovers by itself. The faults are real: another
//! client's transaction holds the lock; a TCP relay between the server and the database stops
//! passing bytes (as a dead network path does) and later cuts the connections it held.

use crate::helpers::*;
use app::protocol::{ErrorCode, ServerEvent};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// How soon a sender must hear that its message was not stored.
const TOLD_WITHIN: Duration = Duration::from_secs(8);

async fn spawn_on(database_url: &str) -> TestServer {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = server::Config::for_tests(data.path().to_path_buf());
    config.database_url = Some(database_url.to_owned());
    spawn_with(config, data).await
}

/// Sends `id` and waits for its ack or error, whatever comes between.
async fn send_and_wait(ws: &mut Ws, id: &str, text: &str) -> Result<u64, (ErrorCode, String)> {
    let frame = serde_json::json!({"type": "send", "id": id, "text": text}).to_string();
    send_text(ws, &frame).await;
    loop {
        match next_event_within(ws, TOLD_WITHIN + PATIENCE).await {
            ServerEvent::Ack { client_id, id: seq } if client_id.as_str() == id => return Ok(seq),
            ServerEvent::Error { code, message } => return Err((code, message)),
            _ => {}
        }
    }
}

async fn next_event_within(ws: &mut Ws, patience: Duration) -> ServerEvent {
    use futures_util::StreamExt;
    loop {
        let next = tokio::time::timeout(patience, ws.next()).await.expect("nothing arrived in time");
        match next {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) => {
                return ServerEvent::from_json(text.as_str()).expect("an event")
            }
            Some(Ok(_)) => continue,
            other => panic!("the connection ended: {other:?}"),
        }
    }
}

/// The room's texts, in order, as a newcomer reads them from the start.
async fn log_of(server: &TestServer, room: &str, count: usize) -> Vec<String> {
    let (mut reader, _) = server.json(&format!("/chat/{room}?name=auditor&after=0&epoch=0")).await;
    let mut texts = Vec::new();
    loop {
        match next_event(&mut reader).await {
            ServerEvent::Message { text, .. } => texts.push(text.to_string()),
            // Its own join comes after the history.
            ServerEvent::Joined { name, .. } if name.as_str() == "auditor" => break,
            _ => {}
        }
    }
    expect_silence(&mut reader).await;
    assert_eq!(texts.len(), count, "{texts:?}");
    texts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
async fn a_held_row_lock_is_reported_within_seconds_and_writing_resumes() {
    let (url, _) = fresh_database().await;
    let server = spawn_on(&url).await;
    let token = session_token(server.addr, "ann").await;
    let (mut ann, _) = server.json(&format!("/chat/locked?token={token}")).await;
    say_json(&mut ann, "a1", "before").await;

    // Another client locks the room's row and keeps its transaction open.
    let mut holder = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.expect("connect");
    sqlx::query("BEGIN").execute(&mut holder).await.expect("begin");
    sqlx::query("SELECT * FROM rooms WHERE name = 'locked' FOR UPDATE")
        .execute(&mut holder)
        .await
        .expect("lock");

    let began = Instant::now();
    let refused = send_and_wait(&mut ann, "a2", "during").await;
    assert!(matches!(&refused, Err((ErrorCode::Unavailable, _))), "{refused:?}");
    assert!(began.elapsed() < TOLD_WITHIN, "told after {:?}", began.elapsed());
    // A plain sender has no error line: it is closed with 1013, as soon.
    let mut plain = server.plain("/chat/locked?name=bob").await;
    while !next_text(&mut plain).await.starts_with("Welcome, bob") {}
    let began = Instant::now();
    send_text(&mut plain, "lost?").await;
    let close = loop {
        match next_event_or_close(&mut plain).await {
            Some(close) => break close,
            None => continue,
        }
    };
    assert_eq!(u16::from(close.code), 1013, "{close:?}");
    assert!(began.elapsed() < TOLD_WITHIN, "told after {:?}", began.elapsed());
    // Other rooms are written meanwhile: the lock is one room's.
    let (mut elsewhere, _) = server.json(&format!("/chat/free?token={token}")).await;
    say_json(&mut elsewhere, "f1", "unaffected").await;

    // The lock goes; the resend is stored, once, and nothing the senders were refused.
    sqlx::query("COMMIT").execute(&mut holder).await.expect("commit");
    assert_eq!(send_and_wait(&mut ann, "a2", "during").await, Ok(2));
    assert_eq!(log_of(&server, "locked", 2).await, ["before", "during"]);
    server.stop().await;
}

/// A connection to the database that goes quiet mid-use (a dead network path: nothing passes,
/// nothing is closed): senders are told within seconds, and once the path is back (the dead
/// connections reset, new ones pass) writing resumes without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
async fn a_database_connection_that_goes_quiet_is_given_up_on_and_writing_resumes() {
    let (url, _) = fresh_database().await;
    let (head, database) = url.rsplit_once('/').expect("a database name");
    let (credentials, host) = head.rsplit_once('@').expect("user@host:port");
    let relay = Relay::start(host.parse().expect("host:port")).await;
    let server = spawn_on(&format!("{credentials}@{}/{database}", relay.addr)).await;
    let token = session_token(server.addr, "ann").await;
    let (mut ann, _) = server.json(&format!("/chat/quiet?token={token}")).await;
    say_json(&mut ann, "a1", "before").await;

    relay.go_quiet();
    let began = Instant::now();
    let refused = send_and_wait(&mut ann, "a2", "during").await;
    assert!(matches!(&refused, Err((ErrorCode::Unavailable, _))), "{refused:?}");
    assert!(began.elapsed() < TOLD_WITHIN, "told after {:?}", began.elapsed());

    relay.cut_and_restore();
    let mut resent = send_and_wait(&mut ann, "a2", "during").await;
    for _ in 0..5 {
        if resent.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        resent = send_and_wait(&mut ann, "a2", "during").await;
    }
    assert_eq!(resent, Ok(2), "stored once writing resumed");
    assert_eq!(log_of(&server, "quiet", 2).await, ["before", "during"]);
    server.stop().await;
}

/// A TCP relay to the database that can go quiet (pass nothing either way while keeping its
/// connections open, as a dead network path does), and cut every connection it holds.
struct Relay {
    addr: std::net::SocketAddr,
    quiet: Arc<AtomicBool>,
    /// Cancelled to cut the connections made so far; a fresh one serves those made after.
    cut: Arc<Mutex<CancellationToken>>,
}

impl Relay {
    async fn start(to: std::net::SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let relay = Self {
            addr: listener.local_addr().expect("addr"),
            quiet: Arc::new(AtomicBool::new(false)),
            cut: Arc::new(Mutex::new(CancellationToken::new())),
        };
        let (quiet, cuts) = (Arc::clone(&relay.quiet), Arc::clone(&relay.cut));
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(database) = TcpStream::connect(to).await else { continue };
                let cut = cuts.lock().expect("lock").clone();
                let quiet = Arc::clone(&quiet);
                tokio::spawn(async move {
                    let (client_in, client_out) = client.into_split();
                    let (database_in, database_out) = database.into_split();
                    tokio::select! {
                        biased;
                        () = cut.cancelled() => {}
                        () = pump(client_in, database_out, Arc::clone(&quiet)) => {}
                        () = pump(database_in, client_out, quiet) => {}
                    }
                });
            }
        });
        relay
    }

    fn go_quiet(&self) {
        self.quiet.store(true, Ordering::Relaxed);
    }

    /// Cuts every connection it holds (what was held back is never passed on), and passes bytes
    /// again for new ones.
    fn cut_and_restore(&self) {
        let mut cut = self.cut.lock().expect("lock");
        cut.cancel();
        *cut = CancellationToken::new();
        self.quiet.store(false, Ordering::Relaxed);
    }
}

async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, quiet: Arc<AtomicBool>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while quiet.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

async fn next_event_or_close(ws: &mut Ws) -> Option<tokio_tungstenite::tungstenite::protocol::CloseFrame> {
    use futures_util::StreamExt;
    match tokio::time::timeout(TOLD_WITHIN + PATIENCE, ws.next()).await.expect("nothing arrived in time") {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(close)))) => Some(close),
        Some(Ok(_)) => None,
        other => panic!("the connection ended without a close frame: {other:?}"),
    }
}
