//! Benchmark: stored-and-acknowledged messages per second, through the real server and the JSON
//! dialect, on SQLite or PostgreSQL. Not a test: it prints figures for docs/BENCHMARKS.md.
//!
//!   cargo run --release -p server --example durable_writes -- [postgres://…] [clients] [seconds]
//!
//! Each client keeps `WINDOW` messages in flight and counts acknowledgements; one run with a
//! single client sending one message at a time shows what a commit costs alone.

use futures_util::{SinkExt, StreamExt};
use server::Config;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
use tokio_util::sync::CancellationToken;

const WINDOW: usize = 32;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let database_url = args.first().filter(|a| a.contains("://")).cloned();
    let numbers: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let clients = numbers.first().copied().unwrap_or(64) as usize;
    let seconds = numbers.get(1).copied().unwrap_or(10);

    let data = tempfile::tempdir()?;
    let mut config = Config::for_tests(data.path().to_path_buf());
    config.database_url = database_url.clone();
    // Flood control would measure itself: each client here sends as fast as it is acknowledged.
    config.limits.messages_per_second = 1e9;
    config.limits.message_burst = u32::MAX;
    // Every client is a session of its own in a room of its own, all from one address.
    config.limits.new_sessions_per_minute = u32::MAX;
    config.limits.new_rooms_per_hour = u32::MAX;
    config.limits.max_connections_per_address = usize::MAX;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(server::run(config, listener, shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let backend = if database_url.is_some() { "PostgreSQL" } else { "SQLite" };
    for (clients, window) in [(1, 1), (clients, WINDOW)] {
        let room = format!("bench-{clients}-{window}");
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let tasks: Vec<_> =
            (0..clients).map(|c| tokio::spawn(client(addr, room.clone(), c, window, deadline))).collect();
        let mut acked = 0u64;
        let mut latencies = Vec::new();
        for task in tasks {
            let (n, mut lat) = task.await??;
            acked += n;
            latencies.append(&mut lat);
        }
        latencies.sort_unstable();
        let pct = |p: f64| {
            latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
        };
        println!(
            "{backend}: {clients} client(s) x {window} in flight: {:.0} acknowledged messages/s \
             (ack latency p50 {:.2} ms, p99 {:.2} ms)",
            acked as f64 / seconds as f64,
            pct(0.50).map_or(0.0, |d| d.as_secs_f64() * 1e3),
            pct(0.99).map_or(0.0, |d| d.as_secs_f64() * 1e3),
        );
    }
    shutdown.cancel();
    server.await??;
    Ok(())
}

/// Sends until `deadline` with `window` messages in flight; returns the acks and their latencies.
async fn client(
    addr: std::net::SocketAddr,
    room: String,
    c: usize,
    window: usize,
    deadline: Instant,
) -> anyhow::Result<(u64, Vec<Duration>)> {
    let mut request = format!("ws://{addr}/chat/{room}-{c}?name=b{c}").into_client_request()?;
    request.headers_mut().insert("Sec-WebSocket-Protocol", app::protocol::SUBPROTOCOL.parse()?);
    // disable_nagle: the benchmark measures the server, not the client's TCP coalescing.
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true).await?;
    let mut sent_at = std::collections::HashMap::new();
    let (mut next, mut acked) = (0u64, 0u64);
    let mut latencies = Vec::new();
    loop {
        while sent_at.len() < window && Instant::now() < deadline {
            let frame =
                serde_json::json!({"type": "send", "id": format!("m{next}"), "text": "benchmark message"});
            ws.send(Message::text(frame.to_string())).await?;
            sent_at.insert(format!("m{next}"), Instant::now());
            next += 1;
        }
        if sent_at.is_empty() {
            return Ok((acked, latencies));
        }
        // A refusal (a limit, say) must end the run with what the server said, not stall it.
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .map_err(|_| anyhow::anyhow!("client {c}: no answer for 10 s"))?;
        let Some(frame) = frame else { anyhow::bail!("client {c}: connection closed") };
        if let Message::Text(text) = frame? {
            match app::protocol::ServerEvent::from_json(&text) {
                Ok(app::protocol::ServerEvent::Ack { client_id, .. }) => {
                    if let Some(t) = sent_at.remove(client_id.as_str()) {
                        latencies.push(t.elapsed());
                        acked += 1;
                    }
                }
                Ok(app::protocol::ServerEvent::Error { .. }) => {
                    anyhow::bail!("client {c}: the server said {text}")
                }
                _ => {}
            }
        }
    }
}
