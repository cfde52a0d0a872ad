//! The client's view of a room: the lines of its log, built from server events. Kept apart from
//! the components so that it can be unit-tested without a browser.

use crate::markup::Markup;
use crate::protocol::{Epoch, Millis, Seq, ServerEvent};
use crate::quote::{excerpt, Quote};
use crate::reactions::Reactions;
use std::collections::VecDeque;

/// How many lines a page keeps: older ones are dropped, so a tab left open for days does not
/// grow without bound.
pub const MAX_LINES: usize = 1000;

/// One line of the room's log as the reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Unique within this page, for keyed rendering: new lines count up from 0, older pages
    /// loaded above them count down from -1.
    pub key: i64,
    /// Counts the changes to the line since it was added (edits, a deletion): for keyed
    /// rendering too.
    pub rev: u32,
    pub kind: LineKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    Message {
        /// Its number in the room's log, which edits and deletions name.
        seq: Seq,
        author: String,
        /// Empty once deleted.
        text: String,
        at: Millis,
        edited: bool,
        deleted: bool,
        reactions: Reactions,
        /// The message it answers, as that one reads now.
        reply: Option<Quote>,
        /// The formatting of its text, as the server read it.
        markup: Option<Markup>,
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
    next_key: i64,
    prev_key: i64,
    /// The oldest message shown, and whether the log may hold older ones.
    oldest_seq: Option<Seq>,
    older_exhausted: bool,
    /// The room log's epoch and the last message id shown: where a reconnect resumes.
    epoch: Epoch,
    last_seq: Seq,
}

impl RoomLog {
    pub fn push(&mut self, kind: LineKind) {
        if self.lines.len() == MAX_LINES {
            // A full log loads no older pages (`older_cursor`), so `oldest_seq` needs no update.
            self.lines.pop_front();
        }
        self.lines.push_back(LogLine { key: self.next_key, rev: 0, kind });
        self.next_key += 1;
    }

    /// The id to load older history before, if there may be any and room to show it:
    /// `Some(None)` means "the newest page" (nothing shown yet).
    pub fn older_cursor(&self) -> Option<Option<Seq>> {
        if self.older_exhausted || self.lines.len() >= MAX_LINES {
            return None;
        }
        match self.oldest_seq {
            None => Some(None),
            Some(1) => None,
            Some(seq) => Some(Some(seq)),
        }
    }

    /// Puts a page of older messages (oldest first) above what is shown; `more` says whether
    /// even older ones exist.
    pub fn prepend(&mut self, page: &[ServerEvent], more: bool) {
        let room_for = MAX_LINES.saturating_sub(self.lines.len());
        let mut added = 0;
        for event in page.iter().rev() {
            let ServerEvent::Message { id, epoch, .. } = event else { continue };
            if *epoch != self.epoch && self.epoch != 0 {
                continue;
            }
            if self.oldest_seq.is_some_and(|oldest| *id >= oldest) || added == room_for {
                continue;
            }
            self.prev_key -= 1;
            let Some(kind) = message_line(event) else { continue };
            self.lines.push_front(LogLine { key: self.prev_key, rev: 0, kind });
            self.oldest_seq = Some(*id);
            added += 1;
        }
        self.older_exhausted = !more;
    }

    /// Adds the line an event shows, if it shows one. A message already shown (delivered again
    /// across a reconnect) is skipped.
    pub fn apply(&mut self, event: &ServerEvent) {
        let kind = match event {
            ServerEvent::Ready { .. }
            | ServerEvent::Ack { .. }
            | ServerEvent::Pong { .. }
            | ServerEvent::Members { .. }
            | ServerEvent::Typing { .. } => return,
            ServerEvent::Reset { epoch } => {
                *self = Self { epoch: *epoch, ..Self::default() };
                return;
            }
            ServerEvent::Joined { name, .. } => LineKind::Joined { name: name.to_string() },
            ServerEvent::Left { name, .. } => LineKind::Left { name: name.to_string() },
            ServerEvent::Message { id, epoch, .. } => {
                if *epoch == self.epoch && *id <= self.last_seq {
                    return;
                }
                self.epoch = *epoch;
                self.last_seq = *id;
                if self.oldest_seq.is_none() {
                    self.oldest_seq = Some(*id);
                }
                match message_line(event) {
                    Some(kind) => kind,
                    None => return,
                }
            }
            ServerEvent::Edited { id, epoch, target, text, markup, .. } => {
                if self.changed(*id, *epoch, *target, |line_text, line_markup, edited, _, _| {
                    *line_text = text.to_string();
                    *line_markup = markup.clone();
                    *edited = true;
                }) {
                    self.requote(*target, |quote| quote.excerpt = excerpt(text.as_str()));
                }
                return;
            }
            ServerEvent::Deleted { id, epoch, target, .. } => {
                if self.changed(*id, *epoch, *target, |line_text, line_markup, _, deleted, reactions| {
                    line_text.clear();
                    *line_markup = None;
                    *deleted = true;
                    *reactions = Reactions::default();
                }) {
                    self.requote(*target, |quote| *quote = Quote::gone(quote.id));
                }
                return;
            }
            ServerEvent::Reacted { id, epoch, target, emoji, on, by, .. } => {
                self.changed(*id, *epoch, *target, |_, _, _, _, reactions| {
                    // Already so (this page's own click, shown before the server answered).
                    let _ = reactions.set(*emoji, by, *on);
                });
                return;
            }
            ServerEvent::Error { message, .. } => LineKind::Notice { text: message.clone() },
            ServerEvent::Rules { .. } | ServerEvent::Read { .. } => return,
            ServerEvent::Moderated { id, epoch, by, action, .. } => {
                if *epoch == self.epoch && *id <= self.last_seq {
                    return;
                }
                self.epoch = *epoch;
                self.last_seq = *id;
                LineKind::Notice { text: action.describe(by) }
            }
        };
        self.push(kind);
    }

    /// Applies a change numbered `id` to the message numbered `target`, if it is shown (one
    /// older than what is shown arrives as it is now when its page is loaded). Whether the change
    /// was new (not delivered before).
    fn changed(
        &mut self,
        id: Seq,
        epoch: Epoch,
        target: Seq,
        change: impl FnOnce(&mut String, &mut Option<Markup>, &mut bool, &mut bool, &mut Reactions),
    ) -> bool {
        if epoch != self.epoch || id <= self.last_seq {
            return false;
        }
        self.last_seq = id;
        let line = self
            .lines
            .iter_mut()
            .find(|line| matches!(line.kind, LineKind::Message { seq, .. } if seq == target));
        if let Some(LogLine {
            kind: LineKind::Message { text, markup, edited, deleted, reactions, .. },
            rev,
            ..
        }) = line
        {
            if !*deleted {
                change(text, markup, edited, deleted, reactions);
                *rev += 1;
            }
        }
        true
    }

    /// Changes the quotes of `target` in the replies shown, as it was edited or deleted.
    fn requote(&mut self, target: Seq, change: impl Fn(&mut Quote)) {
        for line in &mut self.lines {
            if let LineKind::Message { reply: Some(quote), .. } = &mut line.kind {
                if quote.id == target && quote.author.is_some() {
                    change(quote);
                    line.rev += 1;
                }
            }
        }
    }

    /// Where a reconnect should resume: `(epoch, last message id)`, or `None` before any message.
    pub fn resume_position(&self) -> Option<(Epoch, Seq)> {
        (self.last_seq > 0).then_some((self.epoch, self.last_seq))
    }

    /// The key of the newest line: changes when lines are appended, not when older ones are
    /// loaded above.
    pub fn newest_key(&self) -> Option<i64> {
        self.lines.back().map(|l| l.key)
    }

    pub fn lines(&self) -> impl DoubleEndedIterator<Item = &LogLine> {
        self.lines.iter()
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// The line of a message event as it reads now.
fn message_line(event: &ServerEvent) -> Option<LineKind> {
    let ServerEvent::Message { id, author, text, at, edited, deleted, reactions, reply, markup, .. } = event
    else {
        return None;
    };
    Some(LineKind::Message {
        seq: *id,
        author: author.to_string(),
        text: if *deleted { String::new() } else { text.to_string() },
        at: *at,
        edited: edited.is_some(),
        deleted: *deleted,
        reactions: reactions.clone(),
        reply: reply.clone(),
        markup: if *deleted { None } else { markup.clone() },
    })
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
            edited: None,
            deleted: false,
            reactions: Reactions::default(),
            reply: None,
            markup: None,
        }
    }

    fn line(seq: Seq, text: &str) -> LineKind {
        changed(seq, text, false, false)
    }

    fn changed(seq: Seq, text: &str, edited: bool, deleted: bool) -> LineKind {
        LineKind::Message {
            seq,
            author: "alice".into(),
            text: text.into(),
            at: 3,
            edited,
            deleted,
            reactions: Reactions::default(),
            reply: None,
            markup: None,
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
        assert_eq!(kinds, vec![LineKind::Joined { name: "alice".into() }, line(2, "hi"),]);
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
    fn edits_and_deletions_change_the_line_they_name_once() {
        let mut log = RoomLog::default();
        for id in [1, 2] {
            log.apply(&message(id, 7, &format!("m{id}")));
        }
        let (room, by) = (RoomName::lobby(), Nickname::parse("alice").unwrap());
        let edit = ServerEvent::Edited {
            id: 3,
            epoch: 7,
            room: room.clone(),
            target: 1,
            text: MessageText::parse("fixed").unwrap(),
            by: by.clone(),
            at: 4,
            markup: None,
        };
        log.apply(&edit);
        log.apply(&ServerEvent::Deleted { id: 4, epoch: 7, room, target: 2, by, at: 5 });
        // Delivered again across a reconnect: nothing changes.
        log.apply(&edit);
        let kinds: Vec<_> = log.lines().map(|l| l.kind.clone()).collect();
        assert_eq!(kinds, vec![changed(1, "fixed", true, false), changed(2, "", false, true),]);
        assert_eq!(log.resume_position(), Some((7, 4)), "changes move the resume position");
        let mut tombstone = message(5, 7, "message deleted");
        if let ServerEvent::Message { deleted, .. } = &mut tombstone {
            *deleted = true;
        }
        log.apply(&tombstone);
        assert_eq!(log.lines().last().map(|l| l.kind.clone()), Some(changed(5, "", false, true)));
    }

    #[test]
    fn older_pages_go_above_and_the_cursor_walks_back() {
        let mut log = RoomLog::default();
        assert_eq!(log.older_cursor(), Some(None), "nothing shown: ask for the newest page");
        for id in [8, 9] {
            log.apply(&message(id, 7, &format!("m{id}")));
        }
        assert_eq!(log.older_cursor(), Some(Some(8)));
        log.prepend(&[message(5, 7, "m5"), message(6, 7, "m6"), message(7, 7, "m7")], true);
        let texts: Vec<_> = log
            .lines()
            .map(|l| match &l.kind {
                LineKind::Message { text, .. } => text.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(texts, vec!["m5", "m6", "m7", "m8", "m9"]);
        let keys: Vec<_> = log.lines().map(|l| l.key).collect();
        assert_eq!(keys, vec![-3, -2, -1, 0, 1]);
        assert_eq!(log.older_cursor(), Some(Some(5)));
        // Overlap with what is shown is ignored; the last page ends the walk.
        log.prepend(&[message(4, 7, "m4"), message(5, 7, "m5")], false);
        assert_eq!(log.len(), 6);
        assert_eq!(log.older_cursor(), None);
        assert_eq!(log.resume_position(), Some((7, 9)), "older pages do not move the resume position");
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
