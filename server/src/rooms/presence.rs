//! Who is in a room and who is typing: the bookkeeping, without I/O or timers, so that every
//! rule is tested directly. The room runs it under a lock and publishes the changes it returns.
//!
//! - A member is a nickname held by one session: several connections (tabs) of that session
//!   count once, and another session cannot take the nickname while it is held.
//! - A member whose last connection drops lingers for a grace period: a reload in that time
//!   announces nothing. A deliberate leave (`quit`) is announced at once.
//! - Typing lasts until its deadline, which each new typing notice pushes back, or until the
//!   member's message arrives, or the member leaves.

use crate::identity::lookalike::same_name;
use crate::identity::{Identity, SessionId};
use app::names::Nickname;
use std::collections::{BTreeMap, HashMap};
use tokio::time::Instant;

/// A change the room announces, in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Joined(Nickname),
    Left(Nickname),
    /// Everyone typing now.
    Typing(Vec<Nickname>),
}

/// The nickname is held by another session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the nickname {0} is already in use in this room")]
pub struct NameTaken(pub Nickname);

#[derive(Debug)]
struct Member {
    name: Nickname,
    session: SessionId,
    connections: u32,
    /// Set while the member has no connection: the grace period's ticket.
    lingering: Option<u64>,
}

#[derive(Debug, Default)]
pub struct Presence {
    /// By [`same_name`]: `Alice` and `alice` are one. A hash table: one allocation per room,
    /// where a B-tree has a node for every few members (memory per connection).
    members: HashMap<String, Member>,
    typing: BTreeMap<Nickname, Instant>,
    tickets: u64,
}

/// What a connection's exit did.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    /// The member has other connections: nothing to announce.
    StillHere,
    /// The member lingers; call [`Presence::expire`] with this ticket after the grace period.
    Lingering(u64),
    /// The member is gone.
    Gone(Vec<Change>),
}

impl Presence {
    /// Members, by name whatever its case.
    pub fn names(&self) -> Vec<Nickname> {
        let mut names: Vec<(String, &Nickname)> =
            self.members.values().map(|m| (m.name.as_str().to_lowercase(), &m.name)).collect();
        names.sort_unstable();
        names.into_iter().map(|(_, name)| name.clone()).collect()
    }

    /// Whether a session other than `session` holds `name` here now.
    pub fn held_by_other(&self, name: &Nickname, session: SessionId) -> bool {
        self.members.get(&same_name(name)).is_some_and(|m| m.session != session && m.connections > 0)
    }

    /// A new connection of `id`. `first` tells whether the member is new to the room.
    pub fn enter(&mut self, id: &Identity) -> Result<(bool, Vec<Change>), NameTaken> {
        let mut changes = Vec::new();
        let key = same_name(&id.nickname);
        if let Some(member) = self.members.get_mut(&key) {
            if member.session == id.session && member.name == id.nickname {
                member.connections += 1;
                member.lingering = None;
                return Ok((false, changes));
            }
            if member.connections > 0 {
                return Err(NameTaken(member.name.clone()));
            }
            // Someone else's nickname, free since its holder left: their leave is announced
            // now, before the newcomer's join, rather than when the grace period ends.
            changes = self.remove(&key);
        }
        let member =
            Member { name: id.nickname.clone(), session: id.session, connections: 1, lingering: None };
        self.members.insert(key, member);
        changes.push(Change::Joined(id.nickname.clone()));
        Ok((true, changes))
    }

    /// A connection of `id` ended; `linger` unless the member left on purpose.
    pub fn exit(&mut self, id: &Identity, linger: bool) -> Exit {
        let key = same_name(&id.nickname);
        let Some(member) =
            self.members.get_mut(&key).filter(|m| m.session == id.session && m.name == id.nickname)
        else {
            return Exit::StillHere;
        };
        member.connections = member.connections.saturating_sub(1);
        if member.connections > 0 {
            return Exit::StillHere;
        }
        if linger {
            self.tickets += 1;
            member.lingering = Some(self.tickets);
            return Exit::Lingering(self.tickets);
        }
        Exit::Gone(self.remove(&key))
    }

    /// The grace period of `ticket` is over: the member leaves unless they came back.
    pub fn expire(&mut self, name: &Nickname, ticket: u64) -> Vec<Change> {
        let key = same_name(name);
        match self.members.get(&key) {
            Some(member) if member.lingering == Some(ticket) && member.name == *name => self.remove(&key),
            _ => Vec::new(),
        }
    }

    fn remove(&mut self, key: &str) -> Vec<Change> {
        let Some(member) = self.members.remove(key) else { return Vec::new() };
        // A room that emptied out gives back the table it grew for its crowd.
        if self.members.capacity() > 64 && self.members.len() < self.members.capacity() / 4 {
            self.members.shrink_to(self.members.len() * 2);
        }
        let mut changes = self.stop_typing(&member.name);
        changes.push(Change::Left(member.name));
        changes
    }

    /// `name` is typing until `until`. Returns the changes, and whether a timer must be started
    /// (the member was not typing already; an existing timer sees the new deadline).
    pub fn typing(&mut self, name: &Nickname, until: Instant) -> (Vec<Change>, bool) {
        if !self.members.get(&same_name(name)).is_some_and(|m| m.connections > 0 && m.name == *name) {
            return (Vec::new(), false);
        }
        match self.typing.insert(name.clone(), until) {
            Some(_) => (Vec::new(), false),
            None => (vec![self.typists()], true),
        }
    }

    /// Checks `name`'s typing deadline: `Err(deadline)` if it is still ahead, so the timer sleeps
    /// again; otherwise the changes (none if the typing had ended some other way).
    pub fn typing_due(&mut self, name: &Nickname, now: Instant) -> Result<Vec<Change>, Instant> {
        match self.typing.get(name) {
            Some(&until) if until > now => Err(until),
            Some(_) => Ok(self.stop_typing(name)),
            None => Ok(Vec::new()),
        }
    }

    /// `name`'s message arrived or they left: they are no longer typing.
    pub fn stop_typing(&mut self, name: &Nickname) -> Vec<Change> {
        match self.typing.remove(name) {
            Some(_) => vec![self.typists()],
            None => Vec::new(),
        }
    }

    fn typists(&self) -> Change {
        Change::Typing(self.typing.keys().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::nick;
    use std::time::Duration;

    fn person(name: &str) -> Identity {
        Identity::ephemeral(nick(name))
    }

    #[test]
    fn tabs_of_one_session_count_once() {
        let mut p = Presence::default();
        let alice = person("alice");
        assert_eq!(p.enter(&alice), Ok((true, vec![Change::Joined(nick("alice"))])));
        assert_eq!(p.enter(&alice), Ok((false, vec![])));
        assert_eq!(p.names(), vec![nick("alice")]);
        assert_eq!(p.exit(&alice, true), Exit::StillHere);
        assert_eq!(p.exit(&alice, false), Exit::Gone(vec![Change::Left(nick("alice"))]));
        assert!(p.names().is_empty());
    }

    #[test]
    fn members_are_listed_by_name_whatever_their_case() {
        let mut p = Presence::default();
        for name in ["carol", "Bob", "alice", "dave", "Eve"] {
            p.enter(&person(name)).unwrap();
        }
        let names: Vec<String> = p.names().iter().map(ToString::to_string).collect();
        assert_eq!(names, ["alice", "Bob", "carol", "dave", "Eve"]);
    }

    #[test]
    fn a_held_nickname_is_refused_to_another_session() {
        let mut p = Presence::default();
        p.enter(&person("alice")).unwrap();
        let thief = person("alice");
        assert_eq!(p.enter(&thief), Err(NameTaken(nick("alice"))));
        assert_eq!(p.enter(&person("ALICE")), Err(NameTaken(nick("alice"))), "case does not tell them apart");
        for lookalike in ["\u{430}lice", "ａｌｉｃｅ", "a1ice", "\u{1D51E}lice"] {
            assert_eq!(p.enter(&person(lookalike)), Err(NameTaken(nick("alice"))), "{lookalike}");
        }
        // The refused connection's exit changes nothing.
        assert_eq!(p.exit(&thief, false), Exit::StillHere);
        assert_eq!(p.names(), vec![nick("alice")]);
        p.enter(&person("sam")).unwrap();
        assert_eq!(p.enter(&person("\u{17F}am")), Err(NameTaken(nick("sam"))), "the long s");
        assert!(p.enter(&person("alicia")).is_ok(), "a different name");
    }

    #[test]
    fn a_reload_within_the_grace_period_announces_nothing() {
        let mut p = Presence::default();
        let alice = person("alice");
        p.enter(&alice).unwrap();
        let Exit::Lingering(ticket) = p.exit(&alice, true) else { panic!("should linger") };
        assert_eq!(p.enter(&alice), Ok((false, vec![])));
        assert_eq!(p.expire(&nick("alice"), ticket), vec![]);
        assert_eq!(p.names(), vec![nick("alice")]);
        // Gone for good: the later ticket expires.
        let Exit::Lingering(later) = p.exit(&alice, true) else { panic!("should linger") };
        assert_eq!(p.expire(&nick("alice"), ticket), vec![]);
        assert_eq!(p.expire(&nick("alice"), later), vec![Change::Left(nick("alice"))]);
    }

    #[test]
    fn a_lingering_nickname_goes_to_the_next_session_with_both_announced() {
        let mut p = Presence::default();
        let old = person("alice");
        p.enter(&old).unwrap();
        let Exit::Lingering(ticket) = p.exit(&old, true) else { panic!("should linger") };
        let new = person("alice");
        assert_eq!(
            p.enter(&new),
            Ok((true, vec![Change::Left(nick("alice")), Change::Joined(nick("alice"))]))
        );
        assert_eq!(p.expire(&nick("alice"), ticket), vec![]);
        assert_eq!(p.exit(&old, false), Exit::StillHere, "the old session no longer holds it");
    }

    #[test]
    fn typing_ends_by_deadline_message_or_leave() {
        let mut p = Presence::default();
        let (alice, bob) = (person("alice"), person("bob"));
        p.enter(&alice).unwrap();
        p.enter(&bob).unwrap();
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(5);
        assert_eq!(p.typing(&nick("alice"), later), (vec![Change::Typing(vec![nick("alice")])], true));
        assert_eq!(p.typing(&nick("alice"), later + Duration::from_secs(1)), (vec![], false));
        assert_eq!(p.typing_due(&nick("alice"), later), Err(later + Duration::from_secs(1)));
        assert_eq!(
            p.typing_due(&nick("alice"), later + Duration::from_secs(1)),
            Ok(vec![Change::Typing(vec![])])
        );
        p.typing(&nick("alice"), later);
        p.typing(&nick("bob"), later);
        assert_eq!(p.stop_typing(&nick("alice")), vec![Change::Typing(vec![nick("bob")])]);
        assert_eq!(p.exit(&bob, false), Exit::Gone(vec![Change::Typing(vec![]), Change::Left(nick("bob"))]));
        assert_eq!(p.typing_due(&nick("bob"), later), Ok(vec![]));
        // Only members type.
        assert_eq!(p.typing(&nick("carol"), later), (vec![], false));
    }
}
