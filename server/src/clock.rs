//! The wall clock, as the protocol counts time: milliseconds since the Unix epoch.

use app::protocol::Millis;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX))
        .unwrap_or(0)
}
