//! The admin socket: one request per connection, a line of JSON each way.

use super::handler::Admin;
use super::{Reply, Request, SOCKET};
use std::path::Path;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

/// The longest request read.
const MAX_REQUEST_BYTES: u64 = 16 * 1024;
/// How long a connection may take to send its request.
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);
/// Requests handled at once: the operator is one person.
const AT_ONCE: usize = 4;

/// Binds `<data_dir>/admin.sock`, readable and writable by this user only.
pub fn bind(data_dir: &Path) -> std::io::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    let path = data_dir.join(SOCKET);
    // A socket left by a process that is gone (this one holds the store, so no other server
    // uses this data directory now).
    match std::fs::remove_file(&path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Serves the operator's requests until `shutdown`.
pub async fn serve(listener: UnixListener, admin: Admin, shutdown: CancellationToken) {
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
    loop {
        let stream = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    tracing::warn!(%err, "admin socket: accepting failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let admin = admin.clone();
        tokio::spawn(async move {
            answer(stream, &admin).await;
            drop(slot);
        });
    }
}

async fn answer(stream: UnixStream, admin: &Admin) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(read.take(MAX_REQUEST_BYTES));
    let read = reader.read_line(&mut line);
    let reply = match tokio::time::timeout(DEADLINE, read).await {
        Ok(Ok(_)) => match serde_json::from_str::<Request>(&line) {
            Ok(request) => {
                tracing::info!(?request, "operator's request");
                admin.handle(request).await
            }
            Err(err) => Reply::refused(format!("not a request: {err}")),
        },
        Ok(Err(err)) => Reply::refused(format!("the request could not be read: {err}")),
        Err(_) => Reply::refused("the request took too long to arrive"),
    };
    let mut out = serde_json::to_string(&reply).unwrap_or_default();
    out.push('\n');
    let _ = write.write_all(out.as_bytes()).await;
}
