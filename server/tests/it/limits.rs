//! The limits on what one client can take: its message rate, its connections, and how long it
//! may take to say what it wants.

use crate::helpers::*;
use app::protocol::{ErrorCode, ServerEvent};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

fn send_frame(id: &str) -> String {
    serde_json::json!({"type": "send", "id": id, "text": format!("text of {id}")}).to_string()
}

#[tokio::test]
async fn a_fast_sender_is_slowed_down_and_loses_nothing() {
    let server = spawn_with_limits(|l| {
        l.messages_per_second = 20.0;
        l.message_burst = 5;
        l.flood_abuse_after = 20;
    })
    .await;
    let (mut ws, _) = server.json("/chat/fast?name=fast").await;
    let started = Instant::now();
    for i in 0..15 {
        send_text(&mut ws, &send_frame(&format!("m{i}"))).await;
    }
    let (mut acks, mut warnings, mut echoes) = (Vec::new(), 0, 0);
    while acks.len() < 15 || echoes < 15 {
        match next_event(&mut ws).await {
            ServerEvent::Ack { client_id, .. } => acks.push(client_id.to_string()),
            ServerEvent::Message { .. } => echoes += 1,
            ServerEvent::Error { code: ErrorCode::RateLimited, .. } => warnings += 1,
            ServerEvent::Joined { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(acks, (0..15).map(|i| format!("m{i}")).collect::<Vec<_>>(), "all stored, in order");
    assert_eq!(warnings, 1, "told once");
    // Five at once, the other ten at 20 a second.
    assert!(elapsed >= Duration::from_millis(450), "paced: {elapsed:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_keeps_flooding_is_closed_with_1008() {
    let server = spawn_with_limits(|l| {
        l.messages_per_second = 50.0;
        l.message_burst = 5;
        l.flood_abuse_after = 10;
    })
    .await;
    let (mut json, _) = server.json("/chat/flood?name=flooder").await;
    let mut plain = server.plain("/chat/flood2?name=plainflooder").await;
    for i in 0..40 {
        send_text(&mut json, &send_frame(&format!("f{i}"))).await;
        send_text(&mut plain, &format!("flood {i}")).await;
    }
    let mut acked = 0;
    for ws in [&mut json, &mut plain] {
        let close = loop {
            match next_message(ws).await {
                tokio_tungstenite::tungstenite::Message::Close(Some(frame)) => break frame,
                tokio_tungstenite::tungstenite::Message::Text(text) => {
                    acked += usize::from(text.as_str().starts_with(r#"{"type":"ack""#));
                }
                _ => continue,
            }
        };
        assert_eq!(close.code, CloseCode::Policy);
        assert!(close.reason.contains("flooding"), "{}", close.reason);
    }
    // What was accepted before the close is stored, all of it: at least the burst and the
    // throttled ten (more if the bucket refilled while messages were being stored).
    let (mut reader, _) = server.json("/chat/flood?name=reader&after=0&epoch=0").await;
    let mut stored = 0;
    while let Ok(event) = tokio::time::timeout(Duration::from_millis(300), next_event(&mut reader)).await {
        if matches!(event, ServerEvent::Message { .. }) {
            stored += 1;
        }
    }
    assert!(stored >= 15 && stored < 40, "{stored} stored");
    assert_eq!(stored, acked, "everything acknowledged before the close, and nothing else");
    server.stop().await;
}

#[tokio::test]
async fn one_address_holds_at_most_its_share_of_connections() {
    let server = spawn_with_limits(|l| l.max_connections_per_address = 3).await;
    let mut held = Vec::new();
    for i in 0..3 {
        held.push(server.plain(&format!("/chat/cap?name=c{i}")).await);
    }
    // The fourth, on a room or the echo, is refused with a reason.
    for path in ["/chat/cap?name=c3", "/echo"] {
        let mut extra = server.plain(path).await;
        let close = expect_close(&mut extra).await;
        assert_eq!(close.code, CloseCode::Policy, "{path}");
        assert_eq!(close.reason, "too many connections from your address (at most 3)");
    }
    // A place is given back when a connection ends.
    drop(held.pop());
    let mut again = None;
    for _ in 0..50 {
        let mut ws = server.plain("/chat/cap?name=c4").await;
        match next_message(&mut ws).await {
            tokio_tungstenite::tungstenite::Message::Text(text) => {
                assert_eq!(text.as_str(), "Welcome, c4 !");
                again = Some(ws);
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert!(again.is_some(), "a freed place is reused");
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_says_nothing_is_disconnected() {
    let server = spawn_with_limits(|l| l.handshake_timeout = Duration::from_millis(300)).await;
    // Connects and sends nothing; another sends half a request head and stops (slowloris).
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    let mut slow = TcpStream::connect(server.addr).await.expect("connect");
    slow.write_all(b"GET /chat HTTP/1.1\r\nHost: localhost\r\n").await.expect("write");
    let started = Instant::now();
    for stream in [&mut silent, &mut slow] {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut buf)).await;
        assert!(matches!(read, Ok(Ok(_)) | Ok(Err(_))), "the server hung up");
    }
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    // An idle keep-alive connection is closed after the same time.
    let mut idle = TcpStream::connect(server.addr).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.expect("write");
    let mut buf = Vec::new();
    let read = tokio::time::timeout(PATIENCE, idle.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "closed after being idle");
    assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"));
    // A WebSocket is not idle in that sense: it stays while it answers pings.
    let mut ws = server.plain("/chat?name=quiet").await;
    assert_eq!(next_text(&mut ws).await, "Welcome, quiet !");
    tokio::time::sleep(Duration::from_millis(600)).await;
    send_text(&mut ws, "still here").await;
    assert_eq!(next_text(&mut ws).await, "quiet:still here");
    server.stop().await;
}

/// Whether a new connection is served now: `GET /healthz` answered 200.
async fn served(server: &TestServer) -> bool {
    http_get_raw(server.addr, "/healthz", "").await.starts_with(b"HTTP/1.1 200")
}

async fn served_within(server: &TestServer, patience: Duration) -> bool {
    let until = Instant::now() + patience;
    while Instant::now() < until {
        if served(server).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Connections, of every kind, are capped in all (under the open-files limit) and per address:
/// past a cap a connection is told why at once and closed, instead of taking a file the server
/// needs.
#[tokio::test]
async fn connections_are_capped_in_all_and_per_address() {
    let server = spawn_with_limits(|l| {
        l.max_connections = 4;
        l.max_connections_per_address = 100;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(server.addr).await.expect("connect"));
    }
    let mut ws = server.plain("/chat?name=ws").await;
    assert_eq!(next_text(&mut ws).await, "Welcome, ws !");
    let raw = http_get_raw(server.addr, "/healthz", "").await;
    assert!(raw.starts_with(b"HTTP/1.1 503"), "{}", String::from_utf8_lossy(&raw));
    assert!(String::from_utf8_lossy(&raw).contains("the server is full"));
    drop(ws);
    assert!(served_within(&server, PATIENCE).await, "a place given back is taken again");
    drop(held);
    server.stop().await;

    let server = spawn_with_limits(|l| l.max_connections_per_address = 2).await;
    let idle: Vec<_> = vec![
        TcpStream::connect(server.addr).await.expect("connect"),
        TcpStream::connect(server.addr).await.expect("connect"),
    ];
    let raw = http_get_raw(server.addr, "/healthz", "").await;
    assert!(raw.starts_with(b"HTTP/1.1 429"), "{}", String::from_utf8_lossy(&raw));
    drop(idle);
    assert!(served_within(&server, PATIENCE).await);
    // WebSockets are counted apart: a client holding its share of them can still load a page.
    let mut sockets = Vec::new();
    for name in ["one", "two"] {
        let mut ws = server.plain(&format!("/chat?name={name}")).await;
        assert_eq!(next_text(&mut ws).await, format!("Welcome, {name} !"));
        sockets.push(ws);
    }
    assert!(served(&server).await);
    let mut third = server.plain("/chat?name=three").await;
    assert_eq!(expect_close(&mut third).await.reason, "too many connections from your address (at most 2)");
    server.stop().await;
}

/// A request body must arrive whole within its deadline, and be no larger than any form or JSON
/// request this server takes.
#[tokio::test]
async fn a_trickled_or_oversized_body_is_refused() {
    let server = spawn_with_limits(|l| l.body_deadline = Duration::from_millis(300)).await;
    let slow = TcpStream::connect(server.addr).await.expect("connect");
    let (mut from_server, mut to_server) = slow.into_split();
    let head = "POST /api/session HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    to_server.write_all(head.as_bytes()).await.expect("write");
    let started = Instant::now();
    // A byte every 50 ms: the whole body would take 5 s.
    let trickle = async {
        for _ in 0..100 {
            if to_server.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let mut reply = Vec::new();
    let read = tokio::select! {
        () = trickle => panic!("the whole body went in"),
        read = tokio::time::timeout(PATIENCE, from_server.read_to_end(&mut reply)) => read,
    };
    assert!(read.is_ok(), "answered");
    assert!(reply.starts_with(b"HTTP/1.1 408"), "{}", String::from_utf8_lossy(&reply));
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());

    let big = "x".repeat(100 * 1024);
    let response =
        http_request(server.addr, "POST", "/api/session", "Content-Type: application/json\r\n", &big).await;
    assert_eq!(response.status, 413, "{response:?}");
    let small = serde_json::json!({ "nickname": "fine" }).to_string();
    let response =
        http_request(server.addr, "POST", "/api/session", "Content-Type: application/json\r\n", &small).await;
    assert_eq!(response.status, 200, "{response:?}");
    server.stop().await;
}

/// A response nobody reads (a big file, a page) is given up on once the client has taken nothing
/// for the write-stall deadline: it does not hold its connection, and its place, for ever.
#[tokio::test]
async fn a_response_nobody_reads_does_not_hold_its_connection() {
    let data = tempfile::tempdir().expect("temp dir");
    let site = tempfile::tempdir().expect("temp dir");
    std::fs::write(site.path().join("big.bin"), vec![7u8; 32 << 20]).expect("a big file");
    let mut config = server::Config::for_tests(data.path().to_path_buf());
    config.site_root = Some(site.path().display().to_string());
    config.limits.write_stall = Duration::from_millis(300);
    config.limits.max_connections_per_address = 1;
    let server = spawn_with(config, data).await;

    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("a small window");
    let mut never_reads = socket.connect(server.addr).await.expect("connect");
    never_reads.write_all(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n").await.expect("write");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let raw = http_get_raw(server.addr, "/healthz", "").await;
    assert!(
        raw.starts_with(b"HTTP/1.1 429"),
        "it holds its address's one place: {}",
        String::from_utf8_lossy(&raw)
    );
    assert!(served_within(&server, PATIENCE).await, "given up on, and its place given back");
    drop(never_reads);
    server.stop().await;
}

/// A cookie's session, chosen by form: its `Cookie:` header line.
async fn choose_nickname(server: &TestServer, nickname: &str) -> HttpResponse {
    let form = format!(
        "Content-Type: application/x-www-form-urlencoded\r\nAccept: text/html\r\nReferer: http://{}/\r\n",
        server.addr
    );
    http_request(server.addr, "POST", "/fn/nickname", &form, &format!("nickname={nickname}")).await
}

/// Posts `text` to `room` by form, as a page without JavaScript does: the error, if any.
async fn post_by_form(server: &TestServer, cookie: &str, room: &str, text: &str) -> Option<String> {
    let headers = format!(
        "Content-Type: application/x-www-form-urlencoded\r\nAccept: text/html\r\nCookie: {cookie}\r\n\
         Referer: http://{}/r/{room}\r\n",
        server.addr
    );
    let response =
        http_request(server.addr, "POST", "/fn/post", &headers, &format!("room={room}&text={text}")).await;
    assert_eq!(response.status, 302, "{response:?}");
    let location = response.header("location").unwrap_or_default();
    // The error rides in the query string, in base64.
    let (_, err) = location.split_once("__err=")?;
    let err = err.split('&').next().unwrap_or_default().replace("%3D", "=");
    let decoded = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, err).expect("base64");
    Some(String::from_utf8_lossy(&decoded).into_owned())
}

/// Flood control holds every way in: a session's messages share one rate whether they come by
/// WebSocket or by form, and an address's share ten times that, however many sessions it has.
#[tokio::test]
async fn messages_by_form_share_the_senders_flood_control() {
    let server = spawn_with_limits(|l| {
        l.messages_per_second = 1.0;
        l.message_burst = 2;
    })
    .await;
    let (mut reader, _) = server.json("/chat/form?name=reader").await;
    say_json(&mut reader, "r1", "the room has a log").await;
    let cookie = choose_nickname(&server, "poster").await.cookie().expect("a session");
    assert_eq!(post_by_form(&server, &cookie, "form", "one").await, None);
    assert_eq!(post_by_form(&server, &cookie, "form", "two").await, None);
    let refused = post_by_form(&server, &cookie, "form", "three").await.expect("refused");
    assert!(refused.contains("too") && refused.contains("fast"), "{refused}");
    // The session's WebSocket waits its turn behind what its form sent.
    let (mut tab, _, _) = server.json_as("/chat/form", &[("Cookie", &cookie)]).await;
    while !matches!(next_event(&mut tab).await, ServerEvent::Joined { name, .. } if name.as_str() == "poster")
    {
    }
    let started = Instant::now();
    send_text(&mut tab, &send_frame("t1")).await;
    let mut warned = false;
    loop {
        match next_event(&mut tab).await {
            ServerEvent::Error { code: ErrorCode::RateLimited, .. } => warned = true,
            ServerEvent::Ack { .. } => break,
            _ => {}
        }
    }
    assert!(warned, "told it sends too fast");
    assert!(started.elapsed() >= Duration::from_millis(500), "{:?}", started.elapsed());

    server.stop().await;
}

/// An address's share is ten times one person's, however many sessions it has.
#[tokio::test]
async fn an_address_has_a_share_of_messages_however_many_sessions_it_has() {
    // A person: 2 at once, then one every 10 s; the address: 20 at once, then one a second.
    let server = spawn_with_limits(|l| {
        l.messages_per_second = 0.1;
        l.message_burst = 2;
    })
    .await;
    let (mut opener, _) = server.json("/chat/crowd?name=opener").await;
    say_json(&mut opener, "o1", "the room has a log").await;
    let (mut sent, mut refused) = (0, Vec::new());
    for i in 0..15 {
        let cookie = choose_nickname(&server, &format!("p{i}")).await.cookie().expect("a session");
        // Each session sends no more than its own burst.
        for _ in 0..2 {
            match post_by_form(&server, &cookie, "crowd", "hi").await {
                None => sent += 1,
                Some(why) => refused.push(why),
            }
        }
    }
    assert!(sent >= 19 && sent < 30, "the address's share holds: {sent} sent");
    assert!(refused.iter().all(|why| why.contains("too fast")), "{refused:?}");
    server.stop().await;
}

/// Sessions and rooms are made at a rate per address: each session is a token anyone could
/// mint, each room a log kept for good and a place in the room list.
#[tokio::test]
async fn sessions_and_rooms_are_made_at_a_rate_per_address() {
    let server = spawn_with_limits(|l| {
        l.new_sessions_per_minute = 3;
        l.new_rooms_per_hour = 2;
    })
    .await;
    for i in 0..3 {
        session_token(server.addr, &format!("s{i}")).await;
    }
    let body = serde_json::json!({ "nickname": "s3" }).to_string();
    let refused =
        http_request(server.addr, "POST", "/api/session", "Content-Type: application/json\r\n", &body).await;
    assert_eq!(refused.status, 429, "{refused:?}");
    assert_eq!(refused.header("retry-after"), Some("20"));
    assert!(choose_nickname(&server, "s4").await.header("location").is_some_and(|l| l.contains("__err=")));

    // Rooms: a message to a room without a log creates one.
    let (mut first, _) = server.json("/chat/new1?name=maker").await;
    say_json(&mut first, "m1", "a room").await;
    let (mut second, _) = server.json("/chat/new2?name=maker").await;
    say_json(&mut second, "m2", "another").await;
    let (mut third, _) = server.json("/chat/new3?name=maker").await;
    send_text(&mut third, r#"{"type":"send","id":"m3","text":"one too many"}"#).await;
    loop {
        match next_event(&mut third).await {
            ServerEvent::Error { code: ErrorCode::RateLimited, message } => {
                assert!(message.contains("too many new rooms"), "{message}");
                break;
            }
            ServerEvent::Joined { .. } => {}
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    // Rooms that exist take messages as ever.
    say_json(&mut first, "m4", "still here").await;
    let mut plain = server.plain("/chat/new4?name=plain").await;
    assert_eq!(next_text(&mut plain).await, "Welcome, plain !");
    send_text(&mut plain, "a room?").await;
    let close = expect_close(&mut plain).await;
    assert_eq!(close.code, CloseCode::Policy);
    assert!(close.reason.contains("too many new rooms"), "{}", close.reason);
    // Neither has a log: no message was stored there.
    for room in ["new3", "new4"] {
        let page = http_get(server.addr, &format!("/api/rooms/{room}/messages")).await.1;
        assert!(page.contains(r#""messages":[]"#), "{page}");
    }
    server.stop().await;
}
