//! A room's history over HTTP: `GET /api/rooms/{room}/messages?before=<id>&limit=<n>` (older
//! pages, for a reader scrolling up), and the recent messages the room page is rendered with.
//! Live messages and resume go over the WebSocket.

use super::state::AppState;
use crate::store::StoredMessage;
use app::names::RoomName;
use app::protocol::{HistoryPage, Seq};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

/// A page holds at most this many messages.
pub const MAX_PAGE: u32 = 200;
const DEFAULT_PAGE: u32 = 50;

#[derive(Debug, Deserialize)]
pub struct PageParams {
    before: Option<Seq>,
    limit: Option<u32>,
}

pub async fn messages(
    State(state): State<AppState>,
    Path(room): Path<String>,
    Query(params): Query<PageParams>,
) -> Response {
    let room = match RoomName::parse(&room) {
        Ok(room) => room,
        Err(err) => return (StatusCode::BAD_REQUEST, format!("bad room name: {err}")).into_response(),
    };
    let limit = params.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    // One more than asked tells whether older messages remain.
    let mut page = match state.store.read_before(&room, params.before, limit + 1).await {
        Ok(page) => page,
        Err(err) => {
            tracing::error!(%err, "reading history failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "history is unavailable, try again later")
                .into_response();
        }
    };
    let more = page.len() > limit as usize;
    if more {
        page.remove(0);
    }
    let messages = page.iter().map(StoredMessage::event).collect();
    Json(HistoryPage { room, messages, more }).into_response()
}
