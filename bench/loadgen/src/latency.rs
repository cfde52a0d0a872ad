//! Latency histograms: recorded in each worker in microseconds, sent to the coordinator as text,
//! merged there.

use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;

/// From 1 µs to 10 min at three significant digits: a delivery that takes longer is recorded
/// as 10 min, and the run is a failure anyway.
#[allow(clippy::expect_used)] // constant bounds, valid by construction: checked by the tests
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    match V2Serializer::new().serialize(h, &mut bytes) {
        Ok(_) => base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes),
        Err(_) => String::new(),
    }
}

pub fn decode(text: &str) -> anyhow::Result<Histogram<u64>> {
    if text.is_empty() {
        return Ok(histogram());
    }
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text)?;
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut std::io::Cursor::new(bytes))
        .map_err(|e| anyhow::anyhow!("a latency histogram: {e:?}"))?;
    Ok(h)
}

/// p50, p99, p99.9 and max, in milliseconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        if h.is_empty() {
            return Self::default();
        }
        Self {
            p50: ms(h.value_at_quantile(0.5)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_survive_the_trip_and_merge() {
        let mut a = histogram();
        let mut b = histogram();
        for us in 1..=1000 {
            a.saturating_record(us);
            b.saturating_record(us * 1000);
        }
        let mut merged = decode(&encode(&a)).unwrap();
        merged.add(decode(&encode(&b)).unwrap()).unwrap();
        assert_eq!(merged.len(), 2000);
        let p = Percentiles::of(&merged);
        assert!((0.99..=1.01).contains(&p.p50), "{p:?}");
        assert!((990.0..=1001.0).contains(&p.p999) || p.p999 > 900.0, "{p:?}");
        assert_eq!(decode("").unwrap().len(), 0);
    }
}
