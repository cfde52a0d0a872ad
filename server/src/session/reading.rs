//! How far the reader has read the room: a JSON client says so (`read`), the store keeps it for
//! the person (every device of an account alike), and their other connections to the room are
//! told. A mark only moves forward; a connection writes one at most every [`EVERY`], and none
//! that moves nothing, so that a client cannot turn it into a stream of writes.

use super::Session;
use crate::clock::now_millis;
use crate::codec::json;
use crate::rooms::Room;
use app::protocol::{Seq, ServerEvent};
use std::time::Duration;
use tokio::time::Instant;

/// At most one mark written per connection this often (a page sends one a second at most).
const EVERY: Duration = Duration::from_millis(500);

/// Where a connection's marks stand.
#[derive(Debug, Default)]
pub(super) struct Reading {
    /// The furthest mark this connection asked for.
    asked: Seq,
    written_at: Option<Instant>,
}

impl Session {
    /// The reader has read up to `seq`. Nothing answers it: a failure to keep it is logged, and
    /// the page says so again with its next message read.
    pub(super) async fn mark_read(&mut self, room: &Room, seq: Seq) {
        let now = Instant::now();
        let recent = self.reading.written_at.is_some_and(|at| now.duration_since(at) < EVERY);
        if seq <= self.reading.asked || recent {
            return;
        }
        // Past the end too: a mark beyond the room's last message is kept at it, and asking
        // again for more would write again.
        self.reading = Reading { asked: seq, written_at: Some(now) };
        let person = self.identity.session;
        match self.deps.store.mark_read(person, room.name(), seq, now_millis()).await {
            Ok(None) => {}
            Ok(Some(mark)) => {
                let read = ServerEvent::Read { room: room.name().clone(), seq: mark };
                room.tell_person(person, self.member(), json::encode(&read));
            }
            Err(err) => tracing::warn!(%err, "keeping a read mark failed"),
        }
    }
}
