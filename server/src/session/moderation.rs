//! The room's rules as one connection meets them: a ban keeps it out, a timeout or slow mode
//! holds its posts back, a moderator's requests become actions, and a registered person who
//! creates a room owns it.

use super::{End, Session};
use crate::clock::now_millis;
use crate::rooms::moderation::{NotNow, Who};
use crate::rooms::Room;
use crate::store::{ModerationRefusal, NewModeration, Person};
use crate::ws::Refusal;
use app::names::RoomName;
use app::protocol::{Action, ErrorCode, Role, ServerEvent};

impl Session {
    /// Who this connection is, as the room's rules see it; `at`: with its address (for bans),
    /// which costs a system call.
    fn who(&self, at: bool) -> Who<'_> {
        Who {
            name: &self.identity.nickname,
            person: self.identity.session,
            address: at.then(|| self.address()),
            account: self.for_account,
        }
    }

    /// Whether the connection may enter: not if it is banned. The room's rules are read from
    /// the store the first time on this node.
    pub(super) async fn may_enter(&self, room: &Room) -> Result<(), End> {
        room.moderation().load(room.name(), &self.deps.store).await.map_err(|err| {
            tracing::error!(%err, "reading a room's rules failed");
            End::Refused(Refusal::try_again("storage is unavailable, try again"))
        })?;
        match room.moderation().keeps_out(room.name(), self.who(true)) {
            Some(why) => Err(End::Refused(Refusal::policy(why))),
            None => Ok(()),
        }
    }

    /// Why a moderator put this connection out.
    pub(super) fn removal(&self, room: &Room) -> Refusal {
        let why = room.moderation().keeps_out(room.name(), self.who(true));
        Refusal::policy(why.unwrap_or_else(|| "a moderator put you out of the room".to_owned()))
    }

    /// This person's role in the room.
    pub(super) fn role(&self, room: &Room) -> Role {
        room.moderation().role(self.who(false))
    }

    /// Whether the person may post now (see [`RoomModeration::may_post`]).
    pub(super) fn may_post(&self, room: &Room) -> Result<(), NotNow> {
        room.moderation().may_post(room.name(), self.who(false))
    }

    /// A moderator's (or owner's) request: taken as an action if the store allows it.
    pub(super) async fn moderate(&mut self, room: &Room, action: Action) -> Option<End> {
        if let Some(end) = self.admit_message().await {
            return Some(end);
        }
        let target =
            match person(&self.deps.accounts, &self.deps.store, room.name(), Some(room), &action).await {
                Ok(target) => target,
                Err(refusal) => return self.reply(&moderation_refused(&refusal)).await,
            };
        let moderation = NewModeration {
            room: room.name().clone(),
            by: self.identity.nickname.clone(),
            by_session: self.identity.session,
            by_account: self.deps.accounts.acting_account(&self.identity),
            operator: false,
            action,
            target,
            at: now_millis(),
        };
        match self.deps.writer.moderate(moderation).await {
            Ok(Ok(_)) => None,
            Ok(Err(refusal)) => self.reply(&moderation_refused(&refusal)).await,
            Err(err) => {
                self.reply(&ServerEvent::Error { code: ErrorCode::Unavailable, message: err.to_string() })
                    .await
            }
        }
    }

    /// A registered person entering a room nobody created takes it: they own it from now on.
    pub(super) async fn claim_if_new(&self, room: &Room) {
        let Some(account) = self.deps.accounts.acting_account(&self.identity) else { return };
        if !self.room_is_new || *room.name() == RoomName::lobby() {
            return;
        }
        let me = Person {
            name: self.identity.nickname.clone(),
            account: Some(account.clone()),
            session: self.identity.session,
            addresses: Vec::new(),
        };
        let claim = NewModeration {
            room: room.name().clone(),
            by: self.identity.nickname.clone(),
            by_session: self.identity.session,
            by_account: Some(account),
            operator: false,
            action: Action::Role { name: self.identity.nickname.clone(), role: Role::Owner },
            target: Some(me),
            at: now_millis(),
        };
        match self.deps.writer.moderate(claim).await {
            Ok(Ok(_)) | Ok(Err(ModerationRefusal::Taken)) => {}
            Ok(Err(refusal)) => tracing::warn!(%refusal, "claiming a new room was refused"),
            Err(err) => tracing::warn!(%err, "claiming a new room failed"),
        }
    }
}

/// What a JSON client is told of an action that was not taken.
fn moderation_refused(refusal: &ModerationRefusal) -> ServerEvent {
    let code = match refusal {
        ModerationRefusal::NotHere(_) => ErrorCode::NotFound,
        ModerationRefusal::Invalid(_) => ErrorCode::BadRequest,
        _ => ErrorCode::Forbidden,
    };
    ServerEvent::Error { code, message: refusal.to_string() }
}

/// How far back in a room's log a guest who left is looked for, by the entries they wrote.
const RECENT_ENTRIES: u32 = 1000;

/// Whom an action is about: someone in the room (if it is live here); for a registered name,
/// its account wherever they are; for a guest who is not here, the session that wrote their
/// latest message among the room's recent ones.
pub(crate) async fn person(
    accounts: &crate::accounts::Accounts,
    store: &crate::store::DynStore,
    room_name: &app::names::RoomName,
    room: Option<&Room>,
    action: &Action,
) -> Result<Option<Person>, ModerationRefusal> {
    let name = match action {
        Action::Kick { name, .. }
        | Action::Timeout { name, .. }
        | Action::Ban { name, .. }
        | Action::Pardon { name }
        | Action::Role { name, .. } => name,
        Action::SlowMode { .. } | Action::Topic { .. } | Action::Retention { .. } => return Ok(None),
    };
    let unavailable = |err: crate::store::StoreError| {
        tracing::error!(%err, "looking up whom an action is about failed");
        ModerationRefusal::Invalid("storage is unavailable, try again".into())
    };
    let account = accounts.registered(name).await.map_err(unavailable)?;
    let here = room.and_then(|room| room.person_named(name));
    let (session, addresses) = match (&account, here) {
        (Some((_, person)), here) => (*person, here.map(|(_, addresses)| addresses).unwrap_or_default()),
        (None, Some(here)) => here,
        (None, None) if matches!(action, Action::Pardon { .. }) => return Ok(None),
        (None, None) => match store.recent_session_of(room_name, name, RECENT_ENTRIES).await {
            Ok(Some(session)) => (session, Vec::new()),
            Ok(None) => return Err(ModerationRefusal::NotHere(name.clone())),
            Err(err) => return Err(unavailable(err)),
        },
    };
    Ok(Some(Person { name: name.clone(), account: account.map(|(key, _)| key), session, addresses }))
}
