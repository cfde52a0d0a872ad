//! The embedded default: one SQLite file in WAL mode, created and migrated on first start.

use super::plan::{assign, plan, resend_key, Added, NewRow, ResendKey};
use super::retention::Kept;
use super::transfer::Header;
use super::webhooks::{Progress, Webhook};
use super::{
    active_room, columns, new_epoch, original, read_past_damage, seq_to_sql, stored_from_row, ActiveRoom,
    Appended, LogRow, ModerationRefusal, NewChange, NewMessage, NewModeration, Position, Refusal, RoomState,
    Store, StoreError, StoredMessage, ACTIVE_ROOMS, COLUMNS, LOCK_PATIENCE, LOCK_WAIT, LOG,
};
use crate::identity::SessionId;
use app::names::{Nickname, RoomName};
use app::protocol::{Epoch, Millis, Seq};
use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Row, SqliteConnection};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// For reading.
    pub(super) pool: SqlitePool,
    /// One connection, for appending: SQLite takes one writer at a time anyway, and the same
    /// connection each time keeps its page cache (a connection whose cache another has made stale
    /// re-reads the pages it needs).
    writes: SqlitePool,
    /// Held while the store is open: one server process per file (see [`lock`]).
    _lock: Option<std::sync::Arc<std::fs::File>>,
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
        let lock = lock(path).await?;
        Self::connect(path, max_bytes, Some(lock)).await
    }

    /// Opens the file without its lock, beside the server that holds it (a command's export or
    /// import): SQLite's own locking keeps their writes apart.
    pub async fn beside_the_server(path: &Path) -> Result<Self, StoreError> {
        if !path.exists() {
            // Not created here: a mistyped --data-dir would otherwise import into a new file.
            return Err(StoreError::Lock(format!("no database at {}", path.display())));
        }
        Self::connect(path, None, None).await
    }

    /// Opens the file, holding `lock` (if any) as long as the store is open.
    async fn connect(
        path: &Path,
        max_bytes: Option<u64>,
        lock: Option<std::fs::File>,
    ) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk, not only in the OS cache, before it is acknowledged.
            // Group commit is what keeps this affordable.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(LOCK_WAIT);
        let pool = pool_options(4, max_bytes).connect_with(options.clone()).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        let writes = pool_options(1, max_bytes)
            // Kept open: a new connection would start with a cold cache.
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        Ok(Self { pool, writes, _lock: lock.map(std::sync::Arc::new) })
    }
}

/// Locks `<path>.lock`, so that a second server process on the same file is refused at start:
/// each would deliver only what it stores itself, and its members would never see the other's
/// messages. Several processes share rooms through PostgreSQL and Redis instead. The lock is
/// the operating system's (flock), released whenever the process ends, however it ends.
async fn lock(path: &Path) -> Result<std::fs::File, StoreError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&name)
        .map_err(|err| StoreError::Lock(format!("cannot open {}: {err}", Path::new(&name).display())))?;
    let deadline = tokio::time::Instant::now() + LOCK_PATIENCE;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::InUse(path.display().to_string()))
            }
            Err(std::fs::TryLockError::Error(err)) => {
                return Err(StoreError::Lock(format!("cannot lock {}: {err}", Path::new(&name).display())))
            }
        }
    }
}

fn pool_options(connections: u32, max_bytes: Option<u64>) -> SqlitePoolOptions {
    SqlitePoolOptions::new().max_connections(connections).after_connect(move |conn, _| {
        Box::pin(async move {
            if let Some(max_bytes) = max_bytes {
                set_quota(conn, max_bytes).await?;
            }
            Ok(())
        })
    })
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

pub(super) fn from_row(room: &RoomName, row: &sqlx::sqlite::SqliteRow) -> Result<StoredMessage, StoreError> {
    stored_from_row(room, columns!(row))
}

/// A row of a room's log: a damaged one is named by its number, to be skipped.
fn log_row(room: &RoomName, row: &sqlx::sqlite::SqliteRow) -> Result<LogRow, StoreError> {
    Ok(LogRow { seq: row.try_get("seq")?, message: from_row(room, row) })
}

/// Rows of one multi-row statement: at most seven parameters a row stays well under SQLite's limit
/// of 32,766 for one statement.
const ROWS_PER_STATEMENT: usize = 1000;

/// Finds the originals of the batch's resends: one query for each message with a client id (a
/// query in SQLite is a function call, not a round trip).
async fn originals<'a>(
    conn: &mut SqliteConnection,
    batch: &'a [NewMessage],
) -> Result<HashMap<ResendKey<'a>, StoredMessage>, StoreError> {
    let mut stored = HashMap::new();
    for msg in batch {
        let Some(key) = resend_key(msg) else { continue };
        if stored.contains_key(&key) {
            continue;
        }
        let earlier = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {LOG}
             WHERE m.room = ? AND m.session = ? AND m.client_id = ?"
        ))
        .bind(msg.room.as_str())
        .bind(msg.session.to_string())
        .bind(key.2)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = earlier {
            let read = from_row(&msg.room, &row);
            stored.insert(key, original(msg, row.try_get("seq")?, row.try_get("epoch")?, read)?);
        }
    }
    Ok(stored)
}

/// Hands out `count` sequence numbers in each room in one statement, creating the logs of rooms
/// that have none, and notes when each was last active; returns each room's epoch and its last
/// number before them.
async fn number<'a>(
    conn: &mut SqliteConnection,
    new_per_room: &BTreeMap<&'a RoomName, Added>,
) -> Result<BTreeMap<&'a RoomName, (Epoch, i64)>, StoreError> {
    if new_per_room.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut rows = Vec::with_capacity(new_per_room.len());
    let rooms: Vec<_> = new_per_room.iter().collect();
    for chunk in rooms.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from("INSERT INTO rooms (name, epoch, last_seq, last_at) VALUES ");
        sql.push_str(&vec!["(?, ?, ?, ?)"; chunk.len()].join(", "));
        sql.push_str(
            " ON CONFLICT (name) DO UPDATE SET last_seq = last_seq + excluded.last_seq,
                                               last_at = excluded.last_at
              RETURNING name, epoch, last_seq",
        );
        let mut query = sqlx::query(&sql);
        for (room, added) in chunk {
            query = query.bind(room.as_str()).bind(new_epoch()).bind(added.count).bind(added.last_at);
        }
        rows.extend(query.fetch_all(&mut *conn).await?);
    }
    let asked: HashMap<&str, &'a RoomName> = new_per_room.keys().map(|room| (room.as_str(), *room)).collect();
    let mut positions = BTreeMap::new();
    for row in &rows {
        let name: &str = row.try_get("name")?;
        let Some(room) = asked.get(name) else {
            return Err(StoreError::Corrupt(format!("numbered a room not asked for: {name:?}")));
        };
        let last: i64 = row.try_get("last_seq")?;
        let count = new_per_room.get(*room).map_or(0, |added| added.count);
        positions.insert(*room, (row.try_get("epoch")?, last - count));
    }
    if positions.len() != new_per_room.len() {
        return Err(StoreError::Corrupt("a room was not numbered".into()));
    }
    Ok(positions)
}

/// Inserts the new messages, under their numbers, in one statement (per thousand).
async fn insert(conn: &mut SqliteConnection, rows: &[NewRow<'_>]) -> Result<(), StoreError> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO messages (room, seq, author, session, text, at, client_id, target) VALUES ",
        );
        sql.push_str(&vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", "));
        let mut query = sqlx::query(&sql);
        for (msg, seq, target) in chunk {
            query = query
                .bind(msg.room.as_str())
                .bind(*seq)
                .bind(msg.author.as_str())
                .bind(msg.session.to_string())
                .bind(msg.text.as_str())
                .bind(msg.at)
                .bind(msg.client_id.as_ref().map(|c| c.as_str()))
                .bind(*target);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Appends in one transaction, in a handful of statements whatever the batch's size: each is a
/// round trip to SQLite's thread (two context switches), which at a few messages per commit cost
/// more than the writing itself.
async fn append(conn: &mut SqliteConnection, batch: &[NewMessage]) -> Result<Vec<Appended>, StoreError> {
    // IMMEDIATE: the write lock from the start, so that the duplicate checks and the numbering
    // see the same log even with another process on the file.
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let plan = plan(batch, originals(&mut tx, batch).await?);
    let quotes = quotes(&mut tx, batch).await?;
    let last = number(&mut tx, &plan.new_per_room).await?;
    let (results, rows) = assign(batch, plan.fates, last, quotes)?;
    insert(&mut tx, &rows).await?;
    tx.commit().await?;
    Ok(results)
}

super::ops::log_ops!(SqliteConnection, "BEGIN IMMEDIATE");
super::reply::reply_ops!(SqliteConnection);
super::retention::retention_ops!(SqliteConnection, "BEGIN IMMEDIATE");
super::webhooks::webhook_ops!(SqliteConnection);
super::transfer::transfer_ops!(SqliteConnection, "BEGIN IMMEDIATE");

#[async_trait]
impl Store for SqliteStore {
    async fn append(&self, batch: &[NewMessage]) -> Result<Vec<Appended>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.writes.acquire().await?;
        let appended = append(&mut conn, batch).await;
        if appended.is_err() {
            // SQLite may have rolled the transaction back itself (it does on a full disk), and
            // sqlx's connection then believes it is still in one; a new connection starts clean.
            conn.close_on_drop();
        }
        appended
    }

    async fn change(&self, c: &NewChange) -> Result<Result<StoredMessage, Refusal>, StoreError> {
        let mut conn = self.writes.acquire().await?;
        let changed = make_change(&mut conn, c).await;
        if changed.is_err() {
            // As for appends: a connection SQLite may have left mid-transaction starts again.
            conn.close_on_drop();
        }
        changed
    }

    async fn moderate(
        &self,
        m: &NewModeration,
    ) -> Result<Result<StoredMessage, ModerationRefusal>, StoreError> {
        let mut conn = self.writes.acquire().await?;
        let taken = make_moderation(&mut conn, m).await;
        if taken.is_err() {
            conn.close_on_drop();
        }
        taken
    }

    async fn room_state(&self, room: &RoomName) -> Result<RoomState, StoreError> {
        let mut conn = self.pool.acquire().await?;
        load_room_state(&mut conn, room, crate::clock::now_millis()).await
    }

    async fn position(&self, room: &RoomName) -> Result<Position, StoreError> {
        let row = sqlx::query_as(super::POSITION).bind(room.as_str()).fetch_optional(&self.pool).await?;
        super::position_of(row)
    }

    async fn read_after(
        &self,
        room: &RoomName,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        read_past_damage(room, seq_to_sql(after), limit, |cursor, n| async move {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM {LOG}
                 WHERE m.room = ? AND m.seq > ? ORDER BY m.seq LIMIT ?"
            ))
            .bind(room.as_str())
            .bind(cursor)
            .bind(n)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(|row| log_row(room, row)).collect()
        })
        .await
    }

    async fn read_before(
        &self,
        room: &RoomName,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let start = before.map_or(i64::MAX, seq_to_sql);
        let mut newest_first = read_past_damage(room, start, limit, |cursor, n| async move {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM {LOG}
                 WHERE m.room = ? AND m.seq < ? AND m.kind = 0 ORDER BY m.seq DESC LIMIT ?"
            ))
            .bind(room.as_str())
            .bind(cursor)
            .bind(n)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(|row| log_row(room, row)).collect()
        })
        .await?;
        newest_first.reverse();
        Ok(newest_first)
    }

    async fn recent_session_of(
        &self,
        room: &RoomName,
        author: &Nickname,
        within: u32,
    ) -> Result<Option<SessionId>, StoreError> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT author, session FROM messages WHERE room = ? AND kind = 0
             ORDER BY seq DESC LIMIT ?",
        )
        .bind(room.as_str())
        .bind(i64::from(within))
        .fetch_all(&self.pool)
        .await?;
        Ok(super::session_of(author, rows))
    }

    async fn read_actions(
        &self,
        room: &RoomName,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let start = before.map_or(i64::MAX, seq_to_sql);
        read_past_damage(room, start, limit, |cursor, n| async move {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM {LOG}
                 WHERE m.room = ? AND m.seq < ? AND m.kind IN (2, 3) ORDER BY m.seq DESC LIMIT ?"
            ))
            .bind(room.as_str())
            .bind(cursor)
            .bind(n)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(|row| log_row(room, row)).collect()
        })
        .await
    }

    async fn active_rooms(&self, limit: u32) -> Result<Vec<ActiveRoom>, StoreError> {
        let rows = sqlx::query(ACTIVE_ROOMS).bind(i64::from(limit)).fetch_all(&self.pool).await?;
        let mut rooms = Vec::with_capacity(rows.len());
        for row in &rows {
            rooms.extend(active_room(row.try_get("name")?, row.try_get("last_at")?, row.try_get("topic")?));
        }
        Ok(rooms)
    }

    async fn rooms_kept(&self, after: &str, limit: u32) -> Result<Vec<Kept>, StoreError> {
        rooms_kept(&mut *self.pool.acquire().await?, after, limit).await
    }

    async fn forget_before(&self, room: &RoomName, before: Millis, limit: u32) -> Result<u64, StoreError> {
        // On the writers' connection, a batch at a time: appends wait for one batch at most.
        let mut conn = self.writes.acquire().await?;
        let forgotten = forget_old(&mut conn, room, before, limit).await;
        if forgotten.is_err() {
            conn.close_on_drop();
        }
        forgotten
    }

    async fn import(
        &self,
        room: &RoomName,
        start: Option<&Header>,
        entries: &[StoredMessage],
    ) -> Result<(), StoreError> {
        let mut conn = self.writes.acquire().await?;
        let imported = import_entries(&mut conn, room, start, entries).await;
        if imported.is_err() {
            conn.close_on_drop();
        }
        imported
    }
    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        all_webhooks(&mut *self.pool.acquire().await?).await
    }

    async fn add_webhook(
        &self,
        room: &RoomName,
        url: &str,
        secret: &str,
        at: Millis,
    ) -> Result<Webhook, StoreError> {
        add_webhook(&mut *self.writes.acquire().await?, room, url, secret, at).await
    }

    async fn remove_webhook(&self, id: i64) -> Result<bool, StoreError> {
        remove_webhook(&mut *self.writes.acquire().await?, id).await
    }

    async fn lease_webhook(
        &self,
        id: i64,
        owner: &str,
        now: Millis,
        until: Millis,
    ) -> Result<bool, StoreError> {
        lease_webhook(&mut *self.writes.acquire().await?, id, owner, now, until).await
    }

    async fn webhook_progress(&self, id: i64, owner: &str, progress: &Progress) -> Result<bool, StoreError> {
        webhook_progress(&mut *self.writes.acquire().await?, id, owner, progress).await
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

    /// However large the log, a search reads the index first and each message it found by its
    /// key, never the log through.
    #[tokio::test]
    async fn search_reads_the_index_first() {
        let (_dir, store) = fresh().await;
        let plan: Vec<String> =
            sqlx::query(&format!("EXPLAIN QUERY PLAN {}", crate::store::search::sqlite_search()))
                .bind("\"x\"*")
                .bind(None::<&str>)
                .bind(10_i64)
                .bind(0_i64)
                .fetch_all(&store.pool)
                .await
                .unwrap()
                .iter()
                .map(|row| row.get::<String, _>("detail"))
                .collect();
        assert!(plan[0].starts_with("SCAN search_words VIRTUAL TABLE"), "{plan:#?}");
        assert!(plan[1..].iter().all(|step| !step.starts_with("SCAN")), "{plan:#?}");
    }

    #[tokio::test]
    async fn the_storage_suite() {
        let (_dir, store) = fresh().await;
        suite::run_all(&store).await;
    }

    #[tokio::test]
    async fn a_room_moves_to_another_file() {
        let (_dir, from) = fresh().await;
        let (_other, to) = fresh().await;
        suite::a_room_moves_between_logs(&from, &to).await;
    }

    #[tokio::test]
    async fn damaged_rows_are_skipped() {
        let (_dir, store) = fresh().await;
        suite::before_damage(&store).await;
        for damage in suite::DAMAGE {
            sqlx::query(damage).execute(&store.pool).await.unwrap();
        }
        // Text that is not even UTF-8 (SQLite stores whatever it is given).
        sqlx::query("INSERT INTO messages (room, seq, author, text, at) VALUES ('damaged', 100, 'ann', CAST(X'FF00' AS TEXT), 0)")
            .execute(&store.pool)
            .await
            .unwrap();
        suite::reads_go_on_past_damaged_rows(&store).await;
    }

    /// However many rooms there are, the room list reads the most recently active ones off an
    /// index, without visiting the others or sorting them.
    #[tokio::test]
    async fn the_room_list_reads_an_index() {
        let (_dir, store) = fresh().await;
        let plan: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {ACTIVE_ROOMS}"))
            .bind(100_i64)
            .fetch_all(&store.pool)
            .await
            .unwrap()
            .iter()
            .map(|row| row.get::<String, _>("detail"))
            .collect();
        assert!(plan.iter().any(|step| step.contains("rooms_by_activity")), "{plan:?}");
        assert!(!plan.iter().any(|step| step.contains("TEMP B-TREE")), "no sort: {plan:?}");
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
    async fn a_batch_larger_than_one_statement_takes_is_stored_whole() {
        use app::names::{MessageText, Nickname};
        let (_dir, store) = fresh().await;
        let message = |room: &str, i: usize| NewMessage {
            room: RoomName::parse(room).unwrap(),
            author: Nickname::parse("ann").unwrap(),
            session: crate::identity::SessionId::named("ann"),
            text: MessageText::parse(&format!("m{i}")).unwrap(),
            at: 0,
            client_id: None,
            reply_to: None,
        };
        let batch: Vec<_> = (0..2 * ROWS_PER_STATEMENT + 1).map(|i| message(["a", "b"][i % 2], i)).collect();
        let appended = store.append(&batch).await.unwrap();
        let seqs: Vec<_> = appended.iter().map(|a| a.message().seq).collect();
        let expected: Vec<_> = (0..batch.len()).map(|i| i as u64 / 2 + 1).collect();
        assert_eq!(seqs, expected);
        let a = store.read_after(&RoomName::parse("a").unwrap(), 0, 10_000).await.unwrap();
        assert_eq!(a.len(), ROWS_PER_STATEMENT + 1);
        assert!(a.iter().enumerate().all(|(i, m)| m.text_str() == format!("m{}", 2 * i)));
    }

    /// A second server on the same file would deliver only its own messages: it is refused at
    /// start, once the first has had a few seconds to let go (as when one replaces the other).
    #[tokio::test]
    async fn a_second_store_on_one_file_is_refused_until_the_first_is_gone() {
        let (dir, first) = fresh().await;
        let path = dir.path().join("chat.db");
        let started = tokio::time::Instant::now();
        let err = SqliteStore::open(&path).await.unwrap_err();
        assert!(matches!(err, StoreError::InUse(_)), "{err}");
        assert!(err.to_string().contains("--redis-url"), "says what to do instead: {err}");
        assert!(started.elapsed() >= LOCK_PATIENCE, "waited for the first to let go");
        drop(first);
        let second = SqliteStore::open(&path).await.unwrap();
        assert_eq!(second.position(&RoomName::lobby()).await.unwrap().seq, 0);
    }

    /// Two writers on one file (a server and a tool, say) still number one room without gaps:
    /// SQLite's own locking, which the store's lock file leaves to it.
    #[tokio::test]
    async fn two_writers_on_one_file_number_one_room_without_gaps() {
        let (dir, first) = fresh().await;
        // As another program would, without the server's lock.
        let second = SqliteStore::connect(&dir.path().join("chat.db"), None, None).await.unwrap();
        suite::concurrent_writers(&first, &second).await;
    }

    #[tokio::test]
    async fn a_full_quota_refuses_whole_batches_and_keeps_what_was_stored() {
        use app::names::{MessageText, Nickname};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chat.db");
        // The schema's tables and indexes take a page each of it before any message.
        const QUOTA: u64 = 200 * 1024;
        let store = SqliteStore::open_with_quota(&path, Some(QUOTA)).await.unwrap();
        let lobby = RoomName::lobby();
        let big = |i: usize| NewMessage {
            room: lobby.clone(),
            author: Nickname::parse("ann").unwrap(),
            session: crate::identity::SessionId::named("ann"),
            text: MessageText::parse(&format!("{i:04} {}", "words ".repeat(665))).unwrap(),
            at: 0,
            client_id: None,
            reply_to: None,
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
        // SQLite rolled the refused transaction back itself: the next ones are refused for the
        // same reason, not for a connection left believing it is in a transaction.
        for _ in 0..3 {
            let again = store.append(&[big(stored), big(stored + 1)]).await.expect_err("still full");
            assert!(again.is_full(), "{again}");
        }
        assert!(stored > 10, "only {stored} fitted");
        // Nothing of the refused batch is in the log; what was stored reads back whole.
        assert_eq!(store.position(&lobby).await.unwrap().seq, stored as u64);
        let all = store.read_after(&lobby, 0, 1000).await.unwrap();
        assert_eq!(all.len(), stored);
        assert!(all.iter().enumerate().all(|(i, m)| m.text_str().starts_with(&format!("{i:04}"))));
        // Pages in the write-ahead log count: the file alone lags behind until a checkpoint.
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count").fetch_one(&store.pool).await.unwrap();
        let page_size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(&store.pool).await.unwrap();
        assert!(pages * page_size <= QUOTA as i64, "{pages} pages of {page_size} bytes");
        drop(store);

        // A larger quota on the same file: writing resumes where it stopped.
        let store = SqliteStore::open_with_quota(&path, Some(1024 * 1024)).await.unwrap();
        let appended = store.append(&[big(stored)]).await.unwrap();
        assert_eq!(appended[0].message().seq, stored as u64 + 1);
    }
}
