//! Outgoing webhooks: each new message of a room POSTed to a URL the operator gave
//! (`server admin webhook-add ROOM URL`), signed with the webhook's secret (see
//! [`signature`]), retried with growing pauses while its receiver fails, from the room's log
//! (see [`delivery`]). Every node watches the list; one at a time delivers each webhook, by a
//! lease in the store that another takes over when it lapses.

pub mod client;
pub mod delivery;
pub mod signature;

use crate::store::DynStore;
use std::collections::HashMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How deliveries are paced (see `Limits`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// This node's name in the leases.
    pub node: String,
    /// How often an idle webhook looks at its room's log.
    pub poll: Duration,
    /// The first pause after a failed delivery, doubled after each one...
    pub first_backoff: Duration,
    /// ...up to this.
    pub max_backoff: Duration,
    /// How long a node's lease on a webhook lasts unless renewed.
    pub lease: Duration,
    /// How long one request may take.
    pub deadline: Duration,
    /// How often the list of webhooks is read again.
    pub refresh: Duration,
}

impl Settings {
    /// Node `node`'s, from the server's limits.
    pub fn new(node: String, limits: &crate::config::Limits) -> Self {
        Self {
            node,
            poll: limits.webhook_poll,
            first_backoff: limits.webhook_first_backoff,
            max_backoff: limits.webhook_max_backoff,
            lease: limits.webhook_lease,
            deadline: limits.webhook_deadline,
            refresh: limits.webhook_refresh,
        }
    }
}

/// Keeps one delivery running for each webhook in the store, until `stop`.
pub async fn run(store: DynStore, settings: Settings, stop: CancellationToken) {
    let sender = client::Sender::new(settings.deadline);
    let mut running: HashMap<i64, CancellationToken> = HashMap::new();
    let mut ticks = tokio::time::interval(settings.refresh);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = ticks.tick() => {}
        }
        let hooks = match store.webhooks().await {
            Ok(hooks) => hooks,
            Err(err) => {
                tracing::warn!(%err, "cannot read the webhooks; trying again");
                continue;
            }
        };
        running.retain(|id, task| {
            let kept = hooks.iter().any(|hook| hook.id == *id);
            if !kept {
                task.cancel();
            }
            kept
        });
        for hook in hooks {
            if running.contains_key(&hook.id) {
                continue;
            }
            let task = stop.child_token();
            running.insert(hook.id, task.clone());
            tokio::spawn(delivery::run(hook, store.clone(), sender.clone(), settings.clone(), task));
        }
    }
    for task in running.values() {
        task.cancel();
    }
}
