//! A live room's rules and sanctions: read from the store when the room comes to life on this
//! node, then kept up to date by the moderators' actions it publishes (its own node's and, by
//! the log, the other nodes'), so that checking a post or a join costs no query.

use crate::clock::now_millis;
use crate::identity::{AddressKey, SessionId};
use crate::store::moderation::Sanction;
use crate::store::{DynStore, Record, RoomState, SanctionKind, StoreError, Subject};
use app::names::{Nickname, RoomName};
use app::protocol::{ErrorCode, Millis, Role};
use app::timeline::utc_stamp;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Someone in a room, as its rules see them.
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    pub name: &'a Nickname,
    /// The session that is them in the room (for an account, every device of it).
    pub person: SessionId,
    /// Where they come from; bans hold there too (timeouts do not: `None` will do for them).
    pub address: Option<AddressKey>,
    /// Whether they act for an account (roles belong to accounts: a guest is a member).
    pub account: bool,
}

impl Who<'_> {
    /// The sanction of `kind` that holds for them in `state` now.
    fn sanction<'s>(&self, state: &'s RoomState, kind: SanctionKind, now: Millis) -> Option<&'s Sanction> {
        let session = Subject::Session(self.person);
        match self.address {
            Some(address) => state.sanction(kind, &[session, Subject::Address(address)], now),
            None => state.sanction(kind, &[session], now),
        }
    }
}

/// Why a post was held back, for the JSON dialect and as a sentence for the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotNow {
    pub code: ErrorCode,
    pub why: String,
    /// When a post would go again (slow mode); `None` while timed out (the reason says until).
    pub retry_after: Option<std::time::Duration>,
}

#[derive(Debug, Default)]
pub struct RoomModeration {
    inner: Mutex<Loaded>,
}

#[derive(Debug, Default)]
struct Loaded {
    state: Option<Arc<RoomState>>,
    /// Counts the actions published: a load that began before one is read again, so that it
    /// never overwrites what the action changed.
    generation: u64,
    /// When each person last posted here, while slow mode is on (this node's posts only).
    posts: HashMap<SessionId, Millis>,
}

impl RoomModeration {
    fn inner(&self) -> MutexGuard<'_, Loaded> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state, if it was loaded.
    pub fn current(&self) -> Option<Arc<RoomState>> {
        self.inner().state.clone()
    }

    /// The state, loaded from the store the first time.
    pub async fn load(&self, room: &RoomName, store: &DynStore) -> Result<Arc<RoomState>, StoreError> {
        loop {
            let generation = {
                let loaded = self.inner();
                if let Some(state) = &loaded.state {
                    return Ok(Arc::clone(state));
                }
                loaded.generation
            };
            let state = Arc::new(store.room_state(room).await?);
            let mut loaded = self.inner();
            if loaded.generation == generation {
                loaded.state = Some(Arc::clone(&state));
                return Ok(state);
            }
        }
    }

    /// `who`'s role here (rules not loaded: a member).
    pub fn role(&self, who: Who<'_>) -> Role {
        if !who.account {
            return Role::Member;
        }
        self.current().map_or(Role::Member, |state| state.rules.role_of(who.name))
    }

    /// Why `who` may not enter `room` (a ban), if they may not. Those who run the room always
    /// may: a ban by address would otherwise keep out a moderator behind the same one.
    pub fn keeps_out(&self, room: &RoomName, who: Who<'_>) -> Option<String> {
        let state = self.current()?;
        let ban = who.sanction(&state, SanctionKind::Ban, now_millis())?;
        if self.role(who) >= Role::Moderator {
            return None;
        }
        Some(format!("You are banned from #{room} {}{}", until(ban.until), reason(&ban.reason)))
    }

    /// Whether `who` may post to `room` now: not while timed out, nor sooner than slow mode
    /// allows (those who run the room excepted). A post that may go is counted for slow mode.
    pub fn may_post(&self, room: &RoomName, who: Who<'_>) -> Result<(), NotNow> {
        let Some(state) = self.current() else { return Ok(()) };
        let now = now_millis();
        if let Some(timeout) = who.sanction(&state, SanctionKind::Timeout, now) {
            let why =
                format!("You are timed out in #{room} {}{}.", until(timeout.until), reason(&timeout.reason));
            return Err(NotNow { code: ErrorCode::TimedOut, why, retry_after: None });
        }
        let every = state.rules.slow_mode;
        if every == 0 || self.role(who) >= Role::Moderator {
            return Ok(());
        }
        self.slow_mode(who.person, every, now).map_err(|wait| NotNow {
            code: ErrorCode::RateLimited,
            why: format!(
                "Slow mode: one message every {every} s in #{room}; the next in {} s.",
                wait.div_ceil(1000)
            ),
            retry_after: Some(std::time::Duration::from_millis(wait)),
        })
    }

    /// Whether `person` may post at `now` under slow mode (one post per `seconds`): if so, the
    /// post is counted; if not, how many milliseconds are left to wait.
    fn slow_mode(&self, person: SessionId, seconds: u64, now: Millis) -> Result<(), u64> {
        let every = i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
        let mut loaded = self.inner();
        if let Some(last) = loaded.posts.get(&person) {
            let next = last.saturating_add(every);
            if next > now {
                return Err(u64::try_from(next - now).unwrap_or(0));
            }
        }
        // Bounded by the people who posted within the last `seconds`.
        loaded.posts.retain(|_, last| last.saturating_add(every) > now);
        loaded.posts.insert(person, now);
        Ok(())
    }

    /// Applies an action the room published; `true` if it changed the rules members are shown.
    pub(super) fn apply(&self, record: &Record, by: &Nickname) -> bool {
        use app::protocol::Action;
        let mut loaded = self.inner();
        loaded.generation += 1;
        if let Some(state) = &mut loaded.state {
            Arc::make_mut(state).apply(record, by, now_millis());
        }
        matches!(
            record.action,
            Action::SlowMode { .. } | Action::Topic { .. } | Action::Retention { .. } | Action::Role { .. }
        )
    }
}

fn until(until: Option<Millis>) -> String {
    until.map_or_else(|| "for good".to_owned(), |u| format!("until {}", utc_stamp(u)))
}

fn reason(why: &str) -> String {
    if why.is_empty() {
        String::new()
    } else {
        format!(": {why}")
    }
}
