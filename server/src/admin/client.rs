//! `server admin …`: sends one request to the server's admin socket and prints the answer.

use super::{Reply, Request, SOCKET};
use std::path::Path;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// How long the command waits for the server.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(15);

/// Asks the server whose data directory is `data_dir`.
pub async fn ask(data_dir: &Path, request: &Request) -> anyhow::Result<Reply> {
    use anyhow::Context;
    let path = data_dir.join(SOCKET);
    let exchange = async {
        let stream = UnixStream::connect(&path).await.with_context(|| {
            format!("cannot reach the server at {}: is it running with this --data-dir?", path.display())
        })?;
        let (read, mut write) = stream.into_split();
        let mut line = serde_json::to_string(request)?;
        line.push('\n');
        write.write_all(line.as_bytes()).await?;
        let mut answer = String::new();
        BufReader::new(read).read_line(&mut answer).await?;
        serde_json::from_str::<Reply>(&answer).context("the server's answer could not be read")
    };
    tokio::time::timeout(PATIENCE, exchange).await.context("the server did not answer in time")?
}

/// Runs the command: prints the answer; the exit code says whether it was done.
pub async fn run(data_dir: &Path, request: &Request) -> anyhow::Result<std::process::ExitCode> {
    let reply = ask(data_dir, request).await?;
    for line in &reply.lines {
        if reply.ok {
            println!("{line}");
        } else {
            eprintln!("{line}");
        }
    }
    Ok(if reply.ok { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE })
}
