//! An open connection, counted by its dialect for as long as it is open.

use prometheus::IntGauge;

/// Counts one open connection of a dialect until it is dropped.
#[derive(Debug)]
pub struct Connected(IntGauge);

impl Connected {
    pub fn new(dialect: &str) -> Self {
        let gauge = super::get().connections.with_label_values(&[dialect]);
        gauge.inc();
        Self(gauge)
    }
}

impl Drop for Connected {
    fn drop(&mut self) {
        self.0.dec();
    }
}
