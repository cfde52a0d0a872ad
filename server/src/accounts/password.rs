//! Passwords, hashed with Argon2id. A hash costs tens of milliseconds of a core and 19 MiB on
//! purpose, so hashing runs off the async threads, two at a time at most, with a bounded number
//! waiting: a burst of logins slows logins down, not the rooms, and cannot exhaust memory.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Hashes computed at once.
const AT_ONCE: usize = 2;
/// Hashes waiting for their turn, at most; past it a request is told to come back.
const WAITING: usize = 64;
/// How long a hash waits for its turn before the request is told to come back.
const PATIENCE: Duration = Duration::from_secs(5);

/// The shortest password taken (NIST SP 800-63B's minimum; no rules on what it is made of).
pub const MIN_CHARS: usize = 8;
/// The longest, in bytes: a hash's cost must not grow with what a client sends.
pub const MAX_BYTES: usize = 1024;

/// Too many hashes are waiting: the request should be made again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Why a password is not taken.
pub fn check(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_CHARS {
        return Err(format!("a password has at least {MIN_CHARS} characters"));
    }
    if password.len() > MAX_BYTES {
        return Err(format!("a password has at most {MAX_BYTES} bytes"));
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct Hasher {
    running: Arc<Semaphore>,
    waiting: Arc<Semaphore>,
}

impl Default for Hasher {
    fn default() -> Self {
        Self { running: Arc::new(Semaphore::new(AT_ONCE)), waiting: Arc::new(Semaphore::new(WAITING)) }
    }
}

impl Hasher {
    /// The hash of `password`, with a fresh salt, as a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String, Busy> {
        let password = password.to_owned();
        self.run(move || hash_now(&password)).await
    }

    /// Whether `password` is the one `hash` was made of. `None` for `hash` (no such account)
    /// still takes as long as a real check, so that the time of the answer does not tell
    /// whether a nickname is registered.
    pub async fn verify(&self, password: &str, hash: Option<String>) -> Result<bool, Busy> {
        let password = password.to_owned();
        self.run(move || match hash {
            Some(hash) => verify_now(&password, &hash),
            None => {
                let _ = verify_now(&password, decoy());
                false
            }
        })
        .await
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        let _waiting = self.waiting.try_acquire().map_err(|_| Busy)?;
        let running = tokio::time::timeout(PATIENCE, Arc::clone(&self.running).acquire_owned())
            .await
            .map_err(|_| Busy)?
            .map_err(|_| Busy)?;
        tokio::task::spawn_blocking(move || {
            let answer = work();
            drop(running);
            answer
        })
        .await
        .map_err(|_| Busy)
    }
}

fn hash_now(password: &str) -> String {
    let salt: [u8; 16] = crate::identity::random_bytes();
    // 16 bytes always make a valid salt; an error here would be a bug in the crate.
    let Ok(salt) = SaltString::encode_b64(&salt) else { unreachable!("a 16-byte salt is valid") };
    match Argon2::default().hash_password(password.as_bytes(), &salt) {
        Ok(hash) => hash.to_string(),
        // Only an out-of-range parameter fails, and the defaults are in range.
        Err(err) => unreachable!("Argon2 with its default parameters failed: {err}"),
    }
}

/// A stored hash that does not parse matches nothing (and is logged: the row is damaged).
fn verify_now(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(err) => {
            tracing::error!(%err, "a stored password hash is damaged");
            false
        }
    }
}

/// A hash no password is checked against in earnest: what an unknown nickname's check costs.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_now("a password nobody has"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_takes_its_password_only_and_is_salted() {
        let hasher = Hasher::default();
        let hash = hasher.hash("correct horse").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert_ne!(hash, hasher.hash("correct horse").await.unwrap(), "a fresh salt each time");
        assert!(hasher.verify("correct horse", Some(hash.clone())).await.unwrap());
        assert!(!hasher.verify("correct horsf", Some(hash)).await.unwrap());
        assert!(!hasher.verify("correct horse", None).await.unwrap());
        assert!(!hasher.verify("correct horse", Some("not a hash".into())).await.unwrap());
    }

    #[test]
    fn passwords_are_long_enough_and_bounded() {
        assert!(check("1234567").is_err());
        assert!(check("12345678").is_ok());
        assert!(check("ééééééé").is_err(), "characters, not bytes");
        assert!(check(&"x".repeat(MAX_BYTES)).is_ok());
        assert!(check(&"x".repeat(MAX_BYTES + 1)).is_err());
    }

    #[tokio::test]
    async fn hashes_past_the_queue_are_turned_away_not_queued() {
        let hasher = Hasher { running: Arc::new(Semaphore::new(0)), waiting: Arc::new(Semaphore::new(1)) };
        let _held = hasher.waiting.clone().try_acquire_owned().unwrap();
        assert_eq!(hasher.hash("whatever1").await, Err(Busy));
    }
}
