//! The restart tests: clients stream messages while the server process is stopped, by SIGKILL
//! (a crash) or SIGTERM (a deploy), and started again on the same data. Afterwards every
//! acknowledged message is in the log exactly once, and every client has seen the whole log
//! exactly once, in the same order. SIGTERM also has to tell every client (close 1001) and exit
//! by itself within its drain deadline.

use crate::helpers::{connect, free_addr, session_token, start_server, wait_until_up, Ws};
use app::protocol::{ServerEvent, SUBPROTOCOL};
use futures_util::StreamExt;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

/// How the server is stopped mid-stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Kill,
    Term,
}

const CLIENTS: usize = 4;
pub const MESSAGES_EACH: usize = 300;
/// Messages a client has in flight (sent, not yet acknowledged).
const WINDOW: usize = 16;
/// The server is killed once this many messages have been acknowledged.
const KILL_AFTER_ACKS: usize = 300;

/// One client: what it sent, what was acknowledged, what it saw.
pub struct Client {
    pub name: String,
    /// Its session: a resend is recognised as one only from the session that sent the original.
    token: String,
    pub acked: HashMap<String, u64>,
    /// Messages 0..sent have been sent at least once.
    sent: usize,
    /// Ids of the messages it was delivered, in order of delivery (across connections).
    pub seen: Vec<u64>,
    epoch: i64,
    pub delivered_twice: usize,
    /// Close frames with 1001 (going away) received.
    told_going_away: usize,
}

impl Client {
    pub fn new(i: usize, token: String) -> Self {
        Self {
            name: format!("c{i}"),
            token,
            acked: HashMap::new(),
            sent: 0,
            seen: Vec::new(),
            epoch: 0,
            delivered_twice: 0,
            told_going_away: 0,
        }
    }

    fn client_id(&self, n: usize) -> String {
        format!("{}-{n}", self.name)
    }

    fn last_seen(&self) -> u64 {
        self.seen.last().copied().unwrap_or(0)
    }

    async fn connect(&self, addr: SocketAddr) -> Option<Ws> {
        // From the start of the log the first time (epoch 0: before it began), so that a client
        // that connects after the others began still sees everything.
        let url = format!(
            "ws://{addr}/chat/crash?token={}&after={}&epoch={}",
            self.token,
            self.last_seen(),
            self.epoch
        );
        let attempt = tokio::time::timeout(Duration::from_secs(2), async {
            let mut request =
                tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url).ok()?;
            request.headers_mut().insert("Sec-WebSocket-Protocol", SUBPROTOCOL.parse().ok()?);
            tokio_tungstenite::connect_async(request).await.ok().map(|(ws, _)| ws)
        });
        attempt.await.ok().flatten()
    }

    async fn send(&mut self, ws: &mut Ws, n: usize) -> bool {
        let frame =
            serde_json::json!({"type": "send", "id": self.client_id(n), "text": format!("message {n}")});
        tokio::time::timeout(Duration::from_secs(2), send_text_checked(ws, &frame.to_string()))
            .await
            .unwrap_or(false)
    }

    /// One connection's life: resend what was never acknowledged, send the rest with a window,
    /// read everything. Returns true once all is acknowledged and the whole log `expected` long
    /// has been seen; false when the connection died.
    pub async fn session(&mut self, addr: SocketAddr, acks: &AtomicUsize, expected: u64) -> bool {
        let Some(mut ws) = self.connect(addr).await else { return false };
        for n in 0..self.sent {
            if !self.acked.contains_key(&self.client_id(n)) && !self.send(&mut ws, n).await {
                return false;
            }
        }
        loop {
            while self.sent < MESSAGES_EACH && self.sent - self.acked.len().min(self.sent) < WINDOW {
                if !self.send(&mut ws, self.sent).await {
                    return false;
                }
                self.sent += 1;
            }
            if self.acked.len() == MESSAGES_EACH && self.last_seen() >= expected {
                return true;
            }
            let frame = match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => text,
                Ok(Some(Ok(Message::Close(Some(close))))) => {
                    if close.code == CloseCode::Away {
                        self.told_going_away += 1;
                    }
                    continue;
                }
                Ok(Some(Ok(_))) => continue,
                _ => return false,
            };
            match ServerEvent::from_json(frame.as_str()) {
                Ok(ServerEvent::Ack { client_id, id }) => {
                    if self.acked.insert(client_id.to_string(), id).is_none() {
                        acks.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok(ServerEvent::Message { id, epoch, .. }) => {
                    if id <= self.last_seen() {
                        self.delivered_twice += 1;
                    } else {
                        self.seen.push(id);
                        self.epoch = epoch;
                    }
                }
                Ok(ServerEvent::Reset { .. }) => panic!("the log's epoch changed across a restart"),
                Ok(_) => {}
                Err(err) => panic!("undecodable event {frame}: {err}"),
            }
        }
    }
}

async fn send_text_checked(ws: &mut Ws, text: &str) -> bool {
    futures_util::SinkExt::send(ws, Message::text(text)).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_message_is_lost_or_duplicated_across_a_sigkill() {
    restart_mid_stream(Stop::Kill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_tells_every_client_and_they_resume_without_loss() {
    restart_mid_stream(Stop::Term).await;
}

async fn restart_mid_stream(stop: Stop) {
    let data = tempfile::tempdir().expect("temp dir");
    let addr = free_addr();
    let mut server = start_server(addr, data.path());
    wait_until_up(addr).await;

    let acks = Arc::new(AtomicUsize::new(0));
    let expected = (CLIENTS * MESSAGES_EACH) as u64;
    let mut tokens = Vec::new();
    for i in 0..CLIENTS {
        tokens.push(session_token(addr, &format!("c{i}")).await);
    }
    let clients: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let acks = Arc::clone(&acks);
            tokio::spawn(async move {
                let mut client = Client::new(i, token);
                let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
                while !client.session(addr, &acks, expected).await {
                    assert!(tokio::time::Instant::now() < deadline, "{} never finished", client.name);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                client
            })
        })
        .collect();

    // Stop the server mid-stream and start it again on the same data.
    while acks.load(Ordering::Relaxed) < KILL_AFTER_ACKS {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    match stop {
        Stop::Kill => {
            server.start_kill().expect("SIGKILL");
            server.wait().await.expect("reap");
        }
        Stop::Term => {
            let pid = server.id().expect("pid").to_string();
            let sent = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
            assert!(sent.success());
            let started = std::time::Instant::now();
            // The drain deadline is 10 s; a clean exit comes long before it.
            let status = tokio::time::timeout(Duration::from_secs(15), server.wait()).await;
            let status = status.expect("exited within the drain deadline").expect("reap");
            assert!(status.success(), "a drained server exits with 0: {status}");
            println!("sigterm: drained and exited in {:?}", started.elapsed());
        }
    }
    let acked_before_kill = acks.load(Ordering::Relaxed);
    let mut server = start_server(addr, data.path());
    wait_until_up(addr).await;

    let mut finished = Vec::new();
    for client in clients {
        finished.push(client.await.expect("client task"));
    }

    // The log as a newcomer reads it from the start.
    let (mut reader, _) =
        connect(&format!("ws://{addr}/chat/crash?name=auditor&after=0&epoch=0"), Some(SUBPROTOCOL)).await;
    let mut log = Vec::new();
    while log.len() < expected as usize {
        match tokio::time::timeout(Duration::from_secs(5), reader.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                if let Ok(ServerEvent::Message { id, author, client_id, .. }) =
                    ServerEvent::from_json(text.as_str())
                {
                    log.push((id, author.to_string(), client_id.map(|c| c.to_string()).unwrap_or_default()));
                }
            }
            other => panic!("reading the log: {other:?} after {} messages", log.len()),
        }
    }

    let mut in_log: HashMap<&str, usize> = HashMap::new();
    for (_, _, client_id) in &log {
        *in_log.entry(client_id.as_str()).or_default() += 1;
    }
    let acked: HashSet<&str> = finished.iter().flat_map(|c| c.acked.keys().map(String::as_str)).collect();
    let lost = acked.iter().filter(|id| !in_log.contains_key(*id)).count();
    let duplicated_in_log = in_log.values().filter(|&&n| n > 1).count();
    let delivered_twice: usize = finished.iter().map(|c| c.delivered_twice).sum();
    println!(
        "restart test: {} clients x {} messages, {stop:?} after {} acks; acknowledged {}, lost {}, \
         duplicated in the log {}, delivered twice to a client {}",
        CLIENTS,
        MESSAGES_EACH,
        acked_before_kill,
        acked.len(),
        lost,
        duplicated_in_log,
        delivered_twice
    );
    assert_eq!(acked.len(), CLIENTS * MESSAGES_EACH, "every message was acknowledged in the end");
    if stop == Stop::Term {
        for client in &finished {
            assert!(client.told_going_away >= 1, "{} was told the server was going away", client.name);
        }
    }
    assert_eq!(lost, 0, "acknowledged messages missing from the log");
    assert_eq!(duplicated_in_log, 0, "messages stored twice");
    assert_eq!(delivered_twice, 0, "messages delivered twice to a client");
    let ids: Vec<u64> = log.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(ids, (1..=expected).collect::<Vec<_>>(), "the log numbers 1..=n without gaps");
    for client in &finished {
        assert_eq!(client.seen, ids, "{} saw the whole log once, in order", client.name);
        for (client_id, id) in &client.acked {
            assert!(
                log.iter().any(|(i, _, c)| i == id && c == client_id),
                "ack {client_id} -> {id} is in the log"
            );
        }
    }
    server.start_kill().expect("stop");
    let _ = server.wait().await;
}
