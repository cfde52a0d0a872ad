//! A real server on port 0 with a fresh data directory, and a real WebSocket client.

use app::protocol::{ServerEvent, SUBPROTOCOL};
use futures_util::{SinkExt, StreamExt};
use server::{Config, Limits};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for something that should happen at once.
pub const PATIENCE: Duration = Duration::from_secs(5);
/// How long it waits for what comes only after a timeout of the server's (a store's busy
/// timeout, a write deadline).
pub const SLOW: Duration = Duration::from_secs(15);

pub struct TestServer {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    pub handle: JoinHandle<anyhow::Result<()>>,
    _data: tempfile::TempDir,
}

pub async fn spawn_server() -> TestServer {
    let data = tempfile::tempdir().expect("temp dir");
    let config = Config::for_tests(data.path().to_path_buf());
    spawn_with(config, data).await
}

/// Limits without flood control, for tests that send faster than any person would (the flood
/// control's own tests are in guard.rs and limits.rs).
pub fn unthrottled(limits: &mut Limits) {
    limits.messages_per_second = 1e9;
    limits.message_burst = u32::MAX;
}

/// A server without flood control (see [`unthrottled`]).
pub async fn spawn_unthrottled() -> TestServer {
    spawn_with_limits(unthrottled).await
}

/// A server with the tests' limits as `change` leaves them.
pub async fn spawn_with_limits(change: impl FnOnce(&mut Limits)) -> TestServer {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_tests(data.path().to_path_buf());
    change(&mut config.limits);
    spawn_with(config, data).await
}

/// A server with `config`, keeping `data` (its data directory) alive as long as it runs.
pub async fn spawn_with(config: Config, data: tempfile::TempDir) -> TestServer {
    let listener = TcpListener::bind(config.addr).await.expect("bind port 0");
    let addr = listener.local_addr().expect("local addr");
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(server::run(config, listener, shutdown.clone()));
    TestServer { addr, shutdown, handle, _data: data }
}

/// A server that also stands in for seed 004's echo server and Tornado room, each on a port of
/// its own; returns the server and those two addresses.
pub async fn spawn_with_seed_004(change: impl FnOnce(&mut Config)) -> (TestServer, SocketAddr, SocketAddr) {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_tests(data.path().to_path_buf());
    change(&mut config);
    let bind = || async { TcpListener::bind("127.0.0.1:0").await.expect("bind port 0") };
    let (main, echo, tornado) = (bind().await, bind().await, bind().await);
    let addr = main.local_addr().expect("local addr");
    let echo_addr = echo.local_addr().expect("local addr");
    let tornado_addr = tornado.local_addr().expect("local addr");
    let listeners = server::Listeners { main, echo: Some(echo), tornado: Some(tornado), metrics: None };
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(server::run(config, listeners, shutdown.clone()));
    (TestServer { addr, shutdown, handle, _data: data }, echo_addr, tornado_addr)
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// A client of the plain-text dialect (no subprotocol offered), as the seeds' pages are.
    pub async fn plain(&self, path: &str) -> Ws {
        connect(&self.url(path), None).await.0
    }

    /// A client of the JSON dialect; returns it after its `ready` and `members` events.
    pub async fn json(&self, path: &str) -> (Ws, ServerEvent) {
        let (ws, ready, _members) = self.json_as(path, &[]).await;
        (ws, ready)
    }

    /// A client of the JSON dialect sending extra `headers` (a cookie, say); returns it with its
    /// `ready` event and the member list that follows.
    pub async fn json_as(&self, path: &str, headers: &[(&str, &str)]) -> (Ws, ServerEvent, Vec<String>) {
        let (mut ws, selected) = connect_with(&self.url(path), Some(SUBPROTOCOL), headers).await;
        assert_eq!(selected.as_deref(), Some(SUBPROTOCOL));
        let ready = next_event(&mut ws).await;
        assert!(matches!(ready, ServerEvent::Ready { .. }), "expected ready, got {ready:?}");
        let members = match next_event(&mut ws).await {
            ServerEvent::Members { names, .. } => names.iter().map(|n| n.to_string()).collect(),
            other => panic!("expected the member list, got {other:?}"),
        };
        (ws, ready, members)
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        self._data.path()
    }

    pub async fn stop(self) {
        self.stop_keeping_data().await;
    }

    /// Stops the server; returns its data directory for a restart.
    pub async fn stop_keeping_data(self) -> tempfile::TempDir {
        self.shutdown.cancel();
        let result = tokio::time::timeout(Duration::from_secs(15), self.handle).await;
        assert!(matches!(result, Ok(Ok(Ok(())))), "server did not stop cleanly: {result:?}");
        self._data
    }

    /// Stops the server and starts a new one on the same data directory.
    pub async fn restart(self) -> TestServer {
        self.restart_with(|_| {}).await
    }

    /// Stops the server and starts a new one on the same data directory, configured by `change`.
    pub async fn restart_with(self, change: impl FnOnce(&mut Config)) -> TestServer {
        let data = self.stop_keeping_data().await;
        let mut config = Config::for_tests(data.path().to_path_buf());
        change(&mut config);
        spawn_with(config, data).await
    }
}

/// Connects, offering `protocols` (comma-separated) if any; returns the selected subprotocol.
pub async fn connect(url: &str, protocols: Option<&str>) -> (Ws, Option<String>) {
    connect_with(url, protocols, &[]).await
}

/// [`connect`] with extra request headers.
pub async fn connect_with(
    url: &str,
    protocols: Option<&str>,
    headers: &[(&str, &str)],
) -> (Ws, Option<String>) {
    let mut request = url.into_client_request().expect("request");
    if let Some(protocols) = protocols {
        request.headers_mut().insert("Sec-WebSocket-Protocol", protocols.parse().expect("header"));
    }
    for (name, value) in headers {
        let name: tokio_tungstenite::tungstenite::http::HeaderName = name.parse().expect("header name");
        request.headers_mut().insert(name, value.parse().expect("header value"));
    }
    let (ws, response) = tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(request))
        .await
        .expect("connect timed out")
        .expect("connect");
    let selected =
        response.headers().get("Sec-WebSocket-Protocol").map(|v| v.to_str().expect("ascii").to_owned());
    (ws, selected)
}

/// The next data or close message, skipping pings and pongs.
pub async fn next_message(ws: &mut Ws) -> Message {
    next_message_within(ws, PATIENCE).await
}

/// [`next_message`], waiting at most `patience` for each frame.
pub async fn next_message_within(ws: &mut Ws, patience: Duration) -> Message {
    loop {
        let message = tokio::time::timeout(patience, ws.next())
            .await
            .expect("nothing arrived in time")
            .expect("stream ended")
            .expect("read failed");
        if !matches!(message, Message::Pong(_) | Message::Ping(_)) {
            return message;
        }
    }
}

pub async fn next_text(ws: &mut Ws) -> String {
    next_text_within(ws, PATIENCE).await
}

pub async fn next_text_within(ws: &mut Ws, patience: Duration) -> String {
    match next_message_within(ws, patience).await {
        Message::Text(text) => text.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

pub async fn next_event(ws: &mut Ws) -> ServerEvent {
    next_event_within(ws, PATIENCE).await
}

pub async fn next_event_within(ws: &mut Ws, patience: Duration) -> ServerEvent {
    let text = next_text_within(ws, patience).await;
    ServerEvent::from_json(&text).unwrap_or_else(|e| panic!("not an event: {text}: {e}"))
}

/// Sends a JSON `send` with client id `id`; returns its stored id from the `ack`, after also
/// reading the room's echo of it (the two may come in either order).
pub async fn say_json(ws: &mut Ws, id: &str, text: &str) -> u64 {
    let frame = serde_json::json!({"type": "send", "id": id, "text": text}).to_string();
    send_text(ws, &frame).await;
    let (mut acked, mut echoed) = (None, None);
    while acked.is_none() || echoed.is_none() {
        match next_event(ws).await {
            ServerEvent::Ack { client_id, id: seq } if client_id.as_str() == id => acked = Some(seq),
            ServerEvent::Message { id: seq, client_id: Some(c), .. } if c.as_str() == id => {
                echoed = Some(seq)
            }
            ServerEvent::Joined { .. }
            | ServerEvent::Left { .. }
            | ServerEvent::Typing { .. }
            | ServerEvent::Rules { .. }
            | ServerEvent::Moderated { .. } => {}
            other => panic!("unexpected {other:?} while sending {id}"),
        }
    }
    assert_eq!(acked, echoed, "ack and echo name the same stored message");
    acked.unwrap_or_default()
}

pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.expect("send");
}

/// Waits for the server's close frame, the very next thing it sends.
pub async fn expect_close(ws: &mut Ws) -> CloseFrame {
    match next_message(ws).await {
        Message::Close(Some(frame)) => frame,
        other => panic!("expected a close frame, got {other:?}"),
    }
}

/// Waits up to `patience` for the server's close frame, skipping whatever comes before it.
pub async fn skip_to_close_within(ws: &mut Ws, patience: Duration) -> CloseFrame {
    let close = tokio::time::timeout(patience, async {
        loop {
            if let Message::Close(frame) = next_message_within(ws, patience).await {
                return frame;
            }
        }
    });
    match close.await {
        Ok(Some(frame)) => frame,
        other => panic!("expected a close frame, got {other:?}"),
    }
}

/// Nothing arrives for a short while.
pub async fn expect_silence(ws: &mut Ws) {
    let got = tokio::time::timeout(Duration::from_millis(200), ws.next()).await;
    assert!(got.is_err(), "expected nothing, got {got:?}");
}

/// A bare HTTP/1.1 GET; returns the status code and the body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let raw = String::from_utf8_lossy(&http_get_raw(addr, path, "").await).into_owned();
    let status = raw.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status line");
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// A bare HTTP/1.1 GET with extra header lines (each ending in CRLF); returns the raw response.
pub async fn http_get_raw(addr: SocketAddr, path: &str, headers: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut raw)).await.expect("slow").expect("read");
    raw
}

/// A response read whole: status, headers (names lowercased) and body.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The `name=value` of the `Set-Cookie` header, without its attributes.
    pub fn cookie(&self) -> Option<String> {
        Some(self.header("set-cookie")?.split(';').next()?.to_owned())
    }
}

/// A bare HTTP/1.1 request with header lines (each ending in CRLF) and a body.
pub async fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut raw)).await.expect("slow").expect("read");
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    HttpResponse { status, headers, body: body.to_owned() }
}

/// A session bound to `nickname` through `POST /api/session`: its token.
pub async fn session_token(addr: SocketAddr, nickname: &str) -> String {
    let body = serde_json::json!({ "nickname": nickname }).to_string();
    let response =
        http_request(addr, "POST", "/api/session", "Content-Type: application/json\r\n", &body).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let reply: serde_json::Value = serde_json::from_str(&response.body).expect("json");
    reply["token"].as_str().expect("a token").to_owned()
}

/// A fresh database on the test PostgreSQL: its URL, and the server's URL to administer it.
pub async fn fresh_database() -> (String, String) {
    let admin = std::env::var("CHAT_TEST_POSTGRES_URL")
        .expect("CHAT_TEST_POSTGRES_URL must name a PostgreSQL server (scripts/postgres.sh starts one)");
    let pool = sqlx::PgPool::connect(&admin).await.expect("connect to the test PostgreSQL");
    let name = format!("chat_it_{}", fastrand::u64(..));
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.expect("create database");
    let (base, _) = admin.rsplit_once('/').expect("a URL with a database name");
    (format!("{base}/{name}"), admin)
}

/// A loopback address with a port that was free a moment ago.
pub fn free_addr() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    probe.local_addr().expect("addr")
}

/// The server binary as a child process on `addr` (so that it can be killed or signalled, and its
/// memory read), without flood control or the per-address caps: the tests that use it send far
/// faster than a person, from more connections, sessions and rooms than one address may have.
pub fn start_server(addr: SocketAddr, data: &std::path::Path) -> Child {
    start_server_with(addr, data, &[])
}

/// [`start_server`] with more flags.
pub fn start_server_with(addr: SocketAddr, data: &std::path::Path, args: &[&str]) -> Child {
    let mut command = server_command(addr, data);
    command.args(args);
    command.env("RUST_LOG", "error").stdout(Stdio::null()).stderr(Stdio::null());
    command.spawn().expect("start the server binary")
}

/// Starts the server binary with `args` and expects it to refuse to start: returns what it said
/// on its standard error.
pub async fn refused_at_start(data: &std::path::Path, args: &[&str]) -> String {
    let mut command = server_command(free_addr(), data);
    command.args(args).env("RUST_LOG", "error").stdout(Stdio::null()).stderr(Stdio::piped());
    let child = command.spawn().expect("start the server binary");
    let output = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the server should have refused to start, and it is still running")
        .expect("the server's output");
    assert!(!output.status.success(), "the server should have refused to start");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// [`start_server`], with its log (warnings and worse, on its standard output) on a pipe for the
/// test to read.
pub fn start_server_logging(addr: SocketAddr, data: &std::path::Path) -> Child {
    let mut command = server_command(addr, data);
    command.env("RUST_LOG", "warn").stdout(Stdio::piped()).stderr(Stdio::null());
    command.spawn().expect("start the server binary")
}

pub fn server_command(addr: SocketAddr, data: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .args(["--addr", &addr.to_string(), "--data-dir"])
        .arg(data)
        .args(["--messages-per-second", "1000000", "--message-burst", "1000000"])
        .args(["--max-connections-per-address", "100000"])
        .args(["--new-sessions-per-minute", "100000", "--new-rooms-per-hour", "100000"])
        .kill_on_drop(true);
    command
}

pub async fn wait_until_up(addr: SocketAddr) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() && http_get(addr, "/healthz").await.0 == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

/// How many files process `pid` has open.
pub fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|dir| dir.count()).unwrap_or(0)
}

/// The resident memory of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
