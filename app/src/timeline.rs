//! How the log is laid out: a separator before the first line of each day, and consecutive
//! messages by one author grouped under one name. Pure, so the rules are tested here; the day
//! boundaries depend on the reader's time zone, which the caller passes in.

use crate::log::{LineKind, LogLine};
use crate::protocol::Millis;

/// Messages by one author closer than this are grouped.
pub const GROUP_WITHIN_MS: Millis = 5 * 60 * 1000;
const DAY_MS: Millis = 24 * 60 * 60 * 1000;

/// A line as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub line: LogLine,
    /// A day separator comes first: the day number (days since the epoch, in the reader's zone).
    pub day: Option<i64>,
    /// A message by the same author as the message just above: shown without the name.
    pub continued: bool,
}

impl Item {
    /// Changes whenever the line or how it is shown changes: for keyed rendering.
    pub fn key(&self) -> (i64, u32, Option<i64>, bool) {
        (self.line.key, self.line.rev, self.day, self.continued)
    }
}

/// The day of `at` for a reader whose zone is `offset_ms` ahead of UTC at that time.
pub fn day_of(at: Millis, offset_ms: Millis) -> i64 {
    (at + offset_ms).div_euclid(DAY_MS)
}

/// Lays out `lines`; `offset_ms(at)` is the reader's offset from UTC at `at`.
pub fn layout<'a>(
    lines: impl Iterator<Item = &'a LogLine>,
    offset_ms: impl Fn(Millis) -> Millis,
) -> Vec<Item> {
    let mut items = Vec::new();
    let mut last_day = None;
    let mut last_message: Option<(&str, Millis)> = None;
    for line in lines {
        let (mut day, mut continued) = (None, false);
        if let LineKind::Message { author, at, .. } = &line.kind {
            let this_day = day_of(*at, offset_ms(*at));
            if last_day != Some(this_day) {
                day = Some(this_day);
                last_day = Some(this_day);
            }
            continued = day.is_none()
                && last_message.is_some_and(|(a, t)| a == author && (*at - t).abs() < GROUP_WITHIN_MS);
            last_message = Some((author, *at));
        } else {
            // A join, a leave or a notice between two messages breaks the group.
            last_message = None;
        }
        items.push(Item { line: line.clone(), day, continued });
    }
    items
}

/// `YYYY-MM-DD HH:MM UTC`: the same on the server and in every reader's page.
pub fn utc_stamp(at: Millis) -> String {
    format!("{} {} UTC", utc_day(day_of(at, 0)), utc_time(at))
}

/// `HH:MM` in UTC: all the server knows.
pub fn utc_time(at: Millis) -> String {
    let minutes = at.div_euclid(60_000);
    format!("{:02}:{:02}", minutes.div_euclid(60).rem_euclid(24), minutes.rem_euclid(60))
}

/// A day as the server names it: its UTC date.
pub fn utc_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The calendar date of a day number (days since 1970-01-01), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(key: i64, author: &str, at: Millis) -> LogLine {
        LogLine {
            key,
            rev: 0,
            kind: LineKind::Message {
                seq: 1,
                author: author.into(),
                text: "x".into(),
                at,
                edited: false,
                deleted: false,
                reactions: Default::default(),
                reply: None,
                markup: None,
            },
        }
    }

    const NOON: Millis = 1_763_726_400_000; // 2025-11-21 12:00 UTC

    #[test]
    fn days_and_groups() {
        let lines = vec![
            message(0, "ann", NOON),
            message(1, "ann", NOON + 60_000),
            message(2, "bob", NOON + 120_000),
            message(3, "bob", NOON + 120_000 + GROUP_WITHIN_MS),
            LogLine { key: 4, rev: 0, kind: LineKind::Joined { name: "cy".into() } },
            message(5, "bob", NOON + 120_000 + GROUP_WITHIN_MS + 1),
            message(6, "bob", NOON + 13 * 3_600_000),
        ];
        let shape: Vec<(Option<i64>, bool)> =
            layout(lines.iter(), |_| 0).iter().map(|i| (i.day, i.continued)).collect();
        let today = day_of(NOON, 0);
        assert_eq!(
            shape,
            vec![
                (Some(today), false),
                (None, true),
                (None, false),
                (None, false), // five minutes later: a new group
                (None, false),
                (None, false), // after a join: a new group
                (Some(today + 1), false),
            ]
        );
    }

    #[test]
    fn the_readers_zone_moves_the_day_boundary() {
        let lines = vec![message(0, "ann", NOON), message(1, "ann", NOON + 60_000)];
        // Eleven hours ahead of UTC (Sydney in summer): 12:00 and 12:01 UTC are 23:00 and 23:01.
        let items = layout(lines.iter(), |_| 11 * 3_600_000);
        assert_eq!(items[0].day, Some(day_of(NOON, 11 * 3_600_000)));
        assert!(items[1].continued);
        // Thirteen hours ahead: the two are on the next local day, still one group.
        let items = layout(lines.iter(), |_| 13 * 3_600_000);
        assert_eq!(items[0].day, Some(day_of(NOON, 0) + 1));
    }
}
