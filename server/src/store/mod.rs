//! The durable log of every room: a storage trait and its two implementations, SQLite (the
//! embedded default, a file under the data directory) and PostgreSQL (for a `postgres://` URL).
//!
//! Each room's messages are numbered by a sequence that only grows, within an epoch that changes
//! only if the room's log is reset; `(epoch, seq)` is where a client resumes.
//!
//! Every message goes in through the [`writer`], which commits them in groups and then hands
//! them to whoever publishes them (the rooms, which sit above the store).

pub mod accounts;
mod change;
pub mod moderation;
mod ops;
mod plan;
mod postgres;
pub mod read_marks;
mod reply;
pub mod retention;
pub mod search;
mod sqlite;
pub mod transfer;
pub mod webhooks;
pub mod writer;

pub use accounts::{Account, AccountStore, Login, Standing};
pub use change::{Alteration, NewChange, Refusal};
pub use moderation::{ModerationRefusal, NewModeration, Person, Record, RoomState, SanctionKind, Subject};
pub use postgres::PgStore;
pub use read_marks::ReadMarkStore;
pub use search::SearchStore;
pub use sqlite::SqliteStore;
pub use writer::{DynPublish, Publish, WriteError, Writer};

use crate::identity::SessionId;
use app::names::{ClientId, MessageText, Nickname, RoomName};
use app::protocol::{AuditEntry, Audited, Epoch, Millis, Seq, ServerEvent};
use app::quote::Quote;
use app::reactions::{Emoji, Reactions};
use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;

/// How long a write waits for a lock held elsewhere (another process's transaction, a backup)
/// before it fails: SQLite's busy timeout, PostgreSQL's `lock_timeout`. Under the writer's
/// deadline (`Limits::write_deadline`), so that senders are told the store's own reason.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// A message on its way into the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub room: RoomName,
    pub author: Nickname,
    /// The session that sent it: a resend is recognised only for the same session.
    pub session: SessionId,
    pub text: MessageText,
    pub at: Millis,
    /// The sender's id for it, unique within its session; `None` for clients that give none
    /// (the plain-text dialect).
    pub client_id: Option<ClientId>,
    /// The earlier message of the room it answers.
    pub reply_to: Option<Seq>,
}

/// An entry of the log: a message, or a change to one. Serialised as the nodes of a cluster
/// tell each other what they committed (every field checked again when read).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredMessage {
    pub room: RoomName,
    pub epoch: Epoch,
    pub seq: Seq,
    /// Who wrote the message, or who made the change.
    pub author: Nickname,
    pub body: Body,
    pub at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientId>,
}

/// What an entry of the log holds. Edits and deletions are entries of their own, numbered like
/// messages, so that live delivery, catch-up and resume carry them as they carry messages; the
/// message they change is changed in place too, so that history reads each message as it is now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// A message as it reads now; `edited`: when its text was last replaced.
    Text {
        text: MessageText,
        edited: Option<Millis>,
        #[serde(default, skip_serializing_if = "Reactions::is_empty")]
        reactions: Reactions,
        /// The message it answers, as that one reads now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply: Option<Quote>,
    },
    /// A message deleted since: its text is gone from the log.
    Deleted,
    /// `target`'s text replaced; `None` once `target` was deleted (the edit's text is gone too).
    Edit { target: Seq, text: Option<MessageText> },
    /// `target` deleted.
    Delete { target: Seq },
    /// `emoji` put on `target` (`on`) or taken back, by the entry's author.
    React { target: Seq, emoji: Emoji, on: bool },
    /// A moderator's action (its author's).
    Moderation(Box<Record>),
}

impl StoredMessage {
    /// This entry as one of the room's audit, if it is an action (a deletion or a moderator's).
    pub fn audited(&self) -> Option<AuditEntry> {
        let what = match &self.body {
            Body::Moderation(record) => Audited::Moderated { action: record.action.clone() },
            Body::Delete { target } => Audited::Deleted { target: *target },
            Body::Text { .. } | Body::Deleted | Body::Edit { .. } | Body::React { .. } => return None,
        };
        Some(AuditEntry { seq: self.seq, at: self.at, by: self.author.clone(), what })
    }

    /// The protocol's event for this entry: live, in history, and in the JSON API alike.
    pub fn event(&self) -> ServerEvent {
        let (id, epoch, room, at) = (self.seq, self.epoch, self.room.clone(), self.at);
        let by = self.author.clone();
        let client_id = self.client_id.clone();
        match &self.body {
            Body::Text { text, edited, reactions, reply } => ServerEvent::Message {
                id,
                epoch,
                room,
                author: by,
                text: text.clone(),
                at,
                client_id,
                edited: *edited,
                deleted: false,
                reactions: reactions.clone(),
                reply: reply.clone(),
                markup: app::markup::formatting(text.as_str()),
            },
            Body::Deleted => ServerEvent::Message {
                id,
                epoch,
                room,
                author: by,
                text: MessageText::deleted(),
                at,
                client_id,
                edited: None,
                deleted: true,
                reactions: Reactions::default(),
                reply: None,
                markup: None,
            },
            Body::Edit { target, text: Some(text) } => ServerEvent::Edited {
                id,
                epoch,
                room,
                target: *target,
                text: text.clone(),
                by,
                at,
                markup: app::markup::formatting(text.as_str()),
            },
            // An edit of a message deleted since tells what became of it.
            Body::Edit { target, text: None } | Body::Delete { target } => {
                ServerEvent::Deleted { id, epoch, room, target: *target, by, at }
            }
            Body::React { target, emoji, on } => {
                ServerEvent::Reacted { id, epoch, room, target: *target, emoji: *emoji, on: *on, by, at }
            }
            Body::Moderation(record) => ServerEvent::Moderated {
                id,
                epoch,
                room,
                by,
                action: record.action.clone(),
                until: record.until,
                at,
            },
        }
    }

    /// The text as tests compare it: empty for a deletion.
    #[cfg(test)]
    pub fn text_str(&self) -> &str {
        match &self.body {
            Body::Text { text, .. } | Body::Edit { text: Some(text), .. } => text.as_str(),
            _ => "",
        }
    }

    /// The message's text as it reads now; `None` for a change, or a deleted message.
    pub fn text(&self) -> Option<&MessageText> {
        match &self.body {
            Body::Text { text, .. } => Some(text),
            _ => None,
        }
    }
}

impl NewMessage {
    /// The message as stored under `seq` of `epoch`, answering what `reply` quotes.
    fn stored(&self, epoch: Epoch, seq: i64, reply: Option<Quote>) -> Result<StoredMessage, StoreError> {
        Ok(StoredMessage {
            room: self.room.clone(),
            epoch,
            seq: Seq::try_from(seq).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            author: self.author.clone(),
            body: Body::Text {
                text: self.text.clone(),
                edited: None,
                reactions: Reactions::default(),
                reply,
            },
            at: self.at,
            client_id: self.client_id.clone(),
        })
    }
}

/// What appending one message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Stored now, under a new sequence number.
    New(StoredMessage),
    /// The same session had already stored a message with this client id in this room: that one
    /// is returned and nothing was written.
    Duplicate(StoredMessage),
}

impl Appended {
    pub fn message(&self) -> &StoredMessage {
        match self {
            Self::New(m) | Self::Duplicate(m) => m,
        }
    }
}

/// Where a room's log stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    /// 0 while the room has no log.
    pub epoch: Epoch,
    /// The last stored sequence number; 0 for none.
    pub seq: Seq,
    /// The last number whose message retention forgot (0: none): nobody resumes behind it.
    pub horizon: Seq,
}

/// A room's position, as both stores read it (`$1`: the room).
const POSITION: &str = "SELECT epoch, last_seq, horizon FROM rooms WHERE name = $1";

/// The position a row of [`POSITION`] gives; a room without a row has no log.
fn position_of(row: Option<(i64, i64, i64)>) -> Result<Position, StoreError> {
    let Some((epoch, last, horizon)) = row else { return Ok(Position::default()) };
    let seq = |n: i64| Seq::try_from(n).map_err(|e| StoreError::Corrupt(format!("a room's position: {e}")));
    Ok(Position { epoch, seq: seq(last)?, horizon: seq(horizon)? })
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage is unavailable: {0}")]
    Backend(#[from] sqlx::Error),
    #[error("preparing the storage failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the stored data is damaged: {0}")]
    Corrupt(String),
    #[error("unsupported database URL {0:?}: use postgres://… or sqlite://…")]
    BadUrl(String),
    #[error("--max-database-bytes applies to the SQLite store; PostgreSQL has its own quotas")]
    QuotaUnsupported,
    #[error("storage did not answer within {0:?}")]
    TimedOut(std::time::Duration),
    #[error(
        "another server process uses {0}: an SQLite file serves one process; several share their \
         rooms through --database-url postgres://… and --redis-url"
    )]
    InUse(String),
    #[error("{0}")]
    Lock(String),
    #[error("room {0} has a log already: a room is imported only where it has none")]
    NotEmpty(RoomName),
    #[error("{}", match .0 {
        Tenancy::Alone => "another server process uses this database: several share one only as the \
            nodes of a cluster, each with --redis-url (see docs/CLUSTER.md)",
        Tenancy::Cluster => "a server process without --redis-url uses this database: stop it, or \
            give it the cluster's --redis-url too",
        Tenancy::Tool => "the database is in use",
    })]
    DatabaseInUse(Tenancy),
}

/// Whether this process has its store to itself or shares it with the other nodes of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenancy {
    Alone,
    Cluster,
    /// A command beside the server (an export, an import): it holds no lock, and leaves the
    /// server's to it; the databases' own locking keeps them apart.
    Tool,
}

/// How long opening a store waits for another process to let go of it: a server being replaced
/// by its successor finishes its drain first.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

impl StoreError {
    /// Whether the store refused a write for want of space (the disk, or the SQLite quota, is
    /// full), as opposed to being unreachable or busy: the operator's remedy differs.
    pub fn is_full(&self) -> bool {
        const SQLITE_FULL: &str = "13";
        const PG_DISK_FULL: &str = "53100";
        match self {
            Self::Backend(sqlx::Error::Database(err)) => {
                matches!(err.code().as_deref(), Some(SQLITE_FULL | PG_DISK_FULL))
            }
            _ => false,
        }
    }

    /// Whether the store refused a value the batch holds (a constraint, data it cannot take, a
    /// value past one of its limits), as opposed to failing whatever the batch: another batch
    /// without that message would be stored.
    pub fn is_refused_value(&self) -> bool {
        /// SQLite's primary result codes: TOOBIG, CONSTRAINT (with its extended codes), MISMATCH.
        const SQLITE: [i64; 3] = [18, 19, 20];
        /// PostgreSQL's SQLSTATE classes: data exception, integrity constraint violation,
        /// program limit exceeded.
        const PG_CLASSES: [&str; 3] = ["22", "23", "54"];
        let Self::Backend(sqlx::Error::Database(err)) = self else { return false };
        if let Some(pg) = err.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
            return PG_CLASSES.iter().any(|class| pg.code().starts_with(class));
        }
        // SQLite's extended codes keep the primary one in their low byte.
        let sqlite = err.code().and_then(|code| code.parse::<i64>().ok());
        sqlite.is_some_and(|code| SQLITE.contains(&(code & 0xff)))
    }
}

#[async_trait]
pub trait Store: AccountStore + ReadMarkStore + SearchStore + Send + Sync + std::fmt::Debug {
    /// Appends `batch` in one transaction (one commit for many messages: group commit), in
    /// order. Returns one result per message, in the same order; on error nothing was stored.
    async fn append(&self, batch: &[NewMessage]) -> Result<Vec<Appended>, StoreError>;

    /// The room's log position now.
    async fn position(&self, room: &RoomName) -> Result<Position, StoreError>;

    /// Edits or deletes a message, as one more entry of its room's log, if `change` is allowed:
    /// the outer error is the store's, the inner one the refusal.
    async fn change(&self, change: &NewChange) -> Result<Result<StoredMessage, Refusal>, StoreError>;

    /// Takes a moderator's action, as one more entry of its room's log, if it is allowed: the
    /// outer error is the store's, the inner one the refusal.
    async fn moderate(
        &self,
        action: &NewModeration,
    ) -> Result<Result<StoredMessage, ModerationRefusal>, StoreError>;

    /// A room's rules and the sanctions in force now.
    async fn room_state(&self, room: &RoomName) -> Result<RoomState, StoreError>;

    /// Up to `limit` entries after `after` (messages, changes, moderation), oldest first.
    async fn read_after(
        &self,
        room: &RoomName,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError>;

    /// Up to `limit` messages before `before` (before the end for `None`), oldest first, each as
    /// it reads now (changes are not among them): a page of older history.
    async fn read_before(
        &self,
        room: &RoomName,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError>;

    /// The session that wrote the newest of `room`'s last `within` entries by `author` (a
    /// nickname, compared as [`same_name`](crate::identity::lookalike::same_name) does), if
    /// any: whom a guest who posted and left is, for a moderator's action.
    async fn recent_session_of(
        &self,
        room: &RoomName,
        author: &Nickname,
        within: u32,
    ) -> Result<Option<SessionId>, StoreError>;

    /// Up to `limit` of the actions taken in a room before `before` (before the end for
    /// `None`), newest first: moderators' actions and deletions, the room's audit.
    async fn read_actions(
        &self,
        room: &RoomName,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError>;

    /// Up to `limit` rooms with a log, the most recently active first, each with the time its
    /// log last grew and its topic.
    async fn active_rooms(&self, limit: u32) -> Result<Vec<ActiveRoom>, StoreError>;

    /// Up to `limit` rooms with a log named after `after`, in order, each with its owner's
    /// retention: the rooms a retention sweep visits.
    async fn rooms_kept(&self, after: &str, limit: u32) -> Result<Vec<retention::Kept>, StoreError>;

    /// Forgets up to `limit` of `room`'s oldest messages and edits written before `before`, in
    /// one transaction, moving the room's horizon past them; returns how many.
    async fn forget_before(&self, room: &RoomName, before: Millis, limit: u32) -> Result<u64, StoreError>;

    /// Writes entries exported from another log (see [`transfer`]) into `room`, which must have
    /// none yet when `start` is given (the room's position and rules, from the export's
    /// header); later batches follow the first. Every entry keeps its number and epoch.
    async fn import(
        &self,
        room: &RoomName,
        start: Option<&transfer::Header>,
        entries: &[StoredMessage],
    ) -> Result<(), StoreError>;

    /// Every room's webhooks, oldest first.
    async fn webhooks(&self) -> Result<Vec<webhooks::Webhook>, StoreError>;

    /// A new webhook for `room`: it delivers what the room's log holds after where it stands now.
    async fn add_webhook(
        &self,
        room: &RoomName,
        url: &str,
        secret: &str,
        at: Millis,
    ) -> Result<webhooks::Webhook, StoreError>;

    /// Removes webhook `id`; whether there was one.
    async fn remove_webhook(&self, id: i64) -> Result<bool, StoreError>;

    /// Takes or renews the lease on webhook `id` for `owner` until `until`, unless another's
    /// lasts past `now`; whether `owner` holds it.
    async fn lease_webhook(
        &self,
        id: i64,
        owner: &str,
        now: Millis,
        until: Millis,
    ) -> Result<bool, StoreError>;

    /// Records where webhook `id`'s delivery stands, if `owner` still holds its lease.
    async fn webhook_progress(
        &self,
        id: i64,
        owner: &str,
        progress: &webhooks::Progress,
    ) -> Result<bool, StoreError>;
}

/// The active-rooms query; `$1` is the limit (SQLite reads `$1` as its first parameter too). An
/// index on `(last_at DESC, name)` answers it without reading the other rooms; each room's topic
/// is one lookup by its key.
const ACTIVE_ROOMS: &str = "SELECT r.name, r.last_at, COALESCE(s.topic, '') AS topic
    FROM rooms r LEFT JOIN room_settings s ON s.room = r.name
    ORDER BY r.last_at DESC, r.name LIMIT $1";

/// A room in the room list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveRoom {
    pub name: RoomName,
    /// When its log last grew.
    pub last_at: Millis,
    pub topic: String,
}

/// A row of [`ACTIVE_ROOMS`]; a damaged one is left out of the list, and named in the log.
fn active_room(name: &str, last_at: Millis, topic: String) -> Option<ActiveRoom> {
    match RoomName::parse(name) {
        Ok(name) => Some(ActiveRoom { name, last_at, topic }),
        Err(err) => {
            tracing::warn!(name, %err, "skipped a damaged room in the room list");
            None
        }
    }
}

/// What a resend is acknowledged as: the original, or, were its row damaged, the resent message
/// under the original's number (its sender is owed that number all the same).
fn original(
    resent: &NewMessage,
    seq: i64,
    epoch: Epoch,
    read: Result<StoredMessage, StoreError>,
) -> Result<StoredMessage, StoreError> {
    read.or_else(|err| {
        tracing::warn!(room = %resent.room, seq, %err, "the original of a resend is damaged");
        resent.stored(epoch, seq, None)
    })
}

pub type DynStore = Arc<dyn Store>;

/// Whether `url` names a PostgreSQL database (the one store several processes can share).
pub fn is_postgres(url: Option<&str>) -> bool {
    url.is_some_and(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
}

/// Opens the store a URL names (`postgres://…`, `sqlite://…`), or the SQLite file
/// `chat.db` in `data_dir` when there is none; runs the migrations. `max_bytes` is a quota for
/// the SQLite file.
pub async fn open(
    url: Option<&str>,
    data_dir: &Path,
    max_bytes: Option<u64>,
    tenancy: Tenancy,
) -> Result<DynStore, StoreError> {
    if tenancy == Tenancy::Tool && !is_postgres(url) {
        let path = match url {
            None => data_dir.join("chat.db"),
            Some(url) => {
                url.strip_prefix("sqlite://").ok_or_else(|| StoreError::BadUrl(url.to_owned()))?.into()
            }
        };
        return Ok(Arc::new(SqliteStore::beside_the_server(&path).await?));
    }
    match url {
        None => Ok(Arc::new(SqliteStore::open_with_quota(&data_dir.join("chat.db"), max_bytes).await?)),
        Some(url) if is_postgres(Some(url)) => {
            if max_bytes.is_some() {
                return Err(StoreError::QuotaUnsupported);
            }
            Ok(Arc::new(PgStore::connect(url, tenancy).await?))
        }
        Some(url) => match url.strip_prefix("sqlite://") {
            Some(path) => Ok(Arc::new(SqliteStore::open_with_quota(Path::new(path), max_bytes).await?)),
            None => Err(StoreError::BadUrl(url.to_owned())),
        },
    }
}

/// A fresh epoch: random, so that a log that is reset (or a database that is replaced) is
/// never mistaken for the old one. Never 0, which means "no log".
pub(crate) fn new_epoch() -> Epoch {
    fastrand::i64(1..i64::MAX)
}

/// A row of a room's log as read: its number, and its message unless the row is damaged.
struct LogRow {
    seq: i64,
    message: Result<StoredMessage, StoreError>,
}

/// Reads up to `limit` messages, a query at a time: `read(cursor, n)` gives the next `n` rows
/// past `cursor` (a sequence number) in the order wanted. A damaged row is skipped and named in
/// the log, and reading goes on past it, so that one bad row never makes its room unreadable;
/// the rows it takes are made up for by reading further.
async fn read_past_damage<F, Fut>(
    room: &RoomName,
    start: i64,
    limit: u32,
    mut read: F,
) -> Result<Vec<StoredMessage>, StoreError>
where
    F: FnMut(i64, u32) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<LogRow>, StoreError>>,
{
    let mut messages = Vec::new();
    let mut cursor = start;
    loop {
        let wanted = limit.saturating_sub(u32::try_from(messages.len()).unwrap_or(u32::MAX));
        if wanted == 0 {
            return Ok(messages);
        }
        let rows = read(cursor, wanted).await?;
        let got = rows.len();
        for row in rows {
            cursor = row.seq;
            match row.message {
                Ok(message) => messages.push(message),
                Err(err) => {
                    tracing::warn!(%room, seq = row.seq, %err, "skipped a damaged message in the log")
                }
            }
        }
        if got < wanted as usize {
            return Ok(messages);
        }
    }
}

/// The session of the first of `rows` (author and session, newest first) by `author`.
fn session_of(author: &Nickname, rows: Vec<(String, Option<String>)>) -> Option<SessionId> {
    let wanted = crate::identity::lookalike::same_name(author);
    rows.into_iter()
        .find(|(name, _)| {
            Nickname::parse(name).is_ok_and(|name| crate::identity::lookalike::same_name(&name) == wanted)
        })
        .and_then(|(_, session)| session?.parse().ok())
}

/// The columns of a log entry, as both stores read them (`m`: messages, `r`: rooms).
const COLUMNS: &str = "m.seq, m.author, m.text, m.at, m.client_id, m.kind, m.target, m.edited_at, \
    m.deleted_at, m.reactions, r.epoch, q.author AS quoted_author, q.text AS quoted_text, \
    q.deleted_at AS quoted_deleted";

/// Where [`COLUMNS`] are read from: a message's row (`m`), its room's (`r`) and, for a reply, the
/// row of the message it answers (`q`), read as it is now.
const LOG: &str = "messages m JOIN rooms r ON r.name = m.room
    LEFT JOIN messages q ON q.room = m.room AND q.seq = m.target AND m.kind = 0 AND q.kind = 0";

/// What the `kind` column holds. `DELETE` and `MODERATION` are actions, the room's audit (read
/// through an index on `kind IN (2, 3)`); retention forgets every other kind.
mod kind {
    pub const MESSAGE: i16 = 0;
    pub const EDIT: i16 = 1;
    pub const DELETE: i16 = 2;
    pub const MODERATION: i16 = 3;
    pub const REACT: i16 = 4;
}

/// A log entry's columns as read.
struct Columns<'r> {
    epoch: Epoch,
    seq: i64,
    author: &'r str,
    text: &'r str,
    at: i64,
    client_id: Option<&'r str>,
    kind: i16,
    target: Option<i64>,
    edited_at: Option<i64>,
    deleted_at: Option<i64>,
    reactions: Option<&'r str>,
    /// The answered message's author, text and deletion, for a reply.
    quoted_author: Option<&'r str>,
    quoted_text: Option<&'r str>,
    quoted_deleted: Option<i64>,
}

/// Reads [`COLUMNS`] off a row, whichever the database.
macro_rules! columns {
    ($row:expr) => {
        $crate::store::Columns {
            epoch: $row.try_get("epoch")?,
            seq: $row.try_get("seq")?,
            author: $row.try_get("author")?,
            text: $row.try_get("text")?,
            at: $row.try_get("at")?,
            client_id: $row.try_get("client_id")?,
            kind: $row.try_get("kind")?,
            target: $row.try_get("target")?,
            edited_at: $row.try_get("edited_at")?,
            deleted_at: $row.try_get("deleted_at")?,
            reactions: $row.try_get("reactions")?,
            quoted_author: $row.try_get("quoted_author")?,
            quoted_text: $row.try_get("quoted_text")?,
            quoted_deleted: $row.try_get("quoted_deleted")?,
        }
    };
}
use columns;

/// Builds a log entry from a row's columns, checking what the database hands back as carefully
/// as anything from a client.
fn stored_from_row(room: &RoomName, row: Columns<'_>) -> Result<StoredMessage, StoreError> {
    let corrupt = |what: &str, err: &dyn std::fmt::Display| StoreError::Corrupt(format!("{what}: {err}"));
    let text = || MessageText::parse_stored(row.text).map_err(|e| corrupt("text", &e));
    let target = || {
        let target = row.target.ok_or_else(|| StoreError::Corrupt("a change without its target".into()))?;
        Seq::try_from(target).map_err(|e| corrupt("target", &e))
    };
    let body = match (row.kind, row.deleted_at) {
        (kind::MESSAGE, Some(_)) => Body::Deleted,
        (kind::MESSAGE, None) => Body::Text {
            text: text()?,
            edited: row.edited_at,
            reactions: reactions_of(row.seq, row.reactions),
            reply: match row.target {
                None => None,
                Some(_) => Some(quote(
                    target()?,
                    row.quoted_author,
                    row.quoted_text.filter(|_| row.quoted_deleted.is_none()),
                )),
            },
        },
        (kind::EDIT, _) if row.text.is_empty() => Body::Edit { target: target()?, text: None },
        (kind::EDIT, _) => Body::Edit { target: target()?, text: Some(text()?) },
        (kind::DELETE, _) => Body::Delete { target: target()? },
        (kind::REACT, _) => {
            let (on, emoji) = reaction_row(row.text).ok_or_else(|| corrupt("reaction", &row.text))?;
            Body::React { target: target()?, emoji, on }
        }
        (kind::MODERATION, _) => {
            Body::Moderation(Box::new(serde_json::from_str(row.text).map_err(|e| corrupt("moderation", &e))?))
        }
        (other, _) => return Err(StoreError::Corrupt(format!("an entry of unknown kind {other}"))),
    };
    Ok(StoredMessage {
        room: room.clone(),
        epoch: row.epoch,
        seq: Seq::try_from(row.seq).map_err(|e| corrupt("sequence number", &e))?,
        author: Nickname::parse(row.author).map_err(|e| corrupt("author", &e))?,
        body,
        at: row.at,
        client_id: row.client_id.map(ClientId::parse).transpose().map_err(|e| corrupt("client id", &e))?,
    })
}

/// A message's reactions column as read: damaged ones are dropped (and named in the log) rather
/// than the message with them.
fn reactions_of(seq: i64, column: Option<&str>) -> Reactions {
    let Some(json) = column else { return Reactions::default() };
    match serde_json::from_str::<Reactions>(json) {
        Ok(reactions) => reactions,
        Err(err) => {
            tracing::warn!(seq, %err, "dropped a message's damaged reactions");
            Reactions::default()
        }
    }
}

/// The quote of message `id` as its row reads (`None`: it is gone, or deleted). A damaged author
/// reads as gone rather than losing the reply with it.
fn quote(id: Seq, author: Option<&str>, text: Option<&str>) -> Quote {
    match (author.map(Nickname::parse), text) {
        (Some(Ok(author)), Some(text)) => Quote::of(id, author, text),
        _ => Quote::gone(id),
    }
}

/// A reaction entry's `text`: `+` (put on) or `-` (taken back), then the emoji.
fn reaction_text(emoji: Emoji, on: bool) -> String {
    format!("{}{}", if on { '+' } else { '-' }, emoji.as_str())
}

/// Reads [`reaction_text`] back.
fn reaction_row(text: &str) -> Option<(bool, Emoji)> {
    let (on, emoji) = match text.split_at_checked(1)? {
        ("+", emoji) => (true, emoji),
        ("-", emoji) => (false, emoji),
        _ => return None,
    };
    Some((on, Emoji::parse(emoji)?))
}

/// A message's reactions as its row holds them: NULL for none.
fn reactions_column(reactions: &Reactions) -> Option<String> {
    (!reactions.is_empty()).then(|| serde_json::to_string(reactions).unwrap_or_default())
}

/// Sequence numbers are u64 on the wire and i64 in SQL; the log would need 2^63 messages to
/// overflow.
fn seq_to_sql(seq: Seq) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

#[cfg(test)]
pub(crate) mod suite;
