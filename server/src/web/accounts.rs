//! The accounts' JSON API (see [`crate::accounts`]). A browser is answered with its session
//! cookie as well; a program passes the token back as `Authorization: Bearer …` here, and as
//! `?token=` when it joins a room.
//!
//! - `POST /api/accounts` `{"nickname", "password"}`: registers the nickname and logs in (201).
//! - `POST /api/login` `{"nickname", "password"}`: logs in, as a new session (200).
//! - `POST /api/logout`: ends this session, and closes its connections (204).
//! - `POST /api/password` `{"current", "new"}`: every other session ends (204).
//! - `GET /api/sessions`: the sessions logged in to the account, this one marked.
//! - `DELETE /api/sessions/{id}`: ends one of them, and closes its connections (204, 404).

use super::json;
use super::peer::address_of;
use super::state::AppState;
use crate::accounts::{AccountError, LoggedIn};
use crate::identity::{self, Identity};
use app::names::Nickname;
use axum::extract::{Path, Request, State};
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    nickname: String,
    password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current: String,
    new: String,
}

#[derive(Debug, Serialize)]
struct LoginResponse {
    nickname: Nickname,
    /// Pass as `Authorization: Bearer …`, or `?token=` when joining a room.
    token: String,
}

/// The status each refusal is answered with.
fn refused(err: &AccountError) -> Response {
    let status = match err {
        AccountError::BadPassword(_) | AccountError::Reserved | AccountError::NotABot(_) => {
            StatusCode::BAD_REQUEST
        }
        AccountError::Registered(_) => StatusCode::CONFLICT,
        AccountError::WrongCredentials | AccountError::NotLoggedIn => StatusCode::UNAUTHORIZED,
        AccountError::TooFast(wait) => return json::too_many(err.to_string(), *wait),
        AccountError::Busy | AccountError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, err.to_string()).into_response()
}

fn logged_in(status: StatusCode, login: LoggedIn) -> Response {
    let cookie = identity::set_cookie(&login.token);
    let mut response =
        (status, Json(LoginResponse { nickname: login.identity.nickname, token: login.token }))
            .into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

fn agent(parts: &Parts) -> &str {
    parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn nickname(raw: &str) -> Result<Nickname, Response> {
    Nickname::parse(raw)
        .map_err(|err| (StatusCode::BAD_REQUEST, format!("bad nickname: {err}")).into_response())
}

/// Who is asking: a valid token, else 401.
fn requester(state: &AppState, parts: &Parts) -> Result<Identity, Response> {
    identity::from_request(&state.keys, &parts.headers).ok_or_else(|| refused(&AccountError::NotLoggedIn))
}

pub async fn register(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let credentials: Credentials = match json::body(&parts, body, state.limits.max_body_bytes).await {
        Ok(credentials) => credentials,
        Err(response) => return response,
    };
    let nickname = match nickname(&credentials.nickname) {
        Ok(nickname) => nickname,
        Err(response) => return response,
    };
    match state.accounts.register(nickname, &credentials.password, address_of(&parts), agent(&parts)).await {
        Ok(login) => logged_in(StatusCode::CREATED, login),
        Err(err) => refused(&err),
    }
}

pub async fn log_in(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let credentials: Credentials = match json::body(&parts, body, state.limits.max_body_bytes).await {
        Ok(credentials) => credentials,
        Err(response) => return response,
    };
    // A nickname that cannot be one is answered like a wrong password: nothing to learn.
    let Ok(nickname) = Nickname::parse(&credentials.nickname) else {
        return refused(&AccountError::WrongCredentials);
    };
    match state.accounts.log_in(&nickname, &credentials.password, address_of(&parts), agent(&parts)).await {
        Ok(login) => logged_in(StatusCode::OK, login),
        Err(err) => refused(&err),
    }
}

pub async fn log_out(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let me = match requester(&state, &parts) {
        Ok(me) => me,
        Err(response) => return response,
    };
    match log_out_everywhere(&state, &me).await {
        Ok(()) => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            response.headers_mut().insert(header::SET_COOKIE, identity::clear_cookie());
            response
        }
        Err(err) => refused(&err),
    }
}

pub async fn change_password(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let change: PasswordChange = match json::body(&parts, body, state.limits.max_body_bytes).await {
        Ok(change) => change,
        Err(response) => return response,
    };
    let me = match requester(&state, &parts) {
        Ok(me) => me,
        Err(response) => return response,
    };
    match change_password_everywhere(&state, &me, &change.current, &change.new, address_of(&parts)).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => refused(&err),
    }
}

pub async fn sessions(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let me = match requester(&state, &parts) {
        Ok(me) => me,
        Err(response) => return response,
    };
    match account_view(&state, &me).await {
        Ok(view) => Json(view.sessions).into_response(),
        Err(err) => refused(&err),
    }
}

pub async fn end_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let me = match requester(&state, &parts) {
        Ok(me) => me,
        Err(response) => return response,
    };
    match end_session_everywhere(&state, &me, &id).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => (StatusCode::NOT_FOUND, "no such session").into_response(),
        Err(err) => refused(&err),
    }
}

// What the JSON API and the pages' server functions both do.

/// Ends `me`'s session, and closes its connections everywhere.
pub(super) async fn log_out_everywhere(state: &AppState, me: &Identity) -> Result<(), AccountError> {
    state.accounts.log_out(me).await?;
    state.rooms.end_sessions(&[me.session]);
    Ok(())
}

/// Ends the session of `me`'s account named `id` (its handle), and closes its connections
/// everywhere; `false` if the account has no such session.
pub(super) async fn end_session_everywhere(
    state: &AppState,
    me: &Identity,
    id: &str,
) -> Result<bool, AccountError> {
    let logins = state.accounts.sessions(me).await?;
    let Some(login) = logins.into_iter().find(|login| login.session.handle() == id) else {
        return Ok(false);
    };
    let ended = state.accounts.end_session(me, login.session).await?;
    state.rooms.end_sessions(&[login.session]);
    Ok(ended)
}

/// Changes the password of `me`'s account, and closes the other sessions' connections
/// everywhere.
pub(super) async fn change_password_everywhere(
    state: &AppState,
    me: &Identity,
    current: &str,
    new: &str,
    address: crate::identity::AddressKey,
) -> Result<(), AccountError> {
    let ended = state.accounts.change_password(me, current, new, address).await?;
    state.rooms.end_sessions(&ended);
    Ok(())
}

/// `me`'s account as its owner sees it.
pub(super) async fn account_view(
    state: &AppState,
    me: &Identity,
) -> Result<app::api::AccountView, AccountError> {
    let sessions = state
        .accounts
        .sessions(me)
        .await?
        .into_iter()
        .map(|login| app::api::SessionView {
            id: login.session.handle(),
            created_at: login.created_at,
            agent: login.agent,
            current: login.session == me.session,
        })
        .collect();
    Ok(app::api::AccountView { nickname: me.nickname.to_string(), sessions })
}
