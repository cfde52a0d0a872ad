//! Moving a room between servers or backends: `server export ROOM` writes its log as JSON lines
//! (a header, then one entry per line, as the log holds them), `server import` reads them into a
//! room that has no log yet. Entries keep their numbers and the log its epoch, so that a client
//! of the old server resumes on the new one where it stopped.
//!
//! Accounts, roles and sanctions in force are not in it: they belong to a server's people, not
//! to the room's history (the actions that made them are in the log all the same).

use super::{Body, Store, StoreError, StoredMessage};
use app::names::RoomName;
use app::protocol::{Epoch, Millis, Seq};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

/// What the first line says the rest is.
pub const FORMAT: &str = "chat-room-log";
pub const VERSION: u32 = 1;
/// Entries read, and written, per query.
const PAGE: u32 = 1000;

/// The first line of an export: the room, where its log stood, and its rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub room: RoomName,
    pub epoch: Epoch,
    /// The last number handed out when the export began; no entry is numbered past it.
    pub seq: Seq,
    /// The last number retention forgot.
    #[serde(default)]
    pub horizon: Seq,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub slow_mode: u64,
    #[serde(default)]
    pub retention_days: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("room {0} has no log to export")]
    NoLog(RoomName),
    #[error("line {line}: {why}")]
    Bad { line: usize, why: String },
}

/// Writes `room`'s log to `out`; returns how many entries.
pub async fn export(store: &dyn Store, room: &RoomName, out: &mut impl Write) -> Result<u64, TransferError> {
    let position = store.position(room).await?;
    if position.epoch == 0 {
        return Err(TransferError::NoLog(room.clone()));
    }
    let rules = store.room_state(room).await?.rules;
    let header = Header {
        format: FORMAT.to_owned(),
        version: VERSION,
        room: room.clone(),
        epoch: position.epoch,
        seq: position.seq,
        horizon: position.horizon,
        topic: rules.topic,
        slow_mode: rules.slow_mode,
        retention_days: rules.retention_days,
    };
    write_line(out, &header)?;
    let (mut after, mut written) = (0, 0);
    loop {
        let page = store.read_after(room, after, PAGE).await?;
        // What was written since the export began stays out: the header says where it ends.
        for entry in page.iter().take_while(|e| e.seq <= position.seq) {
            write_line(out, entry)?;
            written += 1;
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize && last.seq < position.seq => after = last.seq,
            _ => break,
        }
    }
    out.flush()?;
    Ok(written)
}

fn write_line(out: &mut impl Write, value: &impl Serialize) -> Result<(), TransferError> {
    serde_json::to_writer(&mut *out, value).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Reads an export from `input` into its room (or `rename`), which must have no log yet;
/// returns the room and how many entries. Every line is checked as anything from a client is:
/// a damaged export is refused at its first bad line, with what was read before it stored (a
/// room half imported is told by its log's end being short of the header's).
pub async fn import(
    store: &dyn Store,
    input: impl BufRead,
    rename: Option<RoomName>,
) -> Result<(RoomName, u64), TransferError> {
    let mut lines = input.lines().enumerate().map(|(i, line)| (i + 1, line));
    let Some((_, first)) = lines.next() else {
        return Err(TransferError::Bad { line: 1, why: "empty: an export starts with its header".into() });
    };
    let mut header: Header =
        serde_json::from_str(&first?).map_err(|e| TransferError::Bad { line: 1, why: e.to_string() })?;
    if header.format != FORMAT || header.version != VERSION {
        let why = format!("not a room's log of version {VERSION} ({:?}, {})", header.format, header.version);
        return Err(TransferError::Bad { line: 1, why });
    }
    if header.epoch == 0 {
        return Err(TransferError::Bad { line: 1, why: "epoch 0 is no log's".into() });
    }
    let room = rename.unwrap_or_else(|| header.room.clone());
    let exported_as = std::mem::replace(&mut header.room, room.clone());
    let mut batch: Vec<StoredMessage> = Vec::with_capacity(PAGE as usize);
    let (mut last, mut count, mut started) = (0, 0, false);
    for (line, text) in lines {
        let text = text?;
        if text.trim().is_empty() {
            continue;
        }
        let bad = |why: String| TransferError::Bad { line, why };
        let mut entry: StoredMessage = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if entry.room != exported_as || entry.epoch != header.epoch {
            return Err(bad(format!("an entry of another log ({} of epoch {})", entry.room, entry.epoch)));
        }
        if entry.seq <= last || entry.seq > header.seq {
            return Err(bad(format!(
                "number {} out of order (after {last}, at most {})",
                entry.seq, header.seq
            )));
        }
        if let Body::Edit { target, .. } | Body::Delete { target } = &entry.body {
            if *target >= entry.seq {
                return Err(bad(format!("a change of {target}, which follows it")));
            }
        }
        last = entry.seq;
        entry.room = room.clone();
        batch.push(entry);
        if batch.len() == PAGE as usize {
            store.import(&room, (!started).then_some(&header), &batch).await?;
            (started, count) = (true, count + batch.len() as u64);
            batch.clear();
        }
    }
    if !started || !batch.is_empty() {
        store.import(&room, (!started).then_some(&header), &batch).await?;
        count += batch.len() as u64;
    }
    Ok((room, count))
}

/// An entry as the `messages` table holds it.
pub(super) struct Row<'a> {
    pub kind: i16,
    pub text: std::borrow::Cow<'a, str>,
    pub target: Option<i64>,
    pub edited_at: Option<Millis>,
    pub deleted_at: Option<Millis>,
    /// A message's reactions as they stand.
    pub reactions: Option<String>,
}

impl<'a> Row<'a> {
    /// The columns that read back as `entry` (see [`stored_from_row`](super::stored_from_row)).
    pub fn of(entry: &'a StoredMessage) -> Result<Self, StoreError> {
        use super::kind;
        use std::borrow::Cow;
        let target = |t: &Seq| Some(super::seq_to_sql(*t));
        let row = |kind, text: Cow<'a, str>, target, edited_at, deleted_at| Row {
            kind,
            text,
            target,
            edited_at,
            deleted_at,
            reactions: None,
        };
        Ok(match &entry.body {
            Body::Text { text, edited, reactions, reply } => Row {
                reactions: super::reactions_column(reactions),
                ..row(
                    kind::MESSAGE,
                    Cow::Borrowed(text.as_str()),
                    reply.as_ref().map(|q| q.id).as_ref().and_then(target),
                    *edited,
                    None,
                )
            },
            Body::Deleted => row(kind::MESSAGE, Cow::Borrowed(""), None, None, Some(entry.at)),
            Body::Edit { target: t, text } => row(
                kind::EDIT,
                Cow::Borrowed(text.as_ref().map_or("", |t| t.as_str())),
                target(t),
                None,
                None,
            ),
            Body::Delete { target: t } => row(kind::DELETE, Cow::Borrowed(""), target(t), None, None),
            Body::React { target: t, emoji, on } => {
                row(kind::REACT, Cow::Owned(super::reaction_text(*emoji, *on)), target(t), None, None)
            }
            Body::Moderation(record) => {
                let text = serde_json::to_string(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                row(kind::MODERATION, Cow::Owned(text), None, None, None)
            }
        })
    }
}

/// The statements, in both databases' dialect.
pub(super) mod sql {
    pub const EXISTS: &str = "SELECT 1 AS one FROM rooms WHERE name = $1";
    pub const ROOM: &str =
        "INSERT INTO rooms (name, epoch, last_seq, last_at, horizon) VALUES ($1, $2, $3, 0, $4)";
    pub const SETTINGS: &str = "INSERT INTO room_settings (room, topic, slow_mode, retention_days)
        VALUES ($1, $2, $3, $4) ON CONFLICT (room) DO UPDATE SET topic = excluded.topic,
        slow_mode = excluded.slow_mode, retention_days = excluded.retention_days";
    pub const ENTRY: &str = "INSERT INTO messages
        (room, seq, author, text, at, client_id, kind, target, edited_at, deleted_at, reactions)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
    pub const LAST_AT: &str = "UPDATE rooms SET last_at = $2 WHERE name = $1 AND last_at < $2";
}

/// Makes each store's copy of the import (the same SQL; only the connection's type differs).
macro_rules! transfer_ops {
    ($conn:ty, $begin:literal) => {
        /// Writes a batch of exported entries in one transaction; with `start`, creates the
        /// room's log first, refusing a room that has one.
        async fn import_entries(
            conn: &mut $conn,
            room: &app::names::RoomName,
            start: Option<&$crate::store::transfer::Header>,
            entries: &[StoredMessage],
        ) -> Result<(), StoreError> {
            use $crate::store::transfer::{sql, Row};
            let mut tx = conn.begin_with($begin).await?;
            let name = room.as_str();
            if let Some(header) = start {
                let exists: Option<i32> =
                    sqlx::query_scalar(sql::EXISTS).bind(name).fetch_optional(&mut *tx).await?;
                if exists.is_some() {
                    return Err(StoreError::NotEmpty(room.clone()));
                }
                sqlx::query(sql::ROOM)
                    .bind(name)
                    .bind(header.epoch)
                    .bind($crate::store::seq_to_sql(header.seq))
                    .bind($crate::store::seq_to_sql(header.horizon))
                    .execute(&mut *tx)
                    .await?;
                let days = (header.retention_days != 0).then_some(i64::from(header.retention_days));
                sqlx::query(sql::SETTINGS)
                    .bind(name)
                    .bind(header.topic.as_str())
                    .bind(i64::try_from(header.slow_mode).unwrap_or(i64::MAX))
                    .bind(days)
                    .execute(&mut *tx)
                    .await?;
            }
            for entry in entries {
                let row = Row::of(entry)?;
                sqlx::query(sql::ENTRY)
                    .bind(name)
                    .bind($crate::store::seq_to_sql(entry.seq))
                    .bind(entry.author.as_str())
                    .bind(row.text.as_ref())
                    .bind(entry.at)
                    .bind(entry.client_id.as_ref().map(|c| c.as_str()))
                    .bind(row.kind)
                    .bind(row.target)
                    .bind(row.edited_at)
                    .bind(row.deleted_at)
                    .bind(row.reactions)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(last) = entries.last() {
                sqlx::query(sql::LAST_AT).bind(name).bind(last.at).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        }
    };
}
pub(super) use transfer_ops;
