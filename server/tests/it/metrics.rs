//! What an operator sees: the metrics after a scripted session, read directly and through a real
//! Prometheus (Debian's `prometheus`, started here on loopback) that scraped them; `/readyz`; the
//! log as JSON lines, every refusal in it once with its reason and peer.

use crate::helpers::*;
use app::protocol::SUBPROTOCOL;
use futures_util::SinkExt;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio_tungstenite::tungstenite::Message;

/// The value of the sample `series` (a name, with its labels as exposed) in a scrape.
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Scrapes until `series` reads `want` (the counts settle as the session's ends are handled).
async fn until_sample(metrics: std::net::SocketAddr, series: &str, want: f64) -> String {
    for _ in 0..100 {
        let (status, scrape) = http_get(metrics, "/metrics").await;
        assert_eq!(status, 200);
        if sample(&scrape, series) == Some(want) {
            return scrape;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{series} never read {want}: {}", http_get(metrics, "/metrics").await.1);
}

/// A Prometheus of the test's own, scraping `target` every second.
struct Prometheus {
    addr: std::net::SocketAddr,
    _child: tokio::process::Child,
    _data: tempfile::TempDir,
}

impl Prometheus {
    fn start(target: std::net::SocketAddr) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let config = data.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: chat\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("write the configuration");
        let addr = free_addr();
        let child = tokio::process::Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.path().join("tsdb").display()))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("prometheus (scripts/prometheus.sh install puts it there)");
        Self { addr, _child: child, _data: data }
    }

    /// The value of `query` (an instant vector of one series), once Prometheus has one.
    async fn query(&self, query: &str) -> Option<f64> {
        let (status, body) = http_get(self.addr, &format!("/api/v1/query?query={query}")).await;
        if status != 200 {
            return None;
        }
        let answer: serde_json::Value = serde_json::from_str(&body).ok()?;
        answer["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }

    /// Waits until `query` reads `want` in what Prometheus recorded.
    async fn until(&self, query: &str, want: f64) {
        let mut last = None;
        for _ in 0..120 {
            if let Ok(Ok(stream)) =
                tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(self.addr)).await
            {
                drop(stream);
                last = self.query(query).await;
                if last == Some(want) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("Prometheus never recorded {query} = {want} (last: {last:?})");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_session_is_counted_and_prometheus_records_it() {
    let data = tempfile::tempdir().expect("temp dir");
    let (addr, metrics) = (free_addr(), free_addr());
    let mut command = server_command(addr, data.path());
    command
        .args(["--metrics-addr", &metrics.to_string(), "--log-format", "json"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut server = command.spawn().expect("start the server binary");
    wait_until_up(addr).await;
    let (status, _) = http_get(addr, "/metrics").await;
    assert_ne!(status, 200, "the metrics are not on the public address");

    let url = |path: &str| format!("ws://{addr}{path}");
    let (mut watcher, _) = connect(&url("/chat/obs?name=wat"), Some(SUBPROTOCOL)).await;
    let (mut plain, _) = connect(&url("/chat/obs?name=pam"), None).await;
    for text in ["one", "two", "three"] {
        send_text(&mut plain, text).await;
    }
    let mut seen = 0;
    while seen < 3 {
        if let app::protocol::ServerEvent::Message { .. } = next_event(&mut watcher).await {
            seen += 1;
        }
    }
    // Refused at the handshake: the operator's name.
    let (mut impostor, _) = connect(&url("/chat/obs?name=operator"), None).await;
    let close = skip_to_close_within(&mut impostor, PATIENCE).await;
    assert_eq!(u16::from(close.code), 1008);
    // Refused after it: a binary frame to the plain dialect.
    let (mut binary, _) = connect(&url("/chat/obs?name=bin"), None).await;
    binary.send(Message::Binary(vec![1, 2, 3].into())).await.expect("send");
    let close = skip_to_close_within(&mut binary, PATIENCE).await;
    assert_eq!(u16::from(close.code), 1003);

    // The refused connection counts until its close handshake is over.
    until_sample(metrics, "chat_refusals_total{reason=\"unsupported\"}", 1.0).await;
    let scrape = until_sample(metrics, "chat_connections{dialect=\"plain\"}", 1.0).await;
    let read = |series: &str| sample(&scrape, series);
    assert_eq!(read("chat_messages_received_total"), Some(3.0), "{scrape}");
    assert_eq!(read("chat_messages_stored_total"), Some(3.0), "{scrape}");
    assert_eq!(read("chat_handshake_refusals_total{reason=\"policy\"}"), Some(1.0), "{scrape}");
    assert_eq!(read("chat_connections{dialect=\"json\"}"), Some(1.0), "{scrape}");
    assert_eq!(read("chat_connections{dialect=\"plain\"}"), Some(1.0), "{scrape}");
    assert_eq!(read("chat_rooms"), Some(1.0), "{scrape}");
    assert_eq!(read("chat_members"), Some(2.0), "{scrape}");
    assert_eq!(read("chat_flood_throttled_total"), Some(0.0), "{scrape}");
    // Three messages to two members at least, presence besides.
    assert!(read("chat_deliveries_total").is_some_and(|n| n >= 6.0), "{scrape}");
    assert!(read("chat_sent_bytes_total").is_some_and(|n| n > 0.0), "{scrape}");
    assert!(read("chat_commit_duration_seconds_count").is_some_and(|n| n >= 1.0), "{scrape}");
    assert_eq!(read("chat_commit_batch_size_sum"), Some(3.0), "{scrape}");

    // The same, as a real Prometheus recorded it.
    let prometheus = Prometheus::start(metrics);
    prometheus.until("up", 1.0).await;
    prometheus.until("chat_messages_stored_total", 3.0).await;
    prometheus.until("chat_connections%7Bdialect%3D%22plain%22%7D", 1.0).await;
    drop(plain);
    prometheus.until("chat_connections%7Bdialect%3D%22plain%22%7D", 0.0).await;

    // The log: JSON lines, each refusal once with its reason and peer.
    server.start_kill().expect("stop the server");
    let mut log = String::new();
    let mut stdout = server.stdout.take().expect("the server's output");
    stdout.read_to_string(&mut log).await.expect("read the log");
    let lines: Vec<serde_json::Value> =
        log.lines().map(|line| serde_json::from_str(line).expect("every line is JSON")).collect();
    let with = |message: &str| -> Vec<&serde_json::Value> {
        lines.iter().filter(|line| line["message"] == message).collect()
    };
    let at_handshake = with("connection refused at its handshake");
    assert_eq!(at_handshake.len(), 1, "{log}");
    assert!(at_handshake[0]["remote"].as_str().is_some_and(|peer| peer.starts_with("127.0.0.1:")), "{log}");
    assert!(at_handshake[0]["refusal"].as_str().is_some_and(|why| why.contains("operator")), "{log}");
    let refused = with("connection refused");
    assert_eq!(refused.len(), 1, "{log}");
    assert_eq!(refused[0]["code"], 1003, "{log}");
    assert_eq!(refused[0]["name"], "bin", "{log}");
    assert!(refused[0]["peer"].as_str().is_some_and(|peer| peer.starts_with("127.0.0.1:")), "{log}");
    assert_eq!(with("connection closed by the client or dropped").len(), 1, "pam's end: {log}");
}
