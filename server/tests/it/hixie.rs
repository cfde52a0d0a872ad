//! Draft-76 and draft-75 clients, written as the seeds' own code talks to a socket (bare TCP,
//! the handshake by hand, `0x00` text `0xFF`), in the same rooms as RFC 6455 and JSON clients.

use crate::helpers::*;
use app::protocol::ServerEvent;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The draft-76 text's worked example (section 1.3): its keys, its 8 bytes, and the answer.
const KEY1: &str = "4 @1  46546xW%0l 1 5";
const KEY2: &str = "12998 5 Y3 1  .P00";
const KEY3: &[u8; 8] = b"^n:ds[4U";
const ANSWER: &[u8; 16] = b"8jKS'y:G*Co,Wxa-";

/// What draft-75 clients compare the answer's first bytes with.
const DRAFT_75_START: &[u8] =
    b"HTTP/1.1 101 Web Socket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Draft {
    D75,
    D76,
}

/// A hixie client on a bare socket.
struct Hixie {
    tcp: TcpStream,
    buf: Vec<u8>,
}

/// What a hixie client reads.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    Text(String),
    /// The closing handshake, `0xFF 0x00`.
    Close,
    /// The connection ended.
    End,
}

/// The request head of `draft`'s handshake for `path`, from a page of this server.
fn request(addr: SocketAddr, draft: Draft, path: &str) -> String {
    let keys = match draft {
        Draft::D76 => format!("Sec-WebSocket-Key1: {KEY1}\r\nSec-WebSocket-Key2: {KEY2}\r\n"),
        Draft::D75 => String::new(),
    };
    format!(
        "GET {path} HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n{keys}\r\n"
    )
}

impl Hixie {
    /// Connects with `draft`'s handshake; returns the client and the answer's head.
    async fn connect(addr: SocketAddr, draft: Draft, path: &str) -> (Self, String) {
        let mut bytes = request(addr, draft, path).into_bytes();
        if draft == Draft::D76 {
            bytes.extend_from_slice(KEY3);
        }
        Self::connect_raw(addr, draft, path, &[&bytes]).await
    }

    /// Sends `pieces` one after another (a pause between them, so that each is a read of its
    /// own), then reads the answer.
    async fn connect_raw(addr: SocketAddr, draft: Draft, path: &str, pieces: &[&[u8]]) -> (Self, String) {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        for (i, piece) in pieces.iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tcp.write_all(piece).await.expect("write");
        }
        let mut client = Self { tcp, buf: Vec::new() };
        let head = client.read_head().await;
        assert!(head.as_bytes().starts_with(DRAFT_75_START), "{head}");
        let origin = format!("http://{addr}");
        let location = format!("ws://{addr}{path}");
        let (origin_name, location_name) = match draft {
            Draft::D76 => ("Sec-Websocket-Origin", "Sec-Websocket-Location"),
            Draft::D75 => ("Websocket-Origin", "Websocket-Location"),
        };
        assert!(head.contains(&format!("\r\n{origin_name}: {origin}\r\n")), "{head}");
        assert!(head.contains(&format!("\r\n{location_name}: {location}\r\n")), "{head}");
        if draft == Draft::D76 {
            let answer = client.read_exactly(16).await;
            assert_eq!(answer, ANSWER, "the challenge's answer");
        }
        (client, head)
    }

    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(PATIENCE, self.tcp.read(&mut chunk))
            .await
            .expect("nothing arrived in time")
        {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    async fn read_head(&mut self) -> String {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end + 4]).into_owned();
                self.buf.drain(..end + 4);
                return head;
            }
            assert!(self.fill().await, "the connection ended before the answer's head");
        }
    }

    async fn read_exactly(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.fill().await, "the connection ended early");
        }
        self.buf.drain(..n).collect()
    }

    async fn send(&mut self, text: &str) {
        let mut frame = vec![0x00];
        frame.extend_from_slice(text.as_bytes());
        frame.push(0xff);
        self.tcp.write_all(&frame).await.expect("send");
    }

    async fn next(&mut self) -> Got {
        loop {
            match self.buf.first() {
                Some(0x00) => {
                    if let Some(end) = self.buf.iter().position(|&b| b == 0xff) {
                        let text = String::from_utf8(self.buf[1..end].to_vec()).expect("UTF-8");
                        self.buf.drain(..=end);
                        return Got::Text(text);
                    }
                }
                Some(0xff) if self.buf.get(1) == Some(&0x00) => {
                    self.buf.drain(..2);
                    return Got::Close;
                }
                Some(0xff) => {}
                Some(other) => panic!("a frame of type {other:#x} from the server"),
                None => {}
            }
            if !self.fill().await {
                assert!(self.buf.is_empty(), "the connection ended inside a frame: {:?}", self.buf);
                return Got::End;
            }
        }
    }

    async fn next_text(&mut self) -> String {
        match self.next().await {
            Got::Text(text) => text,
            other => panic!("expected text, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn draft_76_and_75_clients_share_a_room_with_rfc_6455_and_json_clients() {
    let server = spawn_server().await;
    let (mut d76, _) = Hixie::connect(server.addr, Draft::D76, "/chat/old?name=d76").await;
    assert_eq!(d76.next_text().await, "Welcome, d76 !");
    let (mut d75, _) = Hixie::connect(server.addr, Draft::D75, "/chat/old?name=d75").await;
    assert_eq!(d75.next_text().await, "Welcome, d75 !");
    assert_eq!(d76.next_text().await, "Welcome, d75 !");
    let mut rfc = server.plain("/chat/old?name=rfc").await;
    assert_eq!(next_text(&mut rfc).await, "Welcome, rfc !");
    let (mut json, _) = server.json("/chat/old?name=json").await;
    assert_eq!(next_text(&mut rfc).await, "Welcome, json !");
    for hixie in [&mut d76, &mut d75] {
        assert_eq!(hixie.next_text().await, "Welcome, rfc !");
        assert_eq!(hixie.next_text().await, "Welcome, json !");
    }

    // One after another, each seen by the RFC 6455 client before the next is sent: one order.
    let expected = ["d76:from draft 76", "d75:from draft 75", "rfc:from RFC 6455", "json:from JSON"];
    d76.send("from draft 76").await;
    assert_eq!(next_text(&mut rfc).await, expected[0]);
    d75.send("from draft 75").await;
    assert_eq!(next_text(&mut rfc).await, expected[1]);
    send_text(&mut rfc, "from RFC 6455").await;
    assert_eq!(next_text(&mut rfc).await, expected[2]);
    let mut heard = Vec::new();
    while heard.len() < 3 {
        match next_event(&mut json).await {
            ServerEvent::Message { author, text, .. } => heard.push(format!("{author}:{text}")),
            ServerEvent::Joined { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(heard, expected[..3]);
    say_json(&mut json, "j1", "from JSON").await;
    assert_eq!(next_text(&mut rfc).await, expected[3]);
    for hixie in [&mut d76, &mut d75] {
        for line in expected {
            assert_eq!(hixie.next_text().await, line);
        }
    }

    // Every hixie client sends an Origin (the drafts ask it to), as the pages of old browsers
    // did, which inserted what they got as HTML: markup comes escaped.
    send_text(&mut rfc, "<b>bold</b>").await;
    assert_eq!(next_text(&mut rfc).await, "rfc:<b>bold</b>");
    for hixie in [&mut d76, &mut d75] {
        assert_eq!(hixie.next_text().await, "rfc:&lt;b&gt;bold&lt;/b&gt;");
    }
    assert!(matches!(next_event(&mut json).await, ServerEvent::Message { .. }));

    // `quit`: everyone is told, and the client is closed with the closing handshake.
    d76.send("quit").await;
    assert_eq!(d76.next_text().await, "d76 Logout");
    assert_eq!(d76.next().await, Got::Close);
    assert_eq!(d76.next().await, Got::End);
    for hixie in [&mut d75] {
        assert_eq!(hixie.next_text().await, "d76 Logout");
    }
    assert_eq!(next_text(&mut rfc).await, "d76 Logout");

    // Leaving with the closing handshake: it is answered, and the others are told.
    d75.tcp.write_all(&[0xff, 0x00]).await.expect("close");
    assert_eq!(d75.next().await, Got::Close);
    assert_eq!(d75.next().await, Got::End);
    assert_eq!(next_text(&mut rfc).await, "d75 Logout");
    assert!(matches!(next_event(&mut json).await, ServerEvent::Left { name, .. } if name.as_str() == "d76"));
    assert!(matches!(next_event(&mut json).await, ServerEvent::Left { name, .. } if name.as_str() == "d75"));
    server.stop().await;
}

#[tokio::test]
async fn the_answers_are_what_each_draft_asks_for() {
    let server = spawn_server().await;
    // Draft 76, on the seeds' root URL: the worked example's answer after the head.
    let (mut d76, head) = Hixie::connect(server.addr, Draft::D76, "/").await;
    assert!(!head.to_ascii_lowercase().contains("sec-websocket-accept"), "{head}");
    assert!(d76.next_text().await.starts_with("Welcome, "), "the lobby, under a guest name");
    // Draft 75: nothing after the head but the room's lines.
    let (mut d75, head) = Hixie::connect(server.addr, Draft::D75, "/chat?name=plain75").await;
    assert!(!head.to_ascii_lowercase().contains("sec-websocket"), "{head}");
    assert_eq!(d75.next_text().await, "Welcome, plain75 !");
    server.stop().await;
}

#[tokio::test]
async fn a_handshake_and_a_message_in_many_pieces_are_put_together() {
    let server = spawn_server().await;
    let mut head = request(server.addr, Draft::D76, "/chat/pieces?name=split").into_bytes();
    head.extend_from_slice(KEY3);
    // The head cut inside a header, then key3 in three pieces, the last with the start of a
    // message.
    let cut = head.len() - 8;
    let mut tail = KEY3[6..].to_vec();
    tail.extend_from_slice(b"\x00he");
    let pieces: [&[u8]; 5] = [&head[..20], &head[20..cut], &KEY3[..2], &KEY3[2..6], &tail];
    let (mut client, _) =
        Hixie::connect_raw(server.addr, Draft::D76, "/chat/pieces?name=split", &pieces).await;
    assert_eq!(client.next_text().await, "Welcome, split !");
    // The rest of the message a byte at a time, a character cut in two among them.
    for byte in "llo wörld".as_bytes().iter().chain(&[0xff]) {
        client.tcp.write_all(&[*byte]).await.expect("write");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(client.next_text().await, "split:hello wörld");
    server.stop().await;
}

#[tokio::test]
async fn a_frame_that_never_ends_is_cut_at_the_message_limit() {
    let server = spawn_with_limits(|l| l.room_max_message_bytes = 1000).await;
    let mut watcher = server.plain("/chat/endless?name=watcher").await;
    assert_eq!(next_text(&mut watcher).await, "Welcome, watcher !");
    let (mut endless, _) = Hixie::connect(server.addr, Draft::D76, "/chat/endless?name=endless").await;
    assert_eq!(endless.next_text().await, "Welcome, endless !");
    assert_eq!(next_text(&mut watcher).await, "Welcome, endless !");
    let mut frame = vec![0x00];
    frame.extend_from_slice(&[b'x'; 1001]);
    endless.tcp.write_all(&frame).await.expect("write");
    assert_eq!(endless.next().await, Got::Close);
    assert_eq!(endless.next().await, Got::End);
    assert_eq!(next_text(&mut watcher).await, "endless Logout");
    // Nothing of it reached the room.
    expect_silence(&mut watcher).await;
    server.stop().await;
}

#[tokio::test]
async fn bad_keys_and_other_sites_are_refused_before_the_handshake() {
    let server = spawn_server().await;
    let status = |raw: &[u8]| String::from_utf8_lossy(raw).split(' ').nth(1).unwrap_or_default().to_owned();
    let head = |keys: &str, origin: &str| {
        format!("Upgrade: WebSocket\r\nConnection: Upgrade\r\nOrigin: {origin}\r\n{keys}")
    };
    let same = format!("http://{}", server.addr);
    for (keys, why) in [
        ("Sec-WebSocket-Key1: 12345\r\nSec-WebSocket-Key2: 1 2\r\n", "a key without a space"),
        ("Sec-WebSocket-Key1: 1 2 3\r\nSec-WebSocket-Key2: 1 2\r\n", "digits its spaces do not divide"),
        ("Sec-WebSocket-Key1: 99999999999 \r\nSec-WebSocket-Key2: 1 2\r\n", "a number past 32 bits"),
        ("Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n", "one key of two"),
    ] {
        let raw = http_get_raw(server.addr, "/chat?name=bad", &head(keys, &same)).await;
        assert_eq!(status(&raw), "400", "{why}: {}", String::from_utf8_lossy(&raw));
    }
    // The same Origin check as every WebSocket: a page of another site is refused.
    let keys = format!("Sec-WebSocket-Key1: {KEY1}\r\nSec-WebSocket-Key2: {KEY2}\r\n");
    let raw = http_get_raw(server.addr, "/chat?name=evil", &head(&keys, "http://evil.example")).await;
    assert_eq!(status(&raw), "403", "{}", String::from_utf8_lossy(&raw));
    let raw = http_get_raw(server.addr, "/chat?name=evil", &head("", "http://evil.example")).await;
    assert_eq!(status(&raw), "403", "draft 75: {}", String::from_utf8_lossy(&raw));
    server.stop().await;
}

#[tokio::test]
async fn the_rooms_limits_hold_for_hixie_clients() {
    let server = spawn_with_limits(|l| {
        l.max_connections_per_address = 2;
        l.messages_per_second = 50.0;
        l.message_burst = 5;
        l.flood_abuse_after = 10;
        // Pings every 100 ms, due within 200 ms: a hixie client cannot answer them, and is kept
        // alive by TCP instead, not dropped.
        l.ping_every = Duration::from_millis(100);
        l.pong_deadline = Duration::from_millis(200);
    })
    .await;
    let (mut quiet, _) = Hixie::connect(server.addr, Draft::D75, "/chat/limits?name=quiet").await;
    assert_eq!(quiet.next_text().await, "Welcome, quiet !");
    let (mut flood, _) = Hixie::connect(server.addr, Draft::D76, "/chat/limits?name=flood").await;
    assert_eq!(flood.next_text().await, "Welcome, flood !");
    assert_eq!(quiet.next_text().await, "Welcome, flood !");

    // A third connection from this address is refused, with the reason in the answer (a
    // hixie client has no close reason to read it from).
    let third = request(server.addr, Draft::D75, "/chat/limits?name=third");
    let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
    tcp.write_all(third.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, tcp.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.ends_with("too many connections from your address (at most 2)"), "{answer}");

    // Quiet well past several ping deadlines, and still there.
    tokio::time::sleep(Duration::from_millis(800)).await;
    quiet.send("still here").await;
    assert_eq!(quiet.next_text().await, "quiet:still here");
    assert_eq!(flood.next_text().await, "quiet:still here");

    // Flooding: slowed down, then closed.
    let mut frames = Vec::new();
    for i in 0..40 {
        frames.push(0x00);
        frames.extend_from_slice(format!("flood {i}").as_bytes());
        frames.push(0xff);
    }
    flood.tcp.write_all(&frames).await.expect("write");
    let ended = tokio::time::timeout(SLOW, async {
        loop {
            match flood.next().await {
                Got::Text(_) => {}
                other => return other,
            }
        }
    })
    .await
    .expect("closed in time");
    assert_eq!(ended, Got::Close);
    server.stop().await;
}

#[tokio::test]
async fn the_echo_answers_hixie_clients_too() {
    let server = spawn_server().await;
    let (mut client, _) = Hixie::connect(server.addr, Draft::D76, "/echo").await;
    client.send("échos").await;
    assert_eq!(client.next_text().await, "échos");
    client.tcp.write_all(&[0xff, 0x00]).await.expect("close");
    assert_eq!(client.next().await, Got::Close);
    assert_eq!(client.next().await, Got::End);
    server.stop().await;
}
