//! How a receiver knows a delivery came from this server, and recently: the header
//! `X-Chat-Signature: t=<unix seconds>,v1=<hex>`, where the hex is HMAC-SHA256 under the
//! webhook's secret of `<t>.<body>`. The time inside what is signed lets a receiver refuse a
//! delivery replayed long after (the scheme Stripe's and Slack's webhooks use).

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER: &str = "x-chat-signature";

/// The signature header's value for `body`, sent at `unix_seconds`.
pub fn sign(secret: &str, unix_seconds: u64, body: &[u8]) -> String {
    format!("t={unix_seconds},v1={}", hex::encode(keyed(secret, unix_seconds, body).finalize().into_bytes()))
}

/// The MAC of what is signed, before its result is taken.
fn keyed(secret: &str, unix_seconds: u64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Whether `header` signs `body` under `secret` (for receivers written in Rust, and the tests).
pub fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut parts = header.split(',');
    let t = parts.next().and_then(|p| p.strip_prefix("t=")).and_then(|t| t.parse::<u64>().ok());
    let v1 = parts.next().and_then(|p| p.strip_prefix("v1=")).and_then(|v| hex::decode(v).ok());
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let mac = keyed(secret, t, body);
    // In constant time: no byte of the signature leaks through how long a refusal takes.
    mac.verify_slice(&v1).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_secret_time_and_body_only() {
        let header = sign("s3cret", 1_700_000_000, b"{\"a\":1}");
        assert!(header.starts_with("t=1700000000,v1="));
        assert!(verify("s3cret", &header, b"{\"a\":1}"));
        assert!(!verify("other", &header, b"{\"a\":1}"));
        assert!(!verify("s3cret", &header, b"{\"a\":2}"));
        let replayed = header.replace("t=1700000000", "t=1700000001");
        assert!(!verify("s3cret", &replayed, b"{\"a\":1}"));
        assert!(!verify("s3cret", "garbage", b""));
    }
}
