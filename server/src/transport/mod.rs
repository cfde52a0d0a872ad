//! The WebSocket endpoints: handshake, limits and dialect negotiation, then hand-over to a
//! session. `/chat` and `/` reach the lobby, `/chat/{room}` any room, `/echo` echoes.

mod echo;

use crate::codec::{Dialect, OFFERED_SUBPROTOCOLS};
use crate::session::{truncate_reason, Resume, Session};
use crate::state::AppState;
use app::names::{Nickname, RoomName};
use app::protocol::{Epoch, Seq};
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tracing::Instrument;

pub use echo::echo;

/// The query string of a room URL.
#[derive(Debug, Default, Deserialize)]
pub struct JoinParams {
    /// The nickname to use; a guest name is assigned when absent.
    name: Option<String>,
    /// Resume after this message (JSON dialect): the last `id` the client saw...
    after: Option<Seq>,
    /// ...in this epoch of the room's log.
    epoch: Option<Epoch>,
}

/// `/chat`: the lobby.
pub async fn lobby(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Query(params): Query<JoinParams>,
) -> Response {
    upgrade_room(ws, state, Ok(RoomName::lobby()), params)
}

/// `/chat/{room}`.
pub async fn room(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Path(room): Path<String>,
    Query(params): Query<JoinParams>,
) -> Response {
    let room = RoomName::parse(&room).map_err(|e| format!("bad room name: {e}"));
    upgrade_room(ws, state, room, params)
}

/// Lets a WebSocket handshake on `/` reach the lobby, as the seeds' pages (`ws://host:port/`)
/// expect, while a plain GET of `/` still gets the web page.
pub async fn seed_root(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let is_upgrade = request.uri().path() == "/"
        && request
            .headers()
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !is_upgrade {
        return next.run(request).await;
    }
    let (mut parts, _body) = request.into_parts();
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let params = match Query::<JoinParams>::from_request_parts(&mut parts, &state).await {
        Ok(Query(params)) => params,
        Err(rejection) => return rejection.into_response(),
    };
    upgrade_room(ws, state, Ok(RoomName::lobby()), params)
}

fn upgrade_room(
    ws: WebSocketUpgrade,
    state: AppState,
    room: Result<RoomName, String>,
    params: JoinParams,
) -> Response {
    let limits = &state.limits;
    let ws = ws
        .protocols(OFFERED_SUBPROTOCOLS)
        .max_message_size(limits.room_max_message_bytes)
        .max_frame_size(limits.room_max_message_bytes)
        .read_buffer_size(limits.read_buffer_bytes)
        .write_buffer_size(limits.write_buffer_bytes);
    let dialect = Dialect::from_selected(ws.selected_protocol().and_then(|p| p.to_str().ok()));
    let name = match params.name.as_deref() {
        None | Some("") => Ok(state.guest_name()),
        Some(raw) => Nickname::parse(raw).map_err(|e| format!("bad name: {e}")),
    };
    // Only the JSON dialect can resume: the plain one has no message ids.
    let resume = match (dialect, params.after) {
        (Dialect::Json, Some(after)) => Some(Resume { epoch: params.epoch.unwrap_or(0), after }),
        _ => None,
    };
    let tracker = state.sessions.clone();
    ws.on_upgrade(move |socket| {
        tracker.track_future(async move {
            let (room, name) = match (room, name) {
                (Ok(room), Ok(name)) => (room, name),
                // Refused after the handshake rather than with an HTTP error, because a browser
                // shows a page the close reason but never an HTTP status.
                (Err(why), _) | (_, Err(why)) => return refuse(socket, &why).await,
            };
            let span = tracing::info_span!("session", room = %room, name = %name, ?dialect);
            let membership = state.rooms.join(&room);
            let session = Session::new(socket, dialect, name, membership, resume, state.session_deps());
            session.run().instrument(span).await;
        })
    })
}

async fn refuse(mut socket: WebSocket, why: &str) {
    tracing::debug!(why, "connection refused");
    let frame = CloseFrame { code: close_code::POLICY, reason: truncate_reason(why).into() };
    let _ = socket.send(Message::Close(Some(frame))).await;
}
