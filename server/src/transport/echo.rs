//! `/echo`: every text or binary message comes back unchanged, for conformance testing.

use crate::state::AppState;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio_util::sync::CancellationToken;

pub async fn echo(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    let max = state.limits.echo_max_message_bytes;
    let shutdown = state.shutdown.clone();
    let tracker = state.sessions.clone();
    ws.max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| tracker.track_future(run(socket, shutdown)))
}

async fn run(mut socket: WebSocket, shutdown: CancellationToken) {
    loop {
        let message = tokio::select! {
            () = shutdown.cancelled() => {
                let frame = CloseFrame { code: close_code::AWAY, reason: "server shutting down".into() };
                let _ = socket.send(Message::Close(Some(frame))).await;
                return;
            }
            message = socket.next() => message,
        };
        let reply = match message {
            Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => message,
            // Pings are answered by the protocol layer, and a close by the flush below.
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_))) => {
                let _ = socket.flush().await;
                return;
            }
            None | Some(Err(_)) => return,
        };
        if socket.send(reply).await.is_err() {
            return;
        }
    }
}
