//! Who is in the room and who is typing, as the page knows it from the server's events.

use crate::protocol::ServerEvent;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    members: BTreeSet<String>,
    typing: Vec<String>,
}

impl Roster {
    pub fn apply(&mut self, event: &ServerEvent) {
        match event {
            ServerEvent::Members { names, .. } => {
                self.members = names.iter().map(|n| n.to_string()).collect();
                self.typing.clear();
            }
            ServerEvent::Joined { name, .. } => {
                self.members.insert(name.to_string());
            }
            ServerEvent::Left { name, .. } => {
                self.members.remove(name.as_str());
                self.typing.retain(|n| n != name.as_str());
            }
            ServerEvent::Typing { names, .. } => self.typing = names.iter().map(|n| n.to_string()).collect(),
            _ => {}
        }
    }

    /// Members by name.
    pub fn members(&self) -> impl Iterator<Item = &String> {
        self.members.iter()
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// "alice is typing…" for everyone typing but `me`; `None` when nobody is.
    pub fn typing_line(&self, me: &str) -> Option<String> {
        let others: Vec<&str> = self.typing.iter().map(String::as_str).filter(|n| *n != me).collect();
        match others.as_slice() {
            [] => None,
            [one] => Some(format!("{one} is typing…")),
            [a, b] => Some(format!("{a} and {b} are typing…")),
            [a, b, c] => Some(format!("{a}, {b} and {c} are typing…")),
            _ => Some("Several people are typing…".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{Nickname, RoomName};

    fn names(list: &[&str]) -> Vec<Nickname> {
        list.iter().map(|n| Nickname::parse(n).unwrap()).collect()
    }

    #[test]
    fn members_and_typing_follow_the_events() {
        let room = RoomName::lobby();
        let mut roster = Roster::default();
        roster.apply(&ServerEvent::Members { room: room.clone(), names: names(&["ann", "me"]) });
        roster.apply(&ServerEvent::Joined { room: room.clone(), name: names(&["bob"])[0].clone(), at: 0 });
        // Joined for someone already listed (the list and the event crossed) changes nothing.
        roster.apply(&ServerEvent::Joined { room: room.clone(), name: names(&["ann"])[0].clone(), at: 0 });
        assert_eq!(roster.members().cloned().collect::<Vec<_>>(), vec!["ann", "bob", "me"]);
        assert_eq!(roster.typing_line("me"), None);
        roster.apply(&ServerEvent::Typing { room: room.clone(), names: names(&["ann", "me"]) });
        assert_eq!(roster.typing_line("me").as_deref(), Some("ann is typing…"));
        roster.apply(&ServerEvent::Typing { room: room.clone(), names: names(&["ann", "bob"]) });
        assert_eq!(roster.typing_line("me").as_deref(), Some("ann and bob are typing…"));
        roster.apply(&ServerEvent::Left { room: room.clone(), name: names(&["ann"])[0].clone(), at: 0 });
        assert_eq!(roster.typing_line("me").as_deref(), Some("bob is typing…"));
        assert_eq!(roster.len(), 2);
        let many = names(&["a", "b", "c", "d"]);
        roster.apply(&ServerEvent::Typing { room, names: many });
        assert_eq!(roster.typing_line("me").as_deref(), Some("Several people are typing…"));
    }
}
