//! Posting without a WebSocket: the page's form and `POST /api/rooms/{room}/messages` for
//! programs. Both admit the poster the way a connection is admitted (the nickname theirs, the
//! message rate of the session and of the address, the room's ban, timeout and slow mode), so
//! that no rule of the WebSocket can be stepped around here.
//!
//! `POST /api/rooms/{room}/messages` with `Authorization: Bearer <token>` (or the session
//! cookie) and `{"text": "...", "client_id": "...", "reply_to": 42}` (the id and the message
//! it answers optional): 201 with the stored
//! message, or 200 with the one already stored under that id (a resend stores nothing twice).
//! Refused: 400 (bad text or room), 401 (no session), 403 (the nickname is registered to
//! someone else, a ban, a timeout), 409 (someone else holds the nickname in the room now), 429
//! with `Retry-After` (too fast, slow mode), 503 (storage).

use super::peer::address_of;
use super::state::AppState;
use crate::clock::now_millis;
use crate::identity::{self, AddressKey, Identity};
use crate::rooms::moderation::{NotNow, RoomModeration, Who};
use crate::session::quota::TooFast;
use crate::store::{Appended, NewMessage};
use app::names::{ClientId, MessageText, RoomName};
use app::protocol::ErrorCode;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Why a post (or a deletion) by a request was refused.
#[derive(Debug)]
pub(super) enum Refused {
    /// The request has no valid session.
    NoSession,
    /// The session's nickname is registered to an account it is not logged in to.
    NotTheirs(String),
    /// Someone else holds the nickname in the room now.
    InUse(String),
    TooFast(TooFast),
    /// A ban.
    KeptOut(String),
    /// Only those who run the room may.
    Forbidden(String),
    /// A timeout or slow mode.
    NotNow(NotNow),
    BadRequest(String),
    Unavailable,
    /// The writer did not store it (the sentence says why).
    NotStored(crate::store::WriteError),
}

impl Refused {
    /// The refusal as the page tells it: `verb` says what did not happen ("Not sent").
    pub(super) fn told(&self, verb: &str) -> String {
        match self {
            Self::NoSession => format!("{verb}: choose a nickname first."),
            Self::NotTheirs(why)
            | Self::InUse(why)
            | Self::KeptOut(why)
            | Self::Forbidden(why)
            | Self::BadRequest(why) => {
                format!("{verb}: {why}.")
            }
            Self::TooFast(too_fast) => format!("{verb}: {too_fast}."),
            Self::NotNow(not_now) => format!("{verb}: {}", not_now.why),
            Self::Unavailable => format!("{verb}: storage is unavailable, try again."),
            Self::NotStored(err) => format!("{err}."),
        }
    }

    /// The refusal as a program is told it: a status and the same sentence.
    pub(super) fn response(&self, verb: &str) -> Response {
        let status = match self {
            Self::NoSession => StatusCode::UNAUTHORIZED,
            Self::NotTheirs(_) | Self::KeptOut(_) | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::InUse(_) => StatusCode::CONFLICT,
            Self::TooFast(too_fast) => return super::json::too_many(self.told(verb), too_fast.retry_after),
            Self::NotNow(NotNow { code: ErrorCode::RateLimited, retry_after, .. }) => {
                let wait = retry_after.unwrap_or(Duration::from_secs(1));
                return super::json::too_many(self.told(verb), wait);
            }
            Self::NotNow(_) => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unavailable | Self::NotStored(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        (status, self.told(verb)).into_response()
    }
}

/// Why a nickname could not be used, as a sentence without its full stop.
pub(super) fn in_use(nickname: &app::names::Nickname) -> String {
    format!("The nickname {nickname} is in use right now; choose another")
}

/// A room's rules for a request: the live room's, or read from the store for a room nobody is
/// in on this node.
pub(super) enum RoomRules {
    Live(Arc<crate::rooms::Room>),
    Read(RoomModeration),
}

impl RoomRules {
    pub(super) async fn of(state: &AppState, room: &RoomName) -> Result<Self, crate::store::StoreError> {
        let rules = match state.rooms.get(room) {
            Some(live) => Self::Live(live),
            None => Self::Read(RoomModeration::default()),
        };
        rules.get().load(room, &state.store).await.inspect_err(|err| {
            tracing::error!(%err, "reading a room's rules failed");
        })?;
        Ok(rules)
    }

    pub(super) fn get(&self) -> &RoomModeration {
        match self {
            Self::Live(room) => room.moderation(),
            Self::Read(rules) => rules,
        }
    }
}

/// The identity a request acts as: its session's, if the nickname is theirs to use.
async fn admitted(state: &AppState, identity: Option<Identity>) -> Result<Identity, Refused> {
    let identity = identity.ok_or(Refused::NoSession)?;
    state.accounts.admit(&identity).await.map_err(|why| match why {
        crate::accounts::NotAdmitted::Registered(_) | crate::accounts::NotAdmitted::Operators(_) => {
            Refused::NotTheirs(why.to_string())
        }
        crate::accounts::NotAdmitted::Unavailable => Refused::Unavailable,
    })
}

/// Someone acting in a room by request: admitted under their nickname, with the room's rules.
pub(super) struct Poster {
    pub(super) identity: Identity,
    address: AddressKey,
    account: bool,
    pub(super) rules: RoomRules,
}

impl Poster {
    /// Admits the session of a request to act in `room`, within the message rate the WebSocket
    /// has too (the session's and the address's).
    pub(super) async fn admit(
        state: &AppState,
        identity: Option<Identity>,
        address: AddressKey,
        room: &RoomName,
    ) -> Result<Self, Refused> {
        let identity = admitted(state, identity).await?;
        state.quotas.take_message(identity.session, address, Instant::now()).map_err(Refused::TooFast)?;
        Self::with_rules(state, identity, address, room).await
    }

    /// Admits the session of a request to read what only some may read in `room`: no message is
    /// counted.
    pub(super) async fn reader(
        state: &AppState,
        identity: Option<Identity>,
        address: AddressKey,
        room: &RoomName,
    ) -> Result<Self, Refused> {
        let identity = admitted(state, identity).await?;
        Self::with_rules(state, identity, address, room).await
    }

    async fn with_rules(
        state: &AppState,
        identity: Identity,
        address: AddressKey,
        room: &RoomName,
    ) -> Result<Self, Refused> {
        let rules = RoomRules::of(state, room).await.map_err(|_| Refused::Unavailable)?;
        let account = state.accounts.acting_account(&identity).is_some();
        Ok(Self { identity, address, account, rules })
    }

    pub(super) fn who(&self) -> Who<'_> {
        Who {
            name: &self.identity.nickname,
            person: self.identity.session,
            address: Some(self.address),
            account: self.account,
        }
    }

    /// Stores `text` in `room` as theirs, if the room's rules let them post now.
    pub(super) async fn post(
        self,
        state: &AppState,
        room: RoomName,
        text: MessageText,
        client_id: Option<ClientId>,
        reply_to: Option<app::protocol::Seq>,
    ) -> Result<Appended, Refused> {
        crate::metrics::get().messages_received.inc();
        let identity = &self.identity;
        if state.rooms.held_by_other_in(&room, &identity.nickname, identity.session) {
            return Err(Refused::InUse(in_use(&identity.nickname)));
        }
        let position = state.store.position(&room).await.map_err(|err| {
            tracing::error!(%err, "reading a room's position failed");
            Refused::Unavailable
        })?;
        // A message to a room without a log creates it: the address's new rooms.
        if position.epoch == 0 {
            state.quotas.take_room(self.address, Instant::now()).map_err(Refused::TooFast)?;
        }
        let moderation = self.rules.get();
        if let Some(why) = moderation.keeps_out(&room, self.who()) {
            return Err(Refused::KeptOut(why));
        }
        moderation.may_post(&room, self.who()).map_err(Refused::NotNow)?;
        let message = NewMessage {
            room,
            author: self.identity.nickname,
            session: self.identity.session,
            text,
            at: now_millis(),
            client_id,
            reply_to,
        };
        state.writer.append(message).await.map_err(Refused::NotStored)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostRequest {
    text: String,
    client_id: Option<String>,
    reply_to: Option<app::protocol::Seq>,
}

/// `POST /api/rooms/{room}/messages` (see the module's documentation).
pub async fn post_message(
    State(state): State<AppState>,
    Path(room): Path<String>,
    request: Request,
) -> Response {
    const VERB: &str = "Not sent";
    let (parts, body) = request.into_parts();
    let request: PostRequest = match super::json::body(&parts, body, state.limits.max_body_bytes).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let parsed = (|| {
        let room = RoomName::parse(&room).map_err(|err| format!("bad room name: {err}"))?;
        let text = MessageText::parse(&request.text).map_err(|err| format!("bad text: {err}"))?;
        let client_id = request
            .client_id
            .as_deref()
            .map(ClientId::parse)
            .transpose()
            .map_err(|err| format!("bad client id: {err}"))?;
        Ok::<_, String>((room, text, client_id))
    })();
    let (room, text, client_id) = match parsed {
        Ok(parsed) => parsed,
        Err(why) => return Refused::BadRequest(why).response(VERB),
    };
    let identity = identity::from_request(&state.keys, &parts.headers);
    let poster = match Poster::admit(&state, identity, address_of(&parts), &room).await {
        Ok(poster) => poster,
        Err(refused) => return refused.response(VERB),
    };
    match poster.post(&state, room, text, client_id, request.reply_to).await {
        Ok(Appended::New(message)) => (StatusCode::CREATED, Json(message.event())).into_response(),
        Ok(Appended::Duplicate(message)) => (StatusCode::OK, Json(message.event())).into_response(),
        Err(refused) => refused.response(VERB),
    }
}
