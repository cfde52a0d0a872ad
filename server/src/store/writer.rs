//! Group commit: every message on its way into the log goes through one writer task, which takes
//! whatever has queued up since its last commit and stores it in one transaction. Under load one
//! disk flush then covers many messages; when idle a message is committed at once.
//!
//! Only after the commit does the writer hand the messages to its [`Publish`]er (the rooms: in
//! sequence order, since it is the only publisher of messages) and acknowledge each sender.
//!
//! Nobody waits for ever: each message has a deadline, `deadline` after its sender handed it
//! over. A commit still running at the earliest deadline of its batch is given up (a row lock
//! held elsewhere, a database connection gone quiet), its senders are told `Unavailable`, and the
//! writer goes on with the next batch; a message whose deadline passed while it waited is not
//! stored at all. So what a sender was told holds: a message is not stored behind the back of a
//! sender told that it was not (short of a commit that completes at its very deadline).
//!
//! One bad message never fails another's: when the store refuses a batch for what one of its
//! messages holds (a constraint, a value the database cannot take), the batch is stored again
//! one message at a time, and only the culprit is refused.
//!
//! Edits and deletions go through the writer too, each in a transaction of its own (they are
//! rare, and each must see the message it changes as the batches before it left it): they are
//! numbered in the same log, so the writer publishes them in order with the messages.

use crate::store::{
    Appended, DynStore, ModerationRefusal, NewChange, NewMessage, NewModeration, Refusal, StoreError,
    StoredMessage,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Whoever shows stored messages to people: the rooms. The store is beneath them and does not
/// know them; they hand themselves to the writer when the server starts.
pub trait Publish: Send + Sync + 'static {
    /// Messages just stored, in sequence order (within each room), as one batch.
    fn publish(&self, messages: &[&StoredMessage]);
}

pub type DynPublish = Arc<dyn Publish>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// The store refused the batch or did not answer in time; nothing of it was stored (or, if
    /// the store finished after all, the resend with the same id is recognised). The cause is
    /// logged, not sent to clients.
    #[error("the message was not stored: storage is unavailable, try again")]
    Unavailable,
    /// The store is out of space (a full disk or quota); nothing of the batch was stored.
    #[error("the message was not stored: the server's storage is full, try again later")]
    Full,
    /// The store refused this message for what it holds: sending it again will not help.
    #[error("the message was not stored: the storage refused it")]
    Refused,
    /// The writer has stopped (the server is shutting down).
    #[error("the message was not stored: the server is shutting down")]
    Stopped,
}

impl WriteError {
    fn of(err: &StoreError) -> Self {
        if err.is_full() {
            Self::Full
        } else if err.is_refused_value() {
            Self::Refused
        } else {
            Self::Unavailable
        }
    }
}

struct Job {
    message: NewMessage,
    /// When its sender is to be told, whatever the store is doing.
    deadline: Instant,
    done: oneshot::Sender<Result<Appended, WriteError>>,
}

/// An edit or a deletion on its way in.
struct ChangeJob {
    change: NewChange,
    deadline: Instant,
    done: oneshot::Sender<Result<Result<StoredMessage, Refusal>, WriteError>>,
}

/// A moderator's action on its way in.
struct ModerationJob {
    moderation: NewModeration,
    deadline: Instant,
    done: oneshot::Sender<Result<Result<StoredMessage, ModerationRefusal>, WriteError>>,
}

/// What the writer's queue holds, in the order it came.
enum Work {
    Append(Job),
    Change(ChangeJob),
    Moderation(ModerationJob),
}

impl Work {
    fn deadline(&self) -> Instant {
        match self {
            Self::Append(job) => job.deadline,
            Self::Change(job) => job.deadline,
            Self::Moderation(job) => job.deadline,
        }
    }

    /// Tells the sender that it was not stored.
    fn refuse(self, refusal: WriteError) {
        match self {
            Self::Append(job) => {
                let _ = job.done.send(Err(refusal));
            }
            Self::Change(job) => {
                let _ = job.done.send(Err(refusal));
            }
            Self::Moderation(job) => {
                let _ = job.done.send(Err(refusal));
            }
        }
    }
}

/// A handle for submitting messages; cheap to clone. The writer stops once every handle is gone
/// and its queue is empty, so nothing accepted is dropped at shutdown.
#[derive(Debug, Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Work>,
    deadline: Duration,
}

impl Writer {
    /// Starts the writer. `queue` bounds the messages waiting for a commit (senders wait when it
    /// is full); `max_batch` bounds one transaction; `deadline` bounds how long a sender waits,
    /// and how long one commit may take.
    pub fn spawn(
        store: DynStore,
        rooms: DynPublish,
        queue: usize,
        max_batch: usize,
        deadline: Duration,
    ) -> (Self, JoinHandle<()>) {
        let (jobs, rx) = mpsc::channel(queue.max(1));
        let task = tokio::spawn(run(rx, store, rooms, max_batch.max(1)));
        (Self { jobs, deadline }, task)
    }

    /// Stores `message`; returns once it is durably stored (or known to be a resend), or with
    /// `Unavailable` once the deadline has passed.
    pub async fn append(&self, message: NewMessage) -> Result<Appended, WriteError> {
        let deadline = Instant::now() + self.deadline;
        let (done, result) = oneshot::channel();
        self.submit(Work::Append(Job { message, deadline, done }), deadline).await?;
        // The writer answers by the deadline.
        result.await.map_err(|_| WriteError::Stopped)?
    }

    /// Edits or deletes a message; returns once the change is stored (or refused), or with
    /// `Unavailable` once the deadline has passed.
    pub async fn change(&self, change: NewChange) -> Result<Result<StoredMessage, Refusal>, WriteError> {
        let deadline = Instant::now() + self.deadline;
        let (done, result) = oneshot::channel();
        self.submit(Work::Change(ChangeJob { change, deadline, done }), deadline).await?;
        result.await.map_err(|_| WriteError::Stopped)?
    }

    /// Takes a moderator's action; returns once it is stored (or refused), or with
    /// `Unavailable` once the deadline has passed.
    pub async fn moderate(
        &self,
        moderation: NewModeration,
    ) -> Result<Result<StoredMessage, ModerationRefusal>, WriteError> {
        let deadline = Instant::now() + self.deadline;
        let (done, result) = oneshot::channel();
        self.submit(Work::Moderation(ModerationJob { moderation, deadline, done }), deadline).await?;
        result.await.map_err(|_| WriteError::Stopped)?
    }

    async fn submit(&self, work: Work, deadline: Instant) -> Result<(), WriteError> {
        // A queue full past the deadline: the work never entered it.
        match tokio::time::timeout_at(deadline, self.jobs.send(work)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(WriteError::Stopped),
            Err(_) => Err(WriteError::Unavailable),
        }
    }
}

async fn run(mut rx: mpsc::Receiver<Work>, store: DynStore, rooms: DynPublish, max_batch: usize) {
    let mut queued = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut queued, max_batch).await > 0 {
        // What waited past its deadline (behind a commit that was given up) is not stored.
        let now = Instant::now();
        let (late, on_time): (Vec<Work>, Vec<Work>) =
            queued.drain(..).partition(|work| work.deadline() <= now);
        late.into_iter().for_each(|work| work.refuse(WriteError::Unavailable));
        // Messages between changes are committed together; each change on its own, in turn.
        let mut messages = Vec::new();
        for work in on_time {
            match work {
                Work::Append(job) => messages.push(job),
                Work::Change(job) => {
                    commit_messages(&store, &rooms, std::mem::take(&mut messages)).await;
                    let result =
                        commit_one(&rooms, &job.change.room, job.deadline, store.change(&job.change)).await;
                    let _ = job.done.send(result);
                }
                Work::Moderation(job) => {
                    commit_messages(&store, &rooms, std::mem::take(&mut messages)).await;
                    let room = &job.moderation.room;
                    let result =
                        commit_one(&rooms, room, job.deadline, store.moderate(&job.moderation)).await;
                    let _ = job.done.send(result);
                }
            }
        }
        commit_messages(&store, &rooms, messages).await;
    }
}

/// Stores an edit, a deletion or an action (`store`, a transaction of its own) by its deadline,
/// and publishes it unless it was refused.
async fn commit_one<R>(
    rooms: &DynPublish,
    room: &app::names::RoomName,
    deadline: Instant,
    store: impl std::future::Future<Output = Result<Result<StoredMessage, R>, StoreError>>,
) -> Result<Result<StoredMessage, R>, WriteError> {
    let started = Instant::now();
    let given = deadline.saturating_duration_since(started);
    let result = tokio::time::timeout_at(deadline, store).await.unwrap_or(Err(StoreError::TimedOut(given)));
    observe(started, &result, |result| usize::from(result.is_ok()));
    match result {
        Ok(Ok(stored)) => {
            rooms.publish(&[&stored]);
            Ok(Ok(stored))
        }
        Ok(Err(refusal)) => Ok(Err(refusal)),
        Err(err) => {
            tracing::error!(%err, %room, "storing a change to a room failed");
            Err(WriteError::of(&err))
        }
    }
}

/// Stores a run of messages in one transaction (or, if the store refuses one of them, one by
/// one), publishes them and answers their senders.
async fn commit_messages(store: &DynStore, rooms: &DynPublish, on_time: Vec<Job>) {
    let Some(deadline) = on_time.iter().map(|job| job.deadline).min() else { return };
    let batch: Vec<NewMessage> = on_time.iter().map(|job| job.message.clone()).collect();
    match append(store, &batch, deadline).await {
        Ok(results) => finish(rooms, on_time.into_iter().zip(results.into_iter().map(Ok))),
        Err(err) if err.is_refused_value() && on_time.len() > 1 => {
            tracing::warn!(%err, messages = on_time.len(), "a batch was refused: storing its messages one by one");
            one_by_one(store, rooms, on_time).await;
        }
        Err(err) => {
            tracing::error!(%err, messages = on_time.len(), "storing a batch failed");
            let refusal = WriteError::of(&err);
            finish(rooms, on_time.into_iter().map(|job| (job, Err(refusal))));
        }
    }
}

/// Appends `batch`, giving up at `deadline`: the transaction is dropped before its commit.
async fn append(
    store: &DynStore,
    batch: &[NewMessage],
    deadline: Instant,
) -> Result<Vec<Appended>, StoreError> {
    let started = Instant::now();
    let given = deadline.saturating_duration_since(started);
    let result = tokio::time::timeout_at(deadline, store.append(batch))
        .await
        .unwrap_or(Err(StoreError::TimedOut(given)));
    observe(started, &result, |appended| appended.iter().filter(|a| matches!(a, Appended::New(_))).count());
    result
}

/// Counts a commit begun at `started`: its time and size, the entries it stored (`stored` says
/// how many of what it returned are new), or its failure by kind.
fn observe<T>(started: Instant, result: &Result<T, StoreError>, stored: impl Fn(&T) -> usize) {
    let metrics = crate::metrics::get();
    match result {
        Ok(committed) => {
            metrics.commit_seconds.observe(started.elapsed().as_secs_f64());
            let entries = stored(committed);
            metrics.commit_batch.observe(entries as f64);
            metrics.messages_stored.inc_by(entries as u64);
        }
        Err(err) => metrics.store_errors.with_label_values(&[error_kind(err)]).inc(),
    }
}

/// A store error's kind, as the metrics count it.
fn error_kind(err: &StoreError) -> &'static str {
    if matches!(err, StoreError::TimedOut(_)) {
        "timeout"
    } else if err.is_full() {
        "full"
    } else if err.is_refused_value() {
        "refused"
    } else {
        "unavailable"
    }
}

/// A refused batch, again, a message at a time: only what the store refuses alone is refused.
/// Should the store fail otherwise meanwhile (it went away), the rest fail with it at once.
async fn one_by_one(store: &DynStore, rooms: &DynPublish, jobs: Vec<Job>) {
    let mut failed = None;
    for job in jobs {
        let result = match failed {
            Some(refusal) => Err(refusal),
            None => match append(store, std::slice::from_ref(&job.message), job.deadline).await {
                Ok(mut results) => results.pop().ok_or(WriteError::Unavailable),
                Err(err) => {
                    let refusal = WriteError::of(&err);
                    if refusal == WriteError::Refused {
                        tracing::warn!(%err, room = %job.message.room, "a message was refused by the store");
                    } else {
                        tracing::error!(%err, "storing a message failed");
                        failed = Some(refusal);
                    }
                    Err(refusal)
                }
            },
        };
        finish(rooms, std::iter::once((job, result)));
    }
}

/// Publishes what was stored to the rooms, in order, then answers each sender. Resends are
/// published too: a member who has the message skips it, and one who does not (its first
/// commit outlived the deadline, so it was never published) gets it now.
fn finish(rooms: &DynPublish, outcomes: impl Iterator<Item = (Job, Result<Appended, WriteError>)>) {
    let outcomes: Vec<_> = outcomes.collect();
    // One batch for the rooms too: a member gets the batch's messages in one write.
    let stored: Vec<&StoredMessage> =
        outcomes.iter().filter_map(|(_, result)| result.as_ref().ok().map(Appended::message)).collect();
    rooms.publish(&stored);
    for (job, result) in outcomes {
        // The sender may have gone away meanwhile; its message is stored all the same.
        let _ = job.done.send(result);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::SqliteStore;
    use crate::testing::nick;
    use app::names::{MessageText, RoomName};
    use app::protocol::Seq;
    use std::sync::Mutex;

    const DEADLINE: Duration = Duration::from_secs(5);

    fn message(text: &str) -> NewMessage {
        NewMessage {
            room: RoomName::lobby(),
            author: nick("ann"),
            session: crate::identity::SessionId::named("ann"),
            text: MessageText::parse(text).unwrap(),
            at: 0,
            client_id: None,
            reply_to: None,
        }
    }

    /// Keeps the numbers of what is published, for the test to look at.
    #[derive(Default)]
    struct Published(Mutex<Vec<Seq>>);

    impl Publish for Published {
        fn publish(&self, messages: &[&StoredMessage]) {
            self.0.lock().unwrap().extend(messages.iter().map(|m| m.seq));
        }
    }

    fn watcher() -> (Arc<Published>, DynPublish) {
        let published = Arc::new(Published::default());
        (published.clone(), published)
    }

    async fn send_all(writer: &Writer, texts: &[String]) -> Vec<Result<Appended, WriteError>> {
        let sends: Vec<_> = texts
            .iter()
            .map(|text| {
                let (writer, message) = (writer.clone(), message(text));
                tokio::spawn(async move { writer.append(message).await })
            })
            .collect();
        let mut results = Vec::new();
        for send in sends {
            results.push(send.await.unwrap());
        }
        results
    }

    #[tokio::test]
    async fn concurrent_senders_are_committed_together_and_published_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store: DynStore = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
        let (published, rooms) = watcher();
        let (writer, task) = Writer::spawn(store.clone(), rooms, 1024, 64, DEADLINE);
        let texts: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
        let mut seqs: Vec<_> =
            send_all(&writer, &texts).await.iter().map(|r| r.as_ref().unwrap().message().seq).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=200).collect::<Vec<_>>(), "every message acknowledged once");
        let published = published.0.lock().unwrap().clone();
        assert_eq!(published, (1..=200).collect::<Vec<_>>(), "published in sequence order");
        drop(writer);
        task.await.unwrap();
    }

    /// With `store` refusing any message whose text is `poison` (a real constraint, which the
    /// caller set up), a batch holding one is stored but for it, and only its sender is told.
    pub(crate) async fn one_refused_message_fails_no_other(store: DynStore) {
        let (published, rooms) = watcher();
        let (writer, task) = Writer::spawn(store, rooms, 1024, 64, DEADLINE);
        let texts = ["before", "poison", "after"].map(str::to_owned);
        let results = send_all(&writer, &texts).await;
        assert!(matches!(&results[0], Ok(Appended::New(m)) if m.text_str() == "before"), "{results:?}");
        assert_eq!(results[1], Err(WriteError::Refused));
        assert!(matches!(&results[2], Ok(Appended::New(m)) if m.text_str() == "after"), "{results:?}");
        let published = published.0.lock().unwrap().clone();
        assert_eq!(published, [1, 2], "both stored messages, in order, and nothing else");
        drop(writer);
        task.await.unwrap();
    }

    #[tokio::test]
    async fn one_refused_message_fails_no_other_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store: DynStore = Arc::new(SqliteStore::open(&path).await.unwrap());
        let mut admin =
            <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
        sqlx::query(
            "CREATE TRIGGER poison BEFORE INSERT ON messages WHEN NEW.text = 'poison'
             BEGIN SELECT RAISE(ABORT, 'poison is refused'); END",
        )
        .execute(&mut admin)
        .await
        .unwrap();
        one_refused_message_fails_no_other(store).await;
    }
}
