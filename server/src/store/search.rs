//! Full-text search over what messages say now, with each store's own index: SQLite's FTS5
//! (table `search_words`, kept by triggers), PostgreSQL's full-text search (a GIN index on the
//! words of `messages.text`). Both read words alike (runs of letters and digits, without case,
//! without stemming); a query's every word must be found, each as a word or the start of one.
//! Results come the newest first: by the index's own number in SQLite (which follows the time
//! messages were written), by time in PostgreSQL.

use super::{PgStore, SqliteStore, StoreError, StoredMessage, COLUMNS, LOG};
use app::names::RoomName;
use app::search::Terms;
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
pub trait SearchStore: Send + Sync {
    /// Up to `limit` messages (as they read now) that have every word of `terms`, in `room` or in
    /// every room for `None`, the newest first, from the `offset`th on.
    async fn search(
        &self,
        terms: &Terms,
        room: Option<&RoomName>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, StoreError>;
}

/// An FTS5 query: each term a quoted string (a term has letters and digits only, but quoting
/// keeps any character from being read as the query language's), as a prefix; all of them.
fn fts5_query(terms: &Terms) -> String {
    let quoted: Vec<String> =
        terms.as_slice().iter().map(|t| format!("\"{}\"*", t.replace('"', "\"\""))).collect();
    quoted.join(" AND ")
}

/// A `tsquery`: each term a quoted lexeme as a prefix; all of them.
fn tsquery(terms: &Terms) -> String {
    let quoted: Vec<String> = terms
        .as_slice()
        .iter()
        .map(|t| format!("'{}':*", t.replace('\\', "\\\\").replace('\'', "''")))
        .collect();
    quoted.join(" & ")
}

/// The message of a row found, with the room it is in (a row whose room or content is damaged is
/// left out, and named in the log).
fn found(
    room: Result<&str, sqlx::Error>,
    read: impl FnOnce(&RoomName) -> Result<StoredMessage, StoreError>,
) -> Result<Option<StoredMessage>, StoreError> {
    let room = room?;
    let message = RoomName::parse(room)
        .map_err(|e| StoreError::Corrupt(format!("room: {e}")))
        .and_then(|name| read(&name));
    match message {
        Ok(message) => Ok(Some(message)),
        Err(StoreError::Corrupt(err)) => {
            tracing::warn!(room, %err, "skipped a damaged message found by a search");
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

/// SQLite's search: the index first (FTS5 answers `MATCH` and the order by its own numbers), then
/// each message it found.
pub(super) fn sqlite_search() -> String {
    format!(
        "SELECT {COLUMNS}, m.room AS found_in FROM {LOG}
             JOIN search_rows s ON s.room = m.room AND s.seq = m.seq
             JOIN search_words ON search_words.rowid = s.id
         WHERE search_words MATCH ?1 AND (?2 IS NULL OR s.room = ?2)
         ORDER BY search_words.rowid DESC LIMIT ?3 OFFSET ?4"
    )
}

/// PostgreSQL's search: the word index answers the match (its expression given as it was
/// indexed); the matches are ordered by time.
pub(super) fn pg_search() -> String {
    format!(
        "SELECT {COLUMNS}, m.room AS found_in FROM {LOG}
         WHERE m.kind = 0 AND m.deleted_at IS NULL
             AND to_tsvector('simple', translate(m.text, '<>&@/\\.:-_+=~#%', '               '))
                 @@ to_tsquery('simple', $1)
             AND ($2::text IS NULL OR m.room = $2)
         ORDER BY m.at DESC, m.room, m.seq DESC LIMIT $3 OFFSET $4"
    )
}

/// The search of a store: its statement, its query of the terms, and how it reads a row.
macro_rules! search_store {
    ($store:ty, $statement:path, $query:path, $from_row:path) => {
        #[async_trait]
        impl SearchStore for $store {
            async fn search(
                &self,
                terms: &Terms,
                room: Option<&RoomName>,
                offset: u32,
                limit: u32,
            ) -> Result<Vec<StoredMessage>, StoreError> {
                let rows = sqlx::query(&$statement())
                    .bind($query(terms))
                    .bind(room.map(RoomName::as_str))
                    .bind(i64::from(limit))
                    .bind(i64::from(offset))
                    .fetch_all(&self.pool)
                    .await?;
                let mut messages = Vec::with_capacity(rows.len());
                for row in &rows {
                    messages.extend(found(row.try_get("found_in"), |room| $from_row(room, row))?);
                }
                Ok(messages)
            }
        }
    };
}

search_store!(SqliteStore, sqlite_search, fts5_query, super::sqlite::from_row);
search_store!(PgStore, pg_search, tsquery, super::postgres::from_row);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_quote_every_term() {
        let terms = Terms::parse("Deploy failed").expect("words");
        assert_eq!(fts5_query(&terms), "\"deploy\"* AND \"failed\"*");
        assert_eq!(tsquery(&terms), "'deploy':* & 'failed':*");
    }
}
