//! Searching what rooms said: `GET /api/search?q=<words>&room=<room>&offset=<n>` (with the session
//! cookie or `Authorization: Bearer <token>`, or neither) answers a page of [`Results`], the newest
//! messages first, each with an excerpt that marks the words found; the pages' search does the
//! same through [`search`]. Every room with a log is searched, or the one named, except those the
//! reader is banned from (by their session or their address), as they cannot read them either.
//! Each search is counted against the reader's address.

use super::peer::address_of;
use super::posting::{Refused, RoomRules};
use super::state::AppState;
use crate::identity::{self, AddressKey, Identity, SessionId};
use crate::rooms::moderation::Who;
use crate::store::{Body, StoredMessage};
use app::names::{Nickname, RoomName};
use app::search::{excerpt, Hit, Results, Terms, MAX_OFFSET, PAGE};
use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use tokio::time::Instant;

const VERB: &str = "Not searched";

/// Searches for `query` in `room` (every room for `None`) for a reader, from the `offset`th result.
pub(super) async fn search(
    state: &AppState,
    identity: Option<Identity>,
    address: AddressKey,
    query: &str,
    room: Option<RoomName>,
    offset: u32,
) -> Result<Results, Refused> {
    let terms = Terms::parse(query.trim()).map_err(|why| Refused::BadRequest(why.to_string()))?;
    state.quotas.take_search(address, Instant::now()).map_err(Refused::TooFast)?;
    let offset = offset.min(MAX_OFFSET);
    // One more than a page tells whether there are more.
    let found = state.store.search(&terms, room.as_ref(), offset, PAGE + 1).await.map_err(|err| {
        tracing::error!(%err, "a search failed");
        Refused::Unavailable
    })?;
    let more = found.len() > PAGE as usize;
    let reader = reader(state, identity).await;
    let mut allowed: Vec<(RoomName, bool)> = Vec::new();
    let mut hits = Vec::with_capacity(found.len());
    for message in found.iter().take(PAGE as usize) {
        let Body::Text { text, .. } = &message.body else { continue };
        if !may_read(state, &mut allowed, &message.room, reader.as_ref(), address).await? {
            continue;
        }
        hits.push(hit(message, text.as_str(), &terms));
    }
    let next = (more && offset + PAGE <= MAX_OFFSET).then_some(offset + PAGE);
    Ok(Results { terms: terms.as_slice().to_vec(), room, hits, next })
}

/// The person a reader is in the rooms, if they have a session and may use its nickname.
async fn reader(state: &AppState, identity: Option<Identity>) -> Option<(Identity, bool)> {
    let identity = state.accounts.admit(&identity?).await.ok()?;
    let account = state.accounts.acting_account(&identity).is_some();
    Some((identity, account))
}

/// Whether the reader may read `room` (whether a ban keeps them out), asked once a room.
async fn may_read(
    state: &AppState,
    asked: &mut Vec<(RoomName, bool)>,
    room: &RoomName,
    reader: Option<&(Identity, bool)>,
    address: AddressKey,
) -> Result<bool, Refused> {
    if let Some((_, may)) = asked.iter().find(|(r, _)| r == room) {
        return Ok(*may);
    }
    let rules = RoomRules::of(state, room).await.map_err(|_| Refused::Unavailable)?;
    // A reader without a session is nobody the room knows: only a ban of their address holds.
    let nobody = (Identity { session: SessionId::random(), nickname: Nickname::guest(0) }, false);
    let (identity, account) = reader.unwrap_or(&nobody);
    let who =
        Who { name: &identity.nickname, person: identity.session, address: Some(address), account: *account };
    let may = rules.get().keeps_out(room, who).is_none();
    asked.push((room.clone(), may));
    Ok(may)
}

fn hit(message: &StoredMessage, text: &str, terms: &Terms) -> Hit {
    Hit {
        room: message.room.clone(),
        id: message.seq,
        author: message.author.clone(),
        at: message.at,
        excerpt: excerpt(text, terms),
    }
}

#[derive(Debug, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    room: Option<String>,
    offset: Option<u32>,
}

/// `GET /api/search` (see the module's documentation).
pub async fn search_api(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let room = match params.room.as_deref().filter(|r| !r.is_empty()).map(RoomName::parse).transpose() {
        Ok(room) => room,
        Err(err) => return Refused::BadRequest(format!("bad room name: {err}")).response(VERB),
    };
    let identity = identity::from_request(&state.keys, &parts.headers);
    let offset = params.offset.unwrap_or(0);
    match search(&state, identity, address_of(&parts), &params.q, room, offset).await {
        Ok(results) => Json(results).into_response(),
        Err(refused) => refused.response(VERB),
    }
}
