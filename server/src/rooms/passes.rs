//! A room's writing passes.
//!
//! Everything queued is written by a writing pass, a task of its own that gives every member
//! with frames waiting one write for all of them (as uWebSockets corks a loop iteration's
//! writes): a storm of joins, or a burst of messages, costs each member one write per pass, not
//! one per event. The pass starts at once in a room that has been quiet; in a busy one it waits
//! until the previous pass has taken at most half the time since it began, and takes everything
//! published meanwhile. A send costs the same whether it carries one frame or ten, so a room of
//! thousands that talks fast gets its messages a pass later at most, and in a fraction of the
//! writes; and one busy room leaves the core to the others (and to reading what is said). The
//! pass yields now and then, so what is committed while it runs reaches the members it has not
//! written yet in the same pass.

use super::room::{Inner, Room};
use std::sync::{Arc, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// A busy room's writing passes take at most one part in this many of the time (see above).
const PASS_SPACING: u32 = 2;
/// Members written between two yields of a pass: well under a millisecond of sends.
const PASS_CHUNK: usize = 64;

impl Room {
    /// Releases the lock, making sure a writing pass follows for what was queued under it.
    pub(super) fn release(self: &Arc<Self>, mut inner: MutexGuard<'_, Inner>) {
        if inner.dirty.is_empty() || inner.writing {
            return;
        }
        inner.writing = true;
        let not_before = inner.next_pass;
        drop(inner);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(Arc::clone(self).write_queued(not_before))),
            // Outside the runtime (a plain thread): written at once.
            Err(_) => loop {
                let dirty = std::mem::take(&mut self.inner().dirty);
                dirty.iter().for_each(|member| member.write_queued());
                let mut inner = self.inner();
                if inner.dirty.is_empty() {
                    inner.writing = false;
                    break;
                }
            },
        }
    }

    /// The writing passes, while there is something to write: every member with frames queued
    /// gets one write. Outside the lock, so that publishing goes on meanwhile: a member the pass
    /// has not reached yet gets what is published in its write, the others in the next pass.
    async fn write_queued(self: Arc<Self>, mut not_before: Option<Instant>) {
        loop {
            if let Some(at) = not_before.filter(|at| *at > Instant::now()) {
                tokio::time::sleep_until(at).await;
            }
            let began = Instant::now();
            let dirty = std::mem::take(&mut self.inner().dirty);
            let mut busy = Duration::ZERO;
            for (i, chunk) in dirty.chunks(PASS_CHUNK).enumerate() {
                if i > 0 {
                    tokio::task::yield_now().await;
                }
                let chunk_began = Instant::now();
                chunk.iter().for_each(|member| member.write_queued());
                busy += chunk_began.elapsed();
            }
            // The pass's own time, not what ran while it yielded.
            let next = began + busy * PASS_SPACING;
            let mut inner = self.inner();
            if inner.dirty.is_empty() {
                inner.writing = false;
                inner.next_pass = Some(next);
                return;
            }
            drop(inner);
            not_before = Some(next);
        }
    }
}
