//! The `server` binary: configuration, logging, signals; everything else is `server::run`.

use anyhow::Context;
use server::config::Command;
use server::Config;
use tokio::net::{TcpListener, TcpSocket};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    let config = Config::from_args();
    start_logging(config.log_format, config.command.is_some());
    match &config.command {
        Some(Command::Admin(request)) => return server::admin::client::run(&config.data_dir, request).await,
        Some(Command::Export { room, out }) => {
            server::admin::transfer::export(&config, room, out.as_deref()).await?;
            return Ok(std::process::ExitCode::SUCCESS);
        }
        Some(Command::Import { file, room }) => {
            server::admin::transfer::import(&config, file.as_deref(), room.as_deref()).await?;
            return Ok(std::process::ExitCode::SUCCESS);
        }
        None => {}
    }
    give_back_freed_memory();
    open_files_up_to_the_hard_limit();
    let main = listen(config.addr).with_context(|| format!("binding {}", config.addr))?;
    tracing::info!("listening on http://{}", main.local_addr()?);
    let legacy = |addr: Option<std::net::SocketAddr>, what: &str| -> anyhow::Result<Option<TcpListener>> {
        let Some(addr) = addr else { return Ok(None) };
        let listener = listen(addr).with_context(|| format!("binding {addr} for {what}"))?;
        tracing::info!("{what} on ws://{}", listener.local_addr()?);
        Ok(Some(listener))
    };
    let echo = legacy(config.echo_addr, "seed 004's echo server")?;
    let tornado = legacy(config.tornado_addr, "seed 004's Tornado room")?;
    let metrics = match config.metrics_addr {
        Some(addr) => {
            let listener = listen(addr).with_context(|| format!("binding {addr} for the metrics"))?;
            let bound = listener.local_addr()?;
            if !bound.ip().is_loopback() {
                tracing::warn!(%bound, "the metrics are served on an address other hosts may reach");
            }
            tracing::info!("metrics on http://{bound}/metrics");
            Some(listener)
        }
        None => None,
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    server::run(config, server::Listeners { main, echo, tornado, metrics }, shutdown).await?;
    tracing::info!("stopped");
    Ok(std::process::ExitCode::SUCCESS)
}

/// The log on standard output, filtered by `RUST_LOG` (default: info).
/// A command's log goes to standard error: its output (an export) is on standard output.
fn start_logging(format: server::config::LogFormat, command: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let log =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(move || -> Box<dyn std::io::Write> {
            if command {
                Box::new(std::io::stderr())
            } else {
                Box::new(std::io::stdout())
            }
        });
    match format {
        // One object per line, its fields as fields, for a collector.
        server::config::LogFormat::Json => log.json().flatten_event(true).init(),
        // Colours for a person at a terminal; a log file gets plain text.
        server::config::LogFormat::Text => {
            log.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout())).init()
        }
    }
}

/// Connections the kernel completes while the server has not accepted them yet. The default
/// (1,024) overflows when every client of a large room reconnects at once: the kernel then drops
/// handshakes, and their clients wait out TCP's retransmission backoff (seconds, even tens of
/// seconds). The kernel caps it at `net.core.somaxconn`.
const ACCEPT_QUEUE: u32 = 8192;

fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    // As `TcpListener::bind` does: a restarted server can take its port back at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_QUEUE)
}

/// A background thread returns memory that stayed free for a second to the system, so that an
/// idle server shrinks soon after a wave of connections (their handshakes' buffers), even when
/// nothing else allocates. (jemalloc's default is ten seconds.)
fn give_back_freed_memory() {
    use tikv_jemalloc_ctl::{Access, AsName};
    const DECAY_MS: isize = 1000;
    if let Err(err) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!(%err, "cannot start the allocator's background thread");
    }
    // The default for arenas made from now on, then each arena already made.
    let _ = b"arenas.dirty_decay_ms\0".name().write(DECAY_MS);
    let arenas = tikv_jemalloc_ctl::arenas::narenas::read().unwrap_or(0);
    for arena in 0..arenas {
        // An arena not in use yet has nothing to set (and takes the default when it is).
        let _ = format!("arena.{arena}.dirty_decay_ms\0").as_bytes().name().write(DECAY_MS);
    }
}

/// Every connection is a file: the soft limit on open files (often 1,024) is raised to the hard
/// one, which only the administrator can raise. The connections are capped under it
/// (`Limits::max_connections`).
fn open_files_up_to_the_hard_limit() {
    let before = rlimit::Resource::NOFILE.get().map(|(soft, _)| soft);
    match (before, rlimit::increase_nofile_limit(u64::MAX)) {
        (Ok(before), Ok(now)) if now > before => {
            tracing::info!(before, now, "raised the open-files limit to the hard limit")
        }
        (_, Ok(now)) => tracing::info!(limit = now, "open-files limit"),
        (_, Err(err)) => tracing::warn!(%err, "cannot read or raise the open-files limit"),
    }
}

/// Ctrl-C or SIGTERM starts the drain; a second one ends the process at once (the operator does
/// not want to wait for the drain's deadline).
async fn cancel_on_signal(shutdown: CancellationToken) {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => Some(term),
        Err(err) => {
            tracing::error!(%err, "cannot listen for SIGTERM");
            None
        }
    };
    next_signal(&mut term).await;
    tracing::info!("shutting down");
    shutdown.cancel();
    next_signal(&mut term).await;
    tracing::warn!("a second signal: stopping at once, without finishing the drain");
    std::process::exit(1);
}

async fn next_signal(term: &mut Option<tokio::signal::unix::Signal>) {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match term {
            Some(term) => {
                term.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
