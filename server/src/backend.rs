//! The server's side of the pages ([`app::api::Backend`]), and the same services as a small
//! JSON API for clients that are not browsers: `POST /api/session` (a nickname and its token)
//! and `GET /api/rooms` (the room list).

use crate::identity::{self, Identity, SessionId};
use crate::room::RoomEvent;
use crate::state::AppState;
use crate::store::NewMessage;
use app::api::{Backend, BackendContext};
use app::names::{ClientId, MessageText, Nickname, RoomName};
use app::protocol::{RoomSummary, ServerEvent};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// At most this many rooms in the room list.
const ROOM_LIST_LIMIT: u32 = 100;

pub fn context(state: AppState) -> BackendContext {
    BackendContext(Arc::new(PageBackend(state)))
}

struct PageBackend(AppState);

/// Why a nickname could not be had.
fn in_use(nickname: &Nickname) -> String {
    format!("The nickname {nickname} is in use right now; choose another.")
}

/// Binds the session of `headers` (a new one without) to `nickname`, unless another session
/// holds that nickname in `room` now. (Elsewhere it may be taken; joining a room where it is
/// is refused then.)
fn bind(
    state: &AppState,
    headers: &HeaderMap,
    nickname: Nickname,
    room: Option<&RoomName>,
) -> Result<(Identity, String), String> {
    let session = state.keys.from_cookies(headers).map_or_else(SessionId::random, |id| id.session);
    if room.is_some_and(|room| state.rooms.held_by_other_in(room, &nickname, session)) {
        return Err(in_use(&nickname));
    }
    let identity = Identity { session, nickname };
    let token = state.keys.sign(&identity);
    Ok((identity, token))
}

async fn room_list(state: &AppState) -> Vec<RoomSummary> {
    fn entry(rooms: &mut BTreeMap<RoomName, RoomSummary>, name: RoomName) -> &mut RoomSummary {
        rooms.entry(name.clone()).or_insert(RoomSummary { name, members: 0, last_at: None })
    }
    let mut rooms = BTreeMap::new();
    entry(&mut rooms, RoomName::lobby());
    match state.store.active_rooms(ROOM_LIST_LIMIT).await {
        Ok(active) => {
            for (name, at) in active {
                entry(&mut rooms, name).last_at = Some(at);
            }
        }
        // The live rooms are still worth showing.
        Err(err) => tracing::error!(%err, "reading the room list failed"),
    }
    for (name, members) in state.rooms.occupancy() {
        entry(&mut rooms, name).members = u32::try_from(members).unwrap_or(u32::MAX);
    }
    let mut list: Vec<RoomSummary> = rooms.into_values().collect();
    // The lobby first, then the most recently active, then the rest by name.
    list.sort_by(|a, b| {
        let elsewhere = |r: &RoomSummary| r.name != RoomName::lobby();
        (elsewhere(a), std::cmp::Reverse(a.last_at), &a.name).cmp(&(
            elsewhere(b),
            std::cmp::Reverse(b.last_at),
            &b.name,
        ))
    });
    list.truncate(ROOM_LIST_LIMIT as usize);
    list
}

impl Backend for PageBackend {
    fn whoami(&self, headers: &HeaderMap) -> Option<Nickname> {
        self.0.keys.from_cookies(headers).map(|id| id.nickname)
    }

    fn set_nickname(
        &self,
        headers: &HeaderMap,
        nickname: Nickname,
        room: Option<RoomName>,
    ) -> Result<HeaderValue, String> {
        let (_, token) = bind(&self.0, headers, nickname, room.as_ref())?;
        identity::set_cookie(&token).ok_or_else(|| "the session could not be stored".to_owned())
    }

    fn recent_history(&self, room: RoomName) -> Pin<Box<dyn Future<Output = Vec<ServerEvent>> + Send>> {
        let (store, limit) = (self.0.store.clone(), self.0.limits.history_on_join);
        Box::pin(async move {
            match store.read_before(&room, None, limit).await {
                Ok(page) => page.iter().map(RoomEvent::message_event).collect(),
                Err(err) => {
                    // The page still renders; the WebSocket brings the history once it can.
                    tracing::error!(%err, "reading history for a page failed");
                    Vec::new()
                }
            }
        })
    }

    fn rooms(&self) -> Pin<Box<dyn Future<Output = Vec<RoomSummary>> + Send>> {
        let state = self.0.clone();
        Box::pin(async move { room_list(&state).await })
    }

    fn post(
        &self,
        headers: &HeaderMap,
        room: RoomName,
        text: MessageText,
        client_id: Option<ClientId>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
        let state = self.0.clone();
        let identity = self.0.keys.from_cookies(headers);
        Box::pin(async move {
            let identity = identity.ok_or_else(|| "Not sent: choose a nickname first.".to_owned())?;
            if state.rooms.held_by_other_in(&room, &identity.nickname, identity.session) {
                return Err(in_use(&identity.nickname));
            }
            let message = NewMessage {
                room,
                author: identity.nickname,
                session: identity.session,
                text,
                at: crate::room::now_millis(),
                client_id,
            };
            state.writer.append(message).await.map(|_| ()).map_err(|e| e.to_string())
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct SessionRequest {
    nickname: String,
    /// The room the client means to join: refused there if someone holds the nickname now.
    room: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SessionResponse {
    nickname: Nickname,
    /// Pass as `?token=` when joining a room.
    token: String,
}

/// `POST /api/session` with `{"nickname": "...", "room": "..."}` (room optional): a session bound
/// to that nickname, as a token (and, for a browser, the cookie). 400 for a bad nickname or
/// room, 409 when someone holds the nickname in that room now.
pub async fn create_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(request): Json<SessionRequest>,
) -> Response {
    let nickname = match Nickname::parse(&request.nickname) {
        Ok(nickname) => nickname,
        Err(err) => return (StatusCode::BAD_REQUEST, format!("bad nickname: {err}")).into_response(),
    };
    let room = match request.room.as_deref().map(RoomName::parse).transpose() {
        Ok(room) => room,
        Err(err) => return (StatusCode::BAD_REQUEST, format!("bad room name: {err}")).into_response(),
    };
    match bind(&state, &headers, nickname, room.as_ref()) {
        Ok((identity, token)) => {
            let cookie = identity::set_cookie(&token);
            let body = Json(SessionResponse { nickname: identity.nickname, token });
            let mut response = body.into_response();
            if let Some(cookie) = cookie {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(why) => (StatusCode::CONFLICT, why).into_response(),
    }
}

/// `GET /api/rooms`: the room list.
pub async fn rooms(State(state): State<AppState>) -> Json<Vec<RoomSummary>> {
    Json(room_list(&state).await)
}
