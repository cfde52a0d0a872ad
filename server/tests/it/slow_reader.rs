//! Slow readers: a client that stops reading never slows the room and never makes the server's
//! memory grow with what it has not read. It falls behind the room's ring, is caught up from the
//! log when it reads again, and is dropped if it never does.

use crate::helpers::*;
use app::protocol::{ServerEvent, SUBPROTOCOL};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const READERS: usize = 10;
const TOTAL: u64 = 20_000;
/// About 1 KiB of text per message: 20 MB through the room, 200 MB delivered.
const TEXT_BYTES: usize = 1_000;
const WINDOW: u64 = 1024;

/// Reads a JSON connection until it has seen message `TOTAL`; checks that the ids it saw are
/// 1, 2, 3... without gaps or repeats. Returns the ids' count, or the last id seen when the
/// connection ended first.
async fn read_all(ws: &mut Ws, last: &mut u64) -> bool {
    while *last < TOTAL {
        let frame = match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(_))) => continue,
            _ => return false,
        };
        if let Ok(ServerEvent::Message { id, .. }) = ServerEvent::from_json(frame.as_str()) {
            assert_eq!(id, *last + 1, "messages arrive in order, none missing, none twice");
            *last = id;
        }
    }
    true
}

/// A JSON client of the room, past its `ready` (whose epoch it returns) and member list.
async fn json_client(addr: std::net::SocketAddr, name: &str, after: Option<(u64, i64)>) -> (Ws, i64) {
    let mut url = format!("ws://{addr}/chat/busy?name={name}");
    if let Some((after, epoch)) = after {
        url.push_str(&format!("&after={after}&epoch={epoch}"));
    }
    let mut ws = connect(&url, Some(SUBPROTOCOL)).await.0;
    let epoch = match next_event(&mut ws).await {
        ServerEvent::Ready { epoch, .. } => epoch,
        other => panic!("expected ready, got {other:?}"),
    };
    assert!(matches!(next_event(&mut ws).await, ServerEvent::Members { .. }));
    (ws, epoch)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_stalled_reader_slows_nobody_and_memory_stays_bounded() {
    let data = tempfile::tempdir().expect("temp dir");
    let addr = free_addr();
    let mut server = start_server(addr, data.path());
    wait_until_up(addr).await;
    let pid = server.id().expect("pid");

    // The sender posts one message first, to learn the log's epoch for resuming later.
    let (mut sender, _) = json_client(addr, "sender", None).await;
    say_json(&mut sender, "m1", &"x".repeat(TEXT_BYTES)).await;
    let (_, epoch) = json_client(addr, "probe", None).await;

    let mut readers = Vec::new();
    for r in 0..READERS {
        let (mut ws, _) = json_client(addr, &format!("reader{r}"), Some((1, epoch))).await;
        readers.push(tokio::spawn(async move {
            let mut last = 1;
            assert!(read_all(&mut ws, &mut last).await, "reader{r} stopped at {last}");
            Instant::now()
        }));
    }
    // Connected, then never read from: its TCP window closes and the server's writes stall.
    let (mut stalled, _) = json_client(addr, "stalled", Some((1, epoch))).await;

    let baseline = rss_kib(pid);
    let peak = Arc::new(AtomicU64::new(baseline));
    let sampler = {
        let peak = Arc::clone(&peak);
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let started = Instant::now();
    let text = "y".repeat(TEXT_BYTES);
    let (mut sent, mut acked) = (1u64, 1u64);
    while acked < TOTAL {
        while sent < TOTAL && sent - acked < WINDOW {
            sent += 1;
            let frame = serde_json::json!({"type": "send", "id": format!("m{sent}"), "text": text});
            send_text(&mut sender, &frame.to_string()).await;
        }
        if let ServerEvent::Ack { .. } = next_event(&mut sender).await {
            acked += 1;
        }
    }
    let mut finished = Vec::new();
    for reader in readers {
        finished.push(reader.await.expect("reader"));
    }
    let delivered = finished.iter().max().expect("readers").duration_since(started);
    sampler.abort();
    let peak = peak.load(Ordering::Relaxed);

    // The stalled reader reads again: caught up from the log, or (if it was dropped meanwhile)
    // resuming from where it was. Either way it ends with the whole log, once, in order.
    let caught_up = Instant::now();
    let mut last = 1;
    let mut reconnects = 0;
    while !read_all(&mut stalled, &mut last).await {
        reconnects += 1;
        assert!(reconnects < 5, "the stalled reader could not catch up (at {last})");
        stalled = json_client(addr, "stalled", Some((last, epoch))).await.0;
    }
    let caught_up = caught_up.elapsed();
    let after = rss_kib(pid);

    let rate = (TOTAL - 1) as f64 * READERS as f64 / delivered.as_secs_f64();
    println!(
        "slow reader: {READERS} readers + 1 stalled, {} messages of {TEXT_BYTES} B: all delivered to the \
         readers in {delivered:.2?} ({rate:.0} deliveries/s); server RSS {} KiB before, peak {} KiB \
         (+{} KiB), {} KiB after; the stalled reader caught up in {caught_up:.2?} ({reconnects} reconnects)",
        TOTAL - 1,
        baseline,
        peak,
        peak.saturating_sub(baseline),
        after
    );
    // 20 MB went through the room; a reader that buffered what it did not read would add that
    // much. The room's ring (1024 events) and the SQLite cache are what may grow.
    assert!(peak.saturating_sub(baseline) < 12 * 1024, "server memory grew by {} KiB", peak - baseline);
    server.start_kill().expect("stop");
    let _ = server.wait().await;
}

#[tokio::test]
async fn a_reader_that_never_reads_again_is_dropped() {
    let server = spawn_with_limits(|l| {
        unthrottled(l);
        l.write_stall = Duration::from_millis(300);
    })
    .await;
    let (mut watcher, _) = server.json("/chat/busy?name=watcher").await;
    let (stalled, _) = server.json("/chat/busy?name=stalled").await;
    // The watcher sees the stalled member leave (after the grace period), without reading.
    let watcher = tokio::spawn(async move {
        loop {
            match tokio::time::timeout(Duration::from_secs(30), watcher.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    if let Ok(ServerEvent::Left { name, .. }) = ServerEvent::from_json(text.as_str()) {
                        return name.to_string();
                    }
                }
                Ok(Some(Ok(_))) => {}
                other => panic!("the watcher stopped: {other:?}"),
            }
        }
    });
    let (sender, _) = server.json("/chat/busy?name=sender").await;
    let (mut sender, mut echoes) = sender.split();
    // The sender reads what comes back (or it would be a stalled reader itself).
    let drain = tokio::spawn(async move { while let Some(Ok(_)) = echoes.next().await {} });
    let text = "z".repeat(4_000);
    // Enough to fill every buffer between the server and the stalled client.
    for i in 0..4_000 {
        let frame = serde_json::json!({"type": "send", "id": format!("s{i}"), "text": text});
        futures_util::SinkExt::send(&mut sender, Message::text(frame.to_string())).await.expect("send");
    }
    assert_eq!(watcher.await.expect("watcher"), "stalled");
    drop(stalled);
    drain.abort();
    server.stop().await;
}
