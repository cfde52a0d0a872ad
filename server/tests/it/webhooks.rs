//! Outgoing webhooks, against a real receiver on loopback: each new message once, in order,
//! signed; held while the receiver is down or refusing, delivered when it is back; kept
//! through a restart of the server; stopped when removed.

use crate::admin::admin;
use crate::helpers::*;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use server::config::Config;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What the receiver was sent: each request's headers and body, and the status it answered.
#[derive(Default)]
pub struct Received {
    pub requests: Mutex<Vec<(HeaderMap, String, u16)>>,
    /// The status it answers with.
    pub status: AtomicU16,
}

impl Received {
    /// The bodies of the requests it took (answered 2xx).
    pub fn taken(&self) -> Vec<(HeaderMap, String)> {
        let requests = self.requests.lock().expect("not poisoned");
        requests.iter().filter(|(_, _, s)| *s < 300).map(|(h, b, _)| (h.clone(), b.clone())).collect()
    }

    fn attempts(&self) -> usize {
        self.requests.lock().expect("not poisoned").len()
    }
}

/// A receiver on `addr` until `stop`.
pub async fn receive(addr: SocketAddr, received: Arc<Received>, stop: CancellationToken) {
    async fn hook(State(received): State<Arc<Received>>, headers: HeaderMap, body: String) -> StatusCode {
        let status = received.status.load(Ordering::SeqCst);
        received.requests.lock().expect("not poisoned").push((headers, body, status));
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
    }
    let app = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(received);
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind the receiver");
    axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned()).await.expect("receive");
}

/// Waits until the receiver took `count` messages.
pub async fn taken(received: &Received, count: usize) -> Vec<(HeaderMap, String)> {
    let deadline = tokio::time::Instant::now() + SLOW;
    loop {
        let taken = received.taken();
        if taken.len() >= count {
            return taken;
        }
        assert!(tokio::time::Instant::now() < deadline, "only {} of {count} delivered", taken.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn text_of(body: &str) -> String {
    let event: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    assert_eq!(event["type"], "message", "{body}");
    event["text"].as_str().expect("its text").to_owned()
}

pub fn quick(limits: &mut server::config::Limits) {
    limits.webhook_poll = Duration::from_millis(50);
    limits.webhook_first_backoff = Duration::from_millis(100);
    limits.webhook_max_backoff = Duration::from_millis(400);
    limits.webhook_refresh = Duration::from_millis(100);
    limits.webhook_deadline = Duration::from_secs(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_gets_each_message_once_signed_even_after_it_was_down() {
    let receiver_addr = free_addr();
    let received = Arc::new(Received::default());
    received.status.store(200, Ordering::SeqCst);
    let up = CancellationToken::new();
    let receiver = tokio::spawn(receive(receiver_addr, received.clone(), up.clone()));

    let data = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_tests(data.path().to_path_buf());
    quick(&mut config.limits);
    let server = spawn_with(config, data).await;
    let (mut ann, _) = server.json("/chat/hall?name=ann").await;
    say_json(&mut ann, "0", "before the webhook").await;

    let url = format!("http://{receiver_addr}/hook");
    let (ok, said) = admin(server.data_dir(), &["webhook-add", "hall", &url]).await;
    assert!(ok, "{said}");
    let secret = said.lines().find_map(|l| l.strip_prefix("secret ")).expect("the secret, once").to_owned();
    let (ok, said) = admin(server.data_dir(), &["webhook-add", "hall", "ftp://example.org/"]).await;
    assert!(!ok && said.contains("http://"), "{said}");
    // The list is read again on the next refresh: messages from here on are the webhook's.
    tokio::time::sleep(Duration::from_millis(300)).await;

    for (i, text) in ["one", "two", "three"].iter().enumerate() {
        say_json(&mut ann, &format!("{}", i + 1), text).await;
    }
    let got = taken(&received, 3).await;
    let texts: Vec<_> = got.iter().map(|(_, body)| text_of(body)).collect();
    assert_eq!(texts, ["one", "two", "three"], "in order, from after it was made");
    for (headers, body) in &got {
        let signature = headers["x-chat-signature"].to_str().expect("ASCII");
        assert!(server::webhooks::signature::verify(&secret, signature, body.as_bytes()), "{signature}");
        assert!(!server::webhooks::signature::verify("another secret", signature, body.as_bytes()));
        assert_eq!(headers["content-type"], "application/json");
    }
    assert!(got[0].0["x-chat-delivery"].to_str().expect("ASCII").starts_with("hall:"));

    // The receiver goes away: messages wait, and are tried again with growing pauses.
    up.cancel();
    receiver.await.expect("the receiver stopped");
    say_json(&mut ann, "4", "four").await;
    say_json(&mut ann, "5", "five").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (ok, listed) = admin(server.data_dir(), &["webhooks"]).await;
    assert!(ok && listed.contains("failures"), "the operator sees it failing: {listed}");
    let up = CancellationToken::new();
    let receiver = tokio::spawn(receive(receiver_addr, received.clone(), up.clone()));
    let got = taken(&received, 5).await;
    assert_eq!(
        got.iter().map(|(_, b)| text_of(b)).collect::<Vec<_>>(),
        ["one", "two", "three", "four", "five"]
    );

    // It refuses one for a while (503): tried again until taken, and taken once.
    received.status.store(503, Ordering::SeqCst);
    let attempts = received.attempts();
    say_json(&mut ann, "6", "six").await;
    let deadline = tokio::time::Instant::now() + SLOW;
    while received.attempts() < attempts + 2 {
        assert!(tokio::time::Instant::now() < deadline, "not tried again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    received.status.store(200, Ordering::SeqCst);
    taken(&received, 6).await;

    // Through a restart of the server: what was delivered is not delivered again.
    drop(ann);
    let server = server.restart().await;
    let (mut bob, _) = server.json("/chat/hall?name=bob").await;
    // The history it is given first, up to the last message.
    while !matches!(next_event(&mut bob).await, app::protocol::ServerEvent::Message { text, .. } if text.as_str() == "six")
    {
    }
    say_json(&mut bob, "7", "after the restart").await;
    let got = taken(&received, 7).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_now = received.taken();
    assert_eq!(got_now.len(), got.len(), "nothing more");
    let ids: HashSet<_> =
        got_now.iter().map(|(h, _)| h["x-chat-delivery"].to_str().expect("ASCII").to_owned()).collect();
    assert_eq!(ids.len(), 7, "each message once");
    assert_eq!(text_of(&got_now[6].1), "after the restart");

    // Removed: nothing more is sent.
    let (ok, listed) = admin(server.data_dir(), &["webhooks"]).await;
    assert!(ok, "{listed}");
    let id = listed.split('\t').next().expect("an id").trim().to_owned();
    let (ok, said) = admin(server.data_dir(), &["webhook-remove", &id]).await;
    assert!(ok, "{said}");
    // Its delivery stops at its next step: the lease of a removed webhook is nobody's.
    tokio::time::sleep(Duration::from_millis(500)).await;
    say_json(&mut bob, "8", "unheard").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(received.taken().len(), 7, "a removed webhook sends nothing");
    up.cancel();
    receiver.await.expect("the receiver stopped");
    server.stop().await;
}
