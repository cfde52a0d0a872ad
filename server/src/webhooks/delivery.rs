//! One webhook's delivery: while this node holds its lease, every new message of its room is
//! POSTed to its URL, in order, each until the receiver takes it (retried with growing pauses
//! while it fails), and where it got is written down after each one. It reads the room's log,
//! not the room: a receiver that is slow or down holds up nobody but itself, and what it has
//! not taken waits in the log, not in memory.

use super::client::Sender;
use super::signature;
use super::Settings;
use crate::clock::now_millis;
use crate::store::webhooks::{Progress, Webhook};
use crate::store::{Body, DynStore, StoreError, StoredMessage};
use bytes::Bytes;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Entries read from the log at a time.
const PAGE: u32 = 100;

/// Delivers `hook` until `stop`.
pub async fn run(
    mut hook: Webhook,
    store: DynStore,
    sender: Sender,
    settings: Settings,
    stop: CancellationToken,
) {
    let mut backoff = settings.first_backoff;
    // Whether this node held the lease at its last step: taking it anew, it reads where the
    // delivery stands, as another node may have moved it on meanwhile.
    let mut held = false;
    loop {
        let pause = match step(&mut hook, &mut held, &store, &sender, &settings, &stop).await {
            Ok(Step::Delivered) if !stop.is_cancelled() => {
                backoff = settings.first_backoff;
                continue;
            }
            Ok(Step::Delivered) => Duration::ZERO,
            Ok(Step::Idle) => settings.poll,
            Ok(Step::NotOurs) => settings.lease / 3,
            Ok(Step::Failed) => {
                let pause = jittered(backoff);
                backoff = (backoff * 2).min(settings.max_backoff);
                pause
            }
            Err(err) => {
                tracing::warn!(webhook = hook.id, %err, "webhook delivery cannot read the store; trying again");
                settings.max_backoff.min(Duration::from_secs(5))
            }
        };
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(pause) => {}
        }
    }
    if held {
        // Let go at once: the node that starts next (this one again, after a restart) need
        // not wait for the lease to lapse.
        if let Err(err) = store.lease_webhook(hook.id, &settings.node, now_millis(), 0).await {
            tracing::debug!(webhook = hook.id, %err, "could not let go of a webhook's lease");
        }
    }
}

/// What one step did.
enum Step {
    /// Delivered (or passed over) something: go on at once.
    Delivered,
    /// Nothing new.
    Idle,
    /// Another node delivers it.
    NotOurs,
    /// The receiver did not take the next message.
    Failed,
}

async fn step(
    hook: &mut Webhook,
    held: &mut bool,
    store: &DynStore,
    sender: &Sender,
    settings: &Settings,
    stop: &CancellationToken,
) -> Result<Step, StoreError> {
    let now = now_millis();
    if !store.lease_webhook(hook.id, &settings.node, now, lease_end(now, settings)).await? {
        *held = false;
        return Ok(Step::NotOurs);
    }
    if !*held {
        match store.webhooks().await?.into_iter().find(|h| h.id == hook.id) {
            Some(now) => *hook = now,
            // Removed: the list's next reading stops this task.
            None => return Ok(Step::Idle),
        }
        *held = true;
    }
    let position = store.position(&hook.room).await?;
    if position.epoch != hook.epoch {
        // A log begun since (the room had none) or begun again: all of it is new.
        (hook.epoch, hook.delivered) = (position.epoch, 0);
    }
    if hook.delivered < position.horizon {
        tracing::warn!(
            webhook = hook.id,
            missed = position.horizon - hook.delivered,
            "retention forgot messages this webhook had not delivered"
        );
        hook.delivered = position.horizon;
    }
    if position.epoch == 0 || hook.delivered >= position.seq {
        return Ok(Step::Idle);
    }
    let page = store.read_after(&hook.room, hook.delivered, PAGE).await?;
    let mut written = hook.delivered;
    for entry in &page {
        if stop.is_cancelled() {
            break;
        }
        let Some(body) = payload(entry) else {
            // Passed over; written down with the next message, or the page's end.
            hook.delivered = entry.seq;
            continue;
        };
        // Renewed before each request: one that takes long must not let another node start
        // the same delivery meanwhile.
        let now = now_millis();
        if !store.lease_webhook(hook.id, &settings.node, now, lease_end(now, settings)).await? {
            *held = false;
            return Ok(Step::NotOurs);
        }
        let headers = [
            ("x-chat-delivery", format!("{}:{}:{}", entry.room, entry.epoch, entry.seq)),
            ("x-chat-webhook", hook.id.to_string()),
            (signature::HEADER, signature::sign(&hook.secret, unix_seconds(), &body)),
        ];
        if let Err(why) = sender.post(&hook.url, &headers, body).await {
            crate::metrics::get().webhook_deliveries.with_label_values(&["failed"]).inc();
            hook.failures = hook.failures.saturating_add(1);
            if hook.failures == 1 || hook.failures.is_power_of_two() {
                tracing::warn!(
                    webhook = hook.id, url = %hook.url, failures = hook.failures, %why,
                    "a webhook's receiver did not take a message"
                );
            }
            hook.last_error = why;
            store.webhook_progress(hook.id, &settings.node, &Progress::from(&*hook)).await?;
            return Ok(Step::Failed);
        }
        crate::metrics::get().webhook_deliveries.with_label_values(&["delivered"]).inc();
        (hook.delivered, hook.failures) = (entry.seq, 0);
        hook.last_error.clear();
        if !store.webhook_progress(hook.id, &settings.node, &Progress::from(&*hook)).await? {
            // The lease went to another node meanwhile: it goes on from what was written.
            *held = false;
            return Ok(Step::NotOurs);
        }
        written = hook.delivered;
    }
    if hook.delivered > written {
        store.webhook_progress(hook.id, &settings.node, &Progress::from(&*hook)).await?;
    }
    Ok(if page.is_empty() { Step::Idle } else { Step::Delivered })
}

fn lease_end(now: app::protocol::Millis, settings: &Settings) -> app::protocol::Millis {
    now.saturating_add(i64::try_from(settings.lease.as_millis()).unwrap_or(i64::MAX))
}

/// What a receiver gets for an entry: a message, as the JSON dialect sends it; `None` for the
/// rest of the log (edits, deletions, actions), which webhooks do not carry.
fn payload(entry: &StoredMessage) -> Option<Bytes> {
    match entry.body {
        Body::Text { .. } => serde_json::to_vec(&entry.event()).ok().map(Bytes::from),
        _ => None,
    }
}

fn unix_seconds() -> u64 {
    u64::try_from(now_millis() / 1000).unwrap_or(0)
}

/// `pause`, give or take a fifth: receivers that failed together do not all retry together.
fn jittered(pause: Duration) -> Duration {
    pause.mul_f64(0.8 + 0.4 * fastrand::f64())
}
