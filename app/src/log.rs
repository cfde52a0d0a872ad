//! The client's view of a room: the lines of its log, built from server events. Kept apart from
//! the components so that it can be unit-tested without a browser.

use crate::protocol::{Epoch, Millis, Seq, ServerEvent};
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

/// The bounded log with its key counter, and how far into the room's log it has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomLog {
    lines: VecDeque<LogLine>,
    next_key: u64,
    /// The room log's epoch and the last message id shown: where a reconnect resumes.
    epoch: Epoch,
    last_seq: Seq,
}

impl RoomLog {
    pub fn push(&mut self, kind: LineKind) {
        if self.lines.len() == MAX_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(LogLine { key: self.next_key, kind });
        self.next_key += 1;
    }

    /// Adds the line an event shows, if it shows one. A message already shown (delivered again
    /// across a reconnect) is skipped.
    pub fn apply(&mut self, event: &ServerEvent) {
        let kind = match event {
            ServerEvent::Ready { .. } | ServerEvent::Ack { .. } | ServerEvent::Pong { .. } => return,
            ServerEvent::Reset { epoch } => {
                self.lines.clear();
                self.epoch = *epoch;
                self.last_seq = 0;
                return;
            }
            ServerEvent::Joined { name, .. } => LineKind::Joined { name: name.to_string() },
            ServerEvent::Left { name, .. } => LineKind::Left { name: name.to_string() },
            ServerEvent::Message { id, epoch, author, text, at, .. } => {
                if *epoch == self.epoch && *id <= self.last_seq {
                    return;
                }
                self.epoch = *epoch;
                self.last_seq = *id;
                LineKind::Message { author: author.to_string(), text: text.to_string(), at: *at }
            }
            ServerEvent::Error { message, .. } => LineKind::Notice { text: message.clone() },
        };
        self.push(kind);
    }

    /// Where a reconnect should resume: `(epoch, last message id)`, or `None` before any message.
    pub fn resume_position(&self) -> Option<(Epoch, Seq)> {
        (self.last_seq > 0).then_some((self.epoch, self.last_seq))
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

    fn message(id: Seq, epoch: Epoch, text: &str) -> ServerEvent {
        ServerEvent::Message {
            id,
            epoch,
            room: RoomName::lobby(),
            author: Nickname::parse("alice").unwrap(),
            text: MessageText::parse(text).unwrap(),
            at: 3,
            client_id: None,
        }
    }

    #[test]
    fn events_become_lines() {
        let mut log = RoomLog::default();
        let alice = Nickname::parse("alice").unwrap();
        log.apply(&ServerEvent::Ready {
            protocol: 1,
            room: RoomName::lobby(),
            you: alice.clone(),
            epoch: 0,
            seq: 0,
        });
        log.apply(&ServerEvent::Joined { room: RoomName::lobby(), name: alice.clone(), at: 1 });
        log.apply(&message(2, 7, "hi"));
        let kinds: Vec<_> = log.lines().map(|l| l.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                LineKind::Joined { name: "alice".into() },
                LineKind::Message { author: "alice".into(), text: "hi".into(), at: 3 },
            ]
        );
        assert_eq!(log.resume_position(), Some((7, 2)));
    }

    #[test]
    fn messages_seen_before_are_not_shown_twice() {
        let mut log = RoomLog::default();
        assert_eq!(log.resume_position(), None);
        for id in [1, 2, 3, 2, 3, 4] {
            log.apply(&message(id, 7, &format!("m{id}")));
        }
        assert_eq!(log.len(), 4);
        assert_eq!(log.resume_position(), Some((7, 4)));
        // A reset log starts over.
        log.apply(&ServerEvent::Reset { epoch: 8 });
        assert!(log.is_empty());
        log.apply(&message(1, 8, "new"));
        assert_eq!(log.resume_position(), Some((8, 1)));
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
