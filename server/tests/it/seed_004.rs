//! Seed 004's echo server and Tornado room, each on a listener of its own, as its pages reach
//! them (their browser side is in end2end/tests/seed_004.spec.ts).

use crate::helpers::*;
use app::protocol::ServerEvent;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn the_echo_server_answers_on_its_pages_paths_escaping_for_pages() {
    let (server, echo, _) =
        spawn_with_seed_004(|c| c.allowed_origins = vec!["http://127.0.0.1:9".into()]).await;
    for path in ["/chat", "/chatsocket"] {
        // A program: the text as it is.
        let (mut ws, _) = connect(&format!("ws://{echo}{path}"), None).await;
        send_text(&mut ws, "你好 <b>").await;
        assert_eq!(next_text(&mut ws).await, "服务端已收到: 你好 <b>");
        // A page, which inserts what it gets with innerHTML: escaped.
        let (mut page, _) =
            connect_with(&format!("ws://{echo}{path}"), None, &[("Origin", "http://127.0.0.1:9")]).await;
        send_text(&mut page, r#"<img src=x onerror="alert(1)">"#).await;
        assert_eq!(
            next_text(&mut page).await,
            "服务端已收到: &lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
        );
    }
    // A page of a site not allowed gets nothing.
    let raw = http_get_raw(echo, "/chat", "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://evil.example\r\n").await;
    assert!(raw.starts_with(b"HTTP/1.1 403"), "{}", String::from_utf8_lossy(&raw));
    // Binary is not what it takes.
    let (mut ws, _) = connect(&format!("ws://{echo}/chat"), None).await;
    ws.send(Message::binary(vec![1, 2, 3])).await.expect("send");
    assert_eq!(expect_close(&mut ws).await.code, CloseCode::Unsupported);
    // The rooms are not on its port.
    let (mut ws, _) = connect(&format!("ws://{echo}/chat/lobby?name=x"), None).await;
    send_text(&mut ws, "hi").await;
    assert_eq!(next_text(&mut ws).await, "服务端已收到: hi");
    server.stop().await;
}

#[tokio::test]
async fn the_tornado_room_is_a_room_of_this_server() {
    let (server, _, tornado) = spawn_with_seed_004(|_| {}).await;
    let mut plain = server.plain("/chat?name=plain").await;
    assert_eq!(next_text(&mut plain).await, "Welcome, plain !");
    send_text(&mut plain, "before <i>you</i> came").await;
    assert_eq!(next_text(&mut plain).await, "plain:before <i>you</i> came");

    // A uuid first, then the history as fragments, the markup in them escaped.
    let (mut page, _) = connect(&format!("ws://{tornado}/chat"), None).await;
    let uid = next_text(&mut page).await;
    assert_eq!(uid.len(), 36, "{uid}");
    assert_eq!(uid.matches('-').count(), 4, "{uid}");
    assert_eq!(
        next_text(&mut page).await,
        r#"<div class="message"><b>plain</b>: before &lt;i&gt;you&lt;/i&gt; came</div>"#
    );
    // Joins are not for it, but the others see it join under a guest name.
    let welcome = next_text(&mut plain).await;
    let guest =
        welcome.strip_prefix("Welcome, ").and_then(|w| w.strip_suffix(" !")).expect(&welcome).to_owned();

    // What it sends, as its page does, reaches every dialect and is stored.
    let sent = serde_json::json!({"uid": uid, "message": "from <b>tornado</b>"}).to_string();
    send_text(&mut page, &sent).await;
    let fragment = format!(r#"<div class="message"><b>{guest}</b>: from &lt;b&gt;tornado&lt;/b&gt;</div>"#);
    assert_eq!(next_text(&mut page).await, fragment);
    assert_eq!(next_text(&mut plain).await, format!("{guest}:from <b>tornado</b>"));
    let (mut json, _) = server.json("/chat?name=reader&after=0&epoch=0").await;
    let mut texts = Vec::new();
    while texts.len() < 2 {
        if let ServerEvent::Message { text, .. } = next_event(&mut json).await {
            texts.push(text.as_str().to_owned());
        }
    }
    assert_eq!(texts, ["before <i>you</i> came", "from <b>tornado</b>"]);

    // Not the page's JSON: closed with the reason.
    send_text(&mut page, "not json").await;
    let close = skip_to_close_within(&mut page, PATIENCE).await;
    assert_eq!(close.code, CloseCode::Invalid);
    assert!(close.reason.contains("uid"), "{}", close.reason);

    // A page that comes back gets both messages as history, after a new uuid.
    let (mut again, _) = connect(&format!("ws://{tornado}/chat"), None).await;
    assert_ne!(next_text(&mut again).await, uid);
    assert!(next_text(&mut again).await.contains("before"));
    assert_eq!(next_text(&mut again).await, fragment);
    // Other rooms too.
    let (mut elsewhere, _) = connect(&format!("ws://{tornado}/chat/elsewhere"), None).await;
    next_text(&mut elsewhere).await;
    expect_silence(&mut elsewhere).await;
    server.stop().await;
}
