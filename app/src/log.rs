//! The client's view of a room: the lines of its log, built from server events. Kept apart from
//! the components so that it can be unit-tested without a browser.

use crate::protocol::{Millis, ServerEvent};
use std::collections::VecDeque;

/// How many lines a page keeps: older ones are dropped, so a tab left open for days does not
/// grow without bound.
pub const MAX_LINES: usize = 1000;

/// One line of the room's log as the reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Unique within this page, for keyed rendering.
    pub key: u64,
    pub kind: LineKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    Message {
        author: String,
        text: String,
        at: Millis,
    },
    Joined {
        name: String,
    },
    Left {
        name: String,
    },
    /// A local notice (an error from the server, a lost connection).
    Notice {
        text: String,
    },
}

/// The bounded log with its key counter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomLog {
    lines: VecDeque<LogLine>,
    next_key: u64,
}

impl RoomLog {
    pub fn push(&mut self, kind: LineKind) {
        if self.lines.len() == MAX_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(LogLine { key: self.next_key, kind });
        self.next_key += 1;
    }

    /// Adds the line an event shows, if it shows one (`Ready` only changes state).
    pub fn apply(&mut self, event: &ServerEvent) {
        let kind = match event {
            ServerEvent::Ready { .. } => return,
            ServerEvent::Joined { name, .. } => LineKind::Joined { name: name.to_string() },
            ServerEvent::Left { name, .. } => LineKind::Left { name: name.to_string() },
            ServerEvent::Message { author, text, at, .. } => {
                LineKind::Message { author: author.to_string(), text: text.to_string(), at: *at }
            }
            ServerEvent::Error { message, .. } => LineKind::Notice { text: message.clone() },
        };
        self.push(kind);
    }

    pub fn lines(&self) -> impl Iterator<Item = &LogLine> {
        self.lines.iter()
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{MessageText, Nickname, RoomName};

    #[test]
    fn events_become_lines() {
        let mut log = RoomLog::default();
        let alice = Nickname::parse("alice").unwrap();
        log.apply(&ServerEvent::Ready { protocol: 1, room: RoomName::lobby(), you: alice.clone() });
        log.apply(&ServerEvent::Joined { room: RoomName::lobby(), name: alice.clone(), at: 1 });
        log.apply(&ServerEvent::Message {
            id: 2,
            room: RoomName::lobby(),
            author: alice.clone(),
            text: MessageText::parse("hi").unwrap(),
            at: 3,
        });
        let kinds: Vec<_> = log.lines().map(|l| l.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                LineKind::Joined { name: "alice".into() },
                LineKind::Message { author: "alice".into(), text: "hi".into(), at: 3 },
            ]
        );
    }

    #[test]
    fn log_is_bounded_and_keys_stay_unique() {
        let mut log = RoomLog::default();
        for i in 0..(MAX_LINES + 5) {
            log.push(LineKind::Notice { text: i.to_string() });
        }
        assert_eq!(log.len(), MAX_LINES);
        let first = log.lines().next().map(|l| l.key);
        assert_eq!(first, Some(5));
    }
}
