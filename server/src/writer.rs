//! Group commit: every message on its way into the log goes through one writer task, which takes
//! whatever has queued up since its last commit and stores it in one transaction. Under load one
//! disk flush then covers many messages; when idle a message is committed at once.
//!
//! Only after the commit does the writer publish the messages to their rooms (in sequence order,
//! since it is the only publisher of messages) and acknowledge each sender.

use crate::rooms::Rooms;
use crate::store::{Appended, DynStore, NewMessage, StoredMessage};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// The store refused the batch; nothing of it was stored. The cause is logged, not sent to
    /// clients.
    #[error("the message was not stored: storage is unavailable, try again")]
    Unavailable,
    /// The store is out of space (a full disk or quota); nothing of the batch was stored.
    #[error("the message was not stored: the server's storage is full, try again later")]
    Full,
    /// The writer has stopped (the server is shutting down).
    #[error("the message was not stored: the server is shutting down")]
    Stopped,
}

struct Job {
    message: NewMessage,
    done: oneshot::Sender<Result<Appended, WriteError>>,
}

/// A handle for submitting messages; cheap to clone. The writer stops once every handle is gone
/// and its queue is empty, so nothing accepted is dropped at shutdown.
#[derive(Debug, Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer. `queue` bounds the messages waiting for a commit (senders wait when it
    /// is full); `max_batch` bounds one transaction.
    pub fn spawn(store: DynStore, rooms: Rooms, queue: usize, max_batch: usize) -> (Self, JoinHandle<()>) {
        let (jobs, rx) = mpsc::channel(queue.max(1));
        let task = tokio::spawn(run(rx, store, rooms, max_batch.max(1)));
        (Self { jobs }, task)
    }

    /// Stores `message`; returns once it is durably stored (or known to be a resend).
    pub async fn append(&self, message: NewMessage) -> Result<Appended, WriteError> {
        let (done, result) = oneshot::channel();
        self.jobs.send(Job { message, done }).await.map_err(|_| WriteError::Stopped)?;
        result.await.map_err(|_| WriteError::Stopped)?
    }
}

async fn run(mut rx: mpsc::Receiver<Job>, store: DynStore, rooms: Rooms, max_batch: usize) {
    let mut jobs = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut jobs, max_batch).await > 0 {
        let batch: Vec<NewMessage> = jobs.iter().map(|job| job.message.clone()).collect();
        match store.append(&batch).await {
            Ok(results) => {
                // One batch for the rooms too: a member gets the batch's messages in one write.
                let new: Vec<&StoredMessage> = results
                    .iter()
                    .filter_map(|result| match result {
                        Appended::New(stored) => Some(stored),
                        Appended::Duplicate(_) => None,
                    })
                    .collect();
                rooms.publish(&new);
                for (job, result) in jobs.drain(..).zip(results) {
                    // The sender may have gone away meanwhile; its message is stored all the same.
                    let _ = job.done.send(Ok(result));
                }
            }
            Err(err) => {
                let refusal = if err.is_full() { WriteError::Full } else { WriteError::Unavailable };
                tracing::error!(%err, messages = jobs.len(), "storing a batch failed");
                for job in jobs.drain(..) {
                    let _ = job.done.send(Err(refusal));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Dialect;
    use crate::member::{loopback, Member};
    use crate::store::SqliteStore;
    use app::names::{MessageText, Nickname, RoomName};
    use std::sync::Arc;

    fn message(i: usize) -> NewMessage {
        NewMessage {
            room: RoomName::lobby(),
            author: Nickname::parse("ann").unwrap(),
            text: MessageText::parse(&format!("m{i}")).unwrap(),
            at: 0,
            client_id: None,
        }
    }

    #[tokio::test]
    async fn concurrent_senders_are_committed_together_and_published_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store: DynStore = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
        let rooms = Rooms::default();
        // Catching up, the member keeps what is published for the test to look at.
        let member = Arc::new(Member::new(loopback().await.0, Dialect::Json, 1024));
        let _membership = rooms.join(&RoomName::lobby(), Arc::clone(&member));
        let (writer, task) = Writer::spawn(store.clone(), rooms.clone(), 1024, 64);
        let sends: Vec<_> = (0..200)
            .map(|i| {
                let writer = writer.clone();
                tokio::spawn(async move { writer.append(message(i)).await })
            })
            .collect();
        let mut seqs = Vec::new();
        for send in sends {
            seqs.push(send.await.unwrap().unwrap().message().seq);
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=200).collect::<Vec<_>>(), "every message acknowledged once");
        let published: Vec<_> = member.take_pending().iter().filter_map(|event| event.seq).collect();
        assert_eq!(published, (1..=200).collect::<Vec<_>>(), "published in sequence order");
        drop(writer);
        task.await.unwrap();
    }
}
