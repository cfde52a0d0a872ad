//! Edits, deletions and reactions: who may change which message, whatever the database. Each
//! store reads the target's row and numbers the change in its own statements; the rule is here.

use super::{kind, reaction_text, reactions_column, seq_to_sql, Body, StoreError, StoredMessage};
use crate::identity::SessionId;
use app::names::{MessageText, Nickname, RoomName};
use app::protocol::{Epoch, Millis, Seq};
use app::reactions::{Emoji, ReactionRefusal, Reactions};
use std::borrow::Cow;

/// A change on its way into the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChange {
    pub room: RoomName,
    /// Who makes it, as the log names them.
    pub by: Nickname,
    /// The session making it: a message is its author's when it was sent by the same session (for
    /// an account, every device of it is one session).
    pub session: SessionId,
    pub target: Seq,
    pub alteration: Alteration,
    /// Whether `by` moderates the room: a moderator deletes anyone's message (but edits only
    /// their own).
    pub moderator: bool,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alteration {
    Edit(MessageText),
    Delete,
    /// `by`'s `emoji` put on (`on`) or taken back: anyone's message, by anyone in the room.
    React {
        emoji: Emoji,
        on: bool,
    },
}

/// Why a change was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("there is no such message in this room (it may have been deleted)")]
    NotFound,
    #[error("only its author may edit a message")]
    NotYoursToEdit,
    #[error("only its author or a moderator may delete a message")]
    NotYoursToDelete,
    #[error("{0}")]
    Reaction(ReactionRefusal),
}

/// The target of a change as its row reads.
pub(super) struct Target<'r> {
    pub kind: i16,
    pub session: Option<&'r str>,
    pub deleted: bool,
    /// Its reactions column.
    pub reactions: Option<&'r str>,
}

impl NewChange {
    /// Whether the change may be made to `target` (`None`: no such row); for a reaction, the
    /// target's reactions column as it is to be written.
    pub(super) fn judge(&self, target: Option<Target<'_>>) -> Result<Option<String>, Refusal> {
        let target = match target {
            Some(target) if target.kind == kind::MESSAGE && !target.deleted => target,
            _ => return Err(Refusal::NotFound),
        };
        let own = target.session == Some(self.session.to_string().as_str());
        match self.alteration {
            Alteration::Edit(_) if !own => Err(Refusal::NotYoursToEdit),
            Alteration::Delete if !own && !self.moderator => Err(Refusal::NotYoursToDelete),
            Alteration::React { emoji, on } => {
                // A damaged column starts again empty rather than blocking every reaction.
                let mut reactions: Reactions =
                    target.reactions.and_then(|json| serde_json::from_str(json).ok()).unwrap_or_default();
                reactions.set(emoji, &self.by, on).map_err(Refusal::Reaction)?;
                Ok(reactions_column(&reactions))
            }
            _ => Ok(None),
        }
    }

    /// The kind and the text of the change's own row.
    pub(super) fn row(&self) -> (i16, Cow<'_, str>) {
        match &self.alteration {
            Alteration::Edit(text) => (kind::EDIT, Cow::Borrowed(text.as_str())),
            Alteration::Delete => (kind::DELETE, Cow::Borrowed("")),
            Alteration::React { emoji, on } => (kind::REACT, Cow::Owned(reaction_text(*emoji, *on))),
        }
    }

    pub(super) fn target_sql(&self) -> i64 {
        seq_to_sql(self.target)
    }

    /// The change as stored under `seq` of `epoch`.
    pub(super) fn stored(&self, epoch: Epoch, seq: i64) -> Result<StoredMessage, StoreError> {
        let body = match &self.alteration {
            Alteration::Edit(text) => Body::Edit { target: self.target, text: Some(text.clone()) },
            Alteration::Delete => Body::Delete { target: self.target },
            Alteration::React { emoji, on } => Body::React { target: self.target, emoji: *emoji, on: *on },
        };
        Ok(StoredMessage {
            room: self.room.clone(),
            epoch,
            seq: Seq::try_from(seq).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            author: self.by.clone(),
            body,
            at: self.at,
            client_id: None,
        })
    }
}

/// The statements of a change, in both databases' dialect (SQLite reads `$n` too). The target's
/// row is read, then the room's number taken (which locks the room, as appends do), the change
/// inserted and the target changed in place; an edit of a message deleted later loses its text.
pub(super) mod sql {
    pub const TARGET: &str =
        "SELECT kind, session, deleted_at, reactions FROM messages WHERE room = $1 AND seq = $2";
    pub const NUMBER: &str =
        "UPDATE rooms SET last_seq = last_seq + 1 WHERE name = $1 RETURNING epoch, last_seq";
    pub const INSERT: &str = "INSERT INTO messages (room, seq, author, session, text, at, kind, target)
                              VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    pub const EDIT: &str = "UPDATE messages SET text = $3, edited_at = $4 WHERE room = $1 AND seq = $2";
    pub const DELETE: &str = "UPDATE messages SET text = '', deleted_at = $3 WHERE room = $1 AND seq = $2";
    pub const FORGET_EDITS: &str =
        "UPDATE messages SET text = '' WHERE room = $1 AND target = $2 AND kind = 1";
    pub const REACTIONS: &str = "UPDATE messages SET reactions = $3 WHERE room = $1 AND seq = $2";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::nick;

    fn change(alteration: Alteration, moderator: bool) -> NewChange {
        NewChange {
            room: RoomName::lobby(),
            by: nick("ann"),
            session: SessionId::named("ann"),
            target: 1,
            alteration,
            moderator,
            at: 0,
        }
    }

    #[test]
    fn authors_change_their_own_and_moderators_delete_anyones() {
        let ann = SessionId::named("ann").to_string();
        let bob = SessionId::named("bob").to_string();
        let row = |session: &'static str, deleted| Target {
            kind: kind::MESSAGE,
            session: Some(session),
            deleted,
            reactions: None,
        };
        let (ann, bob): (&'static str, &'static str) = (ann.leak(), bob.leak());
        let edit = || Alteration::Edit(MessageText::parse("x").unwrap());
        assert_eq!(change(edit(), false).judge(Some(row(ann, false))), Ok(None));
        assert_eq!(change(edit(), false).judge(Some(row(bob, false))), Err(Refusal::NotYoursToEdit));
        assert_eq!(change(edit(), true).judge(Some(row(bob, false))), Err(Refusal::NotYoursToEdit));
        assert_eq!(change(Alteration::Delete, false).judge(Some(row(ann, false))), Ok(None));
        assert_eq!(
            change(Alteration::Delete, false).judge(Some(row(bob, false))),
            Err(Refusal::NotYoursToDelete)
        );
        assert_eq!(change(Alteration::Delete, true).judge(Some(row(bob, false))), Ok(None));
        assert_eq!(change(Alteration::Delete, true).judge(Some(row(bob, true))), Err(Refusal::NotFound));
        assert_eq!(change(Alteration::Delete, true).judge(None), Err(Refusal::NotFound));
        let an_edit = Target { kind: kind::EDIT, session: Some(ann), deleted: false, reactions: None };
        assert_eq!(
            change(edit(), false).judge(Some(an_edit)),
            Err(Refusal::NotFound),
            "changes are not changed"
        );
        let old_row = Target { kind: kind::MESSAGE, session: None, deleted: false, reactions: None };
        assert_eq!(change(edit(), false).judge(Some(old_row)), Err(Refusal::NotYoursToEdit));
    }

    #[test]
    fn anyone_reacts_to_any_message_once_per_emoji() {
        let bob = SessionId::named("bob").to_string();
        let react = |on| Alteration::React { emoji: Emoji::ThumbsUp, on };
        let row = |reactions| Target { kind: kind::MESSAGE, session: Some(&bob), deleted: false, reactions };
        let on = change(react(true), false).judge(Some(row(None))).unwrap();
        assert_eq!(on.as_deref(), Some(r#"[{"emoji":"👍","by":["ann"]}]"#));
        assert_eq!(
            change(react(true), false).judge(Some(row(on.as_deref()))),
            Err(Refusal::Reaction(ReactionRefusal::Unchanged))
        );
        assert_eq!(change(react(false), false).judge(Some(row(on.as_deref()))), Ok(None), "none left: NULL");
        assert_eq!(
            change(react(true), false).judge(Some(row(Some("damaged")))).unwrap().as_deref(),
            Some(r#"[{"emoji":"👍","by":["ann"]}]"#)
        );
        let gone = Target { kind: kind::MESSAGE, session: Some(&bob), deleted: true, reactions: None };
        assert_eq!(change(react(true), false).judge(Some(gone)), Err(Refusal::NotFound));
    }
}
