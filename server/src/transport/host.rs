//! Which names this server answers to. A page on another site can make a browser send requests
//! to a server bound to loopback, or on a private network, by having its own name resolve to
//! that address a moment later (DNS rebinding): the browser then treats the server as that
//! site's and lets the page read its answers. The `Host` header still carries the page's name,
//! so requests for names this server does not have are refused (421).
//!
//! Answered: addresses (`127.0.0.1:3000`, `[::1]`: an address is not a name anyone can point
//! elsewhere), `localhost` and its subdomains (browsers resolve those to loopback themselves),
//! and the names configured with `--allowed-hosts`. A request without `Host` (not a browser's)
//! passes.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;

/// The names configured besides addresses and `localhost`, lowercase, without ports.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    pub fn new(names: impl IntoIterator<Item = String>) -> Self {
        Self(
            names
                .into_iter()
                .map(|n| n.trim().trim_end_matches('.').to_ascii_lowercase())
                .filter(|n| !n.is_empty())
                .collect(),
        )
    }

    /// Whether a `Host` header's value names this server.
    pub fn allows(&self, host: &str) -> bool {
        let name = host_name(host.trim()).to_ascii_lowercase();
        let name = name.trim_end_matches('.');
        name.parse::<IpAddr>().is_ok()
            || name == "localhost"
            || name.ends_with(".localhost")
            || self.0.iter().any(|allowed| allowed == name)
    }
}

/// The name in a `Host` value, without its port (and without the brackets of an IPv6 address).
fn host_name(host: &str) -> &str {
    if let Some(bracketed) = host.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or_default();
    }
    host.rsplit_once(':')
        .map_or(host, |(name, port)| if port.bytes().all(|b| b.is_ascii_digit()) { name } else { host })
}

/// Refuses (421) a request for a name this server does not answer to.
pub async fn guard(State(hosts): State<AllowedHosts>, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).map(|h| h.to_str().unwrap_or("\u{fffd}"));
    match host {
        Some(host) if !hosts.allows(host) => {
            tracing::info!(host, path = %request.uri().path(), "request for another name refused");
            if request.headers().contains_key(header::UPGRADE) {
                crate::metrics::get().handshake_refusals.with_label_values(&["host"]).inc();
            }
            let why = format!(
                "this server does not answer to the name {host:?}; if it should, start it with --allowed-hosts"
            );
            (StatusCode::MISDIRECTED_REQUEST, why).into_response()
        }
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_localhost_and_configured_names_are_answered() {
        let hosts = AllowedHosts::new(["Chat.Example.".to_owned()]);
        for ok in [
            "127.0.0.1:3000",
            "127.0.0.1",
            "10.1.2.3:80",
            "[::1]:3000",
            "[::1]",
            "localhost:3000",
            "LOCALHOST",
            "app.localhost:8080",
            "chat.example",
            "chat.example:443",
            "CHAT.EXAMPLE.",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example",
            "evil.example:3000",
            "localhost.evil.example",
            "chat.example.evil",
            "",
            "127.0.0.1.nip.io",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
        assert!(!AllowedHosts::default().allows("chat.example"));
    }
}
