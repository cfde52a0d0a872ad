//! Accepting connections: HTTP/1.1 with upgrades, a deadline for every request head, the
//! client's address for the handlers, and a graceful stop.
//!
//! `axum::serve` would do, but it sets no timer, so hyper's header timeout never runs and a
//! client that connects and sends nothing (or one byte a minute) holds its socket forever.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower::ServiceExt;

/// Serves `app` on `listener` until `shutdown` is cancelled; then stops accepting, lets every
/// request in progress finish (for at most `drain`: a client reading a response very slowly
/// does not hold the shutdown), and returns. Upgraded WebSockets are sessions by then, which
/// shut down on their own.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    handshake_timeout: Duration,
    drain: Duration,
    shutdown: CancellationToken,
) {
    let connections = TaskTracker::new();
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
        // Chat frames are small and latency matters: without TCP_NODELAY, Nagle's algorithm holds
        // a frame back until the previous one is acknowledged (about 40 ms with delayed ACKs).
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::warn!(%err, "cannot set TCP_NODELAY");
        }
        let service = app.clone().map_request(move |request: Request<Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(remote));
            request
        });
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(handshake_timeout);
            let connection = builder
                .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service))
                .with_upgrades();
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
    connections.close();
    if tokio::time::timeout(drain, connections.wait()).await.is_err() {
        tracing::warn!(left = connections.len(), "drain deadline passed with requests still in progress");
    }
}
