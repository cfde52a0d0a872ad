//! The rooms' endpoints: `/chat` and `/` reach the lobby, `/chat/{room}` any room. The
//! handshake, the limits and the dialect are settled here; the session gets the socket, the
//! dialect and who the client is.

use super::connections::HttpSlot;
use super::{refuse, take_slot, Endpoints};
use crate::accounts::NotAdmitted;
use crate::codec::{Dialect, OFFERED_SUBPROTOCOLS};
use crate::identity::{self, Identity, SessionId};
use crate::session::{Resume, Session};
use crate::ws::{Refusal, Upgrade};
use app::names::{Nickname, RoomName};
use app::protocol::{close, Epoch, Seq};
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::FutureExt;
use serde::Deserialize;
use std::net::SocketAddr;
use tracing::Instrument;

/// The query string of a room URL.
#[derive(Debug, Default, Deserialize)]
pub struct JoinParams {
    /// A session token (clients without cookies): the server's word for who this is.
    token: Option<String>,
    /// For clients without a session (the seeds' pages): the nickname to use, if nobody holds it.
    /// A guest name is assigned when absent.
    name: Option<String>,
    /// Resume after this message (JSON dialect): the last `id` the client saw...
    after: Option<Seq>,
    /// ...in this epoch of the room's log.
    epoch: Option<Epoch>,
}

/// The dialect a legacy system's listener speaks on the rooms' paths, whatever the handshake
/// (an extension its router adds to every request).
#[derive(Debug, Clone, Copy)]
pub struct Speaks(pub Dialect);

/// `/chat`: the lobby.
pub async fn lobby(
    ws: Upgrade,
    State(state): State<Endpoints>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    http: Option<Extension<HttpSlot>>,
    speaks: Option<Extension<Speaks>>,
    headers: HeaderMap,
    Query(params): Query<JoinParams>,
) -> Response {
    let http = http.map(|Extension(slot)| slot);
    let dialect = speaks.map(|Extension(Speaks(dialect))| dialect);
    upgrade_room(ws, state, remote, http.as_ref(), Ok(RoomName::lobby()), &headers, params, dialect).await
}

/// `/chat/{room}`.
pub async fn room(
    ws: Upgrade,
    State(state): State<Endpoints>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    http: Option<Extension<HttpSlot>>,
    speaks: Option<Extension<Speaks>>,
    Path(room): Path<String>,
    headers: HeaderMap,
    Query(params): Query<JoinParams>,
) -> Response {
    let room = RoomName::parse(&room).map_err(|e| Refusal::policy(format!("bad room name: {e}")));
    let http = http.map(|Extension(slot)| slot);
    let dialect = speaks.map(|Extension(Speaks(dialect))| dialect);
    upgrade_room(ws, state, remote, http.as_ref(), room, &headers, params, dialect).await
}

/// Lets a WebSocket handshake on `/` reach the lobby, as the seeds' pages (`ws://host:port/`)
/// expect, while a plain GET of `/` still gets the web page.
pub async fn seed_root(State(state): State<Endpoints>, request: Request, next: Next) -> Response {
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
    let ws = match Upgrade::from_request_parts(&mut parts, &state).await {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let params = match Query::<JoinParams>::from_request_parts(&mut parts, &state).await {
        Ok(Query(params)) => params,
        Err(rejection) => return rejection.into_response(),
    };
    let remote = match ConnectInfo::<SocketAddr>::from_request_parts(&mut parts, &state).await {
        Ok(ConnectInfo(remote)) => remote,
        Err(rejection) => return rejection.into_response(),
    };
    let http = parts.extensions.get::<HttpSlot>().cloned();
    upgrade_room(ws, state, remote, http.as_ref(), Ok(RoomName::lobby()), &parts.headers, params, None).await
}

/// A hixie client is refused with an HTTP status and the reason as the body: its closing
/// handshake has no room for a reason.
fn refused_before_the_handshake(remote: SocketAddr, refusal: &Refusal) -> Response {
    let status = match refusal.code {
        close::TRY_AGAIN => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::FORBIDDEN,
    };
    crate::metrics::get()
        .handshake_refusals
        .with_label_values(&[crate::metrics::close_reason(refusal.code)])
        .inc();
    tracing::info!(%remote, %refusal, "hixie connection refused");
    (status, refusal.reason.clone()).into_response()
}

/// Who the connection is: the session its token or cookie proves, else a one-connection
/// identity under the name it asked for, or a guest name (with its number: the session picks
/// the next one should it be taken).
fn identify(
    state: &Endpoints,
    headers: &HeaderMap,
    params: &JoinParams,
) -> Result<(Identity, Option<u16>), Refusal> {
    if let Some(token) = &params.token {
        return state
            .keys
            .verify(token)
            .map(|id| (id, None))
            .ok_or_else(|| Refusal::policy("invalid session token"));
    }
    // A program's key (a bot's) or session token: a bad one is refused, not taken for a guest.
    if headers.contains_key(header::AUTHORIZATION) {
        return identity::from_request(&state.keys, headers)
            .map(|id| (id, None))
            .ok_or_else(|| Refusal::policy("invalid Authorization: Bearer <token or API key> expected"));
    }
    if let Some(identity) = state.keys.from_cookies(headers) {
        return Ok((identity, None));
    }
    match params.name.as_deref() {
        None | Some("") => {
            let number = fastrand::u16(..state.limits.guest_names.max(1));
            Ok((Identity::ephemeral(Nickname::guest(number)), Some(number)))
        }
        Some(raw) => Ok((
            Identity::ephemeral(Nickname::parse(raw).map_err(|e| Refusal::policy(format!("bad name: {e}")))?),
            None,
        )),
    }
}

/// Whether the identity may use its nickname: a registered one only by a session logged in to
/// it (see [`crate::accounts`]). Returns who it is in the room, and the session its token names
/// (whose end closes the connection).
async fn admit(state: &Endpoints, identity: Identity) -> Result<(Identity, SessionId), Refusal> {
    match state.accounts.admit(&identity).await {
        Ok(acting) => Ok((acting, identity.session)),
        Err(why @ (NotAdmitted::Registered(_) | NotAdmitted::Operators(_))) => {
            Err(Refusal::policy(why.to_string()))
        }
        Err(why @ NotAdmitted::Unavailable) => Err(Refusal::try_again(why.to_string())),
    }
}

/// `dialect`: the one a listener of a legacy system speaks; else the handshake decides.
#[allow(clippy::too_many_arguments)]
async fn upgrade_room(
    ws: Upgrade,
    state: Endpoints,
    remote: SocketAddr,
    http: Option<&HttpSlot>,
    room: Result<RoomName, Refusal>,
    headers: &HeaderMap,
    params: JoinParams,
    dialect: Option<Dialect>,
) -> Response {
    let limits = &state.limits;
    let ws = ws.max_message_size(limits.room_max_message_bytes).deadline(limits.handshake_timeout);
    let (ws, dialect) = match dialect {
        Some(dialect) => (ws, dialect),
        None => {
            let ws = ws.protocols(&OFFERED_SUBPROTOCOLS);
            let from_browser = headers.contains_key(header::ORIGIN);
            let dialect = Dialect::from_handshake(ws.selected_protocol(), from_browser);
            (ws, dialect)
        }
    };
    let identity = match identify(&state, headers, &params) {
        Ok((identity, guest)) => admit(&state, identity).await.map(|admitted| (admitted, guest)),
        Err(refusal) => Err(refusal),
    };
    let slot = take_slot(&state, remote, http);
    // Only the JSON dialect can resume: the plain one has no message ids.
    let resume = match (dialect, params.after) {
        (Dialect::Json, Some(after)) => Some(Resume { epoch: params.epoch, after }),
        _ => None,
    };
    let admitted = match (room, identity, slot) {
        (Ok(room), Ok(((identity, login), guest)), Ok(slot)) => Ok((room, identity, login, guest, slot)),
        (Err(refusal), _, _) | (_, Err(refusal), _) | (_, _, Err(refusal)) => Err(refusal),
    };
    if ws.is_hixie() {
        if let Err(refusal) = &admitted {
            return refused_before_the_handshake(remote, refusal);
        }
    }
    let tracker = state.tasks.clone();
    // Only what the session needs is moved into the task, which lives as long as the connection.
    let deps = state.session_deps.clone();
    ws.on_upgrade(move |socket| async move {
        let (room, identity, login, guest, slot) = match admitted {
            Ok(admitted) => admitted,
            // Refused after the handshake rather than with an HTTP error, because a browser
            // shows a page the close reason but never an HTTP status.
            Err(refusal) => return refuse(socket, remote, &refusal, deps.limits.write_stall).await,
        };
        // Debug level: an enabled span is entered and left on every poll, once per event.
        let span = tracing::debug_span!("session", room = %room, name = %identity.nickname, ?dialect);
        let session =
            Session::join(socket, dialect, identity, login, &room, deps).run(resume, guest).instrument(span);
        // A task of its own, holding the session and its slot and nothing else: the task of the
        // handshake, and what it captured, is gone for the life of the connection (memory per
        // connection).
        let connected = crate::metrics::Connected::new(dialect.label());
        tokio::spawn(tracker.track_future(session.map(move |()| drop((slot, connected)))));
    })
}
