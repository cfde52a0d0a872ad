//! `/echo`: every text or binary message comes back unchanged, for conformance testing.

use super::take_slot;
use crate::state::AppState;
use crate::ws::frame::truncate_reason;
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
    ws.max_message_size(max).max_frame_size(max).on_upgrade(move |mut socket| {
        tracker.track_future(async move {
            match slot {
                Ok(_slot) => run(socket, shutdown).await,
                Err(why) => {
                    let frame = CloseFrame { code: close_code::POLICY, reason: truncate_reason(&why).into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                }
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
                if let Some((code, reason)) = read_fault(err) {
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

/// What a failed read means: a message over the size limit (1009), text that is not UTF-8
/// (1007) or a protocol error (1002) is the client's fault and is answered with that close code
/// and a reason; `None` is a connection that is simply gone.
fn read_fault(err: axum::Error) -> Option<(u16, String)> {
    use tungstenite::error::{CapacityError, Error, ProtocolError};
    let inner = err.into_inner();
    match inner.downcast_ref::<Error>() {
        Some(Error::Capacity(CapacityError::MessageTooLong { max_size, .. })) => {
            Some((close_code::SIZE, format!("message too big: at most {max_size} bytes")))
        }
        Some(Error::Capacity(err)) => Some((close_code::SIZE, err.to_string())),
        Some(Error::Utf8(_)) => Some((close_code::INVALID, "text is not valid UTF-8".into())),
        Some(Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)) => None,
        Some(Error::Protocol(err)) => Some((close_code::PROTOCOL, err.to_string())),
        _ => {
            tracing::debug!(err = %inner, "read failed");
            None
        }
    }
}
