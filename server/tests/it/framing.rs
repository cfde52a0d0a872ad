//! Frame-level behaviour: fragmentation, control frames, length encodings in a room.

use crate::helpers::*;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::{Bytes, Message};

async fn send_fragments(ws: &mut Ws, first: OpCode, parts: &[&[u8]]) {
    for (i, part) in parts.iter().enumerate() {
        let opcode = if i == 0 { first } else { OpCode::Data(Data::Continue) };
        let frame = Frame::message(Bytes::copy_from_slice(part), opcode, i + 1 == parts.len());
        ws.send(Message::Frame(frame)).await.expect("send frame");
    }
}

#[tokio::test]
async fn fragmented_messages_are_reassembled() {
    let server = spawn_server().await;
    let mut ws = server.plain("/chat?name=frag").await;
    assert_eq!(next_text(&mut ws).await, "Welcome, frag !");
    // "and a happy new year!" split as in RFC 6455's example, with a ping between fragments
    // and a multi-byte character cut across two frames.
    let text = "and a happy new year! ✓";
    let bytes = text.as_bytes();
    let cut = bytes.len() - 2; // inside the 3-byte check mark
    send_fragments(
        &mut ws,
        OpCode::Data(Data::Text),
        &[&bytes[..6], &bytes[6..15], &bytes[15..cut], &bytes[cut..]],
    )
    .await;
    assert_eq!(next_text(&mut ws).await, format!("frag:{text}"));

    let mut echo = server.plain("/echo").await;
    send_fragments(&mut echo, OpCode::Data(Data::Binary), &[&[1, 2], &[], &[3]]).await;
    assert_eq!(next_message(&mut echo).await, Message::binary(vec![1u8, 2, 3]));
    server.stop().await;
}

#[tokio::test]
async fn pings_are_answered_with_the_same_payload() {
    let server = spawn_server().await;
    for path in ["/chat?name=pinger", "/echo"] {
        let mut ws = server.plain(path).await;
        ws.send(Message::Ping(Bytes::from_static(b"are you there?"))).await.expect("ping");
        let pong = loop {
            match tokio::time::timeout(PATIENCE, futures_util::StreamExt::next(&mut ws)).await {
                Ok(Some(Ok(Message::Pong(payload)))) => break payload,
                Ok(Some(Ok(_))) => continue, // the welcome line
                other => panic!("no pong on {path}: {other:?}"),
            }
        };
        assert_eq!(&pong[..], b"are you there?");
    }
    server.stop().await;
}

#[tokio::test]
async fn room_messages_across_the_7_to_16_bit_length_boundary() {
    let server = spawn_server().await;
    let mut ws = server.plain("/chat?name=n").await;
    assert_eq!(next_text(&mut ws).await, "Welcome, n !");
    // "n:" adds two bytes: these outbound frames are 125, 126 and 127 bytes long.
    for len in [123, 124, 125] {
        let text = "y".repeat(len);
        send_text(&mut ws, &text).await;
        assert_eq!(next_text(&mut ws).await, format!("n:{text}"));
    }
    let longest = "z".repeat(app::names::MessageText::MAX_BYTES);
    send_text(&mut ws, &longest).await;
    assert_eq!(next_text(&mut ws).await, format!("n:{longest}"));
    server.stop().await;
}
