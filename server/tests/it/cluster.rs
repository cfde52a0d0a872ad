//! Several nodes sharing rooms, on a real PostgreSQL (the log) and a real Redis (the bus), both
//! on loopback. Each test starts its own Redis (`redis-server` from Debian, as scripts/redis.sh
//! installs it) so that it can stop it, restart it, or put a relay in front of it that loses,
//! reorders or cuts what passes.

use crate::crash::{Client, MESSAGES_EACH};
use crate::helpers::*;
use app::protocol::ServerEvent;
use futures_util::StreamExt;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// A node not heard of for this long is given up, in these tests.
const NODE_TIMEOUT: Duration = Duration::from_secs(3);
const SECRET: &str = "cluster-test-secret-cluster-test-secret";

/// A Redis server of the test's own.
struct Redis {
    port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Redis {
    async fn start() -> Self {
        let mut redis =
            Self { port: free_addr().port(), child: None, dir: tempfile::tempdir().expect("dir") };
        redis.up().await;
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn up(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server (scripts/redis.sh install puts it there)");
        self.child = Some(child);
        for _ in 0..100 {
            if ping(self.port).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not come up");
    }

    async fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.start_kill().expect("stop redis");
            child.wait().await.expect("reap redis");
        }
    }
}

async fn ping(port: u16) -> bool {
    let Ok(mut tcp) = TcpStream::connect(("127.0.0.1", port)).await else { return false };
    let mut answer = [0u8; 7];
    tcp.write_all(b"PING\r\n").await.is_ok()
        && tcp.read_exact(&mut answer).await.is_ok()
        && &answer == b"+PONG\r\n"
}

/// A node in this process, on `database` and the Redis at `redis`.
async fn node(database: &str, redis: &str) -> TestServer {
    node_with(database, redis, |_| {}).await
}

/// A node, with its limits as `change` leaves them.
async fn node_with(
    database: &str,
    redis: &str,
    change: impl FnOnce(&mut server::config::Limits),
) -> TestServer {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = server::Config::for_tests(data.path().to_path_buf());
    config.database_url = Some(database.to_owned());
    config.redis_url = Some(redis.to_owned());
    config.session_secret = Some(SECRET.to_owned());
    unthrottled(&mut config.limits);
    config.limits.node_timeout = NODE_TIMEOUT;
    change(&mut config.limits);
    spawn_with(config, data).await
}

/// The node's health report.
async fn health(addr: SocketAddr) -> String {
    http_get(addr, "/healthz").await.1
}

/// Waits until the node's bus is up and it has heard of `peers` other nodes.
async fn until_connected(addr: SocketAddr, peers: usize) {
    let want = format!("{peers} other nodes heard of");
    for _ in 0..200 {
        let report = health(addr).await;
        if report.starts_with("ok\n") && report.contains(&want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{addr} never joined the cluster: {}", health(addr).await);
}

/// Two nodes on a fresh database and a Redis of their own, each heard of by the other. The
/// Redis lives as long as what is returned first.
async fn two_nodes() -> (Redis, TestServer, TestServer) {
    let redis = Redis::start().await;
    let (database, _) = fresh_database().await;
    let a = node(&database, &redis.url()).await;
    let b = node(&database, &redis.url()).await;
    until_connected(a.addr, 1).await;
    until_connected(b.addr, 1).await;
    (redis, a, b)
}

/// What a client of either dialect has seen of the room.
#[derive(Default, Debug)]
struct Seen {
    /// Messages as `author:text`, in order.
    messages: Vec<String>,
    members: BTreeSet<String>,
    typing: Vec<Vec<String>>,
}

/// Reads a JSON client's events into `seen` until `done` says so.
async fn watch_json(ws: &mut Ws, seen: &mut Seen, done: impl Fn(&Seen) -> bool) {
    let mut ids = Vec::new();
    while !done(seen) {
        let Ok(Some(Ok(frame))) = tokio::time::timeout(SLOW, ws.next()).await else {
            panic!("nothing more arrived; seen: {seen:?}");
        };
        let Ok(event) = ServerEvent::from_json(frame.to_text().unwrap_or_default()) else { continue };
        match event {
            ServerEvent::Message { id, author, text, .. } => {
                assert!(
                    ids.last().is_none_or(|&last| id > last),
                    "out of order or twice: {id} after {ids:?}"
                );
                ids.push(id);
                seen.messages.push(format!("{author}:{text}"));
            }
            ServerEvent::Joined { name, .. } => {
                seen.members.insert(name.to_string());
            }
            ServerEvent::Left { name, .. } => {
                seen.members.remove(name.as_str());
            }
            ServerEvent::Typing { names, .. } => {
                seen.typing.push(names.iter().map(ToString::to_string).collect())
            }
            _ => {}
        }
    }
}

/// Reads a plain client's lines into `seen` until `done` says so.
async fn watch_plain(ws: &mut Ws, seen: &mut Seen, done: impl Fn(&Seen) -> bool) {
    while !done(seen) {
        let Ok(Some(Ok(frame))) = tokio::time::timeout(SLOW, ws.next()).await else {
            panic!("nothing more arrived; seen: {seen:?}");
        };
        let line = frame.to_text().unwrap_or_default().to_owned();
        if let Some(name) = line.strip_prefix("Welcome, ").and_then(|rest| rest.strip_suffix(" !")) {
            seen.members.insert(name.to_owned());
        } else if let Some(name) = line.strip_suffix(" Logout") {
            seen.members.remove(name);
        } else {
            seen.messages.push(line);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL and Redis: run scripts/test.sh")]
async fn three_nodes_show_every_client_one_order_and_one_set_of_members() {
    let redis = Redis::start().await;
    let (database, _) = fresh_database().await;
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(node(&database, &redis.url()).await);
    }
    for node in &nodes {
        until_connected(node.addr, 2).await;
    }
    // A JSON and a plain client on each node.
    let mut json = Vec::new();
    let mut plain = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let (ws, _, members) = node.json_as(&format!("/chat/town?name=j{i}"), &[]).await;
        json.push((ws, Seen { members: members.into_iter().collect(), ..Seen::default() }));
        let mut ws = node.plain(&format!("/chat/town?name=p{i}")).await;
        assert_eq!(next_text(&mut ws).await, format!("Welcome, p{i} !"));
        plain.push((ws, Seen::default()));
    }
    let everyone: BTreeSet<String> = (0..3).flat_map(|i| [format!("j{i}"), format!("p{i}")]).collect();
    for (ws, seen) in &mut json {
        watch_json(ws, seen, |seen| seen.members == everyone).await;
    }

    // A held nickname is refused on every other node, in both dialects.
    let mut thief = nodes[2].plain("/chat/town?name=j0").await;
    let refusal = expect_close(&mut thief).await;
    assert_eq!(refusal.code, CloseCode::Policy);
    assert!(refusal.reason.contains("already in use"), "{}", refusal.reason);
    let (mut thief, _) = connect(&nodes[0].url("/chat/town?name=P1"), Some(app::protocol::SUBPROTOCOL)).await;
    let mut refused = false;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(PATIENCE, thief.next()).await {
        let text = frame.to_text().unwrap_or_default().to_owned();
        refused |= matches!(
            ServerEvent::from_json(&text),
            Ok(ServerEvent::Error { code: app::protocol::ErrorCode::NameTaken, .. })
        );
    }
    assert!(refused, "the JSON dialect is told the name is taken");

    // Typing on one node shows on the others.
    send_text(&mut json[1].0, r#"{"type":"typing"}"#).await;
    for (i, (ws, seen)) in json.iter_mut().enumerate() {
        watch_json(ws, seen, |seen| seen.typing.last().is_some_and(|names| names == &["j1"])).await;
        assert!(seen.messages.is_empty(), "client {i}");
    }

    // Everyone talks at once, on every node.
    const EACH: usize = 15;
    for n in 0..EACH {
        for (i, (ws, _)) in json.iter_mut().enumerate() {
            let frame =
                serde_json::json!({"type": "send", "id": format!("j{i}-{n}"), "text": format!("json {n}")});
            send_text(ws, &frame.to_string()).await;
        }
        for (ws, _) in &mut plain {
            send_text(ws, &format!("plain {n}")).await;
        }
    }
    let total = EACH * 6;
    for (ws, seen) in &mut json {
        watch_json(ws, seen, |seen| seen.messages.len() >= total).await;
    }
    for (ws, seen) in &mut plain {
        watch_plain(ws, seen, |seen| seen.messages.len() >= total).await;
    }
    let order = json[0].1.messages.clone();
    assert_eq!(order.len(), total);
    for (i, (_, seen)) in json.iter().chain(plain.iter()).enumerate() {
        assert_eq!(seen.messages, order, "client {i} saw another order");
    }
    // The message ended j1's typing everywhere.
    for (ws, seen) in &mut json {
        watch_json(ws, seen, |seen| seen.typing.last().is_some_and(Vec::is_empty)).await;
    }
    // Nothing more arrives: every message came once.
    for (ws, _) in &mut plain {
        expect_silence(ws).await;
    }

    // A leave on one node is a leave everywhere, once.
    drop(plain.remove(0));
    for (ws, seen) in &mut json {
        watch_json(ws, seen, |seen| !seen.members.contains("p0")).await;
    }
    for (ws, _) in &mut plain {
        assert_eq!(next_text(ws).await, "p0 Logout");
    }
    for node in nodes {
        node.stop().await;
    }
}

/// What a relay in front of Redis does to what passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// Everything passes.
    Clear,
    /// Nothing passes either way, and nothing is closed: a dead network path.
    Cut,
}

/// A TCP relay between one node and Redis. Lossy, it loses every third publication the node
/// makes (sending it to a channel nobody hears, so that Redis still answers it) and reverses the
/// order of those that arrive together.
struct Relay {
    addr: SocketAddr,
    path: Arc<std::sync::Mutex<Path>>,
}

impl Relay {
    async fn start(redis_port: u16, lossy: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let path = Arc::new(std::sync::Mutex::new(Path::Clear));
        let shared = Arc::clone(&path);
        tokio::spawn(async move {
            let publications = Arc::new(AtomicUsize::new(0));
            while let Ok((client, _)) = listener.accept().await {
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", redis_port)).await else { continue };
                let (client_in, client_out) = client.into_split();
                let (up_in, up_out) = upstream.into_split();
                let (a, b) = (Arc::clone(&shared), Arc::clone(&shared));
                let publications = Arc::clone(&publications);
                tokio::spawn(pass(client_in, up_out, a, lossy.then_some(publications)));
                tokio::spawn(pass(up_in, client_out, b, None));
            }
        });
        Self { addr, path }
    }

    fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    fn set(&self, path: Path) {
        *self.path.lock().expect("relay") = path;
    }
}

/// Copies `from` to `to` while the path is clear (holding bytes back while it is cut), mangling
/// publications if `lossy` counts them.
async fn pass(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    path: Arc<std::sync::Mutex<Path>>,
    lossy: Option<Arc<AtomicUsize>>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // A cut path passes nothing, now or later: the connection is dead for good.
        if *path.lock().expect("relay") == Path::Cut {
            loop {
                if from.read(&mut buf).await.map_or(true, |n| n == 0) {
                    return;
                }
            }
        }
        let out = match &lossy {
            None => buf[..n].to_vec(),
            Some(count) => {
                pending.extend_from_slice(&buf[..n]);
                mangle(&mut pending, count)
            }
        };
        if to.write_all(&out).await.is_err() {
            return;
        }
    }
}

/// Takes the whole commands at the start of `pending` (RESP arrays of bulk strings, as a client
/// sends them) and returns them with their publications mangled.
fn mangle(pending: &mut Vec<u8>, count: &AtomicUsize) -> Vec<u8> {
    let mut commands = Vec::new();
    let mut used = 0;
    while let Some((command, len)) = parse_command(&pending[used..]) {
        commands.push(command);
        used += len;
    }
    pending.drain(..used);
    let is_publish = |c: &Vec<Vec<u8>>| c.len() == 3 && c[0].eq_ignore_ascii_case(b"PUBLISH");
    let mut payloads: Vec<Vec<u8>> =
        commands.iter().filter(|c| is_publish(c)).map(|c| c[2].clone()).collect();
    payloads.reverse();
    let mut payloads = payloads.into_iter();
    let mut out = Vec::new();
    for mut command in commands {
        if is_publish(&command) {
            command[2] = payloads.next().unwrap_or_default();
            if count.fetch_add(1, Ordering::Relaxed) % 3 == 2 {
                command[1] = b"nobody-listens".to_vec();
            }
        }
        out.extend_from_slice(format!("*{}\r\n", command.len()).as_bytes());
        for part in command {
            out.extend_from_slice(format!("${}\r\n", part.len()).as_bytes());
            out.extend_from_slice(&part);
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// One command at the start of `buf`, and its length, if it is all there.
fn parse_command(buf: &[u8]) -> Option<(Vec<Vec<u8>>, usize)> {
    fn line(buf: &[u8], at: usize) -> Option<(&[u8], usize)> {
        let end = buf[at..].windows(2).position(|w| w == b"\r\n")? + at;
        Some((&buf[at..end], end + 2))
    }
    let (head, mut at) = line(buf, 0)?;
    let parts: usize = std::str::from_utf8(head.strip_prefix(b"*")?).ok()?.parse().ok()?;
    let mut command = Vec::with_capacity(parts);
    for _ in 0..parts {
        let (len, next) = line(buf, at)?;
        let len: usize = std::str::from_utf8(len.strip_prefix(b"$")?).ok()?.parse().ok()?;
        if buf.len() < next + len + 2 {
            return None;
        }
        command.push(buf[next..next + len].to_vec());
        at = next + len + 2;
    }
    Some((command, at))
}

/// Streams crash-test clients (each [`MESSAGES_EACH`] messages, resent until acknowledged)
/// against `homes` (client i starts on `homes[i % len]`, and moves on to the next node whenever
/// its connection dies). Returns them once each has everything acknowledged and has seen the
/// whole log; `acks` counts the acknowledgements meanwhile.
fn stream(
    homes: Vec<SocketAddr>,
    clients: usize,
    tokens: Vec<String>,
    acks: Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<Client>> {
    let expected = (clients * MESSAGES_EACH) as u64;
    tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let (acks, homes) = (Arc::clone(&acks), homes.clone());
            tokio::spawn(async move {
                let mut client = Client::new(i, token);
                let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
                let mut at = i % homes.len();
                while !client.session(homes[at], &acks, expected).await {
                    assert!(tokio::time::Instant::now() < deadline, "{} never finished", client.name);
                    at = (at + 1) % homes.len();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                client
            })
        })
        .collect()
}

/// Every client saw every message once, in order, and had all of its own acknowledged.
async fn all_saw_everything_once(clients: Vec<tokio::task::JoinHandle<Client>>) {
    let count = clients.len();
    let expected: Vec<u64> = (1..=(count * MESSAGES_EACH) as u64).collect();
    for client in clients {
        let client = client.await.expect("client task");
        assert_eq!(client.acked.len(), MESSAGES_EACH, "{}: every message acknowledged", client.name);
        assert_eq!(client.delivered_twice, 0, "{}: nothing delivered twice", client.name);
        assert!(
            client.seen == expected,
            "{}: saw {} messages, not 1..={} in order",
            client.name,
            client.seen.len(),
            expected.len()
        );
    }
}

async fn tokens(addr: SocketAddr, count: usize) -> Vec<String> {
    let mut tokens = Vec::new();
    for i in 0..count {
        tokens.push(session_token(addr, &format!("c{i}")).await);
    }
    tokens
}

async fn until_acks(acks: &AtomicUsize, count: usize) {
    while acks.load(Ordering::Relaxed) < count {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until `addr`'s health report starts with `state` (`ok` or `degraded`).
async fn until_health(addr: SocketAddr, state: &str) -> String {
    for _ in 0..300 {
        let report = health(addr).await;
        if report.starts_with(&format!("{state}\n")) {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{addr} never reported {state}: {}", health(addr).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL and Redis: run scripts/test.sh")]
async fn redis_stopped_and_restarted_and_a_path_to_it_cut_lose_nothing() {
    let mut redis = Redis::start().await;
    let relay = Relay::start(redis.port, false).await;
    let (database, _) = fresh_database().await;
    let a = node(&database, &relay.url()).await;
    let b = node(&database, &redis.url()).await;
    until_connected(a.addr, 1).await;
    until_connected(b.addr, 1).await;
    assert_eq!(http_get(a.addr, "/readyz").await, (200, "ready\n".to_owned()));
    let acks = Arc::new(AtomicUsize::new(0));
    let clients = stream(vec![a.addr, b.addr], 4, tokens(a.addr, 4).await, Arc::clone(&acks));

    until_acks(&acks, 250).await;
    redis.down().await;
    for node in [&a, &b] {
        let report = until_health(node.addr, "degraded").await;
        assert!(report.contains("bus down"), "{report}");
        // Alive, and serving its own clients, but not the place to send new ones.
        let (status, ready) = http_get(node.addr, "/readyz").await;
        assert!(status == 503 && ready.contains("the bus is down"), "{status} {ready}");
    }
    let during = acks.load(Ordering::Relaxed);
    until_acks(&acks, during + 100).await;
    redis.up().await;
    until_health(a.addr, "ok").await;
    until_health(b.addr, "ok").await;
    assert_eq!(http_get(b.addr, "/readyz").await.0, 200);

    until_acks(&acks, 700).await;
    relay.set(Path::Cut);
    let report = until_health(a.addr, "degraded").await;
    assert!(
        report.contains("nothing heard") || report.contains("publishing"),
        "a silent path is noticed: {report}"
    );
    assert!(health(b.addr).await.starts_with("ok\n"), "the other node is not affected");
    let during = acks.load(Ordering::Relaxed);
    until_acks(&acks, (during + 100).min(1200)).await;
    relay.set(Path::Clear);
    until_health(a.addr, "ok").await;

    all_saw_everything_once(clients).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL and Redis: run scripts/test.sh")]
async fn a_bus_that_loses_and_reorders_publications_loses_nothing() {
    let redis = Redis::start().await;
    let (first, second) = (Relay::start(redis.port, true).await, Relay::start(redis.port, true).await);
    let (database, _) = fresh_database().await;
    let a = node(&database, &first.url()).await;
    let b = node(&database, &second.url()).await;
    let acks = Arc::new(AtomicUsize::new(0));
    let clients = stream(vec![a.addr, b.addr], 4, tokens(a.addr, 4).await, acks);
    all_saw_everything_once(clients).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL and Redis: run scripts/test.sh")]
async fn a_node_killed_under_load_loses_no_message_and_its_members_leave_once() {
    let redis = Redis::start().await;
    let (database, _) = fresh_database().await;
    let timeout = NODE_TIMEOUT.as_secs().to_string();
    let args = [
        "--database-url",
        &database,
        "--redis-url",
        &redis.url(),
        "--session-secret",
        SECRET,
        "--node-timeout-seconds",
        &timeout,
    ];
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (addr_a, addr_b) = (free_addr(), free_addr());
    let mut node_a = start_server_with(addr_a, dir_a.path(), &args);
    let _node_b = start_server_with(addr_b, dir_b.path(), &args);
    wait_until_up(addr_a).await;
    wait_until_up(addr_b).await;
    until_connected(addr_a, 1).await;
    until_connected(addr_b, 1).await;

    // A member of node A who will not come back, and one of node B watching the room.
    let (mut ghost, _) = connect(&format!("ws://{addr_a}/chat/crash?name=ghost"), None).await;
    assert_eq!(next_text(&mut ghost).await, "Welcome, ghost !");
    let (mut watcher, _) = connect(&format!("ws://{addr_b}/chat/crash?name=watcher"), None).await;
    let lines = Arc::new(std::sync::Mutex::new(Vec::<(tokio::time::Instant, String)>::new()));
    let kept = Arc::clone(&lines);
    let watching = tokio::spawn(async move {
        while let Some(Ok(frame)) = watcher.next().await {
            if let Ok(text) = frame.to_text() {
                kept.lock().expect("lines").push((tokio::time::Instant::now(), text.to_owned()));
            }
        }
    });

    let acks = Arc::new(AtomicUsize::new(0));
    let clients = stream(vec![addr_a, addr_b], 4, tokens(addr_a, 4).await, Arc::clone(&acks));
    until_acks(&acks, 400).await;
    node_a.start_kill().expect("SIGKILL");
    node_a.wait().await.expect("reap");
    let killed = tokio::time::Instant::now();
    drop(ghost);
    all_saw_everything_once(clients).await;
    // Until here, the clients were on one node or the other, all the time.
    let finished = tokio::time::Instant::now();

    // The killed node's members leave once it is given up, and only those that did not move.
    tokio::time::sleep_until(killed + NODE_TIMEOUT + Duration::from_secs(3)).await;
    watching.abort();
    let lines = lines.lock().expect("lines").clone();
    let leaves: Vec<_> = lines
        .iter()
        .filter(|(at, line)| line.ends_with(" Logout") && (*at < finished || line.starts_with("ghost")))
        .collect();
    assert_eq!(leaves.len(), 1, "only the member that never came back leaves: {leaves:?}");
    let (at, line) = leaves[0];
    assert_eq!(line, "ghost Logout");
    let after = at.duration_since(killed);
    assert!(
        after >= NODE_TIMEOUT - Duration::from_secs(1) && after <= NODE_TIMEOUT + Duration::from_secs(2),
        "left {after:?} after the kill"
    );
}

#[tokio::test]
async fn configurations_that_cannot_share_rooms_are_refused_at_start() {
    // Redis without PostgreSQL: the nodes would have no log in common.
    let data = tempfile::tempdir().expect("dir");
    let said = refused_at_start(data.path(), &["--redis-url", "redis://127.0.0.1:1"]).await;
    assert!(said.contains("--database-url postgres://"), "{said}");
    // A second process on one SQLite file.
    let first = start_server(free_addr(), data.path());
    wait_for_lock(data.path()).await;
    let said = refused_at_start(data.path(), &[]).await;
    assert!(said.contains("another server process uses") && said.contains("--redis-url"), "{said}");
    drop(first);
}

/// Until the server started on `data` holds its SQLite file.
async fn wait_for_lock(data: &std::path::Path) {
    for _ in 0..200 {
        if data.join("chat.db").exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not open its database");
}

#[tokio::test]
#[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL: run scripts/test.sh")]
async fn a_second_process_on_a_database_is_refused_unless_both_are_nodes() {
    let (database, _) = fresh_database().await;
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let addr = free_addr();
    let _alone = start_server_with(addr, dir_a.path(), &["--database-url", &database]);
    wait_until_up(addr).await;
    let said = refused_at_start(dir_b.path(), &["--database-url", &database]).await;
    assert!(
        said.contains("another server process uses this database") && said.contains("--redis-url"),
        "{said}"
    );
    let redis = Redis::start().await;
    let said =
        refused_at_start(dir_b.path(), &["--database-url", &database, "--redis-url", &redis.url()]).await;
    assert!(said.contains("a server process without --redis-url uses this database"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL and Redis: run scripts/test.sh")]
async fn one_nickname_goes_to_one_of_two_sessions_racing_for_it_on_two_nodes() {
    let (_redis, a, b) = two_nodes().await;
    // Each round, two new sessions ask for one name at the same moment, one on each node: the
    // bus cannot tell either node of the other in time, so only a claim both nodes consult can
    // keep the name to one of them.
    const ROUNDS: usize = 30;
    let mut doubled = Vec::new();
    for round in 0..ROUNDS {
        let path = format!("/chat/race?name=racer{round}");
        let (mut on_a, mut on_b) = tokio::join!(a.plain(&path), b.plain(&path));
        let (first_a, first_b) = tokio::join!(first_word(&mut on_a), first_word(&mut on_b));
        let welcomed = [&first_a, &first_b].iter().filter(|w| w.starts_with("Welcome")).count();
        assert!(welcomed >= 1, "round {round}: one of them gets the name ({first_a:?}, {first_b:?})");
        if welcomed == 2 {
            doubled.push(round);
        }
    }
    assert!(doubled.is_empty(), "both sessions got the name in rounds {doubled:?}");

    // A name its holder lets go of is given back at once, not when the claim would expire: a
    // new session gets it on the other node well within the node timeout.
    let (mut holder, other) = (a.plain("/chat/race?name=leaver").await, &b);
    assert!(first_word(&mut holder).await.starts_with("Welcome"));
    send_text(&mut holder, "quit").await;
    skip_to_close_within(&mut holder, PATIENCE).await;
    let left = tokio::time::Instant::now();
    loop {
        let mut next = other.plain("/chat/race?name=leaver").await;
        if first_word(&mut next).await.starts_with("Welcome") {
            break;
        }
        assert!(left.elapsed() < NODE_TIMEOUT / 2, "the name was not given back when its holder left");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.stop().await;
    b.stop().await;
}

/// The first thing a plain client is told: its welcome, or why it was closed.
async fn first_word(ws: &mut Ws) -> String {
    match tokio::time::timeout(PATIENCE, ws.next()).await {
        Ok(Some(Ok(frame))) if frame.is_text() => frame.to_text().unwrap_or_default().to_owned(),
        Ok(Some(Ok(frame))) => format!("{frame:?}"),
        other => format!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL and Redis: run scripts/test.sh")]
async fn an_account_is_one_on_every_node_and_logging_out_on_one_closes_it_on_all() {
    let (_redis, a, b) = two_nodes().await;
    let body = serde_json::json!({"nickname": "hal", "password": "the password"}).to_string();
    let registered =
        http_request(a.addr, "POST", "/api/accounts", "Content-Type: application/json\r\n", &body).await;
    assert_eq!(registered.status, 201, "{registered:?}");
    let token = serde_json::from_str::<serde_json::Value>(&registered.body).expect("JSON")["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    // The other node learns of the account within a second or so: the name is refused to a
    // guest there, and the token is honoured.
    let registered_at = tokio::time::Instant::now();
    loop {
        // In a room of its own: a guest let in before node B knew stays a member for the grace
        // period after it goes.
        let mut guest = b.plain("/chat/probe?name=hal").await;
        if first_word(&mut guest).await.contains("registered") {
            break;
        }
        assert!(registered_at.elapsed() < Duration::from_secs(3), "node B never refused the registered name");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (mut on_b, _, _) = b.json_as(&format!("/chat/den?token={token}"), &[]).await;
    let out =
        http_request(a.addr, "POST", "/api/logout", &format!("Authorization: Bearer {token}\r\n"), "").await;
    assert_eq!(out.status, 204, "{out:?}");
    let frame = skip_to_close_within(&mut on_b, PATIENCE).await;
    assert_eq!(frame.reason.as_str(), "this session was logged out");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(feature = "postgres-tests"), ignore = "needs PostgreSQL and Redis: run scripts/test.sh")]
async fn a_moderators_action_on_one_node_holds_on_every_node() {
    let (_redis, a, b) = two_nodes().await;
    let token = crate::accounts::register(a.addr, "owl", "the password").await;
    let (mut owner, _, _) = a.json_as(&format!("/chat/hq?token={token}"), &[]).await;
    let mut guest = b.plain("/chat/hq?name=gus").await;
    let (mut watcher, _) = b.json("/chat/hq?name=wat").await;
    // Node B learns of the owner's room from the log: the rules reach its members.
    let owned = tokio::time::Instant::now();
    while owner_rules(&mut watcher).await.as_deref() != Some("owl") {
        assert!(owned.elapsed() < SLOW, "node B never learned who owns the room");
    }
    let moderate =
        |action: serde_json::Value| serde_json::json!({"type": "moderate", "action": action}).to_string();
    // A timeout taken on A holds on B: the plain guest there is closed when it posts.
    send_text(&mut owner, &moderate(serde_json::json!({"kind": "timeout", "name": "gus", "seconds": 60})))
        .await;
    loop {
        if let ServerEvent::Moderated { action: app::protocol::Action::Timeout { .. }, .. } =
            next_event(&mut watcher).await
        {
            break;
        }
    }
    send_text(&mut guest, "hello from B").await;
    let close = skip_to_close_within(&mut guest, PATIENCE).await;
    assert!(close.reason.contains("timed out"), "{close:?}");
    // A ban taken on A puts the person out on B.
    let mut guest = b.plain("/chat/hq?name=gus2").await;
    let _welcome = first_word(&mut guest).await;
    send_text(&mut owner, &moderate(serde_json::json!({"kind": "ban", "name": "gus2", "reason": "spam"})))
        .await;
    let close = skip_to_close_within(&mut guest, PATIENCE).await;
    assert!(close.reason.contains("banned from #hq"), "{close:?}");
    a.stop().await;
    b.stop().await;
}

/// Reads the next `rules` event a JSON client gets, if one comes soon: its owner.
async fn owner_rules(ws: &mut Ws) -> Option<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, ws.next()).await {
        if let Ok(ServerEvent::Rules { rules, .. }) =
            ServerEvent::from_json(frame.to_text().unwrap_or_default())
        {
            return rules.owner.map(|o| o.to_string());
        }
    }
    None
}

/// One webhook, two nodes: each message (sent on either) is POSTed once, by whichever node
/// holds the webhook's lease; when that node stops, the other takes over where it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_deliver_a_webhook_once_between_them_and_take_it_over() {
    use crate::webhooks::{quick, receive, taken, text_of, Received};
    let receiver_addr = free_addr();
    let received = Arc::new(Received::default());
    received.status.store(200, Ordering::SeqCst);
    let stop_receiving = tokio_util::sync::CancellationToken::new();
    let receiver = tokio::spawn(receive(receiver_addr, received.clone(), stop_receiving.clone()));
    let redis = Redis::start().await;
    let (database, _) = fresh_database().await;
    let a = node_with(&database, &redis.url(), quick).await;
    let b = node_with(&database, &redis.url(), quick).await;
    until_connected(a.addr, 1).await;
    until_connected(b.addr, 1).await;
    let url = format!("http://{receiver_addr}/hook");
    let (ok, said) = crate::admin::admin(a.data_dir(), &["webhook-add", "forum", &url]).await;
    assert!(ok, "{said}");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (mut ann, _) = a.json("/chat/forum?name=ann").await;
    let (mut bob, _) = b.json("/chat/forum?name=bob").await;
    for i in 0..5 {
        say_json(&mut ann, &format!("a{i}"), &format!("ann {i}")).await;
    }
    while !matches!(next_event(&mut bob).await, ServerEvent::Message { text, .. } if text.as_str() == "ann 4")
    {
    }
    for i in 0..5 {
        say_json(&mut bob, &format!("b{i}"), &format!("bob {i}")).await;
    }
    taken(&received, 10).await;
    // The node that holds it stops; the other goes on.
    drop((ann, bob));
    let (ok, listed) = crate::admin::admin(a.data_dir(), &["webhooks"]).await;
    assert!(ok && listed.contains("server"), "{listed}");
    let (holder, other) = if listed.contains("by this server") { (a, b) } else { (b, a) };
    holder.stop().await;
    let (mut cid, _) = other.json("/chat/forum?name=cid").await;
    while !matches!(next_event(&mut cid).await, ServerEvent::Message { text, .. } if text.as_str() == "bob 4")
    {
    }
    say_json(&mut cid, "c", "after a stopped").await;
    let got = taken(&received, 11).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_now = received.taken();
    assert_eq!(got_now.len(), got.len(), "nothing twice");
    let texts: Vec<_> = got_now.iter().map(|(_, body)| text_of(body)).collect();
    let unique: BTreeSet<_> = texts.iter().collect();
    assert_eq!(unique.len(), 11, "each once: {texts:?}");
    assert_eq!(texts.last().map(String::as_str), Some("after a stopped"));
    let (ok, listed) = crate::admin::admin(other.data_dir(), &["webhooks"]).await;
    assert!(ok && listed.contains("by this server"), "taken over: {listed}");
    stop_receiving.cancel();
    let _ = receiver.await;
    other.stop().await;
    drop(redis);
}
