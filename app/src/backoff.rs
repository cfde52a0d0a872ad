//! When to try again after a lost connection: exponential backoff with full jitter (a delay drawn
//! uniformly below a ceiling that doubles with each failed attempt), so that a server coming back
//! after an outage is not hit by every client at the same instant.

/// The ceiling of the first retry, in milliseconds.
pub const BASE_MS: f64 = 500.0;
/// The ceiling never grows past this.
pub const CAP_MS: f64 = 20_000.0;

/// The delay before retry number `attempt` (0 for the first), given `unit_random` drawn
/// uniformly from [0, 1).
pub fn delay_ms(attempt: u32, unit_random: f64) -> u32 {
    let ceiling = (BASE_MS * 2f64.powi(attempt.min(16) as i32)).min(CAP_MS);
    (ceiling * unit_random.clamp(0.0, 1.0)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_up_to_the_cap() {
        assert_eq!(delay_ms(0, 0.999_999), 499);
        assert_eq!(delay_ms(1, 0.999_999), 999);
        assert_eq!(delay_ms(5, 0.999_999), 15_999);
        assert_eq!(delay_ms(6, 0.999_999), 19_999);
        assert_eq!(delay_ms(1000, 0.999_999), 19_999);
    }

    #[test]
    fn jitter_spreads_over_the_whole_range() {
        assert_eq!(delay_ms(3, 0.0), 0);
        assert_eq!(delay_ms(3, 0.5), 2_000);
        assert_eq!(delay_ms(3, 7.0), 4_000, "out-of-range randomness is clamped");
    }
}
