//! The way in: listening and accepting, the caps on connections, the checks every request
//! passes (the `Host` it names, the page it comes from), and the WebSocket endpoints, which hand
//! each connection to a session (rooms) or serve it themselves (`/echo`).

pub mod connections;
mod echo;
pub mod host;
mod join;
pub mod listen;
pub mod origin;

pub use echo::{echo, seed_echo};
pub use join::{lobby, room, seed_root, Speaks};

use crate::config::Limits;
use crate::identity::SessionKeys;
use crate::session::SessionDeps;
use crate::ws::{Frame, Refusal, Socket};
use connections::{Caps, Connections, HttpSlot, Kind, Slot};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// What the WebSocket endpoints need: cheap handles, cloned into every handshake.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub limits: Arc<Limits>,
    pub keys: SessionKeys,
    /// Registered nicknames: only their owners' sessions may use them.
    pub accounts: crate::accounts::Accounts,
    /// Connections held, per client address and in all.
    pub connections: Connections,
    /// The task of every open WebSocket connection (room sessions and echoes), so that
    /// shutdown can wait for them.
    pub tasks: TaskTracker,
    /// Cancelled when the server starts to drain.
    pub shutdown: CancellationToken,
    /// What every room session shares: made once, so that a session holds one pointer to it.
    pub session_deps: Arc<SessionDeps>,
}

/// A WebSocket's place among the connections `remote`'s address, and the server, may hold: the
/// place its connection had while it spoke HTTP, taken over. Held as long as the connection.
fn take_slot(state: &Endpoints, remote: SocketAddr, http: Option<&HttpSlot>) -> Result<Slot, Refusal> {
    let caps = Caps::from(&*state.limits);
    let slot = match http.and_then(HttpSlot::take) {
        Some(slot) => slot.into_websocket(caps),
        None => state.connections.take(Kind::WebSocket, remote.ip(), caps),
    };
    // Logged and counted where the connection is closed, once.
    slot.map_err(|full| {
        tracing::debug!(%remote, %full, "no room for the connection");
        Refusal::policy(full.to_string())
    })
}

/// Closes a connection refused after its handshake, with the refusal's code and reason.
async fn refuse(socket: Socket, remote: SocketAddr, refusal: &Refusal, stall: std::time::Duration) {
    crate::metrics::get()
        .handshake_refusals
        .with_label_values(&[crate::metrics::close_reason(refusal.code)])
        .inc();
    tracing::info!(%remote, %refusal, "connection refused at its handshake");
    let mut out = socket.outbox();
    out.queue(&Frame::close(refusal.code, &refusal.reason));
    let _ = out.flush(socket.tcp(), stall).await;
}
