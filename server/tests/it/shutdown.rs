//! Draining on shutdown: every WebSocket client is told (close 1001) and the server returns.

use crate::helpers::*;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn shutdown_closes_every_session_with_1001() {
    let server = spawn_server().await;
    let mut plain = server.plain("/chat?name=p").await;
    assert_eq!(next_text(&mut plain).await, "Welcome, p !");
    let (mut json, _) = server.json("/chat/other?name=j").await;
    let mut echo = server.plain("/echo").await;
    server.shutdown.cancel();
    for ws in [&mut plain, &mut json, &mut echo] {
        loop {
            match next_message(ws).await {
                tokio_tungstenite::tungstenite::Message::Close(Some(frame)) => {
                    assert_eq!(frame.code, CloseCode::Away);
                    break;
                }
                _ => continue,
            }
        }
    }
    let result = tokio::time::timeout(std::time::Duration::from_secs(15), server.handle).await;
    assert!(matches!(result, Ok(Ok(Ok(())))), "{result:?}");
}
