//! The HTTP side: health, and the server-rendered pages.

use crate::helpers::*;

#[tokio::test]
async fn healthz_answers_200() {
    let server = spawn_server().await;
    assert_eq!(http_get(server.addr, "/healthz").await, (200, "ok".to_owned()));
    assert_eq!(http_get(server.addr, "/readyz").await, (200, "ready\n".to_owned()));
    server.stop().await;
}

#[tokio::test]
async fn pages_are_rendered_on_the_server() {
    let server = spawn_server().await;
    let (status, body) = http_get(server.addr, "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("#lobby"), "{body}");
    // A first visit is asked for a nickname; with a session the composer is there.
    assert!(body.contains("id=\"first-nickname\""), "the nickname form is in the page");
    assert!(!body.contains("id=\"message\""));
    let cookie = format!("Cookie: chat_session={}\r\n", session_token(server.addr, "reader").await);
    let page = http_request(server.addr, "GET", "/r/rust-talk", &cookie, "").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("#rust-talk"));
    assert!(page.body.contains("id=\"message\""), "the composer is in the page");
    assert!(page.body.contains("<title>#rust-talk · Chat</title>"));

    let (status, body) = http_get(server.addr, "/r/Bad%20Name").await;
    assert_eq!(status, 404);
    assert!(body.contains("That room name cannot be used"));
    server.stop().await;
}

#[tokio::test]
async fn pages_are_compressed_for_clients_that_accept_gzip() {
    let server = spawn_server().await;
    let raw = http_get_raw(server.addr, "/", "Accept-Encoding: gzip\r\n").await;
    let head = String::from_utf8_lossy(&raw[..raw.len().min(1024)]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-encoding: gzip"), "{head}");
    server.stop().await;
}
