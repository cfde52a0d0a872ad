//! Who is in a room and who is typing: the bookkeeping, without I/O or timers, so that every
//! rule is tested directly. The room runs it under a lock and publishes the changes it returns.
//!
//! - A member is a nickname held by one session: several connections (tabs) of that session
//!   count once, and another session cannot take the nickname while it is held.
//! - A member whose last connection drops lingers for a grace period: a reload in that time
//!   announces nothing. A deliberate leave (`quit`) is announced at once.
//! - Typing lasts until its deadline, which each new typing notice pushes back, or until the
//!   member's message arrives, or the member leaves.
//! - With several server processes, a member may be held here, on other nodes, or both: it
//!   joins when the first one holds it and leaves when the last lets go, and a nickname held on
//!   another node is refused here as one held here would be. What this node starts or stops
//!   holding is kept for the room to tell the others ([`Presence::take_held`]).

use super::federation::NodeId;
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
    /// Its connections to this node.
    connections: u32,
    /// Set while the member has no connection here: the grace period's ticket.
    lingering: Option<u64>,
    /// The other nodes that hold it (for the same session).
    nodes: Vec<NodeId>,
}

impl Member {
    /// Whether this node holds the member: a connection, or its grace period.
    fn held_here(&self) -> bool {
        self.connections > 0 || self.lingering.is_some()
    }

    /// Whether a connection holds it, here or on another node (a lingering member gives its
    /// name up to whoever comes).
    fn connected(&self) -> bool {
        self.connections > 0 || !self.nodes.is_empty()
    }
}

/// What this node started or stopped holding, for the other nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    Hold(Nickname, SessionId),
    Release(Nickname, SessionId),
}

#[derive(Debug, Default)]
pub struct Presence {
    /// By [`same_name`]: `Alice` and `alice` are one. A hash table: one allocation per room,
    /// where a B-tree has a node for every few members (memory per connection).
    members: HashMap<String, Member>,
    typing: BTreeMap<Nickname, Instant>,
    tickets: u64,
    /// What this node started or stopped holding since the room last took it.
    held: Vec<Held>,
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

    /// The session of the member named `name`, if there is one (here or on another node).
    pub fn session_of(&self, name: &Nickname) -> Option<SessionId> {
        self.members.get(&same_name(name)).map(|m| m.session)
    }

    /// Whether a session other than `session` holds `name` here now.
    pub fn held_by_other(&self, name: &Nickname, session: SessionId) -> bool {
        self.members.get(&same_name(name)).is_some_and(|m| m.session != session && m.connected())
    }

    /// What this node started or stopped holding since the last call, in order.
    pub fn take_held(&mut self) -> Vec<Held> {
        std::mem::take(&mut self.held)
    }

    /// Every member this node holds, with its session.
    pub fn held_here(&self) -> Vec<(Nickname, SessionId)> {
        self.members.values().filter(|m| m.held_here()).map(|m| (m.name.clone(), m.session)).collect()
    }

    /// A new connection of `id`. `first` tells whether the member is new to the room.
    pub fn enter(&mut self, id: &Identity) -> Result<(bool, Vec<Change>), NameTaken> {
        let mut changes = Vec::new();
        let key = same_name(&id.nickname);
        if let Some(member) = self.members.get_mut(&key) {
            if member.session == id.session && member.name == id.nickname {
                if !member.held_here() {
                    // A member so far only on other nodes (a client that moved here).
                    self.held.push(Held::Hold(id.nickname.clone(), id.session));
                }
                member.connections += 1;
                member.lingering = None;
                return Ok((false, changes));
            }
            if member.connected() {
                return Err(NameTaken(member.name.clone()));
            }
            // Someone else's nickname, free since its holder left: their leave is announced
            // now, before the newcomer's join, rather than when the grace period ends.
            changes = self.remove(&key);
        }
        let member = Member {
            name: id.nickname.clone(),
            session: id.session,
            connections: 1,
            lingering: None,
            nodes: Vec::new(),
        };
        self.members.insert(key, member);
        self.held.push(Held::Hold(id.nickname.clone(), id.session));
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
        Exit::Gone(self.let_go(&key))
    }

    /// The grace period of `ticket` is over: the member leaves unless they came back.
    pub fn expire(&mut self, name: &Nickname, ticket: u64) -> Vec<Change> {
        let key = same_name(name);
        match self.members.get(&key) {
            Some(member) if member.lingering == Some(ticket) && member.name == *name => self.let_go(&key),
            _ => Vec::new(),
        }
    }

    /// This node lets go of a member: it leaves, unless another node holds it still.
    fn let_go(&mut self, key: &str) -> Vec<Change> {
        let Some(member) = self.members.get_mut(key) else { return Vec::new() };
        member.connections = 0;
        member.lingering = None;
        self.held.push(Held::Release(member.name.clone(), member.session));
        if member.nodes.is_empty() {
            return self.remove(key);
        }
        Vec::new()
    }

    /// Another node holds `name` for `session`. A nickname this node holds for another session
    /// stays with it (the two nodes raced; the holder's next heartbeat settles it once it goes).
    pub fn hold_remote(&mut self, node: NodeId, name: &Nickname, session: SessionId) -> Vec<Change> {
        let key = same_name(name);
        match self.members.get_mut(&key) {
            Some(member) if member.session == session && member.name == *name => {
                if !member.nodes.contains(&node) {
                    member.nodes.push(node);
                }
                Vec::new()
            }
            Some(member) if member.held_here() || !member.nodes.is_empty() => {
                tracing::warn!(%name, node, "a nickname held here is held by another session on another node");
                Vec::new()
            }
            _ => {
                let mut changes = self.remove(&key);
                let member = Member {
                    name: name.clone(),
                    session,
                    connections: 0,
                    lingering: None,
                    nodes: vec![node],
                };
                self.members.insert(key, member);
                changes.push(Change::Joined(name.clone()));
                changes
            }
        }
    }

    /// Another node no longer holds `name`: it leaves unless someone else still holds it.
    pub fn release_remote(&mut self, node: NodeId, name: &Nickname) -> Vec<Change> {
        let key = same_name(name);
        let Some(member) = self.members.get_mut(&key).filter(|m| m.name == *name) else { return Vec::new() };
        member.nodes.retain(|&n| n != node);
        if member.nodes.is_empty() && !member.held_here() {
            return self.remove(&key);
        }
        Vec::new()
    }

    fn remove(&mut self, key: &str) -> Vec<Change> {
        let Some(member) = self.members.remove(key) else { return Vec::new() };
        if member.held_here() {
            self.held.push(Held::Release(member.name.clone(), member.session));
        }
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
        if !self.members.get(&same_name(name)).is_some_and(|m| m.connected() && m.name == *name) {
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

    #[test]
    fn a_member_held_on_several_nodes_joins_once_and_leaves_with_the_last() {
        let mut p = Presence::default();
        let alice = person("alice");
        assert_eq!(p.hold_remote(7, &nick("alice"), alice.session), vec![Change::Joined(nick("alice"))]);
        assert_eq!(
            p.hold_remote(7, &nick("alice"), alice.session),
            vec![],
            "a repeated hold changes nothing"
        );
        assert!(p.take_held().is_empty(), "nothing held here yet");
        // The same session here too (a client that moved): no second join.
        assert_eq!(p.enter(&alice), Ok((false, vec![])));
        assert_eq!(p.take_held(), vec![Held::Hold(nick("alice"), alice.session)]);
        assert_eq!(p.release_remote(7, &nick("alice")), vec![], "still here");
        assert_eq!(p.release_remote(7, &nick("alice")), vec![], "a repeated release changes nothing");
        assert_eq!(p.exit(&alice, false), Exit::Gone(vec![Change::Left(nick("alice"))]));
        assert_eq!(p.take_held(), vec![Held::Release(nick("alice"), alice.session)]);
        assert!(p.names().is_empty());
    }

    #[test]
    fn leaving_here_while_another_node_holds_the_member_announces_nothing() {
        let mut p = Presence::default();
        let bob = person("bob");
        p.enter(&bob).unwrap();
        p.hold_remote(3, &nick("bob"), bob.session);
        let Exit::Lingering(ticket) = p.exit(&bob, true) else { panic!("should linger") };
        assert_eq!(p.expire(&nick("bob"), ticket), vec![]);
        assert_eq!(p.names(), vec![nick("bob")]);
        assert_eq!(
            p.take_held(),
            vec![Held::Hold(nick("bob"), bob.session), Held::Release(nick("bob"), bob.session)],
            "held, then let go here"
        );
        assert_eq!(p.release_remote(3, &nick("bob")), vec![Change::Left(nick("bob"))]);
        assert!(p.take_held().is_empty(), "not held here: nothing to tell");
    }

    #[test]
    fn a_nickname_held_on_another_node_is_refused_here_to_another_session() {
        let mut p = Presence::default();
        let owner = person("alice");
        p.hold_remote(9, &nick("alice"), owner.session);
        assert_eq!(p.enter(&person("alice")), Err(NameTaken(nick("alice"))));
        assert_eq!(p.enter(&person("Alice")), Err(NameTaken(nick("alice"))));
        assert!(p.held_by_other(&nick("alice"), person("alice").session));
        // A remote member types like a local one.
        let later = Instant::now() + std::time::Duration::from_secs(5);
        assert_eq!(p.typing(&nick("alice"), later), (vec![Change::Typing(vec![nick("alice")])], true));
        // Another node claiming a name held here for another session is not believed.
        let carol = person("carol");
        p.enter(&carol).unwrap();
        assert_eq!(p.hold_remote(4, &nick("carol"), person("carol").session), vec![]);
        assert_eq!(p.release_remote(4, &nick("carol")), vec![]);
        assert_eq!(p.names(), vec![nick("alice"), nick("carol")]);
        // Its leave ends its typing.
        assert_eq!(
            p.release_remote(9, &nick("alice")),
            vec![Change::Typing(vec![]), Change::Left(nick("alice"))]
        );
    }
}
