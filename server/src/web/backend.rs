//! The server's side of the pages ([`app::api::Backend`]), and the same services as a small
//! JSON API for clients that are not browsers: `POST /api/session` (a nickname and its token)
//! and `GET /api/rooms` (the room list).

use super::accounts;
use super::peer::address_of;
use super::posting::{in_use, Poster};
use super::state::AppState;
use crate::accounts::{AccountError, LoggedIn, NotAdmitted};
use crate::clock::now_millis;
use crate::identity::{self, AddressKey, Identity, SessionId};
use crate::session::quota::TooFast;
use crate::store::{Alteration, NewChange, StoredMessage};
use app::api::{AccountView, Backend, BackendContext};
use app::names::{ClientId, MessageText, Nickname, RoomName};
use app::protocol::{Role, RoomSummary, Seq, ServerEvent};
use axum::extract::{Request, State};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::time::Instant;

/// At most this many rooms in the room list.
const ROOM_LIST_LIMIT: u32 = 100;

pub fn context(state: AppState) -> BackendContext {
    BackendContext(Arc::new(PageBackend(state)))
}

struct PageBackend(AppState);

/// Why a session could not be bound to a nickname.
enum NotBound {
    InUse(Nickname),
    Registered(Nickname),
    Operators(Nickname),
    Unavailable,
    TooFast(TooFast),
}

impl std::fmt::Display for NotBound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InUse(nickname) => write!(f, "{}.", in_use(nickname)),
            Self::Registered(nickname) => write!(f, "{}.", registered(nickname)),
            Self::Operators(nickname) => {
                write!(f, "The nickname {nickname} is the operator's; choose another.")
            }
            Self::Unavailable => f.write_str("Not now: accounts are unavailable, try again later."),
            Self::TooFast(too_fast) => write!(f, "Not now: {too_fast}."),
        }
    }
}

/// Why a registered nickname is refused, as a sentence.
fn registered(nickname: &Nickname) -> String {
    format!("The nickname {nickname} is registered: log in to use it")
}

/// Binds the session of `request` (a new one without) to `nickname`, unless another session
/// holds that nickname in `room` now (elsewhere it may be taken; joining a room where it is is
/// refused then), the nickname is registered to an account the session is not logged in to, or
/// its address makes sessions too fast.
async fn bind(
    state: &AppState,
    request: &Parts,
    nickname: Nickname,
    room: Option<&RoomName>,
) -> Result<(Identity, String), NotBound> {
    let session = state.keys.from_cookies(&request.headers).map_or_else(SessionId::random, |id| id.session);
    let acting = match state.accounts.admit(&Identity { session, nickname: nickname.clone() }).await {
        Ok(acting) => acting,
        Err(NotAdmitted::Registered(nickname)) => return Err(NotBound::Registered(nickname)),
        Err(NotAdmitted::Operators(nickname)) => return Err(NotBound::Operators(nickname)),
        Err(NotAdmitted::Unavailable) => return Err(NotBound::Unavailable),
    };
    if room.is_some_and(|room| state.rooms.held_by_other_in(room, &nickname, acting.session)) {
        return Err(NotBound::InUse(nickname));
    }
    // Every token minted counts, a new session's or a renamed one's.
    state.quotas.take_session(address_of(request), Instant::now()).map_err(NotBound::TooFast)?;
    let identity = Identity { session, nickname };
    let token = state.keys.sign(&identity);
    Ok((identity, token))
}

async fn room_list(state: &AppState) -> Vec<RoomSummary> {
    fn entry(rooms: &mut BTreeMap<RoomName, RoomSummary>, name: RoomName) -> &mut RoomSummary {
        rooms.entry(name.clone()).or_insert(RoomSummary {
            name,
            members: 0,
            last_at: None,
            topic: String::new(),
            unread: None,
            mentions: 0,
        })
    }
    let mut rooms = BTreeMap::new();
    entry(&mut rooms, RoomName::lobby());
    match state.store.active_rooms(ROOM_LIST_LIMIT).await {
        Ok(active) => {
            for room in active {
                let listed = entry(&mut rooms, room.name);
                listed.last_at = Some(room.last_at);
                listed.topic = room.topic;
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
    fn whoami(&self, request: &Parts) -> Option<Nickname> {
        self.0.keys.from_cookies(&request.headers).map(|id| id.nickname)
    }

    fn set_nickname(
        &self,
        request: &Parts,
        nickname: Nickname,
        room: Option<RoomName>,
    ) -> Pin<Box<dyn Future<Output = Result<HeaderValue, String>> + Send>> {
        let (state, request) = (self.0.clone(), request.clone());
        Box::pin(async move {
            let (_, token) =
                bind(&state, &request, nickname, room.as_ref()).await.map_err(|why| why.to_string())?;
            identity::set_cookie(&token).ok_or_else(|| "the session could not be stored".to_owned())
        })
    }

    fn recent_history(&self, room: RoomName) -> Pin<Box<dyn Future<Output = Vec<ServerEvent>> + Send>> {
        let (store, limit) = (self.0.store.clone(), self.0.limits.history_on_join);
        Box::pin(async move {
            match store.read_before(&room, None, limit).await {
                Ok(page) => page.iter().map(StoredMessage::event).collect(),
                Err(err) => {
                    // The page still renders; the WebSocket brings the history once it can.
                    tracing::error!(%err, "reading history for a page failed");
                    Vec::new()
                }
            }
        })
    }

    fn rooms(&self, request: &Parts) -> Pin<Box<dyn Future<Output = Vec<RoomSummary>> + Send>> {
        let state = self.0.clone();
        let reader = state.keys.from_cookies(&request.headers);
        Box::pin(async move {
            let mut list = room_list(&state).await;
            if let Some(reader) = reader {
                crate::web::unread::count(&state, reader, &mut list).await;
            }
            list
        })
    }

    fn post(
        &self,
        request: &Parts,
        room: RoomName,
        text: MessageText,
        client_id: Option<ClientId>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
        let state = self.0.clone();
        let identity = self.0.keys.from_cookies(&request.headers);
        let address = address_of(request);
        Box::pin(async move {
            let poster =
                Poster::admit(&state, identity, address, &room).await.map_err(|r| r.told("Not sent"))?;
            let posted = poster.post(&state, room, text, client_id, None).await;
            posted.map(|_| ()).map_err(|r| r.told("Not sent"))
        })
    }

    fn search(
        &self,
        request: &Parts,
        query: String,
        room: Option<RoomName>,
        offset: u32,
    ) -> Answer<Result<app::search::Results, String>> {
        let state = self.0.clone();
        let identity = self.0.keys.from_cookies(&request.headers);
        let address = address_of(request);
        Box::pin(async move {
            super::search::search(&state, identity, address, &query, room, offset)
                .await
                .map_err(|refused| refused.told("Not searched"))
        })
    }

    fn delete(&self, request: &Parts, room: RoomName, target: Seq) -> Answer<Result<(), String>> {
        let state = self.0.clone();
        let identity = self.0.keys.from_cookies(&request.headers);
        let address = address_of(request);
        Box::pin(async move {
            let poster =
                Poster::admit(&state, identity, address, &room).await.map_err(|r| r.told("Not deleted"))?;
            let moderator = poster.rules.get().role(poster.who()) >= Role::Moderator;
            let identity = poster.identity;
            let change = NewChange {
                room,
                by: identity.nickname.clone(),
                session: identity.session,
                target,
                alteration: Alteration::Delete,
                moderator,
                at: now_millis(),
            };
            match state.writer.change(change).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(refusal)) => Err(format!("Not deleted: {refusal}.")),
                Err(err) => Err(format!("Not deleted: {err}.")),
            }
        })
    }

    fn account(&self, request: &Parts) -> Answer<Option<AccountView>> {
        let (state, me) = (self.0.clone(), self.me(request));
        Box::pin(async move { accounts::account_view(&state, &me?).await.ok() })
    }

    fn register(
        &self,
        request: &Parts,
        nickname: Nickname,
        password: String,
    ) -> Answer<Result<HeaderValue, String>> {
        let (state, (address, agent)) = (self.0.clone(), origin_of(request));
        Box::pin(async move {
            Self::logged_in_cookie(state.accounts.register(nickname, &password, address, &agent).await)
        })
    }

    fn log_in(
        &self,
        request: &Parts,
        nickname: Nickname,
        password: String,
    ) -> Answer<Result<HeaderValue, String>> {
        let (state, (address, agent)) = (self.0.clone(), origin_of(request));
        Box::pin(async move {
            Self::logged_in_cookie(state.accounts.log_in(&nickname, &password, address, &agent).await)
        })
    }

    fn log_out(&self, request: &Parts) -> Answer<Result<HeaderValue, String>> {
        let (state, me) = (self.0.clone(), self.me(request));
        Box::pin(async move {
            let me = me.ok_or_else(|| told(AccountError::NotLoggedIn))?;
            accounts::log_out_everywhere(&state, &me).await.map_err(told)?;
            Ok(identity::clear_cookie())
        })
    }

    fn end_session(&self, request: &Parts, id: String) -> Answer<Result<(), String>> {
        let (state, me) = (self.0.clone(), self.me(request));
        Box::pin(async move {
            let me = me.ok_or_else(|| told(AccountError::NotLoggedIn))?;
            match accounts::end_session_everywhere(&state, &me, &id).await.map_err(told)? {
                true => Ok(()),
                false => Err("That session has ended already.".to_owned()),
            }
        })
    }

    fn change_password(&self, request: &Parts, current: String, new: String) -> Answer<Result<(), String>> {
        let (state, me, (address, _)) = (self.0.clone(), self.me(request), origin_of(request));
        Box::pin(async move {
            let me = me.ok_or_else(|| told(AccountError::NotLoggedIn))?;
            accounts::change_password_everywhere(&state, &me, &current, &new, address).await.map_err(told)
        })
    }
}

type Answer<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What the pages' account forms are told.
fn told(err: AccountError) -> String {
    err.to_string()
}

/// What a request asks for besides its session: its address and what it says it is.
fn origin_of(request: &Parts) -> (AddressKey, String) {
    let agent = request.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    (address_of(request), agent.to_owned())
}

impl PageBackend {
    fn me(&self, request: &Parts) -> Option<Identity> {
        self.0.keys.from_cookies(&request.headers)
    }

    fn logged_in_cookie(login: Result<LoggedIn, AccountError>) -> Result<HeaderValue, String> {
        let login = login.map_err(told)?;
        identity::set_cookie(&login.token).ok_or_else(|| "the session could not be stored".to_owned())
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
/// room, 409 when someone holds the nickname in that room now, 429 (with `Retry-After`) when the
/// client's address starts sessions too fast.
pub async fn create_session(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let request: SessionRequest = match super::json::body(&parts, body, state.limits.max_body_bytes).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let nickname = match Nickname::parse(&request.nickname) {
        Ok(nickname) => nickname,
        Err(err) => return (StatusCode::BAD_REQUEST, format!("bad nickname: {err}")).into_response(),
    };
    let room = match request.room.as_deref().map(RoomName::parse).transpose() {
        Ok(room) => room,
        Err(err) => return (StatusCode::BAD_REQUEST, format!("bad room name: {err}")).into_response(),
    };
    match bind(&state, &parts, nickname, room.as_ref()).await {
        Ok((identity, token)) => {
            let cookie = identity::set_cookie(&token);
            let body = Json(SessionResponse { nickname: identity.nickname, token });
            let mut response = body.into_response();
            if let Some(cookie) = cookie {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(why @ (NotBound::InUse(_) | NotBound::Registered(_) | NotBound::Operators(_))) => {
            (StatusCode::CONFLICT, why.to_string()).into_response()
        }
        Err(why @ NotBound::Unavailable) => {
            (StatusCode::SERVICE_UNAVAILABLE, why.to_string()).into_response()
        }
        Err(NotBound::TooFast(too_fast)) => super::json::too_many(too_fast.to_string(), too_fast.retry_after),
    }
}

/// `GET /api/rooms`: the room list.
pub async fn rooms(State(state): State<AppState>) -> Json<Vec<RoomSummary>> {
    Json(room_list(&state).await)
}
