//! What keeps other sites and oversized or malformed input out: the Origin check, the pages'
//! security headers, the message size limit and UTF-8 validation.

use crate::helpers::*;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// The HTTP status of a WebSocket handshake to `path` sent with `origin`.
async fn handshake_status(server: &TestServer, path: &str, origin: &str) -> u16 {
    let mut request = server.url(path).into_client_request().expect("request");
    request.headers_mut().insert("Origin", origin.parse().expect("header"));
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("handshake failed: {other}"),
    }
}

#[tokio::test]
async fn pages_of_other_sites_cannot_reach_the_rooms_or_post() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = server::Config::for_tests(data.path().to_path_buf());
    config.allowed_origins = vec!["https://friend.example".to_owned()];
    let server = spawn_with(config, data).await;
    let own = format!("http://{}", server.addr);
    for path in ["/chat?name=a", "/chat/den?name=b", "/?name=c", "/echo"] {
        assert_eq!(handshake_status(&server, path, "https://evil.example").await, 403, "{path}");
        assert_eq!(handshake_status(&server, path, "null").await, 403, "{path}");
        assert_eq!(handshake_status(&server, path, &own).await, 101, "{path}");
        assert_eq!(handshake_status(&server, path, "https://friend.example").await, 101, "{path}");
    }
    // Form posts and the session API too (cross-site request forgery).
    let form = "Content-Type: application/x-www-form-urlencoded\r\nOrigin: https://evil.example\r\n";
    let response = http_request(server.addr, "POST", "/fn/nickname", form, "nickname=victim").await;
    assert_eq!(response.status, 403);
    assert!(response.header("set-cookie").is_none());
    let json = "Content-Type: application/json\r\nOrigin: https://evil.example\r\n";
    let response = http_request(server.addr, "POST", "/api/session", json, r#"{"nickname":"victim"}"#).await;
    assert_eq!(response.status, 403);
    // Reading stays open to everyone.
    let response =
        http_request(server.addr, "GET", "/api/rooms", "Origin: https://evil.example\r\n", "").await;
    assert_eq!(response.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn pages_carry_security_headers_and_a_nonce_policy() {
    let server = spawn_server().await;
    let page = http_request(server.addr, "GET", "/r/den", "", "").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let policy = page.header("content-security-policy").expect("a CSP");
    for directive in
        ["default-src 'self'", "'wasm-unsafe-eval'", "object-src 'none'", "frame-ancestors 'none'"]
    {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    // The inline scripts (the hydration loader, the rendered resources) and the stylesheet in the
    // head (when the binary carries the site) carry the policy's nonce.
    let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce");
    assert!(policy.contains(&format!("style-src 'self' 'nonce-{nonce}'")), "{policy}");
    let scripts = page.body.matches("<script").count();
    assert!(scripts >= 1);
    let inline = scripts + page.body.matches("<style").count();
    assert_eq!(page.body.matches(&format!("nonce=\"{nonce}\"")).count(), inline, "{}", page.body);
    // Each page gets a fresh nonce.
    let again = http_request(server.addr, "GET", "/r/den", "", "").await;
    assert_ne!(again.header("content-security-policy"), Some(policy));
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_message_closes_with_1009_and_invalid_utf8_with_1007() {
    let server = spawn_server().await;
    let limit = server::Limits::default().room_max_message_bytes;
    assert!(limit <= 16 * 1024, "a few KiB by default, not {limit}");
    for path in ["/chat?name=big", "/chat/den?name=big2"] {
        let mut ws = server.plain(path).await;
        let _welcome = next_text(&mut ws).await;
        send_text(&mut ws, &"x".repeat(limit + 1)).await;
        let close = expect_close(&mut ws).await;
        assert_eq!(u16::from(close.code), 1009, "{path}");
    }
    let (mut ws, _) = server.json("/chat/den?name=json-big").await;
    let _joined = next_event(&mut ws).await;
    send_text(&mut ws, &"x".repeat(limit + 1)).await;
    let close = expect_close(&mut ws).await;
    assert_eq!(u16::from(close.code), 1009);
    assert_eq!(close.reason.as_str(), format!("message too big: at most {limit} bytes"));

    let mut ws = server.plain("/chat/den?name=bad-bytes").await;
    let _welcome = next_text(&mut ws).await;
    let frame = Frame::message(Bytes::from_static(b"caf\xc3\x28"), OpCode::Data(Data::Text), true);
    ws.send(Message::Frame(frame)).await.expect("send frame");
    assert_eq!(u16::from(expect_close(&mut ws).await.code), 1007);
    server.stop().await;
}

#[tokio::test]
async fn a_peer_that_stops_answering_pings_is_dropped() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = server::Config::for_tests(data.path().to_path_buf());
    config.limits.ping_every = std::time::Duration::from_millis(200);
    config.limits.pong_deadline = std::time::Duration::from_millis(200);
    let server = spawn_with(config, data).await;
    let (mut watcher, _) = server.json("/chat/den?name=watcher").await;
    // A client that keeps reading answers the pings (tungstenite does it while reading)...
    let (mut alive, _) = server.json("/chat/den?name=alive").await;
    let reader =
        tokio::spawn(async move { while futures_util::StreamExt::next(&mut alive).await.is_some() {} });
    // ...one that never reads again cannot: it is dropped, and leaves after the grace period.
    let (silent, _) = server.json("/chat/den?name=silent").await;
    let mut seen = Vec::new();
    loop {
        match next_event(&mut watcher).await {
            app::protocol::ServerEvent::Joined { name, .. } => seen.push(format!("+{name}")),
            app::protocol::ServerEvent::Left { name, .. } => {
                seen.push(format!("-{name}"));
                break;
            }
            _ => {}
        }
    }
    assert_eq!(seen, ["+watcher", "+alive", "+silent", "-silent"]);
    drop(silent);
    reader.abort();
    server.stop().await;
}

/// A handshake in a version this server does not speak gets 426 with the versions it does
/// (RFC 6455, 4.4); a key that is not 16 bytes in base64 gets 400.
#[tokio::test]
async fn bad_handshakes_get_the_answers_rfc_6455_asks_for() {
    let server = spawn_server().await;
    let handshake = |version: Option<&str>, key: &str| {
        let version = version.map(|v| format!("Sec-WebSocket-Version: {v}\r\n")).unwrap_or_default();
        format!("Connection: Upgrade\r\nUpgrade: websocket\r\n{version}Sec-WebSocket-Key: {key}\r\n")
    };
    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    for path in ["/chat?name=v", "/echo"] {
        for version in [Some("8"), Some("14"), Some("13, 8"), None] {
            let raw = http_get_raw(server.addr, path, &handshake(version, KEY)).await;
            let raw = String::from_utf8_lossy(&raw).to_ascii_lowercase();
            assert!(raw.starts_with("http/1.1 426"), "{version:?}: {raw}");
            assert!(raw.contains("\r\nsec-websocket-version: 13\r\n"), "{raw}");
        }
        for key in ["", "short", "dGhlIHNhbXBsZSBub25j", "not base64, sixteen or more!"] {
            let raw = http_get_raw(server.addr, path, &handshake(Some("13"), key)).await;
            assert!(raw.starts_with(b"HTTP/1.1 400"), "{key:?}: {}", String::from_utf8_lossy(&raw));
        }
    }
    server.stop().await;
}

/// The status of a bare request to `path` that names the server `host`.
async fn status_for_host(addr: std::net::SocketAddr, path: &str, host: &str, extra: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    // The status line is enough (a WebSocket that was accepted stays open).
    let mut raw = Vec::new();
    let mut buf = [0u8; 256];
    while !raw.windows(2).any(|w| w == b"\r\n") {
        match tokio::time::timeout(PATIENCE, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => raw.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let raw = String::from_utf8_lossy(&raw);
    raw.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status in {raw}"))
}

/// A page on another site cannot reach a server on loopback by pointing its own name at it (DNS
/// rebinding): requests for names the server does not have are refused, pages and WebSocket
/// handshakes alike.
#[tokio::test]
async fn requests_for_names_this_server_does_not_have_are_refused() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = server::Config::for_tests(data.path().to_path_buf());
    config.allowed_hosts = vec!["chat.example".to_owned()];
    let server = spawn_with(config, data).await;
    let port = server.addr.port();
    let ws = "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    for (host, expected) in [
        (format!("rebound.evil.example:{port}"), 421),
        (format!("localhost:{port}"), 200),
        (format!("127.0.0.1:{port}"), 200),
        ("chat.example".to_owned(), 200),
    ] {
        assert_eq!(status_for_host(server.addr, "/healthz", &host, "").await, expected, "{host}");
        let handshake = if expected == 200 { 101 } else { expected };
        assert_eq!(status_for_host(server.addr, "/chat?name=h", &host, ws).await, handshake, "{host}");
    }
    server.stop().await;
}
