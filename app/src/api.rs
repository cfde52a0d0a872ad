//! What the pages ask of the server besides the WebSocket: who the reader is, choosing a
//! nickname, the room list, and posting without JavaScript. Each is a server function: the
//! browser calls it over HTTP (`/fn/...`), a form without JavaScript posts to the same URL and
//! is redirected back, and the server calls it directly while rendering a page.
//!
//! The server provides a [`Backend`] as context; these functions are the only way the
//! components reach it.

use crate::protocol::RoomSummary;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

/// The prefix of every server function's URL.
pub const PREFIX: &str = "/fn";

#[cfg(feature = "ssr")]
pub use backend::{Backend, BackendContext};

#[cfg(feature = "ssr")]
mod backend {
    use super::AccountView;
    use crate::names::{ClientId, MessageText, Nickname, RoomName};
    use crate::protocol::{RoomSummary, Seq, ServerEvent};
    use http::{request::Parts, HeaderValue};
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

    /// The server's side of the pages, implemented by the server crate. `request` is the HTTP
    /// request a server function answers: its cookie says who is asking, its connection where
    /// from.
    pub trait Backend: Send + Sync {
        /// The nickname of the session the request's cookie proves.
        fn whoami(&self, request: &Parts) -> Option<Nickname>;
        /// Binds the request's session (a new one if it has none) to `nickname`: the
        /// `Set-Cookie` value to send, or why not (someone else holds the nickname in `room`,
        /// it is registered to an account the session is not logged in to, or its address
        /// starts sessions too fast).
        fn set_nickname(
            &self,
            request: &Parts,
            nickname: Nickname,
            room: Option<RoomName>,
        ) -> BoxFuture<Result<HeaderValue, String>>;
        /// The room's recent messages, each a [`ServerEvent::Message`], oldest first.
        fn recent_history(&self, room: RoomName) -> BoxFuture<Vec<ServerEvent>>;
        /// Rooms with people or messages in them, the most recently active first, with what is
        /// new in each for the request's reader.
        fn rooms(&self, request: &Parts) -> BoxFuture<Vec<RoomSummary>>;
        /// Stores a message by the request's session; `Ok` once it is durable.
        fn post(
            &self,
            request: &Parts,
            room: RoomName,
            text: MessageText,
            client_id: Option<ClientId>,
        ) -> BoxFuture<Result<(), String>>;
        /// Deletes the message numbered `target` in `room` for the request's session (its
        /// author's, or a moderator's); `Ok` once the deletion is stored.
        fn delete(&self, request: &Parts, room: RoomName, target: Seq) -> BoxFuture<Result<(), String>>;
        /// A page of what `query` finds in `room` (every room the reader may read for `None`),
        /// from the `offset`th result on; or why not, as a sentence.
        fn search(
            &self,
            request: &Parts,
            query: String,
            room: Option<RoomName>,
            offset: u32,
        ) -> BoxFuture<Result<crate::search::Results, String>>;
        /// The account the request's session is logged in to, with its sessions.
        fn account(&self, request: &Parts) -> BoxFuture<Option<AccountView>>;
        /// Registers `nickname` with `password` and logs in: the `Set-Cookie` value, or why not.
        fn register(
            &self,
            request: &Parts,
            nickname: Nickname,
            password: String,
        ) -> BoxFuture<Result<HeaderValue, String>>;
        /// Logs in as a new session: the `Set-Cookie` value, or why not.
        fn log_in(
            &self,
            request: &Parts,
            nickname: Nickname,
            password: String,
        ) -> BoxFuture<Result<HeaderValue, String>>;
        /// Ends the request's session: the `Set-Cookie` value that removes it.
        fn log_out(&self, request: &Parts) -> BoxFuture<Result<HeaderValue, String>>;
        /// Ends another session of the request's account, by its id.
        fn end_session(&self, request: &Parts, id: String) -> BoxFuture<Result<(), String>>;
        /// Changes the account's password; every other session ends.
        fn change_password(
            &self,
            request: &Parts,
            current: String,
            new: String,
        ) -> BoxFuture<Result<(), String>>;
    }

    #[derive(Clone)]
    pub struct BackendContext(pub Arc<dyn Backend>);
}

#[cfg(feature = "ssr")]
fn backend() -> Result<(BackendContext, http::request::Parts), ServerFnError> {
    let backend = use_context::<BackendContext>().ok_or_else(|| ServerFnError::new("no backend"))?;
    // Rendering a page outside a request (none here, but then): a request without a cookie.
    let request =
        use_context::<http::request::Parts>().unwrap_or_else(|| http::Request::new(()).into_parts().0);
    Ok((backend, request))
}

/// The message of a server function's error, as the reader should see it.
pub fn error_text(err: &ServerFnError) -> String {
    match err {
        ServerFnError::ServerError(message) => message.clone(),
        ServerFnError::Request(_) => "The server could not be reached; try again.".to_owned(),
        other => other.to_string(),
    }
}

/// The reader's nickname, if they have chosen one.
#[server(prefix = "/fn", endpoint = "whoami", input = GetUrl)]
pub async fn whoami() -> Result<Option<String>, ServerFnError> {
    let (backend, request) = backend()?;
    Ok(backend.0.whoami(&request).map(|n| n.to_string()))
}

/// Chooses the reader's nickname (remembered in a session cookie) for use in `room` (refused if
/// someone else holds it there now); returns it as checked.
#[server(prefix = "/fn", endpoint = "nickname")]
pub async fn set_nickname(nickname: String, room: Option<String>) -> Result<String, ServerFnError> {
    let nickname = crate::names::Nickname::parse(&nickname)
        .map_err(|e| ServerFnError::new(format!("Not changed: {e}.")))?;
    let room = room.and_then(|r| crate::names::RoomName::parse(&r).ok());
    let (backend, request) = backend()?;
    let cookie =
        backend.0.set_nickname(&request, nickname.clone(), room).await.map_err(ServerFnError::new)?;
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.append_header(http::header::SET_COOKIE, cookie);
    }
    Ok(nickname.to_string())
}

/// Rooms with people or messages in them, the most recently active first.
#[server(prefix = "/fn", endpoint = "rooms", input = GetUrl)]
pub async fn list_rooms() -> Result<Vec<RoomSummary>, ServerFnError> {
    let (backend, request) = backend()?;
    Ok(backend.0.rooms(&request).await)
}

/// Posts `text` to `room`: what the composer's form does without JavaScript. (With JavaScript
/// the same form sends over the WebSocket instead.)
#[server(prefix = "/fn", endpoint = "post")]
pub async fn post_message(room: String, text: String, id: Option<String>) -> Result<(), ServerFnError> {
    use crate::names::{ClientId, MessageText, RoomName};
    let room = RoomName::parse(&room).map_err(|e| ServerFnError::new(format!("Not sent: {e}.")))?;
    let text = MessageText::parse(&text).map_err(|e| ServerFnError::new(format!("Not sent: {e}.")))?;
    let id = id.filter(|id| !id.is_empty()).map(|id| ClientId::parse(&id)).transpose();
    let id = id.map_err(|e| ServerFnError::new(format!("Not sent: {e}.")))?;
    let (backend, request) = backend()?;
    backend.0.post(&request, room, text, id).await.map_err(ServerFnError::new)
}

/// Deletes one of the reader's messages: what the message's form does without JavaScript. (With
/// JavaScript the page asks over the WebSocket instead.)
#[server(prefix = "/fn", endpoint = "delete")]
pub async fn delete_message(room: String, target: u64) -> Result<(), ServerFnError> {
    use crate::names::RoomName;
    let room = RoomName::parse(&room).map_err(|e| ServerFnError::new(format!("Not deleted: {e}.")))?;
    let (backend, request) = backend()?;
    backend.0.delete(&request, room, target).await.map_err(ServerFnError::new)
}

/// A page of what `q` finds in `room` (every room the reader may read when empty), from the
/// `offset`th result: what the search form asks for, with JavaScript or without.
#[server(prefix = "/fn", endpoint = "search", input = GetUrl)]
pub async fn search(
    q: String,
    room: Option<String>,
    offset: Option<u32>,
) -> Result<crate::search::Results, ServerFnError> {
    use crate::names::RoomName;
    let room = room.filter(|r| !r.is_empty()).map(|r| RoomName::parse(&r)).transpose();
    let room = room.map_err(|e| ServerFnError::new(format!("Not searched: {e}.")))?;
    let (backend, request) = backend()?;
    backend.0.search(&request, q, room, offset.unwrap_or(0)).await.map_err(ServerFnError::new)
}

/// An account as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub nickname: String,
    /// Its sessions, the newest first.
    pub sessions: Vec<SessionView>,
}

/// One session logged in to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// What ending it takes.
    pub id: String,
    pub created_at: crate::protocol::Millis,
    /// The browser or program it logged in from, as it said.
    pub agent: String,
    /// The session this page is in.
    pub current: bool,
}

/// The reader's account, if their session is logged in to one.
#[server(prefix = "/fn", endpoint = "account", input = GetUrl)]
pub async fn account() -> Result<Option<AccountView>, ServerFnError> {
    let (backend, request) = backend()?;
    Ok(backend.0.account(&request).await)
}

#[cfg(feature = "ssr")]
fn set_cookie(cookie: http::HeaderValue) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.append_header(http::header::SET_COOKIE, cookie);
    }
}

/// Registers a nickname with a password, and logs in.
#[server(prefix = "/fn", endpoint = "register")]
pub async fn register(nickname: String, password: String) -> Result<String, ServerFnError> {
    let nickname = crate::names::Nickname::parse(&nickname)
        .map_err(|e| ServerFnError::new(format!("Not registered: {e}.")))?;
    let (backend, request) = backend()?;
    set_cookie(backend.0.register(&request, nickname.clone(), password).await.map_err(ServerFnError::new)?);
    Ok(nickname.to_string())
}

/// Logs in to a registered nickname.
#[server(prefix = "/fn", endpoint = "login")]
pub async fn log_in(nickname: String, password: String) -> Result<String, ServerFnError> {
    let wrong = || ServerFnError::new("Wrong nickname or password.");
    let nickname = crate::names::Nickname::parse(&nickname).map_err(|_| wrong())?;
    let (backend, request) = backend()?;
    set_cookie(backend.0.log_in(&request, nickname.clone(), password).await.map_err(ServerFnError::new)?);
    Ok(nickname.to_string())
}

/// Logs this session out.
#[server(prefix = "/fn", endpoint = "logout")]
pub async fn log_out() -> Result<(), ServerFnError> {
    let (backend, request) = backend()?;
    set_cookie(backend.0.log_out(&request).await.map_err(ServerFnError::new)?);
    Ok(())
}

/// Ends another session of the reader's account.
#[server(prefix = "/fn", endpoint = "end-session")]
pub async fn end_session(id: String) -> Result<(), ServerFnError> {
    let (backend, request) = backend()?;
    backend.0.end_session(&request, id).await.map_err(ServerFnError::new)
}

/// Changes the reader's password; their other sessions end.
#[server(prefix = "/fn", endpoint = "password")]
pub async fn change_password(current: String, new: String) -> Result<(), ServerFnError> {
    let (backend, request) = backend()?;
    backend.0.change_password(&request, current, new).await.map_err(ServerFnError::new)
}

/// The error a server function at `path` reported to a form posted without JavaScript: the
/// server redirects back with it in the query string.
pub fn url_error(path: &'static str) -> Memo<Option<String>> {
    let query = leptos_router::hooks::use_query_map();
    Memo::new(move |_| {
        query.with(|q| {
            (q.get_str("__path") == Some(path)).then(|| {
                let err = q.get_str("__err").unwrap_or_default();
                error_text(&leptos::server_fn::error::ServerFnUrlError::<ServerFnError>::decode_err(err))
            })
        })
    })
}
