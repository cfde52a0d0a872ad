//! Retention: messages older than a room's limit are forgotten, a small batch at a time in the
//! background, so that writers wait at most for one batch. What is forgotten moves the room's
//! horizon, and a client asking to resume behind it is reset (see
//! [`Resume::holds`](crate::session::resume::Resume::holds)) rather than left with a hole.
//!
//! Messages and edits (their text) are forgotten; deletions and moderators' actions, which hold
//! no one's words, stay: they are the room's audit, which outlives its messages.

use super::{DynStore, StoreError};
use app::names::RoomName;
use app::protocol::Millis;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How many entries one transaction forgets: small enough that a writer waiting for the store
/// behind it hardly notices.
pub const BATCH: u32 = 500;
/// How many rooms one query of the sweep lists.
const ROOMS_PER_PAGE: u32 = 500;
const DAY_MILLIS: i64 = 86_400_000;

/// A room and its owner's retention, as the sweep lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub room: RoomName,
    /// Days, as the owner set them; `None`: the server's.
    pub days: Option<u32>,
}

/// How long a room keeps its messages: the owner's choice, within the server's retention where
/// there is one (an operator's limit is a promise to the people, or a quota). `None`: for ever.
pub fn days_kept(server: Option<u32>, room: Option<u32>) -> Option<u32> {
    match (server, room) {
        (Some(server), Some(room)) => Some(server.min(room)),
        (server, room) => server.or(room),
    }
}

/// The statements, in both databases' dialect.
pub(super) mod sql {
    pub const HORIZON: &str = "SELECT horizon FROM rooms WHERE name = $1";
    /// The oldest entries with text past the horizon, to find where the ones to forget end.
    pub const OLDEST: &str =
        "SELECT seq, at FROM messages WHERE room = $1 AND seq > $2 AND kind NOT IN (2, 3)
        ORDER BY seq LIMIT $3";
    pub const FORGET: &str =
        "DELETE FROM messages WHERE room = $1 AND seq > $2 AND seq <= $3 AND kind NOT IN (2, 3)";
    pub const MOVE_HORIZON: &str = "UPDATE rooms SET horizon = $2 WHERE name = $1 AND horizon < $2";
    pub const ROOMS: &str = "SELECT r.name, s.retention_days FROM rooms r
        LEFT JOIN room_settings s ON s.room = r.name WHERE r.name > $1 ORDER BY r.name LIMIT $2";
}

/// Makes each store's copy of the retention statements (their SQL is the same; only the
/// connection's type differs, as in [`ops`](super::ops)).
macro_rules! retention_ops {
    ($conn:ty, $begin:literal) => {
        /// Forgets, in one transaction, up to `limit` of `room`'s oldest messages and edits
        /// written before `before`, and moves its horizon past them. Returns how many.
        async fn forget_old(
            conn: &mut $conn,
            room: &app::names::RoomName,
            before: app::protocol::Millis,
            limit: u32,
        ) -> Result<u64, StoreError> {
            use $crate::store::retention::sql;
            let mut tx = conn.begin_with($begin).await?;
            let horizon: Option<i64> =
                sqlx::query_scalar(sql::HORIZON).bind(room.as_str()).fetch_optional(&mut *tx).await?;
            let Some(horizon) = horizon else { return Ok(0) };
            let oldest: Vec<(i64, i64)> = sqlx::query_as(sql::OLDEST)
                .bind(room.as_str())
                .bind(horizon)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
            // Up to the first one recent enough to keep: the log is forgotten from its start.
            let Some(last) = oldest.iter().take_while(|(_, at)| *at < before).last().map(|(seq, _)| *seq)
            else {
                return Ok(0);
            };
            let forgotten = sqlx::query(sql::FORGET)
                .bind(room.as_str())
                .bind(horizon)
                .bind(last)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(sql::MOVE_HORIZON).bind(room.as_str()).bind(last).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(forgotten)
        }

        /// Up to `limit` rooms named after `after`, in order, with their owners' retention.
        async fn rooms_kept(
            conn: &mut $conn,
            after: &str,
            limit: u32,
        ) -> Result<Vec<$crate::store::retention::Kept>, StoreError> {
            let rows: Vec<(String, Option<i64>)> = sqlx::query_as($crate::store::retention::sql::ROOMS)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&mut *conn)
                .await?;
            Ok(rows
                .into_iter()
                .filter_map(|(name, days)| {
                    let room = app::names::RoomName::parse(&name)
                        .map_err(|err| tracing::warn!(name, %err, "skipped a damaged room in the sweep"))
                        .ok()?;
                    Some($crate::store::retention::Kept { room, days: days.and_then(|d| u32::try_from(d).ok()) })
                })
                .collect())
        }
    };
}
pub(super) use retention_ops;

/// Forgets, every `every`, what each room keeps no longer, until `stop`. A failed sweep is
/// logged and tried again at the next.
pub async fn sweep_every(
    store: DynStore,
    server_days: Option<u32>,
    every: Duration,
    stop: CancellationToken,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match sweep(&store, server_days, crate::clock::now_millis(), &stop).await {
            Ok(0) => {}
            Ok(forgotten) => tracing::info!(forgotten, "retention forgot old messages"),
            Err(err) => tracing::error!(%err, "the retention sweep failed; trying again later"),
        }
    }
}

/// One sweep of every room at `now`; returns how many entries were forgotten.
pub async fn sweep(
    store: &DynStore,
    server_days: Option<u32>,
    now: Millis,
    stop: &CancellationToken,
) -> Result<u64, StoreError> {
    let mut forgotten = 0;
    let mut after = String::new();
    loop {
        let rooms = store.rooms_kept(&after, ROOMS_PER_PAGE).await?;
        let Some(last) = rooms.last() else { return Ok(forgotten) };
        after = last.room.as_str().to_owned();
        for kept in &rooms {
            let Some(days) = days_kept(server_days, kept.days) else { continue };
            let before = now.saturating_sub(i64::from(days).saturating_mul(DAY_MILLIS));
            loop {
                if stop.is_cancelled() {
                    return Ok(forgotten);
                }
                let count = store.forget_before(&kept.room, before, BATCH).await?;
                forgotten += count;
                crate::metrics::get().forgotten.inc_by(count);
                if count < u64::from(BATCH) {
                    break;
                }
                // Writers go first between batches.
                tokio::task::yield_now().await;
            }
        }
        if rooms.len() < ROOMS_PER_PAGE as usize {
            return Ok(forgotten);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::days_kept;

    #[test]
    fn a_room_keeps_its_messages_within_the_servers_retention() {
        assert_eq!(days_kept(None, None), None, "for ever");
        assert_eq!(days_kept(Some(30), None), Some(30));
        assert_eq!(days_kept(None, Some(7)), Some(7));
        assert_eq!(days_kept(Some(30), Some(7)), Some(7), "shorter: the owner's");
        assert_eq!(days_kept(Some(30), Some(365)), Some(30), "not past the operator's");
    }
}
