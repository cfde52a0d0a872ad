//! What is new for a reader in each room of the room list: the messages by others after their
//! read mark, and of those the ones that mention them. Only rooms they have read before are
//! counted (a room never opened is not theirs to catch up on), each from the log after the mark,
//! up to a bound.

use super::state::AppState;
use crate::identity::Identity;
use crate::store::Body;
use app::protocol::{RoomSummary, UNREAD_COUNTED};

/// Entries read after a mark at most (reactions and edits are entries too): a count stops there.
const ENTRIES_READ: u32 = 200;

/// Fills in `unread` and `mentions` in `list` for `reader`.
pub async fn count(state: &AppState, reader: Identity, list: &mut [RoomSummary]) {
    // The person the reader is in the rooms (an account's own, on every device).
    let Ok(person) = state.accounts.admit(&reader).await else { return };
    let marks = match state.store.read_marks(person.session).await {
        Ok(marks) => marks,
        Err(err) => return tracing::warn!(%err, "reading read marks failed"),
    };
    let me = reader.nickname;
    for (room, mark) in marks {
        let Some(summary) = list.iter_mut().find(|s| s.name == room) else { continue };
        let entries = match state.store.read_after(&room, mark, ENTRIES_READ).await {
            Ok(entries) => entries,
            Err(err) => {
                tracing::warn!(%err, "counting unread messages failed");
                continue;
            }
        };
        let (mut unread, mut mentions) = (0, 0);
        for entry in &entries {
            if let Body::Text { text, .. } = &entry.body {
                if entry.author != me {
                    unread += 1;
                    mentions += u32::from(app::mention::mentions(text.as_str(), me.as_str()));
                }
            }
        }
        summary.unread = Some(unread.min(UNREAD_COUNTED + 1));
        summary.mentions = mentions.min(UNREAD_COUNTED + 1);
    }
}
