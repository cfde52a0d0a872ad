//! What the coordinator and its worker processes say to each other: a worker gets its plan as an
//! argument and commands on stdin, one per line, and answers with one JSON report per line on
//! stdout.

use crate::dialect::Dialect;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};

/// One worker's share of the load.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub target: SocketAddr,
    pub dialect: Dialect,
    /// Every connection of this worker comes from this loopback address, so that several
    /// workers are not limited to one address's ephemeral ports.
    pub source: Ipv4Addr,
    pub connections: Vec<Member>,
    /// Handshakes in progress at once.
    pub connect_concurrency: usize,
    /// Bytes of text in each benchmark message.
    pub message_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    pub room: String,
    pub name: String,
    /// Sends messages while a `Go` is in force.
    pub sender: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Every sender sends this many messages per second, until `Stop`.
    Go {
        per_sender: f64,
    },
    Stop,
    /// Report what happened since the last report, and start counting afresh.
    Report,
    /// Every connection drops (no close handshake, as when a network fails) and reconnects at
    /// once under a new name (`<name>.<generation>`), since a server may hold the old one for a
    /// while.
    Storm {
        generation: u32,
    },
    Quit,
}

/// Counts so far, about once a second.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Progress {
    /// Connections that have received their own welcome.
    pub welcomed: u64,
    pub delivered: u64,
    pub sent: u64,
    /// Connections the server closed or that failed.
    pub failed: u64,
    /// Connections that have rejoined after a storm.
    pub rejoined: u64,
    /// When the last benchmark message arrived, in ns since the epoch (0: none yet).
    pub last_delivery_ns: u64,
}

impl Progress {
    pub fn add(&mut self, other: &Progress) {
        self.welcomed += other.welcomed;
        self.delivered += other.delivered;
        self.sent += other.sent;
        self.failed += other.failed;
        self.rejoined += other.rejoined;
        self.last_delivery_ns = self.last_delivery_ns.max(other.last_delivery_ns);
    }
}

/// Everything since the last report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Totals {
    pub progress: Progress,
    /// Messages sent, by room.
    pub sent_by_room: BTreeMap<String, u64>,
    /// Delivery latency in microseconds, an HDR histogram (V2, base64).
    pub latency: String,
    /// Time from drop to welcome after a storm, in microseconds, likewise.
    pub rejoin: String,
    /// The first few failures, word for word.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Report {
    Progress(Progress),
    /// A command other than `Report` and `Quit` has taken effect; the counts at that moment.
    Done(Progress),
    Totals(Totals),
}
