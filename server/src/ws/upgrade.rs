//! The opening handshake: RFC 6455's (4.2), or the hixie drafts' (75 and 76) for old clients,
//! told apart by the request itself. Checks the request, answers `101` and, once hyper has
//! handed the connection over, gives the TCP stream to a [`Socket`].
//!
//! A hixie answer goes through hyper like any other: its status line is the one the drafts
//! name (draft-75 clients compare the answer's first 85 bytes, "HTTP/1.1 101 Web Socket
//! Protocol Handshake", then `Upgrade: WebSocket` and `Connection: Upgrade`, exactly; the
//! listener writes header names in title case for them, see `transport::listen`). Draft 76's
//! 16 bytes of proof follow the head once the client's 8 bytes after its own head are in.

use super::hixie::{self, KeyError};
use super::socket::Socket;
use super::stall::WriteStall;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use sha1::{Digest, Sha1};
use std::future::Future;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A WebSocket handshake to accept.
#[derive(Debug)]
pub struct Upgrade {
    handshake: Handshake,
    offered: Option<HeaderValue>,
    selected: Option<&'static str>,
    on_upgrade: OnUpgrade,
    max_message: usize,
    /// For what a hixie client still owes after its head (draft 76's 8 bytes), and for the
    /// server's 16 bytes of answer to be taken.
    deadline: Duration,
}

/// Which handshake the client spoke.
#[derive(Debug)]
enum Handshake {
    /// RFC 6455: answered with the client's key, hashed (`Sec-WebSocket-Accept`).
    Rfc6455 { key: HeaderValue },
    /// Draft 76: the numbers its two keys hide, which the 8 bytes after the head complete.
    Hixie76 { key1: u32, key2: u32, origin: HeaderValue, location: HeaderValue },
    /// Draft 75: no proof asked for.
    Hixie75 { origin: HeaderValue, location: HeaderValue },
}

/// Why a request is not a handshake this server can accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("a WebSocket handshake must be a GET request")]
    NotGet,
    #[error("Connection header did not include 'upgrade'")]
    NoConnectionUpgrade,
    #[error("`Upgrade` header did not include 'websocket'")]
    NoUpgradeWebsocket,
    #[error("`Sec-WebSocket-Version` header did not include '13'")]
    WrongVersion,
    #[error("`Sec-WebSocket-Key` header missing")]
    NoKey,
    #[error("`Sec-WebSocket-Key` must be 16 bytes in base64 (RFC 6455, 4.1)")]
    BadKey,
    #[error("a draft-76 handshake needs both `Sec-WebSocket-Key1` and `Sec-WebSocket-Key2`")]
    OneHixieKey,
    #[error("bad draft-76 key: {0}")]
    BadHixieKey(KeyError),
    #[error("a draft-75 or draft-76 handshake needs a `Host` header")]
    NoHost,
    #[error("this connection cannot be upgraded")]
    NotUpgradable,
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        crate::metrics::get().handshake_refusals.with_label_values(&["bad_handshake"]).inc();
        tracing::info!(why = %self, "WebSocket handshake refused");
        let status = match self {
            Self::NotGet => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotUpgradable | Self::WrongVersion => StatusCode::UPGRADE_REQUIRED,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut response = (status, self.to_string()).into_response();
        if self == Self::WrongVersion {
            // The versions this server speaks (RFC 6455, 4.4).
            response.headers_mut().insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        }
        response
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        if parts.method != Method::GET {
            return Err(Rejection::NotGet);
        }
        let headers = &parts.headers;
        if !has_token(headers, header::CONNECTION, "upgrade") {
            return Err(Rejection::NoConnectionUpgrade);
        }
        if !has_token(headers, header::UPGRADE, "websocket") {
            return Err(Rejection::NoUpgradeWebsocket);
        }
        let hixie = !headers.contains_key(header::SEC_WEBSOCKET_VERSION)
            && !headers.contains_key(header::SEC_WEBSOCKET_KEY);
        let (handshake, offered) = if hixie {
            (hixie_handshake(parts)?, None)
        } else {
            (rfc6455_handshake(headers)?, headers.get(header::SEC_WEBSOCKET_PROTOCOL).cloned())
        };
        let on_upgrade = parts.extensions.remove::<OnUpgrade>().ok_or(Rejection::NotUpgradable)?;
        Ok(Self {
            handshake,
            offered,
            selected: None,
            on_upgrade,
            max_message: 64 * 1024,
            deadline: Duration::from_secs(10),
        })
    }
}

fn rfc6455_handshake(headers: &HeaderMap) -> Result<Handshake, Rejection> {
    if headers.get(header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
        return Err(Rejection::WrongVersion);
    }
    let key = headers.get(header::SEC_WEBSOCKET_KEY).cloned().ok_or(Rejection::NoKey)?;
    if !is_nonce(key.as_bytes()) {
        return Err(Rejection::BadKey);
    }
    Ok(Handshake::Rfc6455 { key })
}

/// A request with neither RFC 6455's version nor its key: draft 76 with its two keys, draft 75
/// with none. (Subprotocols are not offered to hixie clients: they speak the plain dialect.)
fn hixie_handshake(parts: &Parts) -> Result<Handshake, Rejection> {
    let headers = &parts.headers;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).ok_or(Rejection::NoHost)?;
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    // The URL the client asked for, which it checks the answer names.
    let location = HeaderValue::try_from(format!("ws://{host}{path}")).map_err(|_| Rejection::NoHost)?;
    // Sent by every hixie client; one that sent none is answered as a sandboxed page would be.
    let origin = headers.get(header::ORIGIN).cloned().unwrap_or(HeaderValue::from_static("null"));
    let key = |name: &str| {
        headers
            .get(name)
            .map(|key| hixie::key_number(key.to_str().unwrap_or_default()).map_err(Rejection::BadHixieKey))
    };
    match (key("sec-websocket-key1"), key("sec-websocket-key2")) {
        (Some(key1), Some(key2)) => Ok(Handshake::Hixie76 { key1: key1?, key2: key2?, origin, location }),
        (None, None) => Ok(Handshake::Hixie75 { origin, location }),
        _ => Err(Rejection::OneHixieKey),
    }
}

impl Upgrade {
    /// Selects the first of `supported` (in the server's order of preference) that the client
    /// offered; none if it offered none of them.
    pub fn protocols(mut self, supported: &[&'static str]) -> Self {
        let offered = self.offered.as_ref().and_then(|v| v.to_str().ok()).unwrap_or_default();
        self.selected = supported.iter().copied().find(|p| offered.split(',').any(|o| o.trim() == *p));
        self
    }

    pub fn selected_protocol(&self) -> Option<&'static str> {
        self.selected
    }

    /// Whether the client spoke one of the hixie drafts.
    pub fn is_hixie(&self) -> bool {
        !matches!(self.handshake, Handshake::Rfc6455 { .. })
    }

    /// The largest message (and frame) the client may send.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message = bytes;
        self
    }

    /// How long a hixie client has to send the rest of its handshake.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Answers the handshake; `serve` gets the socket once the connection has switched.
    pub fn on_upgrade<F, Fut>(self, serve: F) -> Response
    where
        F: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Self { handshake, selected, on_upgrade, max_message, deadline, .. } = self;
        let response = answer(&handshake, selected);
        let task = async move {
            let upgraded = match on_upgrade.await {
                Ok(upgraded) => upgraded,
                Err(err) => return tracing::debug!(%err, "the handshake did not complete"),
            };
            // This server's own listener hands hyper TCP streams with a write deadline
            // (`transport::listen`); the room connection keeps deadlines of its own.
            let (tcp, leftover) = match upgraded.downcast::<TokioIo<WriteStall<TcpStream>>>() {
                Ok(parts) => (parts.io.into_inner().into_inner(), parts.read_buf),
                Err(_) => return tracing::error!("an upgraded connection that is not a TCP stream"),
            };
            let socket = match handshake {
                Handshake::Rfc6455 { .. } => Socket::new(tcp, &leftover, max_message),
                Handshake::Hixie75 { .. } => Socket::hixie(tcp, &leftover, max_message),
                Handshake::Hixie76 { key1, key2, .. } => {
                    let proved = tokio::time::timeout(deadline, prove(tcp, leftover, key1, key2)).await;
                    match proved {
                        Ok(Ok((tcp, leftover))) => Socket::hixie(tcp, &leftover, max_message),
                        Ok(Err(err)) => return tracing::debug!(%err, "the draft-76 handshake failed"),
                        Err(_) => return tracing::debug!("the draft-76 handshake did not complete in time"),
                    }
                }
            };
            serve(socket).await;
        };
        tokio::spawn(task);
        response
    }
}

/// The `101` for `handshake`.
fn answer(handshake: &Handshake, selected: Option<&'static str>) -> Response {
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let (names, origin, location) = match handshake {
        Handshake::Rfc6455 { key } => {
            let headers = response.headers_mut();
            headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
            headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
            if let Ok(accept) = HeaderValue::from_str(&accept_key(key.as_bytes())) {
                headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
            }
            if let Some(protocol) = selected {
                headers.insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(protocol));
            }
            return response;
        }
        Handshake::Hixie76 { origin, location, .. } => {
            (["sec-websocket-origin", "sec-websocket-location"], origin, location)
        }
        Handshake::Hixie75 { origin, location } => {
            (["websocket-origin", "websocket-location"], origin, location)
        }
    };
    // The status line and the first two headers, in this order, are what draft 75 compares.
    response.extensions_mut().insert(hyper::ext::ReasonPhrase::from_static(b"Web Socket Protocol Handshake"));
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("WebSocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(HeaderName::from_static(names[0]), origin.clone());
    headers.insert(HeaderName::from_static(names[1]), location.clone());
    response
}

/// Draft 76's proof: reads the 8 bytes the client sends after its head (some may have come with
/// it, in `leftover`) and writes the 16-byte answer. Returns the stream and what the client sent
/// after its 8 bytes.
async fn prove(
    mut tcp: TcpStream,
    leftover: Bytes,
    key1: u32,
    key2: u32,
) -> std::io::Result<(TcpStream, Bytes)> {
    let mut key3 = [0u8; 8];
    let have = leftover.len().min(8);
    key3[..have].copy_from_slice(&leftover[..have]);
    tcp.read_exact(&mut key3[have..]).await?;
    tcp.write_all(&hixie::challenge_response(key1, key2, &key3)).await?;
    Ok((tcp, leftover.slice(have..)))
}

/// Whether a comma-separated header holds `token` (case-insensitively).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Whether a `Sec-WebSocket-Key` is what RFC 6455 asks of a client: 16 random bytes in base64.
fn is_nonce(key: &[u8]) -> bool {
    base64::engine::general_purpose::STANDARD.decode(key).is_ok_and(|nonce| nonce.len() == 16)
}

/// `Sec-WebSocket-Accept` for a client's key.
fn accept_key(key: &[u8]) -> String {
    const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let digest = Sha1::new().chain_update(key).chain_update(GUID).finalize();
    base64::engine::general_purpose::STANDARD.encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_example_key() {
        assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn a_key_must_be_sixteen_bytes_in_base64() {
        assert!(is_nonce(b"dGhlIHNhbXBsZSBub25jZQ=="));
        for bad in [
            &b""[..],
            b"x",
            b"not base64 at all!!!!!!",
            b"dGhlIHNhbXBsZSBub25j",
            b"dGhlIHNhbXBsZSBub25jZQ===",
        ] {
            assert!(!is_nonce(bad), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn header_tokens() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        assert!(has_token(&headers, header::CONNECTION, "upgrade"));
        assert!(!has_token(&headers, header::UPGRADE, "websocket"));
    }
}
