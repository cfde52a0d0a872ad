//! The embedded default: one SQLite file in WAL mode, created and migrated on first start.

use super::{
    active_room, new_epoch, seq_to_sql, stored_from_row, Appended, NewMessage, Position, Store, StoreError,
    StoredMessage, ACTIVE_ROOMS,
};
use app::names::RoomName;
use app::protocol::{Epoch, Millis, Seq};
use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, SqliteConnection};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_quota(path, None).await
    }

    /// Opens the file, which may grow to at most `max_bytes` (rounded down to whole pages): past
    /// it a commit fails with SQLITE_FULL, as on a full disk, and reads go on. SQLite keeps the
    /// limit per connection, so every connection of the pool sets it. A file already larger
    /// than the quota stays readable and does not grow (SQLite raises the limit to its size).
    pub async fn open_with_quota(path: &Path, max_bytes: Option<u64>) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk, not only in the OS cache, before it is acknowledged.
            // Group commit is what keeps this affordable.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if let Some(max_bytes) = max_bytes {
                        set_quota(conn, max_bytes).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

/// Limits the connection's file to `max_bytes`, in the file's own page size.
async fn set_quota(conn: &mut SqliteConnection, max_bytes: u64) -> Result<(), sqlx::Error> {
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(&mut *conn).await?;
    let pages = max_bytes / u64::try_from(page_size.max(1)).unwrap_or(4096);
    // At least one page: SQLite reads 0 as "no change". PRAGMA takes no bound parameters; the
    // value is a number we computed.
    sqlx::query(&format!("PRAGMA max_page_count = {}", pages.max(1))).execute(&mut *conn).await?;
    Ok(())
}

const COLUMNS: &str = "m.seq, m.author, m.text, m.at, m.client_id, r.epoch";

fn from_row(room: &RoomName, row: &sqlx::sqlite::SqliteRow) -> Result<StoredMessage, StoreError> {
    stored_from_row(
        room,
        row.try_get("epoch")?,
        row.try_get("seq")?,
        row.try_get("author")?,
        row.try_get("text")?,
        row.try_get("at")?,
        row.try_get("client_id")?,
    )
}

/// The room's `(epoch, last_seq)`, creating its log if it has none.
async fn open_room(conn: &mut SqliteConnection, room: &RoomName) -> Result<(Epoch, i64), StoreError> {
    sqlx::query("INSERT OR IGNORE INTO rooms (name, epoch, last_seq) VALUES (?, ?, 0)")
        .bind(room.as_str())
        .bind(new_epoch())
        .execute(&mut *conn)
        .await?;
    let row = sqlx::query("SELECT epoch, last_seq FROM rooms WHERE name = ?")
        .bind(room.as_str())
        .fetch_one(&mut *conn)
        .await?;
    Ok((row.try_get("epoch")?, row.try_get("last_seq")?))
}

#[async_trait]
impl Store for SqliteStore {
    async fn append(&self, batch: &[NewMessage]) -> Result<Vec<Appended>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut rooms: BTreeMap<&RoomName, (Epoch, i64)> = BTreeMap::new();
        for msg in batch {
            if !rooms.contains_key(&msg.room) {
                let position = open_room(&mut tx, &msg.room).await?;
                rooms.insert(&msg.room, position);
            }
        }
        let mut results = Vec::with_capacity(batch.len());
        for msg in batch {
            let Some((epoch, last)) = rooms.get_mut(&msg.room) else { continue };
            if let Some(client_id) = &msg.client_id {
                let earlier = sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM messages m JOIN rooms r ON r.name = m.room
                     WHERE m.room = ? AND m.author = ? AND m.client_id = ?"
                ))
                .bind(msg.room.as_str())
                .bind(msg.author.as_str())
                .bind(client_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(row) = earlier {
                    results.push(Appended::Duplicate(from_row(&msg.room, &row)?));
                    continue;
                }
            }
            *last += 1;
            sqlx::query(
                "INSERT INTO messages (room, seq, author, text, at, client_id) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(msg.room.as_str())
            .bind(*last)
            .bind(msg.author.as_str())
            .bind(msg.text.as_str())
            .bind(msg.at)
            .bind(msg.client_id.as_ref().map(|c| c.as_str()))
            .execute(&mut *tx)
            .await?;
            results.push(Appended::New(msg.stored(*epoch, *last)?));
        }
        for (room, (_, last)) in &rooms {
            sqlx::query("UPDATE rooms SET last_seq = ? WHERE name = ?")
                .bind(*last)
                .bind(room.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(results)
    }

    async fn position(&self, room: &RoomName) -> Result<Position, StoreError> {
        let row = sqlx::query("SELECT epoch, last_seq FROM rooms WHERE name = ?")
            .bind(room.as_str())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(Position { epoch: 0, seq: 0 }),
            Some(row) => Ok(Position {
                epoch: row.try_get("epoch")?,
                seq: Seq::try_from(row.try_get::<i64, _>("last_seq")?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            }),
        }
    }

    async fn read_after(
        &self,
        room: &RoomName,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM messages m JOIN rooms r ON r.name = m.room
             WHERE m.room = ? AND m.seq > ? ORDER BY m.seq LIMIT ?"
        ))
        .bind(room.as_str())
        .bind(seq_to_sql(after))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| from_row(room, row)).collect()
    }

    async fn read_before(
        &self,
        room: &RoomName,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM messages m JOIN rooms r ON r.name = m.room
             WHERE m.room = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?"
        ))
        .bind(room.as_str())
        .bind(before.map_or(i64::MAX, seq_to_sql))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().rev().map(|row| from_row(room, row)).collect()
    }

    async fn active_rooms(&self, limit: u32) -> Result<Vec<(RoomName, Millis)>, StoreError> {
        let rows = sqlx::query(ACTIVE_ROOMS).bind(i64::from(limit)).fetch_all(&self.pool).await?;
        rows.iter().map(|row| active_room(row.try_get("name")?, row.try_get("last_at")?)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite;

    async fn fresh() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("chat.db")).await.unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn the_storage_suite() {
        let (_dir, store) = fresh().await;
        suite::run_all(&store).await;
    }

    #[tokio::test]
    async fn the_log_survives_a_reopen() {
        let (dir, store) = fresh().await;
        suite::survives_reopen_before(&store).await;
        drop(store);
        let reopened = SqliteStore::open(&dir.path().join("chat.db")).await.unwrap();
        suite::survives_reopen_after(&reopened).await;
    }

    #[tokio::test]
    async fn a_full_quota_refuses_whole_batches_and_keeps_what_was_stored() {
        use app::names::{MessageText, Nickname};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chat.db");
        let store = SqliteStore::open_with_quota(&path, Some(128 * 1024)).await.unwrap();
        let lobby = RoomName::lobby();
        let big = |i: usize| NewMessage {
            room: lobby.clone(),
            author: Nickname::parse("ann").unwrap(),
            text: MessageText::parse(&format!("{i:04}{}", "x".repeat(4000))).unwrap(),
            at: 0,
            client_id: None,
        };
        let mut stored = 0;
        let err = loop {
            match store.append(&[big(stored), big(stored + 1)]).await {
                Ok(appended) => stored += appended.len(),
                Err(err) => break err,
            }
            assert!(stored < 1000, "the quota never filled");
        };
        assert!(err.is_full(), "{err}");
        assert!(stored > 10, "only {stored} fitted");
        // Nothing of the refused batch is in the log; what was stored reads back whole.
        assert_eq!(store.position(&lobby).await.unwrap().seq, stored as u64);
        let all = store.read_after(&lobby, 0, 1000).await.unwrap();
        assert_eq!(all.len(), stored);
        assert!(all.iter().enumerate().all(|(i, m)| m.text.as_str().starts_with(&format!("{i:04}"))));
        // Pages in the write-ahead log count: the file alone lags behind until a checkpoint.
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count").fetch_one(&store.pool).await.unwrap();
        let page_size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(&store.pool).await.unwrap();
        assert!(pages * page_size <= 128 * 1024, "{pages} pages of {page_size} bytes");
        drop(store);

        // A larger quota on the same file: writing resumes where it stopped.
        let store = SqliteStore::open_with_quota(&path, Some(1024 * 1024)).await.unwrap();
        let appended = store.append(&[big(stored)]).await.unwrap();
        assert_eq!(appended[0].message().seq, stored as u64 + 1);
    }
}
