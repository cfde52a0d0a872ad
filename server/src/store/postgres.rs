//! PostgreSQL, chosen by a `postgres://` URL. Appending locks each room's row for the length of
//! the transaction, so several server processes sharing one database number a room's messages
//! without gaps or races.

use super::{
    active_room, new_epoch, original, read_past_damage, seq_to_sql, stored_from_row, Appended, LogRow,
    NewMessage, Position, Store, StoreError, StoredMessage, ACTIVE_ROOMS, LOCK_WAIT,
};
use app::names::RoomName;
use app::protocol::{Epoch, Millis, Seq};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Row};
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.options([
            // No statement waits for ever: a lock held elsewhere fails the write after LOCK_WAIT,
            // anything else after STATEMENT_LIMIT, and the server ends a transaction whose client
            // went quiet (its connection half-open) instead of holding its locks.
            ("lock_timeout", millis(LOCK_WAIT)),
            ("statement_timeout", millis(STATEMENT_LIMIT)),
            ("idle_in_transaction_session_timeout", millis(IDLE_IN_TRANSACTION)),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
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

const COLUMNS: &str = "m.seq, m.author, m.text, m.at, m.client_id, r.epoch";

fn from_row(room: &RoomName, row: &sqlx::postgres::PgRow) -> Result<StoredMessage, StoreError> {
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

/// A row of a room's log: a damaged one is named by its number, to be skipped.
fn log_row(room: &RoomName, row: &sqlx::postgres::PgRow) -> Result<LogRow, StoreError> {
    Ok(LogRow { seq: row.try_get("seq")?, message: from_row(room, row) })
}

/// The room's `(epoch, last_seq)`, creating its log if it has none, with its row locked until
/// the transaction ends.
async fn lock_room(conn: &mut PgConnection, room: &RoomName) -> Result<(Epoch, i64), StoreError> {
    sqlx::query("INSERT INTO rooms (name, epoch, last_seq) VALUES ($1, $2, 0) ON CONFLICT (name) DO NOTHING")
        .bind(room.as_str())
        .bind(new_epoch())
        .execute(&mut *conn)
        .await?;
    let row = sqlx::query("SELECT epoch, last_seq FROM rooms WHERE name = $1 FOR UPDATE")
        .bind(room.as_str())
        .fetch_one(&mut *conn)
        .await?;
    Ok((row.try_get("epoch")?, row.try_get("last_seq")?))
}

#[async_trait]
impl Store for PgStore {
    async fn append(&self, batch: &[NewMessage]) -> Result<Vec<Appended>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Locks taken in one global order (by name): two processes never wait on each other.
        let names: BTreeSet<&RoomName> = batch.iter().map(|m| &m.room).collect();
        // Each room's epoch, its last number, and when it was last active (`None`: nothing new).
        let mut rooms: BTreeMap<&RoomName, (Epoch, i64, Option<Millis>)> = BTreeMap::new();
        for room in names {
            let (epoch, last) = lock_room(&mut tx, room).await?;
            rooms.insert(room, (epoch, last, None));
        }
        let mut results = Vec::with_capacity(batch.len());
        for msg in batch {
            let Some((epoch, last, last_at)) = rooms.get_mut(&msg.room) else { continue };
            if let Some(client_id) = &msg.client_id {
                let earlier = sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM messages m JOIN rooms r ON r.name = m.room
                     WHERE m.room = $1 AND m.session = $2 AND m.client_id = $3"
                ))
                .bind(msg.room.as_str())
                .bind(msg.session.to_string())
                .bind(client_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(row) = earlier {
                    let read = from_row(&msg.room, &row);
                    let earlier = original(msg, row.try_get("seq")?, row.try_get("epoch")?, read)?;
                    results.push(Appended::Duplicate(earlier));
                    continue;
                }
            }
            *last += 1;
            sqlx::query(
                "INSERT INTO messages (room, seq, author, session, text, at, client_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(msg.room.as_str())
            .bind(*last)
            .bind(msg.author.as_str())
            .bind(msg.session.to_string())
            .bind(msg.text.as_str())
            .bind(msg.at)
            .bind(msg.client_id.as_ref().map(|c| c.as_str()))
            .execute(&mut *tx)
            .await?;
            *last_at = Some(msg.at);
            results.push(Appended::New(msg.stored(*epoch, *last)?));
        }
        for (room, (_, last, last_at)) in &rooms {
            let Some(last_at) = last_at else { continue };
            sqlx::query("UPDATE rooms SET last_seq = $1, last_at = $2 WHERE name = $3")
                .bind(*last)
                .bind(*last_at)
                .bind(room.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(results)
    }

    async fn position(&self, room: &RoomName) -> Result<Position, StoreError> {
        let row = sqlx::query("SELECT epoch, last_seq FROM rooms WHERE name = $1")
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
        read_past_damage(room, seq_to_sql(after), limit, |cursor, n| async move {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM messages m JOIN rooms r ON r.name = m.room
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
                "SELECT {COLUMNS} FROM messages m JOIN rooms r ON r.name = m.room
                 WHERE m.room = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3"
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

    async fn active_rooms(&self, limit: u32) -> Result<Vec<(RoomName, Millis)>, StoreError> {
        let rows = sqlx::query(ACTIVE_ROOMS).bind(i64::from(limit)).fetch_all(&self.pool).await?;
        let mut rooms = Vec::with_capacity(rows.len());
        for row in &rows {
            rooms.extend(active_room(row.try_get("name")?, row.try_get("last_at")?));
        }
        Ok(rooms)
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
        let store = PgStore::connect(&fresh_database().await).await.unwrap();
        suite::run_all(&store).await;
    }

    #[tokio::test]
    #[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
    async fn damaged_rows_are_skipped() {
        let store = PgStore::connect(&fresh_database().await).await.unwrap();
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
        let store = PgStore::connect(&fresh_database().await).await.unwrap();
        sqlx::query("ALTER TABLE messages ADD CONSTRAINT no_poison CHECK (text <> 'poison')")
            .execute(&store.pool)
            .await
            .unwrap();
        crate::store::writer::tests::one_refused_message_fails_no_other(std::sync::Arc::new(store)).await;
    }

    #[tokio::test]
    #[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
    async fn two_stores_on_one_database_number_one_room_without_gaps() {
        // Two pools, as two server processes would have.
        let url = fresh_database().await;
        let first = PgStore::connect(&url).await.unwrap();
        let second = PgStore::connect(&url).await.unwrap();
        suite::concurrent_writers(&first, &second).await;
    }

    #[tokio::test]
    #[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
    async fn an_outage_fails_appends_whole_and_the_pool_recovers_after_it() {
        use app::names::{MessageText, Nickname};
        let (admin, name, url) = fresh_named_database().await;
        let store = PgStore::connect(&url).await.unwrap();
        let lobby = RoomName::lobby();
        let message = |text: &str| NewMessage {
            room: lobby.clone(),
            author: Nickname::parse("ann").unwrap(),
            session: crate::identity::SessionId::named("ann"),
            text: MessageText::parse(text).unwrap(),
            at: 0,
            client_id: None,
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
            store.read_after(&lobby, 0, 10).await.unwrap().iter().map(|m| m.text.to_string()).collect();
        assert_eq!(texts, ["before", "after"]);
    }
}
