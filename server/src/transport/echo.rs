//! `/echo`: every text or binary message comes back unchanged, for conformance testing.

use super::{refuse, take_slot};
use crate::session::truncate_reason;
use crate::state::AppState;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;

pub async fn echo(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
) -> Response {
    let max = state.limits.echo_max_message_bytes;
    let shutdown = state.shutdown.clone();
    let tracker = state.sessions.clone();
    let slot = take_slot(&state, remote);
    ws.max_message_size(max).max_frame_size(max).on_upgrade(move |socket| {
        tracker.track_future(async move {
            match slot {
                Ok(_slot) => run(socket, shutdown).await,
                Err(why) => refuse(socket, &why).await,
            }
        })
    })
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
            None => return,
            // Tells a peer that broke the protocol what it did, as the rooms do.
            Some(Err(err)) => {
                if let Some((code, reason)) = crate::session::read_fault(err) {
                    let frame = CloseFrame { code, reason: truncate_reason(&reason).into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                }
                return;
            }
        };
        if socket.send(reply).await.is_err() {
            return;
        }
    }
}
