//! Where a client of the JSON dialect asks to resume, and whether the log can honour it.

use crate::store::Position;
use app::protocol::{Epoch, Seq};

/// Where a client of the JSON dialect asks to resume: after message `after` of epoch `epoch`
/// (0 when the room had no log when it last looked; `None` if it did not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    pub epoch: Option<Epoch>,
    pub after: Seq,
}

impl Resume {
    /// Whether the log at `position` has this resume position: its own epoch and a number it
    /// has reached, or the start of any log for a client that saw the room before it had one.
    /// Anything else (a number past the end, as after a restore from an older backup; another
    /// epoch; no epoch at all; a number behind what retention forgot) would skip what the client
    /// has not seen.
    pub fn holds(&self, position: Position) -> bool {
        match self.epoch {
            Some(epoch) if epoch == position.epoch => (position.horizon..=position.seq).contains(&self.after),
            Some(0) => self.after == 0 && position.horizon == 0,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resume_position_is_trusted_only_where_the_log_has_it() {
        let log = Position { epoch: 7, seq: 10, horizon: 0 };
        let at = |epoch, after| Resume { epoch, after };
        assert!(at(Some(7), 10).holds(log));
        assert!(at(Some(7), 0).holds(log));
        assert!(at(Some(0), 0).holds(log), "seen before the log began: everything follows");
        assert!(!at(Some(7), 11).holds(log), "past the end: a restored backup");
        assert!(!at(Some(8), 3).holds(log), "another epoch");
        assert!(!at(Some(0), 3).holds(log), "a number in no log");
        assert!(!at(None, 3).holds(log), "no epoch");
        assert!(!at(None, 0).holds(log));
        let none = Position::default();
        assert!(at(Some(0), 0).holds(none));
        assert!(!at(Some(0), 1).holds(none));
    }

    #[test]
    fn nobody_resumes_behind_what_retention_forgot() {
        let log = Position { epoch: 7, seq: 10, horizon: 4 };
        let at = |epoch, after| Resume { epoch: Some(epoch), after };
        assert!(at(7, 4).holds(log), "the next one is still there");
        assert!(at(7, 10).holds(log));
        assert!(!at(7, 3).holds(log), "number 4 is gone");
        assert!(!at(7, 0).holds(log));
        assert!(!at(0, 0).holds(log), "seen before the log began: its start is gone");
    }
}
