//! What an operator sees of the server: Prometheus metrics, kept in one registry per process
//! and exposed on `--metrics-addr` (see `web::metrics`) in Prometheus's text format.
//!
//! Counters are atomics behind cheap handles, made once here, so that counting costs an atomic
//! add where it happens. Where something is counted often (deliveries, bytes out), it is
//! counted once per batch, not once per item. What is a state rather than an event (rooms,
//! members) is read from the rooms when scraped, not kept in step with every join and leave.
//!
//! The names follow Prometheus's conventions: a `chat_` prefix, base units (seconds, bytes),
//! `_total` on counters; labels only of a few known values each.

mod connection;

pub use connection::Connected;

use prometheus::{
    Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::LazyLock;

pub struct Metrics {
    registry: Registry,
    /// Open WebSocket connections by dialect.
    pub connections: IntGaugeVec,
    /// Live rooms and their members on this node (set when scraped).
    pub rooms: IntGauge,
    pub members: IntGauge,
    /// Messages clients sent to rooms, before any rule; and those stored.
    pub messages_received: IntCounter,
    pub messages_stored: IntCounter,
    /// Events queued for members (one event to one member is one delivery).
    pub deliveries: IntCounter,
    /// Bytes written to WebSocket connections.
    pub sent_bytes: IntCounter,
    /// How long a commit of the writer took, and how many entries it held.
    pub commit_seconds: Histogram,
    pub commit_batch: Histogram,
    /// Writes the store refused or failed, by kind.
    pub store_errors: IntCounterVec,
    /// Members that fell behind their room's backlog and were caught up from the log.
    pub caught_up: IntCounter,
    /// Messages and edits retention forgot.
    pub forgotten: IntCounter,
    /// Connections dropped because their client stopped reading.
    pub slow_readers_dropped: IntCounter,
    /// Messages held back by flood control (the sender told to slow down).
    pub flood_throttled: IntCounter,
    /// Connections closed for breaking a rule or by a failure, by reason.
    pub refusals: IntCounterVec,
    /// Connections refused before or at their handshake, by reason.
    pub handshake_refusals: IntCounterVec,
    /// Webhook requests, by outcome (`delivered`, `failed`).
    pub webhook_deliveries: IntCounterVec,
    /// With several nodes: how late an entry from another node arrived on the bus, and the
    /// entries a node read from the log because the bus lost them.
    pub bus_lag_seconds: Histogram,
    pub bus_gaps_filled: IntCounter,
}

/// The process's metrics.
pub fn get() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

/// Every metric, in Prometheus's text format.
pub fn text() -> String {
    let metrics = get();
    TextEncoder::new().encode_to_string(&metrics.registry.gather()).unwrap_or_else(|err| {
        tracing::error!(%err, "encoding the metrics failed");
        String::new()
    })
}

/// The reasons refusals are counted by: a close code's meaning, so that a label never holds
/// what a client sent.
pub fn close_reason(code: u16) -> &'static str {
    use app::protocol::close;
    match code {
        close::PROTOCOL => "protocol",
        close::UNSUPPORTED => "unsupported",
        close::INVALID => "invalid",
        close::POLICY => "policy",
        close::SIZE => "too_big",
        close::TRY_AGAIN => "try_again",
        close::AWAY => "away",
        _ => "other",
    }
}

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str| {
            let counter = IntCounter::new(name, help).expect("a valid metric name");
            registry.register(Box::new(counter.clone())).expect("each metric registered once");
            counter
        };
        let counters = |name: &str, help: &str, label: &str| {
            let counters = IntCounterVec::new(Opts::new(name, help), &[label]).expect("a valid metric name");
            registry.register(Box::new(counters.clone())).expect("each metric registered once");
            counters
        };
        let gauge = |name: &str, help: &str| {
            let gauge = IntGauge::new(name, help).expect("a valid metric name");
            registry.register(Box::new(gauge.clone())).expect("each metric registered once");
            gauge
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            let histogram = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
                .expect("a valid metric");
            registry.register(Box::new(histogram.clone())).expect("each metric registered once");
            histogram
        };
        let connections = IntGaugeVec::new(
            Opts::new("chat_connections", "Open WebSocket connections, by dialect"),
            &["dialect"],
        )
        .expect("a valid metric name");
        registry.register(Box::new(connections.clone())).expect("each metric registered once");
        // Commits take from well under a millisecond (a small batch on SQLite) to the write
        // deadline (seconds).
        let seconds = vec![
            0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        ];
        let sizes = vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0];
        Self {
            connections,
            rooms: gauge("chat_rooms", "Live rooms on this node"),
            members: gauge("chat_members", "Members of the live rooms on this node"),
            messages_received: counter(
                "chat_messages_received_total",
                "Messages clients sent to rooms, before any rule",
            ),
            messages_stored: counter("chat_messages_stored_total", "Entries committed to the rooms' logs"),
            deliveries: counter(
                "chat_deliveries_total",
                "Events queued for members (one per member and event)",
            ),
            sent_bytes: counter("chat_sent_bytes_total", "Bytes written to WebSocket connections"),
            commit_seconds: histogram(
                "chat_commit_duration_seconds",
                "How long a commit of the rooms' writer took",
                seconds.clone(),
            ),
            commit_batch: histogram(
                "chat_commit_batch_size",
                "Entries in one commit of the rooms' writer",
                sizes,
            ),
            store_errors: counters(
                "chat_store_errors_total",
                "Writes the store refused or failed, by kind",
                "kind",
            ),
            caught_up: counter(
                "chat_members_caught_up_total",
                "Members that fell behind their room and were caught up from the log",
            ),
            forgotten: counter("chat_messages_forgotten_total", "Messages and edits retention forgot"),
            slow_readers_dropped: counter(
                "chat_slow_readers_dropped_total",
                "Connections dropped because their client stopped reading",
            ),
            flood_throttled: counter(
                "chat_flood_throttled_total",
                "Messages refused by flood control or a quota (the sender told to slow down)",
            ),
            refusals: counters(
                "chat_refusals_total",
                "Connections closed for breaking a rule or by a failure, by reason",
                "reason",
            ),
            webhook_deliveries: counters(
                "chat_webhook_requests_total",
                "Messages POSTed to webhooks, by outcome (delivered, failed)",
                "outcome",
            ),
            handshake_refusals: counters(
                "chat_handshake_refusals_total",
                "Connections refused at their handshake, by reason",
                "reason",
            ),
            bus_lag_seconds: histogram(
                "chat_bus_lag_seconds",
                "How long after it was stored an entry from another node arrived on the bus",
                seconds,
            ),
            bus_gaps_filled: counter(
                "chat_bus_gaps_filled_total",
                "Entries read from the log because the bus between nodes lost them",
            ),
            registry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_exposed_under_its_conventional_name() {
        get().deliveries.inc_by(3);
        get().refusals.with_label_values(&[close_reason(app::protocol::close::POLICY)]).inc();
        let _connected = Connected::new("json");
        let text = text();
        for name in [
            "chat_connections{dialect=\"json\"} 1",
            "chat_deliveries_total 3",
            "chat_refusals_total{reason=\"policy\"} 1",
            "# TYPE chat_commit_duration_seconds histogram",
            "chat_commit_batch_size_bucket{le=\"1\"}",
            "# TYPE chat_messages_stored_total counter",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }

    #[test]
    fn a_connection_counts_while_it_is_open() {
        let gauge = get().connections.with_label_values(&["relay"]);
        {
            let _one = Connected::new("relay");
            let _two = Connected::new("relay");
            assert_eq!(gauge.get(), 2);
        }
        assert_eq!(gauge.get(), 0);
    }
}
