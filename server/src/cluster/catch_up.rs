//! The rooms compared with the log: what the bus did not bring is read from there. Every few
//! seconds while the bus is up (a room that heard nothing may have missed everything), every
//! second while it is down (the log is then the only way between the nodes), and at once when
//! it comes back.

use super::bus::Health;
use crate::rooms::Rooms;
use crate::store::{DynStore, StoredMessage};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Between two comparisons while the bus is up, and while it is down.
const EVERY: (Duration, Duration) = (Duration::from_secs(3), Duration::from_secs(1));

pub(super) async fn run(
    rooms: Rooms,
    store: DynStore,
    health: Health,
    reconnected: Arc<Notify>,
    backlog: usize,
) {
    loop {
        let every = if health.status().up { EVERY.0 } else { EVERY.1 };
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = reconnected.notified() => {}
        }
        compare(&rooms, &store, backlog).await;
    }
}

/// For each live room, the messages the log has past the last one all its live members were
/// given, at most `backlog` of them, handed to the room as if just committed: each member
/// skips what it has, and one that is further behind reads the rest from the log itself.
async fn compare(rooms: &Rooms, store: &DynStore, backlog: usize) {
    for room in rooms.live() {
        let Some(floor) = room.delivered_floor() else { continue };
        let position = match store.position(room.name()).await {
            Ok(position) => position,
            Err(err) => {
                tracing::warn!(%err, room = %room.name(), "comparing a room with the log failed");
                return;
            }
        };
        if position.seq <= floor {
            continue;
        }
        let wanted = u32::try_from((position.seq - floor).min(backlog as u64)).unwrap_or(u32::MAX);
        match store.read_after(room.name(), floor, wanted).await {
            Ok(messages) if !messages.is_empty() => {
                tracing::debug!(room = %room.name(), from = floor, count = messages.len(), "caught a room up from the log");
                crate::metrics::get().bus_gaps_filled.inc_by(messages.len() as u64);
                let messages: Vec<&StoredMessage> = messages.iter().collect();
                room.publish(&messages);
            }
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(%err, room = %room.name(), "reading the log to catch a room up failed")
            }
        }
    }
}
