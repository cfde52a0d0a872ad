//! `chat-cli tail` and `send` against a real server on loopback, across the server's restart.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};
use tokio_util::sync::CancellationToken;

const PATIENCE: Duration = Duration::from_secs(15);

struct Server {
    shutdown: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// The chat server on `addr`, keeping its data in `data`.
async fn serve(addr: SocketAddr, data: &Path) -> Server {
    let config = server::Config::for_tests(data.to_path_buf());
    let mut bound = None;
    for _ in 0..100 {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => {
                bound = Some(listener);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let listener = bound.expect("the port is free again");
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(server::run(config, listener, shutdown.clone()));
    Server { shutdown, handle }
}

impl Server {
    async fn stop(self) {
        self.shutdown.cancel();
        let stopped = tokio::time::timeout(PATIENCE, self.handle).await;
        assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
    }
}

fn cli(addr: SocketAddr, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chat-cli"));
    command.arg("--server").arg(format!("http://{addr}")).args(args).kill_on_drop(true);
    command
}

/// Runs `chat-cli send`: whether it succeeded, and what it printed.
async fn send(addr: SocketAddr, name: &str, room: &str, text: &str) -> (bool, String) {
    let output = cli(addr, &["--name", name, "send", room, text]).output().await.expect("chat-cli runs");
    let printed =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), printed)
}

/// The next line `tail` prints.
async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("tail printed nothing in time")
        .expect("tail's output")
        .expect("tail still runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_prints_a_room_live_and_resumes_after_the_server_restarts() {
    let data = tempfile::tempdir().expect("temp dir");
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        probe.local_addr().expect("its address")
    };
    let server = serve(addr, data.path()).await;

    let (ok, said) = send(addr, "ann", "den", "hello world").await;
    assert!(ok, "{said}");
    assert_eq!(said.trim(), "1", "the stored message's number");

    let mut tail =
        cli(addr, &["--name", "watcher", "tail", "den"]).stdout(Stdio::piped()).spawn().expect("tail");
    let mut lines = BufReader::new(tail.stdout.take().expect("stdout")).lines();
    let first = next_line(&mut lines).await;
    assert!(first.ends_with("ann: hello world  #1"), "history first: {first}");
    // Live: what arrives after it joined (its own arrival may come first).
    let (ok, said) = send(addr, "bob", "den", "second").await;
    assert!(ok, "{said}");
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("bob: second")) {
        seen.push(next_line(&mut lines).await);
    }

    // The server goes away and comes back: tail connects again and resumes after #2.
    server.stop().await;
    let server = serve(addr, data.path()).await;
    let (ok, said) = send(addr, "ann", "den", "third").await;
    assert!(ok, "{said}");
    let mut after = Vec::new();
    while !after.iter().any(|l: &String| l.contains("ann: third")) {
        after.push(next_line(&mut lines).await);
    }
    assert!(
        after.iter().all(|l| !l.contains("hello world") && !l.contains("second")),
        "nothing twice: {after:?}"
    );

    // What cannot be sent is refused with the reason, and a failure code.
    let (ok, said) = send(addr, "ann", "no room/here", "x").await;
    assert!(!ok && said.contains("bad room name"), "{said}");
    drop(tail);
    server.stop().await;
}
