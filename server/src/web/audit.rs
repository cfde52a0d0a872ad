//! A room's audit for those who run it: `GET /api/rooms/{room}/audit?before=<seq>&limit=<n>`
//! with `Authorization: Bearer <token>` (or the session cookie) of the room's owner or of one of
//! its moderators: the actions taken in the room (moderators' actions and deletions), newest
//! first, as an [`AuditPage`]. 401 without a session, 403 for anyone else. (The operator reads
//! any room's with `server admin audit`.)

use super::peer::address_of;
use super::posting::{Poster, Refused};
use super::state::AppState;
use crate::identity::{self, AddressKey, Identity};
use crate::store::StoredMessage;
use app::names::RoomName;
use app::protocol::{AuditPage, Role, Seq};
use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

/// A page holds at most this many actions.
const MAX_PAGE: u32 = 200;
const DEFAULT_PAGE: u32 = 50;
const VERB: &str = "Not shown";

/// A page of `room`'s audit for the session of a request, if it runs the room.
async fn page(
    state: &AppState,
    identity: Option<Identity>,
    address: AddressKey,
    room: RoomName,
    before: Option<Seq>,
    limit: u32,
) -> Result<AuditPage, Refused> {
    let reader = Poster::reader(state, identity, address, &room).await?;
    if reader.rules.get().role(reader.who()) < Role::Moderator {
        return Err(Refused::Forbidden(format!("only those who run #{room} may read its audit")));
    }
    let limit = limit.clamp(1, MAX_PAGE);
    // One more than asked tells whether older actions remain.
    let mut actions = state.store.read_actions(&room, before, limit + 1).await.map_err(|err| {
        tracing::error!(%err, "reading an audit failed");
        Refused::Unavailable
    })?;
    let more = actions.len() > limit as usize;
    actions.truncate(limit as usize);
    let entries = actions.iter().filter_map(StoredMessage::audited).collect();
    Ok(AuditPage { room, entries, more })
}

#[derive(Debug, Deserialize)]
pub struct AuditParams {
    before: Option<Seq>,
    limit: Option<u32>,
}

/// `GET /api/rooms/{room}/audit` (see the module's documentation).
pub async fn audit(
    State(state): State<AppState>,
    Path(room): Path<String>,
    Query(params): Query<AuditParams>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let room = match RoomName::parse(&room) {
        Ok(room) => room,
        Err(err) => return Refused::BadRequest(format!("bad room name: {err}")).response(VERB),
    };
    let identity = identity::from_request(&state.keys, &parts.headers);
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    match page(&state, identity, address_of(&parts), room, params.before, limit).await {
        Ok(page) => Json(page).into_response(),
        Err(refused) => refused.response(VERB),
    }
}
