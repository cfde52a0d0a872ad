//! PostgreSQL, chosen by a `postgres://` URL: the log several server processes share. Appending
//! locks each room's row for the length of the transaction, so they number a room's messages
//! without gaps or races.

use super::plan::{assign, plan, resend_key, Added, NewRow, ResendKey};
use super::retention::Kept;
use super::transfer::Header;
use super::webhooks::{Progress, Webhook};
use super::{
    active_room, columns, new_epoch, original, read_past_damage, seq_to_sql, stored_from_row, ActiveRoom,
    Appended, LogRow, ModerationRefusal, NewChange, NewMessage, NewModeration, Position, Refusal, RoomState,
    Store, StoreError, StoredMessage, Tenancy, ACTIVE_ROOMS, COLUMNS, LOCK_PATIENCE, LOCK_WAIT, LOG,
};
use crate::identity::SessionId;
use app::names::{Nickname, RoomName};
use app::protocol::{Epoch, Millis, Seq};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection, Row};
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct PgStore {
    pub(super) pool: PgPool,
    /// The connection holding this process's tenancy lock, for as long as the store lives.
    _tenancy: Option<Arc<tokio::sync::Mutex<PgConnection>>>,
}

impl PgStore {
    pub async fn connect(url: &str, tenancy: Tenancy) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.options([
            // No statement waits for ever: a lock held elsewhere fails the write after LOCK_WAIT,
            // anything else after STATEMENT_LIMIT, and the server ends a transaction whose client
            // went quiet (its connection half-open) instead of holding its locks.
            ("lock_timeout", millis(LOCK_WAIT)),
            ("statement_timeout", millis(STATEMENT_LIMIT)),
            ("idle_in_transaction_session_timeout", millis(IDLE_IN_TRANSACTION)),
        ]);
        let tenancy_lock = match tenancy {
            Tenancy::Tool => None,
            Tenancy::Alone | Tenancy::Cluster => Some(hold_tenancy(&options, tenancy).await?),
        };
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool, _tenancy: tenancy_lock.map(|conn| Arc::new(tokio::sync::Mutex::new(conn))) })
    }
}

/// The advisory lock every server process on a database holds: exclusively when it is alone,
/// shared by the nodes of a cluster. A process alone delivers only what it stores itself, so a
/// second one on its database (alone, or a cluster's node) would leave each one's members
/// without the other's messages; it is refused at start instead. The lock lives with its
/// connection, so PostgreSQL lets go of it however the process ends.
const TENANCY_LOCK: i64 = 0x6368_6174_0000_0001;

async fn hold_tenancy(options: &PgConnectOptions, tenancy: Tenancy) -> Result<PgConnection, StoreError> {
    let mut conn = PgConnection::connect_with(options).await?;
    let statement = match tenancy {
        Tenancy::Alone => "SELECT pg_try_advisory_lock($1)",
        Tenancy::Cluster | Tenancy::Tool => "SELECT pg_try_advisory_lock_shared($1)",
    };
    let deadline = tokio::time::Instant::now() + LOCK_PATIENCE;
    loop {
        let locked: bool = sqlx::query_scalar(statement).bind(TENANCY_LOCK).fetch_one(&mut conn).await?;
        if locked {
            return Ok(conn);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StoreError::DatabaseInUse(tenancy));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The longest one statement may run.
const STATEMENT_LIMIT: Duration = Duration::from_secs(4);
/// How long the server keeps a transaction whose client says nothing.
const IDLE_IN_TRANSACTION: Duration = Duration::from_secs(10);

/// A duration as PostgreSQL's settings read it.
fn millis(duration: Duration) -> String {
    format!("{}ms", duration.as_millis())
}

pub(super) fn from_row(room: &RoomName, row: &sqlx::postgres::PgRow) -> Result<StoredMessage, StoreError> {
    stored_from_row(room, columns!(row))
}

/// A row of a room's log: a damaged one is named by its number, to be skipped.
fn log_row(room: &RoomName, row: &sqlx::postgres::PgRow) -> Result<LogRow, StoreError> {
    Ok(LogRow { seq: row.try_get("seq")?, message: from_row(room, row) })
}

/// Finds the originals of the batch's resends, in one query whatever their number.
async fn originals<'a>(
    conn: &mut PgConnection,
    batch: &'a [NewMessage],
) -> Result<HashMap<ResendKey<'a>, StoredMessage>, StoreError> {
    let keys: Vec<(&NewMessage, ResendKey<'a>)> =
        batch.iter().filter_map(|msg| resend_key(msg).map(|key| (msg, key))).collect();
    let mut stored = HashMap::new();
    if keys.is_empty() {
        return Ok(stored);
    }
    let rooms: Vec<&str> = keys.iter().map(|(_, key)| key.0.as_str()).collect();
    let sessions: Vec<String> = keys.iter().map(|(_, key)| key.1.to_string()).collect();
    let ids: Vec<&str> = keys.iter().map(|(_, key)| key.2).collect();
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS}, m.room, m.session FROM {LOG}
         JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(room, session, client_id)
           ON m.room = k.room AND m.session = k.session AND m.client_id = k.client_id"
    ))
    .bind(&rooms)
    .bind(&sessions)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    for row in &rows {
        let (room, session, id): (&str, &str, Option<&str>) =
            (row.try_get("room")?, row.try_get("session")?, row.try_get("client_id")?);
        let found = keys
            .iter()
            .find(|(_, key)| key.0.as_str() == room && Some(key.2) == id && key.1.to_string() == session);
        let Some((msg, key)) = found else { continue };
        let read = from_row(&msg.room, row);
        stored.insert(*key, original(msg, row.try_get("seq")?, row.try_get("epoch")?, read)?);
    }
    Ok(stored)
}

/// Hands out `count` numbers in each room in one statement, creating the logs of rooms that have
/// none and noting when each was last active; returns each room's epoch and its last number
/// before them. The rooms' rows stay locked until the transaction ends, so that processes sharing
/// the database number a room without gaps or races; they are taken in one order (by name), so
/// that two never wait on each other.
async fn number<'a>(
    conn: &mut PgConnection,
    new_per_room: &BTreeMap<&'a RoomName, Added>,
) -> Result<BTreeMap<&'a RoomName, (Epoch, i64)>, StoreError> {
    if new_per_room.is_empty() {
        return Ok(BTreeMap::new());
    }
    let names: Vec<&str> = new_per_room.keys().map(|room| room.as_str()).collect();
    let epochs: Vec<Epoch> = new_per_room.keys().map(|_| new_epoch()).collect();
    let counts: Vec<i64> = new_per_room.values().map(|added| added.count).collect();
    let last_ats: Vec<Millis> = new_per_room.values().map(|added| added.last_at).collect();
    let rows = sqlx::query(
        "INSERT INTO rooms (name, epoch, last_seq, last_at)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[]) ORDER BY 1
         ON CONFLICT (name) DO UPDATE SET last_seq = rooms.last_seq + excluded.last_seq,
                                          last_at = excluded.last_at
         RETURNING name, epoch, last_seq",
    )
    .bind(&names)
    .bind(&epochs)
    .bind(&counts)
    .bind(&last_ats)
    .fetch_all(&mut *conn)
    .await?;
    let mut positions = BTreeMap::new();
    for row in &rows {
        let name: &str = row.try_get("name")?;
        let Some((room, added)) = new_per_room.iter().find(|(room, _)| room.as_str() == name) else {
            return Err(StoreError::Corrupt(format!("numbered a room not asked for: {name:?}")));
        };
        let last: i64 = row.try_get("last_seq")?;
        positions.insert(*room, (row.try_get("epoch")?, last - added.count));
    }
    if positions.len() != new_per_room.len() {
        return Err(StoreError::Corrupt("a room was not numbered".into()));
    }
    Ok(positions)
}

/// Inserts the new messages in one statement, however many.
async fn insert(conn: &mut PgConnection, rows: &[NewRow<'_>]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let rooms: Vec<&str> = rows.iter().map(|(m, _, _)| m.room.as_str()).collect();
    let seqs: Vec<i64> = rows.iter().map(|(_, seq, _)| *seq).collect();
    let authors: Vec<&str> = rows.iter().map(|(m, _, _)| m.author.as_str()).collect();
    let sessions: Vec<String> = rows.iter().map(|(m, _, _)| m.session.to_string()).collect();
    let texts: Vec<&str> = rows.iter().map(|(m, _, _)| m.text.as_str()).collect();
    let ats: Vec<Millis> = rows.iter().map(|(m, _, _)| m.at).collect();
    let ids: Vec<Option<&str>> =
        rows.iter().map(|(m, _, _)| m.client_id.as_ref().map(|c| c.as_str())).collect();
    let targets: Vec<Option<i64>> = rows.iter().map(|(_, _, target)| *target).collect();
    sqlx::query(
        "INSERT INTO messages (room, seq, author, session, text, at, client_id, target)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                              $7::text[], $8::bigint[])",
    )
    .bind(&rooms)
    .bind(&seqs)
    .bind(&authors)
    .bind(&sessions)
    .bind(&texts)
    .bind(&ats)
    .bind(&ids)
    .bind(&targets)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

super::ops::log_ops!(PgConnection, "BEGIN");
super::reply::reply_ops!(PgConnection);
super::retention::retention_ops!(PgConnection, "BEGIN");
super::webhooks::webhook_ops!(PgConnection);
super::transfer::transfer_ops!(PgConnection, "BEGIN");

#[async_trait]
impl Store for PgStore {
    /// Appends in one transaction of three statements whatever the batch's size (finding
    /// resends, numbering, inserting), each a round trip to the server. A resend racing its
    /// original on another node meets the unique index instead, and the writer stores the batch
    /// again a message at a time, when the original is found.
    async fn append(&self, batch: &[NewMessage]) -> Result<Vec<Appended>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.pool.begin().await?;
        let plan = plan(batch, originals(&mut tx, batch).await?);
        let quotes = quotes(&mut tx, batch).await?;
        let last = number(&mut tx, &plan.new_per_room).await?;
        let (results, rows) = assign(batch, plan.fates, last, quotes)?;
        insert(&mut tx, &rows).await?;
        tx.commit().await?;
        Ok(results)
    }

    async fn change(&self, c: &NewChange) -> Result<Result<StoredMessage, Refusal>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        make_change(&mut conn, c).await
    }

    async fn moderate(
        &self,
        m: &NewModeration,
    ) -> Result<Result<StoredMessage, ModerationRefusal>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        make_moderation(&mut conn, m).await
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
                 WHERE m.room = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3"
            ))
            .bind(room.as_str())
            .bind(cursor)
            .bind(i64::from(n))
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
                 WHERE m.room = $1 AND m.seq < $2 AND m.kind = 0 ORDER BY m.seq DESC LIMIT $3"
            ))
            .bind(room.as_str())
            .bind(cursor)
            .bind(i64::from(n))
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
            "SELECT author, session FROM messages WHERE room = $1 AND kind = 0
             ORDER BY seq DESC LIMIT $2",
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
                 WHERE m.room = $1 AND m.seq < $2 AND m.kind IN (2, 3) ORDER BY m.seq DESC LIMIT $3"
            ))
            .bind(room.as_str())
            .bind(cursor)
            .bind(i64::from(n))
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
        forget_old(&mut *self.pool.acquire().await?, room, before, limit).await
    }

    async fn import(
        &self,
        room: &RoomName,
        start: Option<&Header>,
        entries: &[StoredMessage],
    ) -> Result<(), StoreError> {
        import_entries(&mut *self.pool.acquire().await?, room, start, entries).await
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
        add_webhook(&mut *self.pool.acquire().await?, room, url, secret, at).await
    }

    async fn remove_webhook(&self, id: i64) -> Result<bool, StoreError> {
        remove_webhook(&mut *self.pool.acquire().await?, id).await
    }

    async fn lease_webhook(
        &self,
        id: i64,
        owner: &str,
        now: Millis,
        until: Millis,
    ) -> Result<bool, StoreError> {
        lease_webhook(&mut *self.pool.acquire().await?, id, owner, now, until).await
    }

    async fn webhook_progress(&self, id: i64, owner: &str, progress: &Progress) -> Result<bool, StoreError> {
        webhook_progress(&mut *self.pool.acquire().await?, id, owner, progress).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite;

    /// The URL of a fresh database on the server `CHAT_TEST_POSTGRES_URL` names
    /// (scripts/postgres.sh starts one for scripts/test.sh).
    async fn fresh_database() -> String {
        fresh_named_database().await.2
    }

    /// A fresh database: a pool on the server's default database, its name, and its URL.
    async fn fresh_named_database() -> (PgPool, String, String) {
        let url = std::env::var("CHAT_TEST_POSTGRES_URL")
            .expect("CHAT_TEST_POSTGRES_URL must name a PostgreSQL server (scripts/postgres.sh starts one)");
        let admin = PgPool::connect(&url).await.expect("connect to the test PostgreSQL");
        let name = format!("chat_test_{}", fastrand::u64(..));
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create database");
        let (base, _) = url.rsplit_once('/').expect("URL with a database name");
        let url = format!("{base}/{name}");
        (admin, name, url)
    }

    #[tokio::test]
    #[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
    async fn the_storage_suite() {
        let store = PgStore::connect(&fresh_database().await, Tenancy::Alone).await.unwrap();
        suite::run_all(&store).await;
    }

    /// However large the log, a search reads the word index, never the log through.
    #[tokio::test]
    #[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
    async fn search_reads_the_word_index() {
        let store = PgStore::connect(&fresh_database().await, Tenancy::Alone).await.unwrap();
        let mut conn = store.pool.acquire().await.unwrap();
        // A table this small would be read through otherwise: what matters is that it can be not.
        sqlx::query("SET enable_seqscan = off").execute(&mut *conn).await.unwrap();
        let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {}", crate::store::search::pg_search()))
            .bind("'x':*")
            .bind(None::<&str>)
            .bind(10_i64)
            .bind(0_i64)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        assert!(plan.iter().any(|step| step.contains("messages_words")), "{plan:#?}");
    }

    /// A room moves from the embedded store to PostgreSQL and back, each time whole.
    #[tokio::test]
    #[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
    async fn a_room_moves_between_sqlite_and_postgres() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = crate::store::SqliteStore::open(&dir.path().join("chat.db")).await.unwrap();
        let pg = PgStore::connect(&fresh_database().await, Tenancy::Alone).await.unwrap();
        suite::a_room_moves_between_logs(&sqlite, &pg).await;
        let source = PgStore::connect(&fresh_database().await, Tenancy::Alone).await.unwrap();
        let back = crate::store::SqliteStore::open(&dir.path().join("back.db")).await.unwrap();
        suite::a_room_moves_between_logs(&source, &back).await;
    }

    #[tokio::test]
    #[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
    async fn damaged_rows_are_skipped() {
        let store = PgStore::connect(&fresh_database().await, Tenancy::Alone).await.unwrap();
        suite::before_damage(&store).await;
        for damage in suite::DAMAGE {
            sqlx::query(damage).execute(&store.pool).await.unwrap();
        }
        suite::reads_go_on_past_damaged_rows(&store).await;
    }

    /// PostgreSQL refuses values SQLite takes (U+0000 in text, once): a refused message must not
    /// fail the others committed with it. A real constraint stands in for any such value.
    #[tokio::test]
    #[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
    async fn one_refused_message_fails_no_other() {
        let store = PgStore::connect(&fresh_database().await, Tenancy::Alone).await.unwrap();
        sqlx::query("ALTER TABLE messages ADD CONSTRAINT no_poison CHECK (text <> 'poison')")
            .execute(&store.pool)
            .await
            .unwrap();
        crate::store::writer::tests::one_refused_message_fails_no_other(std::sync::Arc::new(store)).await;
    }

    #[tokio::test]
    #[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
    async fn a_process_alone_on_a_database_keeps_every_other_out_and_nodes_share_it() {
        let url = fresh_database().await;
        let alone = PgStore::connect(&url, Tenancy::Alone).await.unwrap();
        for tenancy in [Tenancy::Alone, Tenancy::Cluster] {
            let started = std::time::Instant::now();
            let err = PgStore::connect(&url, tenancy).await.unwrap_err();
            assert!(matches!(err, StoreError::DatabaseInUse(t) if t == tenancy), "{err}");
            assert!(err.to_string().contains("--redis-url"), "{err}");
            assert!(started.elapsed() >= LOCK_PATIENCE, "waited for the first to let go");
        }
        drop(alone);
        // Its lock went with its connection: nodes may come now, and then nobody alone.
        let first = PgStore::connect(&url, Tenancy::Cluster).await.unwrap();
        let _second = PgStore::connect(&url, Tenancy::Cluster).await.unwrap();
        let err = PgStore::connect(&url, Tenancy::Alone).await.unwrap_err();
        assert!(matches!(err, StoreError::DatabaseInUse(Tenancy::Alone)), "{err}");
        drop((first, _second));
        PgStore::connect(&url, Tenancy::Alone).await.unwrap();
    }

    #[tokio::test]
    #[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
    async fn two_stores_on_one_database_number_one_room_without_gaps() {
        // Two pools, as two server processes would have.
        let url = fresh_database().await;
        let first = PgStore::connect(&url, Tenancy::Cluster).await.unwrap();
        let second = PgStore::connect(&url, Tenancy::Cluster).await.unwrap();
        suite::concurrent_writers(&first, &second).await;
    }

    #[tokio::test]
    #[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
    async fn an_outage_fails_appends_whole_and_the_pool_recovers_after_it() {
        use app::names::{MessageText, Nickname};
        let (admin, name, url) = fresh_named_database().await;
        let store = PgStore::connect(&url, Tenancy::Alone).await.unwrap();
        let lobby = RoomName::lobby();
        let message = |text: &str| NewMessage {
            room: lobby.clone(),
            author: Nickname::parse("ann").unwrap(),
            session: crate::identity::SessionId::named("ann"),
            text: MessageText::parse(text).unwrap(),
            at: 0,
            client_id: None,
            reply_to: None,
        };
        store.append(&[message("before")]).await.unwrap();

        // The database goes away under the store: no new connections, and the ones it holds are
        // killed (as on a server restart or a failover).
        let allow = |yes: bool| format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {yes}");
        sqlx::query(&allow(false)).execute(&admin).await.unwrap();
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(&name)
            .execute(&admin)
            .await
            .unwrap();
        let err = store.append(&[message("during"), message("during too")]).await.unwrap_err();
        assert!(!err.is_full(), "an outage is not a full disk: {err}");
        assert!(store.read_after(&lobby, 0, 10).await.is_err());

        // It comes back: the pool reconnects by itself, and nothing of the failed batch is there.
        sqlx::query(&allow(true)).execute(&admin).await.unwrap();
        let appended = store.append(&[message("after")]).await.unwrap();
        assert_eq!(appended[0].message().seq, 2);
        let texts: Vec<String> =
            store.read_after(&lobby, 0, 10).await.unwrap().iter().map(|m| m.text_str().to_string()).collect();
        assert_eq!(texts, ["before", "after"]);
    }
}
