//! Who a connection is. The server decides, not the client: a browser carries a signed session
//! cookie, any other client the same signed token in `?token=`, binding it to a session id and a
//! nickname. Editing a form field or a URL cannot produce a valid signature, so nobody can post
//! under a nickname the server did not give them.
//!
//! A token is `v1.<session id, hex>.<nickname, hex>.<HMAC-SHA256 of what precedes, hex>`: only
//! characters allowed in a cookie value, whatever the nickname holds.

mod address;
pub mod lookalike;

pub use address::AddressKey;

use app::names::Nickname;
use axum::http::{header, HeaderMap, HeaderValue};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

/// The cookie that carries a browser's session token.
pub const COOKIE: &str = "chat_session";
/// A session lasts a year from its last nickname change, like "remember me" on most chats.
const COOKIE_MAX_AGE_SECS: u64 = 365 * 24 * 3600;
const VERSION: &str = "v1";

/// One person's session: several tabs (or devices, if they copy the token) share it, and count
/// as one member of a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId([u8; 16]);

impl SessionId {
    pub fn random() -> Self {
        Self(random_bytes())
    }

    /// How the session is named to its owner (in the list of their logged-in sessions): a
    /// digest of its id, which the token carries and which must not be shown.
    pub fn handle(&self) -> String {
        hex::encode(&Sha256::digest(self.0)[..8])
    }

    /// A session the tests can name again.
    #[cfg(test)]
    pub fn named(name: &str) -> Self {
        let digest = Sha256::digest(name.as_bytes());
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&digest[..16]);
        Self(bytes)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// A session id as [`fmt::Display`] writes it (32 hex digits): how other server processes name
/// it.
impl std::str::FromStr for SessionId {
    type Err = hex::FromHexError;

    fn from_str(hex: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0; 16];
        hex::decode_to_slice(hex, &mut bytes)?;
        Ok(Self(bytes))
    }
}

/// A connection's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub session: SessionId,
    pub nickname: Nickname,
}

impl Identity {
    /// An identity of one connection only: a client without a session (the seeds' pages, which
    /// name themselves with `?name=`). It can hold a nickname nobody else holds, nothing more.
    pub fn ephemeral(nickname: Nickname) -> Self {
        Self { session: SessionId::random(), nickname }
    }
}

/// The server's signing key. Every process serving the same rooms needs the same key.
#[derive(Clone)]
pub struct SessionKeys(Arc<[u8; 32]>);

impl fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKeys(..)")
    }
}

impl SessionKeys {
    /// A key derived from a configured secret (any string).
    pub fn from_secret(secret: &str) -> Self {
        Self(Arc::new(Sha256::digest(secret.as_bytes()).into()))
    }

    /// The key kept in `dir/session.key`, created (readable by this user only) on first start,
    /// so that sessions survive a restart.
    pub fn load_or_create(dir: &Path) -> io::Result<Self> {
        let path = dir.join("session.key");
        match std::fs::read(&path) {
            Ok(bytes) => {
                let key: [u8; 32] = bytes.try_into().map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("{} is not 32 bytes", path.display()))
                })?;
                Ok(Self(Arc::new(key)))
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                let key: [u8; 32] = random_bytes();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(&path)?;
                file.write_all(&key)?;
                file.sync_all()?;
                Ok(Self(Arc::new(key)))
            }
            Err(err) => Err(err),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length, so this cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_slice()).unwrap_or_else(|_| unreachable!())
    }

    /// The session an account's members are in the rooms, whichever device they log in from:
    /// one person, one member, as a guest's tabs are. Derived from the key, so that every node
    /// names it alike and nobody can name it without the key.
    pub fn person(&self, account: &str) -> SessionId {
        let mut mac = self.mac();
        mac.update(b"person\0");
        mac.update(account.as_bytes());
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&mac.finalize().into_bytes()[..16]);
        SessionId(bytes)
    }

    /// The token that proves `identity`.
    pub fn sign(&self, identity: &Identity) -> String {
        let body = format!("{VERSION}.{}.{}", identity.session, hex::encode(identity.nickname.as_str()));
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        format!("{body}.{}", hex::encode(mac.finalize().into_bytes()))
    }

    /// The identity a token proves, if it is one of ours and intact.
    pub fn verify(&self, token: &str) -> Option<Identity> {
        let (body, signature) = token.rsplit_once('.')?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        // Compared in constant time: a timing difference must not reveal a valid prefix.
        mac.verify_slice(&hex::decode(signature).ok()?).ok()?;
        let mut parts = body.split('.');
        let (Some(VERSION), Some(session), Some(nickname), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let session = SessionId(hex::decode(session).ok()?.try_into().ok()?);
        let nickname = Nickname::parse(&String::from_utf8(hex::decode(nickname).ok()?).ok()?).ok()?;
        Some(Identity { session, nickname })
    }

    /// The identity of the session cookie in `headers`, if any is valid.
    pub fn from_cookies(&self, headers: &HeaderMap) -> Option<Identity> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
            .find_map(|token| self.verify(token))
    }
}

/// The `Set-Cookie` value that stores `token` in a browser. HttpOnly: page scripts never see it,
/// so an injected script could not steal it. SameSite=Lax: other sites cannot post with it.
pub fn set_cookie(token: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; Max-Age={COOKIE_MAX_AGE_SECS}; HttpOnly; SameSite=Lax"
    ))
    .ok()
}

/// The `Set-Cookie` value that removes the session cookie from a browser (logging out).
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("chat_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
}

/// The session token of a request: its `Authorization: Bearer` header (programs), else its
/// cookie (browsers). Only a valid one counts.
pub fn from_request(keys: &SessionKeys, headers: &HeaderMap) -> Option<Identity> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|token| keys.verify(token.trim()));
    bearer.or_else(|| keys.from_cookies(headers))
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    // Without the operating system's randomness nothing here can be trusted.
    if let Err(err) = getrandom::fill(&mut bytes) {
        panic!("no operating system randomness: {err}");
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Identity {
        Identity::ephemeral(Nickname::parse("alice").unwrap())
    }

    #[test]
    fn a_signed_identity_verifies() {
        let keys = SessionKeys::from_secret("s");
        let id = alice();
        assert_eq!(keys.verify(&keys.sign(&id)), Some(id));
        let unicode = Identity::ephemeral(Nickname::parse("Zoë.日本").unwrap());
        let token = keys.sign(&unicode);
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'));
        assert_eq!(keys.verify(&token), Some(unicode));
    }

    #[test]
    fn forged_or_foreign_tokens_do_not() {
        let keys = SessionKeys::from_secret("s");
        let token = keys.sign(&alice());
        assert_eq!(SessionKeys::from_secret("other").verify(&token), None);
        // Another nickname under alice's signature.
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!("{}.{}.{}.{}", parts[0], parts[1], hex::encode("mallory"), parts[3]);
        assert_eq!(keys.verify(&forged), None);
        for junk in ["", ".", "v1...", "v1.zz.zz.zz", &format!("{token}.x"), &token[..token.len() - 2]] {
            assert_eq!(keys.verify(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let keys = SessionKeys::from_secret("s");
        let id = alice();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("theme=dark; {COOKIE}=bad; {COOKIE}={}", keys.sign(&id))).unwrap(),
        );
        assert_eq!(keys.from_cookies(&headers), Some(id));
        assert_eq!(keys.from_cookies(&HeaderMap::new()), None);
    }

    #[test]
    fn the_key_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let first = SessionKeys::load_or_create(dir.path()).unwrap();
        let second = SessionKeys::load_or_create(dir.path()).unwrap();
        let token = first.sign(&alice());
        assert!(second.verify(&token).is_some());
        std::fs::write(dir.path().join("session.key"), b"short").unwrap();
        assert!(SessionKeys::load_or_create(dir.path()).is_err());
    }
}
