//! Registered nicknames and the sessions logged in to them, kept beside the log (tables
//! `accounts` and `logins`). An account is named by its nickname's *key*, the form that tells
//! lookalikes apart from nobody, so that `Ann` and `ann` are one account.
//!
//! The statements are the same for SQLite and PostgreSQL (both read `$1` as the first
//! parameter), so one implementation serves both stores.

use super::{PgStore, SqliteStore, StoreError};
use crate::identity::SessionId;
use app::names::Nickname;
use app::protocol::Millis;
use async_trait::async_trait;
use sqlx::Row;

/// At most this many sessions per account: a login past it ends the oldest, so that a script
/// logging in over and over does not grow the table without end.
pub const MAX_LOGINS: i64 = 50;

/// A registered nickname.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// As its owner writes it.
    pub nickname: Nickname,
    /// The password's Argon2id hash (PHC string).
    pub password: String,
}

/// One session logged in to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub session: SessionId,
    pub created_at: Millis,
    /// What the browser or program said it was when it logged in (shortened).
    pub agent: String,
}

/// Whether a session may use a nickname, as far as accounts go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Nobody registered it: anyone may use it.
    Unregistered,
    /// It is registered, and the session is logged in to it.
    Owner,
    /// It is registered, and the session is not logged in to it.
    Stranger,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Registers `nickname` under `key`; `false` if the key is registered already.
    async fn create_account(
        &self,
        key: &str,
        nickname: &Nickname,
        password: &str,
        at: Millis,
    ) -> Result<bool, StoreError>;

    /// The account registered under `key`.
    async fn account(&self, key: &str) -> Result<Option<Account>, StoreError>;

    /// Every registered key.
    async fn account_keys(&self) -> Result<Vec<String>, StoreError>;

    /// The keys registered within the last minute, by any process on the store.
    async fn recent_account_keys(&self) -> Result<Vec<String>, StoreError>;

    /// Replaces the account's password hash and ends every session logged in to it but `keep`,
    /// in one transaction.
    async fn set_password(&self, key: &str, password: &str, keep: SessionId) -> Result<(), StoreError>;

    /// Logs `session` in to the account; the oldest sessions past [`MAX_LOGINS`] end.
    async fn add_login(
        &self,
        key: &str,
        session: SessionId,
        at: Millis,
        agent: &str,
    ) -> Result<(), StoreError>;

    /// The sessions logged in to the account, the newest first.
    async fn logins(&self, key: &str) -> Result<Vec<Login>, StoreError>;

    /// Ends `session`'s login to the account; `false` if it had none.
    async fn end_login(&self, key: &str, session: SessionId) -> Result<bool, StoreError>;

    /// Whether `session` may use the nickname whose key is `key`.
    async fn standing(&self, key: &str, session: SessionId) -> Result<Standing, StoreError>;
}

const CREATE_ACCOUNT: &str = "INSERT INTO accounts (name_key, nickname, password, created_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (name_key) DO NOTHING";
const ACCOUNT: &str = "SELECT nickname, password FROM accounts WHERE name_key = $1";
const ACCOUNT_KEYS: &str = "SELECT name_key FROM accounts";
const SET_PASSWORD: &str = "UPDATE accounts SET password = $2 WHERE name_key = $1";
const END_OTHER_LOGINS: &str = "DELETE FROM logins WHERE account = $1 AND session <> $2";
const ADD_LOGIN: &str = "INSERT INTO logins (session, account, created_at, agent) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (session) DO UPDATE SET account = $2, created_at = $3, agent = $4";
const TRIM_LOGINS: &str = "DELETE FROM logins WHERE account = $1 AND session NOT IN \
     (SELECT session FROM logins WHERE account = $1 ORDER BY created_at DESC, session LIMIT $2)";
const LOGINS: &str =
    "SELECT session, created_at, agent FROM logins WHERE account = $1 ORDER BY created_at DESC, session";
const END_LOGIN: &str = "DELETE FROM logins WHERE account = $1 AND session = $2";
const STANDING: &str = "SELECT l.session FROM accounts a \
     LEFT JOIN logins l ON l.account = a.name_key AND l.session = $2 WHERE a.name_key = $1";

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// The names registered lately. A minute, by the database's own clock: far longer than any
/// registration's transaction may take to commit (PostgreSQL's statement timeout), so that one
/// committed late is still read. SQLite's store serves one process, which never asks.
const RECENT_PG: &str = "SELECT name_key FROM accounts WHERE registered_at > now() - interval '60 seconds'";
const RECENT_SQLITE: &str = "SELECT name_key FROM accounts WHERE created_at > (unixepoch() - 60) * 1000";

/// The same implementation for each store, on its pool.
macro_rules! account_store {
    ($store:ty, $recent:expr) => {
        #[async_trait]
        impl AccountStore for $store {
            async fn create_account(
                &self,
                key: &str,
                nickname: &Nickname,
                password: &str,
                at: Millis,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(CREATE_ACCOUNT)
                    .bind(key)
                    .bind(nickname.as_str())
                    .bind(password)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn account(&self, key: &str) -> Result<Option<Account>, StoreError> {
                let Some(row) = sqlx::query(ACCOUNT).bind(key).fetch_optional(&self.pool).await? else {
                    return Ok(None);
                };
                let nickname = Nickname::parse(row.try_get("nickname")?).map_err(corrupt)?;
                Ok(Some(Account { nickname, password: row.try_get("password")? }))
            }

            async fn account_keys(&self) -> Result<Vec<String>, StoreError> {
                Ok(sqlx::query_scalar(ACCOUNT_KEYS).fetch_all(&self.pool).await?)
            }

            async fn recent_account_keys(&self) -> Result<Vec<String>, StoreError> {
                Ok(sqlx::query_scalar($recent).fetch_all(&self.pool).await?)
            }

            async fn set_password(
                &self,
                key: &str,
                password: &str,
                keep: SessionId,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(SET_PASSWORD).bind(key).bind(password).execute(&mut *tx).await?;
                sqlx::query(END_OTHER_LOGINS).bind(key).bind(keep.to_string()).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn add_login(
                &self,
                key: &str,
                session: SessionId,
                at: Millis,
                agent: &str,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(ADD_LOGIN)
                    .bind(session.to_string())
                    .bind(key)
                    .bind(at)
                    .bind(agent)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(TRIM_LOGINS).bind(key).bind(MAX_LOGINS).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn logins(&self, key: &str) -> Result<Vec<Login>, StoreError> {
                let rows = sqlx::query(LOGINS).bind(key).fetch_all(&self.pool).await?;
                let mut logins = Vec::with_capacity(rows.len());
                for row in &rows {
                    let session: String = row.try_get("session")?;
                    logins.push(Login {
                        session: session.parse().map_err(corrupt)?,
                        created_at: row.try_get("created_at")?,
                        agent: row.try_get("agent")?,
                    });
                }
                Ok(logins)
            }

            async fn end_login(&self, key: &str, session: SessionId) -> Result<bool, StoreError> {
                let done =
                    sqlx::query(END_LOGIN).bind(key).bind(session.to_string()).execute(&self.pool).await?;
                Ok(done.rows_affected() > 0)
            }

            async fn standing(&self, key: &str, session: SessionId) -> Result<Standing, StoreError> {
                let row = sqlx::query(STANDING)
                    .bind(key)
                    .bind(session.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(match row {
                    None => Standing::Unregistered,
                    Some(row) => match row.try_get::<Option<String>, _>(0)? {
                        Some(_) => Standing::Owner,
                        None => Standing::Stranger,
                    },
                })
            }
        }
    };
}

account_store!(SqliteStore, RECENT_SQLITE);
account_store!(PgStore, RECENT_PG);
