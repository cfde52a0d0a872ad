//! What the CLI's tests share: a real chat server on loopback that can be stopped and started
//! again on the same port and data, and `chat-cli` pointed at it.

// Each test file uses a part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

pub const PATIENCE: Duration = Duration::from_secs(15);

pub struct Server {
    shutdown: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// A loopback port nobody listens on now, for a server that will be restarted on it.
pub fn free_addr() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    probe.local_addr().expect("its address")
}

/// The chat server on `addr`, keeping its data in `data`.
pub async fn serve(addr: SocketAddr, data: &Path) -> Server {
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
    pub async fn stop(self) {
        self.shutdown.cancel();
        let stopped = tokio::time::timeout(PATIENCE, self.handle).await;
        assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
    }
}

pub fn cli(addr: SocketAddr, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chat-cli"));
    command.arg("--server").arg(format!("http://{addr}")).args(args).kill_on_drop(true);
    command
}

/// Runs `chat-cli send`: whether it succeeded, and what it printed.
pub async fn send(addr: SocketAddr, name: &str, room: &str, text: &str) -> (bool, String) {
    let output = cli(addr, &["--name", name, "send", room, text]).output().await.expect("chat-cli runs");
    let printed =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), printed)
}
