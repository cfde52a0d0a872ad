//! What an append does with each message of a batch, whatever the database: a resend of a
//! message stored before is answered with the original, a resend of one earlier in the same
//! batch with that one, and the rest are numbered in turn, room by room. Each store finds the
//! originals and hands out the numbers in its own statements; the bookkeeping is here.

use super::{seq_to_sql, Appended, NewMessage, StoreError, StoredMessage};
use crate::identity::SessionId;
use app::names::RoomName;
use app::protocol::{Epoch, Millis};
use app::quote::Quote;
use std::collections::{BTreeMap, HashMap};

/// A resend's key: the same session, room and client id.
pub type ResendKey<'a> = (&'a RoomName, SessionId, &'a str);

/// The key of a message that has a client id.
pub fn resend_key(msg: &NewMessage) -> Option<ResendKey<'_>> {
    msg.client_id.as_ref().map(|id| (&msg.room, msg.session, id.as_str()))
}

/// What becomes of each message of a batch.
pub enum Fate {
    New,
    /// Its author stored it before, as this.
    Stored(StoredMessage),
    /// A resend of the message at this index of the same batch.
    DuplicateInBatch(usize),
}

/// What a batch adds to one room: how many messages, and when the last was posted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Added {
    pub count: i64,
    pub last_at: Millis,
}

pub struct Plan<'a> {
    pub fates: Vec<Fate>,
    pub new_per_room: BTreeMap<&'a RoomName, Added>,
}

/// The plan for `batch`, given the originals stored before (by their keys).
pub fn plan<'a>(batch: &'a [NewMessage], mut stored: HashMap<ResendKey<'a>, StoredMessage>) -> Plan<'a> {
    let mut fates = Vec::with_capacity(batch.len());
    let mut new_per_room: BTreeMap<&RoomName, Added> = BTreeMap::new();
    let mut ids_in_batch = HashMap::new();
    for (i, msg) in batch.iter().enumerate() {
        if let Some(key) = resend_key(msg) {
            if let Some(first) = ids_in_batch.get(&key) {
                fates.push(Fate::DuplicateInBatch(*first));
                continue;
            }
            // Taken, not cloned: a second resend in the batch is a DuplicateInBatch of this one.
            if let Some(earlier) = stored.remove(&key) {
                ids_in_batch.insert(key, i);
                fates.push(Fate::Stored(earlier));
                continue;
            }
            ids_in_batch.insert(key, i);
        }
        fates.push(Fate::New);
        let added = new_per_room.entry(&msg.room).or_default();
        added.count += 1;
        added.last_at = msg.at;
    }
    Plan { fates, new_per_room }
}

/// A new message's row: the message, its number, and the number of what it answers.
pub type NewRow<'a> = (&'a NewMessage, i64, Option<i64>);

/// Each message's result, and the rows to insert, given each room's epoch and its last number
/// before the batch (`last`), and the quote of what each message answers (see
/// [`reply`](super::reply)).
pub fn assign<'a>(
    batch: &'a [NewMessage],
    fates: Vec<Fate>,
    mut last: BTreeMap<&'a RoomName, (Epoch, i64)>,
    quotes: Vec<Option<Quote>>,
) -> Result<(Vec<Appended>, Vec<NewRow<'a>>), StoreError> {
    let mut results: Vec<Appended> = Vec::with_capacity(batch.len());
    let mut rows = Vec::with_capacity(batch.len());
    for ((msg, fate), quote) in batch.iter().zip(fates).zip(quotes) {
        match fate {
            Fate::Stored(earlier) => results.push(Appended::Duplicate(earlier)),
            Fate::DuplicateInBatch(first) => {
                let first = results.get(first).map(|original| original.message().clone());
                let first =
                    first.ok_or_else(|| StoreError::Corrupt("a resend before its original".into()))?;
                results.push(Appended::Duplicate(first));
            }
            Fate::New => {
                let (epoch, seq) = last
                    .get_mut(&msg.room)
                    .ok_or_else(|| StoreError::Corrupt(format!("room {} was not numbered", msg.room)))?;
                *seq += 1;
                rows.push((msg, *seq, quote.as_ref().map(|q| seq_to_sql(q.id))));
                results.push(Appended::New(msg.stored(*epoch, *seq, quote)?));
            }
        }
    }
    Ok((results, rows))
}
