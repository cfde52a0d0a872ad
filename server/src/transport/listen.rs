//! Accepting connections: HTTP/1.1 with upgrades, caps on connections (per address and in all),
//! a deadline for every request head and for every write, the client's address for the
//! handlers, and a graceful stop.
//!
//! `axum::serve` would do, but it sets no timer, so hyper's header timeout never runs and a
//! client that connects and sends nothing (or one byte a minute) holds its socket forever; nor
//! does it cap connections or give up on a response nobody reads.

use super::connections::{Caps, Connections, Full, HttpSlot, Kind};
use crate::ws::WriteStall;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower::ServiceExt;

/// How connections are served.
#[derive(Debug, Clone)]
pub struct Serving {
    /// For the request head, and for an idle keep-alive connection.
    pub handshake_timeout: Duration,
    /// For a write the peer takes nothing of.
    pub write_stall: Duration,
    pub caps: Caps,
    /// How long shutdown waits, in all, from when it begins.
    pub drain: Duration,
}

/// Serves `app` on `listener` until `shutdown` is cancelled; then stops accepting, and lets every
/// request in progress finish until the drain's deadline (a client reading a response very
/// slowly does not hold the shutdown). Returns that deadline, which holds for the rest of the
/// shutdown too: one deadline in all. Upgraded WebSockets are sessions by then, which shut down
/// on their own.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    serving: Serving,
    connections: Connections,
    shutdown: CancellationToken,
) -> Instant {
    let tasks = TaskTracker::new();
    let refusals = Arc::new(Semaphore::new(LINGERING_REFUSALS));
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors, usually: wait for some to be freed rather than spin.
                tracing::warn!(%err, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let slot = match connections.take(Kind::Http, remote.ip(), serving.caps) {
            Ok(slot) => slot,
            Err(full) => {
                crate::metrics::get().handshake_refusals.with_label_values(&["full"]).inc();
                tracing::info!(%remote, %full, "connection refused");
                match Arc::clone(&refusals).try_acquire_owned() {
                    Ok(permit) => drop(tokio::spawn(refuse(tcp, full, permit))),
                    // Too many at once (a flood): closed without a word.
                    Err(_) => drop(tcp),
                }
                continue;
            }
        };
        // Chat frames are small and latency matters: without TCP_NODELAY, Nagle's algorithm holds
        // a frame back until the previous one is acknowledged (about 40 ms with delayed ACKs).
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::warn!(%err, "cannot set TCP_NODELAY");
        }
        // The request that turns the connection into a WebSocket takes its place over.
        let slot = HttpSlot::new(slot);
        let service = app.clone().map_request(move |request: Request<Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(remote));
            request.extensions_mut().insert(slot.clone());
            request
        });
        let (shutdown, serving) = (shutdown.clone(), serving.clone());
        tasks.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(serving.handshake_timeout);
            // Header names as the hixie drafts' clients compare them (`Upgrade: WebSocket`);
            // any other client reads them in any case.
            builder.title_case_headers(true);
            let io = TokioIo::new(WriteStall::new(tcp, serving.write_stall));
            let connection = builder.serve_connection(io, TowerToHyperService::new(service)).with_upgrades();
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(err) = result {
                tracing::debug!(%err, %remote, "connection ended with an error");
            }
        });
    }
    let deadline = Instant::now() + serving.drain;
    tasks.close();
    if tokio::time::timeout_at(deadline, tasks.wait()).await.is_err() {
        tracing::warn!(left = tasks.len(), "drain deadline passed with requests still in progress");
    }
    deadline
}

/// Refused connections being told why at one time, at most: each holds a file for a moment.
const LINGERING_REFUSALS: usize = 64;

/// Tells a refused connection why and closes it, reading what the client sent meanwhile (for a
/// moment): a socket closed with unread data is reset, and the reset can destroy the answer
/// before the client reads it.
async fn refuse(mut tcp: TcpStream, full: Full, _permit: OwnedSemaphorePermit) {
    let status = match full {
        Full::Address(_) => "429 Too Many Requests",
        Full::Server => "503 Service Unavailable",
    };
    let reason = full.to_string();
    let response = format!(
        "HTTP/1.1 {status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n{reason}",
        reason.len()
    );
    let answer = async {
        tcp.write_all(response.as_bytes()).await?;
        tcp.shutdown().await?;
        let mut sink = [0u8; 4096];
        for _ in 0..16 {
            if tcp.read(&mut sink).await? == 0 {
                break;
            }
        }
        std::io::Result::Ok(())
    };
    let _ = tokio::time::timeout(REFUSAL_LINGER, answer).await;
}

/// How long a refused connection is given to read its answer.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
