//! What one worker has counted. Its connections are tasks on one thread, so plain cells do.

use crate::latency;
use crate::plan::{Progress, Totals};
use hdrhistogram::Histogram;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::Duration;

/// Failures kept word for word; the rest are only counted.
const KEPT_ERRORS: usize = 10;

#[derive(Debug)]
pub struct Stats {
    welcomed: Cell<u64>,
    delivered: Cell<u64>,
    sent: Cell<u64>,
    failed: Cell<u64>,
    rejoined: Cell<u64>,
    last_delivery_ns: Cell<u64>,
    sent_by_room: RefCell<BTreeMap<String, u64>>,
    latency: RefCell<Histogram<u64>>,
    rejoin: RefCell<Histogram<u64>>,
    errors: RefCell<Vec<String>>,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            welcomed: Cell::new(0),
            delivered: Cell::new(0),
            sent: Cell::new(0),
            failed: Cell::new(0),
            rejoined: Cell::new(0),
            last_delivery_ns: Cell::new(0),
            sent_by_room: RefCell::default(),
            latency: RefCell::new(latency::histogram()),
            rejoin: RefCell::new(latency::histogram()),
            errors: RefCell::default(),
        }
    }
}

fn bump(cell: &Cell<u64>) {
    cell.set(cell.get() + 1);
}

impl Stats {
    pub fn welcomed(&self) {
        bump(&self.welcomed);
    }

    /// A benchmark message arrived at `at` (ns since the epoch), `latency_us` after it was sent.
    pub fn delivered(&self, at: u64, latency_us: u64) {
        bump(&self.delivered);
        self.last_delivery_ns.set(self.last_delivery_ns.get().max(at));
        self.latency.borrow_mut().saturating_record(latency_us.max(1));
    }

    pub fn sent(&self, room: &str) {
        bump(&self.sent);
        let mut by_room = self.sent_by_room.borrow_mut();
        match by_room.get_mut(room) {
            Some(count) => *count += 1,
            None => {
                by_room.insert(room.to_owned(), 1);
            }
        }
    }

    pub fn rejoined(&self, took: Duration) {
        bump(&self.rejoined);
        self.rejoin.borrow_mut().saturating_record((took.as_micros() as u64).max(1));
    }

    pub fn fail(&self, error: String) {
        bump(&self.failed);
        let mut errors = self.errors.borrow_mut();
        if errors.len() < KEPT_ERRORS {
            errors.push(error);
        }
    }

    pub fn progress(&self) -> Progress {
        Progress {
            welcomed: self.welcomed.get(),
            delivered: self.delivered.get(),
            sent: self.sent.get(),
            failed: self.failed.get(),
            rejoined: self.rejoined.get(),
            last_delivery_ns: self.last_delivery_ns.get(),
        }
    }

    /// Everything counted since the last call; message counts and histograms start again from
    /// zero (connection counts do not: they describe the connections, not a period).
    pub fn take(&self) -> Totals {
        let totals = Totals {
            progress: self.progress(),
            sent_by_room: std::mem::take(&mut *self.sent_by_room.borrow_mut()),
            latency: latency::encode(&self.latency.borrow()),
            rejoin: latency::encode(&self.rejoin.borrow()),
            errors: self.errors.borrow().clone(),
        };
        self.delivered.set(0);
        self.sent.set(0);
        self.last_delivery_ns.set(0);
        self.latency.borrow_mut().reset();
        self.rejoin.borrow_mut().reset();
        totals
    }
}
