//! Rooms run by people: who may do what to whom (the rule, whatever the database), what a
//! room's rules and sanctions are, and the record each action leaves in the room's log. Each
//! store reads the roles and applies an action in its own statements.

use super::{Body, StoreError, StoredMessage};
use crate::identity::{AddressKey, SessionId};
use app::names::{Nickname, RoomName};
use app::protocol::{Action, Epoch, Millis, Role, RoomRules, Seq};
use serde::{Deserialize, Serialize};

/// The longest topic a room may have.
pub const MAX_TOPIC_BYTES: usize = 300;
/// The longest reason a moderator may give.
pub const MAX_REASON_BYTES: usize = 300;
/// The longest timeout or timed ban (a year), and the slowest slow mode (an hour).
pub const MAX_SANCTION_SECS: u64 = 365 * 24 * 3600;
pub const MAX_SLOW_MODE_SECS: u64 = 3600;
/// The longest a room's owner may ask its messages to be kept before they are forgotten.
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// Whom an action is about, as the room knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: Nickname,
    /// Their account's key, if the name is registered.
    pub account: Option<String>,
    /// The session that is them in rooms (for an account, every device of it).
    pub session: SessionId,
    /// Where their connections in the room come from now (bans and timeouts hold there too).
    pub addresses: Vec<AddressKey>,
}

/// An action on its way into the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewModeration {
    pub room: RoomName,
    pub by: Nickname,
    pub by_session: SessionId,
    /// The actor's account key: roles belong to accounts, so a guest has none.
    pub by_account: Option<String>,
    /// The server's operator (the command line): may do anything anywhere.
    pub operator: bool,
    pub action: Action,
    /// Whom it is about (kick, timeout, ban, pardon, role).
    pub target: Option<Person>,
    pub at: Millis,
}

/// Why an action was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModerationRefusal {
    #[error("only a moderator of this room may do that")]
    NotModerator,
    #[error("only the owner of this room may do that")]
    NotOwner,
    #[error("{0} runs this room too: only someone above them may do that")]
    Above(Nickname),
    #[error("{0} is not in this room and wrote nothing here lately")]
    NotHere(Nickname),
    #[error("{0} is not a registered nickname: only accounts can run rooms")]
    NotRegistered(Nickname),
    #[error("{0}")]
    Invalid(String),
    #[error("this room is already someone's")]
    Taken,
}

/// What an action leaves in the log: the action as asked, when it ends, and whom it holds for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Millis>,
    /// The subjects a timeout or ban holds for, and the session a kick or ban puts out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<Subject>,
}

/// Whom a sanction holds for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    Session(SessionId),
    Address(AddressKey),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Session(session) => write!(f, "s:{session}"),
            Self::Address(address) => write!(f, "a:{address}"),
        }
    }
}

impl std::str::FromStr for Subject {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once(':') {
            Some(("s", id)) => id.parse().map(Self::Session).map_err(|e| format!("{e}")),
            Some(("a", key)) => key.parse().map(Self::Address).map_err(|e| format!("{e}")),
            _ => Err(format!("not a subject: {text:?}")),
        }
    }
}

impl Serialize for Subject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Subject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SanctionKind {
    Timeout,
    Ban,
}

impl SanctionKind {
    pub(super) fn sql(self) -> i16 {
        match self {
            Self::Timeout => 1,
            Self::Ban => 2,
        }
    }

    pub(super) fn from_sql(kind: i16) -> Option<Self> {
        match kind {
            1 => Some(Self::Timeout),
            2 => Some(Self::Ban),
            _ => None,
        }
    }
}

/// A timeout or a ban in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanction {
    pub kind: SanctionKind,
    pub subject: Subject,
    /// The folded name it was given under.
    pub name: String,
    pub until: Option<Millis>,
    pub reason: String,
}

impl Sanction {
    pub fn in_force(&self, now: Millis) -> bool {
        self.until.is_none_or(|until| until > now)
    }
}

/// Everything a room's moderation holds: its rules, and the sanctions in force.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomState {
    pub rules: RoomRules,
    pub sanctions: Vec<Sanction>,
}

impl RoomState {
    /// The sanction of `kind` that holds for any of `subjects` now, the longest first.
    pub fn sanction(&self, kind: SanctionKind, subjects: &[Subject], now: Millis) -> Option<&Sanction> {
        self.sanctions
            .iter()
            .filter(|s| s.kind == kind && s.in_force(now) && subjects.contains(&s.subject))
            .max_by_key(|s| s.until.unwrap_or(Millis::MAX))
    }

    /// Applies an action that was stored (on this node or another).
    pub fn apply(&mut self, record: &Record, by: &Nickname, now: Millis) {
        let folded = |name: &Nickname| crate::identity::lookalike::same_name(name);
        self.sanctions.retain(|s| s.in_force(now));
        match &record.action {
            Action::Kick { .. } => {}
            Action::Timeout { name, reason, .. } | Action::Ban { name, reason, .. } => {
                let kind = if matches!(record.action, Action::Ban { .. }) {
                    SanctionKind::Ban
                } else {
                    SanctionKind::Timeout
                };
                for subject in &record.subjects {
                    self.sanctions.retain(|s| !(s.kind == kind && s.subject == *subject));
                    self.sanctions.push(Sanction {
                        kind,
                        subject: *subject,
                        name: folded(name),
                        until: record.until,
                        reason: reason.clone(),
                    });
                }
            }
            Action::Pardon { name } => self.sanctions.retain(|s| s.name != folded(name)),
            Action::SlowMode { seconds } => self.rules.slow_mode = *seconds,
            Action::Topic { text } => self.rules.topic = text.clone(),
            Action::Retention { days } => self.rules.retention_days = *days,
            Action::Role { name, role } => {
                let same = |n: &Nickname| folded(n) == folded(name);
                self.rules.moderators.retain(|n| !same(n));
                match role {
                    Role::Member => {}
                    Role::Moderator => self.rules.moderators.push(name.clone()),
                    Role::Owner => {
                        if let Some(old) = self.rules.owner.take().filter(|old| !same(old)) {
                            self.rules.moderators.push(old);
                        }
                        self.rules.owner = Some(name.clone());
                    }
                }
                let _ = by;
            }
        }
    }
}

impl NewModeration {
    /// Whether the action may be taken, given the actor's role, the target's (if any), and
    /// whether the room has a log yet (a claim is for a room nobody created).
    pub(super) fn judge(
        &self,
        actor: Role,
        target: Role,
        room_exists: bool,
        owned: bool,
    ) -> Result<(), ModerationRefusal> {
        self.check()?;
        if let Action::Role { role: Role::Owner, .. } = &self.action {
            if self.is_claim() {
                return if room_exists || owned { Err(ModerationRefusal::Taken) } else { Ok(()) };
            }
        }
        if self.operator {
            return Ok(());
        }
        match &self.action {
            Action::Role { .. } | Action::Retention { .. } if actor < Role::Owner => {
                Err(ModerationRefusal::NotOwner)
            }
            Action::Role { .. } | Action::Retention { .. } => Ok(()),
            _ if actor < Role::Moderator => Err(ModerationRefusal::NotModerator),
            Action::Kick { name, .. }
            | Action::Timeout { name, .. }
            | Action::Ban { name, .. }
            | Action::Pardon { name }
                if target >= actor =>
            {
                Err(ModerationRefusal::Above(name.clone()))
            }
            _ => Ok(()),
        }
    }

    /// The creator of a room taking it: the only action anyone takes on themselves.
    pub fn is_claim(&self) -> bool {
        matches!(&self.action, Action::Role { name, role: Role::Owner } if *name == self.by && !self.operator)
            && self.target.as_ref().is_some_and(|t| t.session == self.by_session)
    }

    /// What the action asks, checked on its own.
    fn check(&self) -> Result<(), ModerationRefusal> {
        let invalid = |why: String| Err(ModerationRefusal::Invalid(why));
        let reason_ok =
            |reason: &str| reason.len() <= MAX_REASON_BYTES && !reason.chars().any(char::is_control);
        match &self.action {
            Action::Kick { reason, .. } | Action::Ban { reason, .. } | Action::Timeout { reason, .. }
                if !reason_ok(reason) =>
            {
                invalid(format!("a reason is one line of at most {MAX_REASON_BYTES} bytes"))
            }
            Action::Timeout { seconds, .. } if *seconds == 0 || *seconds > MAX_SANCTION_SECS => {
                invalid(format!("a timeout lasts 1 to {MAX_SANCTION_SECS} seconds"))
            }
            Action::Ban { seconds: Some(seconds), .. } if *seconds == 0 || *seconds > MAX_SANCTION_SECS => {
                invalid(format!("a ban lasts 1 to {MAX_SANCTION_SECS} seconds, or for good"))
            }
            Action::SlowMode { seconds } if *seconds > MAX_SLOW_MODE_SECS => {
                invalid(format!("slow mode is at most one message every {MAX_SLOW_MODE_SECS} seconds"))
            }
            Action::Topic { text } if text.len() > MAX_TOPIC_BYTES || text.chars().any(char::is_control) => {
                invalid(format!("a topic is one line of at most {MAX_TOPIC_BYTES} bytes"))
            }
            Action::Retention { days } if *days > MAX_RETENTION_DAYS => {
                invalid(format!("a room keeps its messages at most {MAX_RETENTION_DAYS} days"))
            }
            Action::Role { name, .. } if self.target.as_ref().is_none_or(|t| t.account.is_none()) => {
                Err(ModerationRefusal::NotRegistered(name.clone()))
            }
            _ => Ok(()),
        }
    }

    /// The record the action leaves.
    pub fn record(&self) -> Record {
        let until = match &self.action {
            Action::Timeout { seconds, .. } | Action::Ban { seconds: Some(seconds), .. } => {
                Some(self.at.saturating_add(i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX)))
            }
            _ => None,
        };
        // A ban holds for the addresses the person comes from too (a guest would otherwise
        // come back under a new session at once); a timeout, which only quiets, for the person
        // alone, so that others behind the same address (a campus, a NAT) can still talk.
        let subjects = match (&self.action, &self.target) {
            (Action::Kick { .. } | Action::Timeout { .. }, Some(target)) => {
                vec![Subject::Session(target.session)]
            }
            (Action::Ban { .. }, Some(target)) => std::iter::once(Subject::Session(target.session))
                .chain(target.addresses.iter().map(|a| Subject::Address(*a)))
                .collect(),
            _ => Vec::new(),
        };
        Record { action: self.action.clone(), until, subjects }
    }

    /// The action as stored under `seq` of `epoch`.
    pub(super) fn stored(&self, record: Record, epoch: Epoch, seq: i64) -> Result<StoredMessage, StoreError> {
        Ok(StoredMessage {
            room: self.room.clone(),
            epoch,
            seq: Seq::try_from(seq).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            author: self.by.clone(),
            body: Body::Moderation(Box::new(record)),
            at: self.at,
            client_id: None,
        })
    }
}

/// A role as the store keeps it.
pub(super) fn role_from_sql(role: Option<i16>) -> Role {
    match role {
        Some(2) => Role::Owner,
        Some(1) => Role::Moderator,
        _ => Role::Member,
    }
}

pub(super) fn role_sql(role: Role) -> i16 {
    match role {
        Role::Owner => 2,
        Role::Moderator => 1,
        Role::Member => 0,
    }
}

/// The statements, in both databases' dialect.
pub(super) mod sql {
    pub const ROLE: &str = "SELECT role FROM room_roles WHERE room = $1 AND account = $2";
    pub const EXISTS: &str = "SELECT 1 AS one FROM rooms WHERE name = $1";
    pub const OWNED: &str = "SELECT 1 AS one FROM room_roles WHERE room = $1 AND role = 2";
    /// Numbers an entry, creating the room's log if it has none (a claim, a topic set before the
    /// first message).
    pub const NUMBER: &str = "INSERT INTO rooms (name, epoch, last_seq, last_at) VALUES ($1, $2, 1, $3)
        ON CONFLICT (name) DO UPDATE SET last_seq = rooms.last_seq + 1 RETURNING epoch, last_seq";
    pub const INSERT: &str = "INSERT INTO messages (room, seq, author, session, text, at, kind)
                              VALUES ($1, $2, $3, $4, $5, $6, 3)";
    pub const SANCTION: &str =
        "INSERT INTO sanctions (room, kind, subject, name, until, reason, by_name, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (room, kind, subject) DO UPDATE SET name = excluded.name, until = excluded.until,
             reason = excluded.reason, by_name = excluded.by_name, at = excluded.at";
    pub const PARDON: &str = "DELETE FROM sanctions WHERE room = $1 AND name = $2";
    pub const SLOW_MODE: &str = "INSERT INTO room_settings (room, slow_mode) VALUES ($1, $2)
        ON CONFLICT (room) DO UPDATE SET slow_mode = excluded.slow_mode";
    pub const TOPIC: &str = "INSERT INTO room_settings (room, topic) VALUES ($1, $2)
        ON CONFLICT (room) DO UPDATE SET topic = excluded.topic";
    pub const DEMOTE_OWNER: &str = "UPDATE room_roles SET role = 1 WHERE room = $1 AND role = 2";
    pub const SET_ROLE: &str =
        "INSERT INTO room_roles (room, account, nickname, role) VALUES ($1, $2, $3, $4)
        ON CONFLICT (room, account) DO UPDATE SET nickname = excluded.nickname, role = excluded.role";
    pub const DROP_ROLE: &str = "DELETE FROM room_roles WHERE room = $1 AND account = $2";
    pub const ROLES: &str = "SELECT nickname, role FROM room_roles WHERE room = $1 ORDER BY nickname";
    pub const RETENTION: &str = "INSERT INTO room_settings (room, retention_days) VALUES ($1, $2)
        ON CONFLICT (room) DO UPDATE SET retention_days = excluded.retention_days";
    pub const SETTINGS: &str = "SELECT topic, slow_mode, retention_days FROM room_settings WHERE room = $1";
    pub const SANCTIONS: &str = "SELECT kind, subject, name, until, reason FROM sanctions
        WHERE room = $1 AND (until IS NULL OR until > $2)";
}

/// The target's account key, as the statements bind it.
pub(super) fn target_account(change: &NewModeration) -> Option<&str> {
    change.target.as_ref().and_then(|t| t.account.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::nick;

    fn action(action: Action, target_account: Option<&str>) -> NewModeration {
        NewModeration {
            room: RoomName::lobby(),
            by: nick("mod"),
            by_session: SessionId::named("mod"),
            by_account: Some("mod".into()),
            operator: false,
            action,
            target: Some(Person {
                name: nick("bob"),
                account: target_account.map(str::to_owned),
                session: SessionId::named("bob"),
                addresses: vec![],
            }),
            at: 1_000,
        }
    }

    #[test]
    fn moderators_act_on_members_owners_on_moderators_and_only_owners_hand_out_roles() {
        let kick = || Action::Kick { name: nick("bob"), reason: "spam".into() };
        let role = || Action::Role { name: nick("bob"), role: Role::Moderator };
        let judge = |a: Action, actor, target| action(a, Some("bob")).judge(actor, target, true, true);
        assert_eq!(judge(kick(), Role::Moderator, Role::Member), Ok(()));
        assert_eq!(judge(kick(), Role::Member, Role::Member), Err(ModerationRefusal::NotModerator));
        assert_eq!(
            judge(kick(), Role::Moderator, Role::Moderator),
            Err(ModerationRefusal::Above(nick("bob")))
        );
        assert_eq!(judge(kick(), Role::Owner, Role::Moderator), Ok(()));
        assert_eq!(judge(role(), Role::Moderator, Role::Member), Err(ModerationRefusal::NotOwner));
        assert_eq!(judge(role(), Role::Owner, Role::Member), Ok(()));
        let guest = action(role(), None).judge(Role::Owner, Role::Member, true, true);
        assert_eq!(guest, Err(ModerationRefusal::NotRegistered(nick("bob"))));
        let mut operator = action(kick(), None);
        operator.operator = true;
        assert_eq!(operator.judge(Role::Member, Role::Owner, true, true), Ok(()));
        let long =
            Action::Timeout { name: nick("bob"), seconds: MAX_SANCTION_SECS + 1, reason: String::new() };
        assert!(matches!(judge(long, Role::Owner, Role::Member), Err(ModerationRefusal::Invalid(_))));
    }

    #[test]
    fn a_room_is_claimed_only_while_nobody_created_it() {
        let mut claim = action(Action::Role { name: nick("mod"), role: Role::Owner }, Some("mod"));
        claim.target = Some(Person {
            name: nick("mod"),
            account: Some("mod".into()),
            session: SessionId::named("mod"),
            addresses: vec![],
        });
        assert!(claim.is_claim());
        assert_eq!(claim.judge(Role::Member, Role::Member, false, false), Ok(()));
        assert_eq!(claim.judge(Role::Member, Role::Member, true, false), Err(ModerationRefusal::Taken));
        assert_eq!(claim.judge(Role::Member, Role::Member, false, true), Err(ModerationRefusal::Taken));
    }

    #[test]
    fn sanctions_hold_for_their_subjects_until_they_end_and_a_pardon_lifts_them() {
        let mut state = RoomState::default();
        let bob = Subject::Session(SessionId::named("bob"));
        let address = Subject::Address("ffffffff7f000001".parse().unwrap());
        let record = Record {
            action: Action::Timeout { name: nick("bob"), seconds: 60, reason: "calm down".into() },
            until: Some(61_000),
            subjects: vec![bob, address],
        };
        state.apply(&record, &nick("mod"), 1_000);
        assert_eq!(
            state.sanction(SanctionKind::Timeout, &[address], 2_000).map(|s| s.reason.as_str()),
            Some("calm down")
        );
        assert!(state.sanction(SanctionKind::Ban, &[bob], 2_000).is_none());
        assert!(state.sanction(SanctionKind::Timeout, &[bob], 61_000).is_none(), "over at its end");
        state.apply(
            &Record { action: Action::Pardon { name: nick("Bob") }, until: None, subjects: vec![] },
            &nick("mod"),
            2_000,
        );
        assert!(state.sanction(SanctionKind::Timeout, &[bob], 2_000).is_none());
        assert_eq!(
            "s:0123456789abcdef0123456789abcdef".parse::<Subject>().map(|s| s.to_string()).as_deref(),
            Ok("s:0123456789abcdef0123456789abcdef")
        );
    }
}
