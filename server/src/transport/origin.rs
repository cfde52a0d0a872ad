//! Which web pages may use this server: a browser sends the page's origin with every WebSocket
//! handshake and every cross-origin POST, and a page from another site must not reach the rooms
//! with the reader's cookie (cross-site WebSocket hijacking) or post forms in their name.
//!
//! Allowed: requests without an `Origin` (clients that are not browsers, which carry no
//! ambient cookie), pages of this server itself, and the configured allow-list.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The origins allowed besides this server's own, as `scheme://host[:port]`.
#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    pub fn new(origins: impl IntoIterator<Item = String>) -> Self {
        Self(origins.into_iter().map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase()).collect())
    }

    /// Whether the request's origin may use this server. `Err` holds the refused origin.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), String> {
        let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
        let origin = origin.to_str().unwrap_or("").trim().to_ascii_lowercase();
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_ascii_lowercase);
        // Same origin: the page came from the host this request is addressed to. The scheme is
        // not compared, so that a TLS-terminating proxy in front changes nothing.
        let authority = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
        if authority.is_some() && authority == host.as_deref() {
            return Ok(());
        }
        if self.0.iter().any(|allowed| *allowed == origin) {
            return Ok(());
        }
        Err(origin)
    }
}

/// Refuses, with 403, a WebSocket handshake or a state-changing request (a form post, a server
/// function) from a page of another site. Reading pages and files stays open to all.
pub async fn guard(State(origins): State<AllowedOrigins>, request: Request, next: Next) -> Response {
    let upgrade = request.headers().contains_key(header::UPGRADE);
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if upgrade || !safe {
        if let Err(origin) = origins.check(request.headers()) {
            tracing::info!(%origin, path = %request.uri().path(), "cross-origin request refused");
            if upgrade {
                crate::metrics::get().handshake_refusals.with_label_values(&["origin"]).inc();
            }
            return (StatusCode::FORBIDDEN, format!("requests from {origin:?} are not allowed here"))
                .into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(origin) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        h
    }

    #[test]
    fn same_origin_listed_origins_and_non_browsers_pass() {
        let allowed = AllowedOrigins::new(["http://127.0.0.1:3101/".to_owned()]);
        assert!(allowed.check(&headers(None, "chat.example")).is_ok());
        assert!(allowed.check(&headers(Some("https://chat.example"), "chat.example")).is_ok());
        assert!(allowed.check(&headers(Some("http://Chat.Example:8080"), "chat.example:8080")).is_ok());
        assert!(allowed.check(&headers(Some("http://127.0.0.1:3101"), "127.0.0.1:3100")).is_ok());
    }

    #[test]
    fn other_sites_are_refused() {
        let allowed = AllowedOrigins::default();
        for origin in
            ["https://evil.example", "null", "http://chat.example.evil", "https://chat.example:444", ""]
        {
            let result = allowed.check(&headers(Some(origin), "chat.example"));
            assert!(result.is_err(), "{origin} should be refused");
        }
    }
}
