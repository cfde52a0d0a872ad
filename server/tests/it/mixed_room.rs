//! Both dialects in one room, and the room's single order.

use crate::helpers::*;
use app::protocol::ServerEvent;

#[tokio::test]
async fn plain_and_json_clients_see_each_other() {
    let server = spawn_server().await;
    let mut old = server.plain("/chat?name=old").await;
    assert_eq!(next_text(&mut old).await, "Welcome, old !");
    let (mut new, _) = server.json("/chat?name=new").await;
    assert_eq!(next_text(&mut old).await, "Welcome, new !");
    assert!(matches!(next_event(&mut new).await, ServerEvent::Joined { .. }));

    send_text(&mut old, "from the seed page").await;
    assert_eq!(next_text(&mut old).await, "old:from the seed page");
    assert!(matches!(next_event(&mut new).await,
        ServerEvent::Message { author, text, .. } if author.as_str() == "old" && text.as_str() == "from the seed page"));

    say_json(&mut new, "n1", "from the wasm page").await;
    assert_eq!(next_text(&mut old).await, "new:from the wasm page");

    send_text(&mut old, "quit").await;
    assert_eq!(next_text(&mut old).await, "old Logout");
    assert!(matches!(next_event(&mut new).await, ServerEvent::Left { name, .. } if name.as_str() == "old"));
    server.stop().await;
}

#[tokio::test]
async fn every_member_gets_every_message_in_the_same_order() {
    const SENDERS: usize = 4;
    const EACH: usize = 50;
    let server = spawn_server().await;
    let mut readers = Vec::new();
    for i in 0..3 {
        let mut ws = server.plain(&format!("/chat/order?name=r{i}")).await;
        assert_eq!(next_text(&mut ws).await, format!("Welcome, r{i} !"));
        readers.push(ws);
    }
    for (i, reader) in readers.iter_mut().enumerate() {
        for _ in (i + 1)..3 {
            next_text(reader).await; // the welcomes of later readers
        }
    }
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let url = server.url(&format!("/chat/order?name=s{s}"));
        senders.push(tokio::spawn(async move {
            let (mut ws, _) = connect(&url, None).await;
            for m in 0..EACH {
                send_text(&mut ws, &format!("{s}.{m}")).await;
            }
            ws
        }));
    }
    let mut logs = Vec::new();
    for reader in &mut readers {
        let mut said = Vec::new();
        while said.len() < SENDERS * EACH {
            let line = next_text(reader).await;
            if !line.starts_with("Welcome, ") {
                said.push(line);
            }
        }
        logs.push(said);
    }
    assert!(logs.windows(2).all(|w| w[0] == w[1]), "readers disagree on the order");
    for s in 0..SENDERS {
        let mine: Vec<_> = logs[0].iter().filter(|l| l.starts_with(&format!("s{s}:"))).cloned().collect();
        let expected: Vec<_> = (0..EACH).map(|m| format!("s{s}:{s}.{m}")).collect();
        assert_eq!(mine, expected, "each sender's messages keep their order");
    }
    for sender in senders {
        drop(sender.await.expect("sender"));
    }
    server.stop().await;
}
