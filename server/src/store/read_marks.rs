//! How far each person has read each room (table `read_marks`): a mark only moves forward, and
//! never past the room's last entry.
//!
//! The statements are the same for SQLite and PostgreSQL, so one implementation serves both.

use super::{PgStore, SqliteStore, StoreError};
use crate::identity::SessionId;
use app::names::RoomName;
use app::protocol::{Millis, Seq};
use async_trait::async_trait;
use sqlx::Row;

/// At most this many rooms' marks are read for one person (the room list shows fewer).
pub const MAX_MARKS: i64 = 500;

#[async_trait]
pub trait ReadMarkStore: Send + Sync {
    /// Moves `person`'s mark in `room` up to `seq` (at most the room's last entry; never back):
    /// where it stands now if it moved, `None` if it did not (or the room has no log).
    async fn mark_read(
        &self,
        person: SessionId,
        room: &RoomName,
        seq: Seq,
        at: Millis,
    ) -> Result<Option<Seq>, StoreError>;

    /// `person`'s mark in `room`, if they have one.
    async fn read_mark(&self, person: SessionId, room: &RoomName) -> Result<Option<Seq>, StoreError>;

    /// `person`'s marks, room by room (up to [`MAX_MARKS`]).
    async fn read_marks(&self, person: SessionId) -> Result<Vec<(RoomName, Seq)>, StoreError>;
}

const MARK: &str = "INSERT INTO read_marks (person, room, seq, at)
    SELECT $1, $2, CASE WHEN $3 < r.last_seq THEN $3 ELSE r.last_seq END, $4 FROM rooms r WHERE r.name = $2
    ON CONFLICT (person, room) DO UPDATE SET seq = excluded.seq, at = excluded.at
        WHERE excluded.seq > read_marks.seq
    RETURNING seq";
const MARK_OF: &str = "SELECT seq FROM read_marks WHERE person = $1 AND room = $2";
const MARKS: &str = "SELECT room, seq FROM read_marks WHERE person = $1 ORDER BY room LIMIT $2";

fn seq_of(sql: i64) -> Seq {
    Seq::try_from(sql).unwrap_or(0)
}

macro_rules! read_mark_store {
    ($store:ty) => {
        #[async_trait]
        impl ReadMarkStore for $store {
            async fn mark_read(
                &self,
                person: SessionId,
                room: &RoomName,
                seq: Seq,
                at: Millis,
            ) -> Result<Option<Seq>, StoreError> {
                let row = sqlx::query(MARK)
                    .bind(person.to_string())
                    .bind(room.as_str())
                    .bind(i64::try_from(seq).unwrap_or(i64::MAX))
                    .bind(at)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|row| row.try_get("seq").map(seq_of)).transpose().map_err(Into::into)
            }

            async fn read_mark(&self, person: SessionId, room: &RoomName) -> Result<Option<Seq>, StoreError> {
                let row = sqlx::query(MARK_OF)
                    .bind(person.to_string())
                    .bind(room.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|row| row.try_get("seq").map(seq_of)).transpose().map_err(Into::into)
            }

            async fn read_marks(&self, person: SessionId) -> Result<Vec<(RoomName, Seq)>, StoreError> {
                let rows =
                    sqlx::query(MARKS).bind(person.to_string()).bind(MAX_MARKS).fetch_all(&self.pool).await?;
                let mut marks = Vec::with_capacity(rows.len());
                for row in &rows {
                    // A name the room list could not show is left out, not an error.
                    if let Ok(room) = RoomName::parse(row.try_get::<&str, _>("room")?) {
                        marks.push((room, seq_of(row.try_get("seq")?)));
                    }
                }
                Ok(marks)
            }
        }
    };
}

read_mark_store!(SqliteStore);
read_mark_store!(PgStore);
