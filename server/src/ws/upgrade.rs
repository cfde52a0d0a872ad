//! The opening handshake (RFC 6455, 4.2): checks the request, answers `101 Switching Protocols`
//! and, once hyper has handed the connection over, gives the TCP stream to a [`Socket`].

use super::socket::Socket;
use super::stall::WriteStall;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use sha1::{Digest, Sha1};
use std::future::Future;
use tokio::net::TcpStream;

/// A WebSocket handshake to accept.
#[derive(Debug)]
pub struct Upgrade {
    key: HeaderValue,
    offered: Option<HeaderValue>,
    selected: Option<&'static str>,
    on_upgrade: OnUpgrade,
    max_message: usize,
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
    #[error("this connection cannot be upgraded")]
    NotUpgradable,
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
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
        if headers.get(header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
            return Err(Rejection::WrongVersion);
        }
        let key = headers.get(header::SEC_WEBSOCKET_KEY).cloned().ok_or(Rejection::NoKey)?;
        if !is_nonce(key.as_bytes()) {
            return Err(Rejection::BadKey);
        }
        let offered = headers.get(header::SEC_WEBSOCKET_PROTOCOL).cloned();
        let on_upgrade = parts.extensions.remove::<OnUpgrade>().ok_or(Rejection::NotUpgradable)?;
        Ok(Self { key, offered, selected: None, on_upgrade, max_message: 64 * 1024 })
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

    /// The largest message (and frame) the client may send.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message = bytes;
        self
    }

    /// Answers the handshake; `serve` gets the socket once the connection has switched.
    pub fn on_upgrade<F, Fut>(self, serve: F) -> Response
    where
        F: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Self { key, selected, on_upgrade, max_message, .. } = self;
        let task = async move {
            let upgraded = match on_upgrade.await {
                Ok(upgraded) => upgraded,
                Err(err) => return tracing::debug!(%err, "the handshake did not complete"),
            };
            // This server's own listener hands hyper TCP streams with a write deadline
            // (`transport::listen`); the room connection keeps deadlines of its own.
            let socket = match upgraded.downcast::<TokioIo<WriteStall<TcpStream>>>() {
                Ok(parts) => Socket::new(parts.io.into_inner().into_inner(), &parts.read_buf, max_message),
                Err(_) => return tracing::error!("an upgraded connection that is not a TCP stream"),
            };
            serve(socket).await;
        };
        tokio::spawn(task);
        let mut response = Response::new(axum::body::Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(accept) = HeaderValue::from_str(&accept_key(key.as_bytes())) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        if let Some(protocol) = selected {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(protocol));
        }
        response
    }
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
