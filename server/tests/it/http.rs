//! The HTTP side: health, and the server-rendered pages.

use crate::helpers::*;

#[tokio::test]
async fn healthz_answers_200() {
    let server = spawn_server().await;
    assert_eq!(http_get(server.addr, "/healthz").await, (200, "ok".to_owned()));
    server.stop().await;
}

#[tokio::test]
async fn pages_are_rendered_on_the_server() {
    let server = spawn_server().await;
    let (status, body) = http_get(server.addr, "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("#lobby"), "{body}");
    assert!(body.contains("id=\"message\""), "the composer is in the page");

    let (status, body) = http_get(server.addr, "/r/rust-talk").await;
    assert_eq!(status, 200);
    assert!(body.contains("#rust-talk"));

    let (status, body) = http_get(server.addr, "/r/Bad%20Name").await;
    assert_eq!(status, 200);
    assert!(body.contains("There is no room by that name"));
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
