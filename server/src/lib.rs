//! The chat server: WebSocket rooms in several dialects (the seeds' plain text, a JSON
//! protocol, a relay) and the Leptos web client, served by axum.
//!
//! The layers, from the socket inwards; each uses only those below it:
//!
//! ```text
//! web        routes, pages' backend, JSON API        -> transport, session, rooms, store, cluster
//! cluster    several nodes: the bus, shared presence  -> rooms, store, identity
//! transport  listen, caps, Host/Origin, endpoints    -> session, ws, codec, identity
//! session    one connection: greeting, rules, dispatch -> rooms, store, codec, ws, identity
//! rooms      order and fan-out, members, presence     -> store (its types), codec, ws, identity
//! store      the durable log and its writer           -> identity
//! codec      frames <-> protocol messages            -> ws
//! ws         RFC 6455 and hixie: handshake, frames, outbox
//! identity   who a client is: session, name, address
//! metrics    what an operator sees: counters every layer adds to, scraped by Prometheus
//! config     every setting and limit, with its reason
//! ```
//!
//! A message goes the other way round: in through `ws` and `transport` to its `session`, which
//! hands it to the store's writer; once stored, the writer hands it up to `rooms`, whose fan-out
//! writes it to every member's socket.

pub mod accounts;
pub mod admin;
mod clock;
pub mod cluster;
pub mod codec;
pub mod config;
pub mod identity;
pub mod metrics;
mod rooms;
pub mod session;
pub mod store;
#[cfg(test)]
mod testing;
mod transport;
mod web;
pub mod webhooks;
pub mod ws;

pub use config::{Config, Limits};

use anyhow::Context;
use leptos::config::{Env, LeptosOptions};
use rooms::Rooms;
use std::sync::Arc;
use store::Writer;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use transport::connections::Caps;
use web::AppState;

/// How often a node of a cluster reads the nicknames the others registered: a name registered
/// on one node is refused to guests on the others within this.
const REGISTRATIONS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Where the server listens: its own address, and those of the legacy systems it is asked to
/// stand in for, whose pages name their own ports (see `Config::echo_addr`).
#[derive(Debug)]
pub struct Listeners {
    pub main: TcpListener,
    pub echo: Option<TcpListener>,
    pub tornado: Option<TcpListener>,
    /// Prometheus's scrapes (`--metrics-addr`).
    pub metrics: Option<TcpListener>,
}

impl From<TcpListener> for Listeners {
    fn from(main: TcpListener) -> Self {
        Self { main, echo: None, tornado: None, metrics: None }
    }
}

/// Serves on `listeners` until `shutdown` is cancelled, then drains: tells every WebSocket client
/// (close 1001), waits for the requests in progress and the sessions, and lets the writer commit
/// every message it has accepted, all within `limits.drain_timeout` of the drain's start.
pub async fn run(
    config: Config,
    listeners: impl Into<Listeners>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let Listeners { main: listener, echo, tornado, metrics } = listeners.into();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let addr = listener.local_addr().context("reading the listening address")?;
    let site = web::site::Site::choose(config.site_root.as_deref());
    let leptos_options = LeptosOptions::builder()
        .output_name(app::SITE_NAME)
        .site_root(site.root())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(Env::PROD)
        .build();
    let keys = match &config.session_secret {
        Some(secret) => identity::SessionKeys::from_secret(secret),
        None => identity::SessionKeys::load_or_create(&config.data_dir).context("reading the session key")?,
    };
    if config.redis_url.is_some() && !store::is_postgres(config.database_url.as_deref()) {
        anyhow::bail!(
            "--redis-url shares rooms between server processes, which share their log through \
             PostgreSQL: give them --database-url postgres://… too (an SQLite file is one process's)"
        );
    }
    let tenancy = match config.redis_url {
        Some(_) => store::Tenancy::Cluster,
        None => store::Tenancy::Alone,
    };
    let store =
        store::open(config.database_url.as_deref(), &config.data_dir, config.max_database_bytes, tenancy)
            .await
            .context("opening the store")?;
    // The bus outlives the drain: what the writer commits last still goes to the other nodes.
    let cluster_stop = CancellationToken::new();
    let _stop_cluster = cluster_stop.clone().drop_guard();
    let cluster = match &config.redis_url {
        Some(url) => Some(
            cluster::Cluster::start(url, store.clone(), &config.limits, cluster_stop)
                .context("reading --redis-url")?,
        ),
        None => None,
    };
    let (rooms, published): (Rooms, store::DynPublish) = match &cluster {
        Some(cluster) => (cluster.rooms.clone(), Arc::new(cluster.clone())),
        None => {
            let rooms = Rooms::default();
            (rooms.clone(), Arc::new(rooms))
        }
    };
    let limits = &config.limits;
    let (writer, writer_task) = Writer::spawn(
        store.clone(),
        published,
        limits.write_queue,
        limits.commit_batch,
        limits.write_deadline,
    );
    let limits = Arc::new(config.limits.clone());
    let quotas = Arc::new(session::quota::Quotas::new(&limits));
    let accounts = accounts::Accounts::open(store.clone(), keys.clone(), &limits)
        .await
        .context("reading the registered nicknames")?;
    let session_deps = Arc::new(session::SessionDeps {
        rooms: rooms.clone(),
        store: store.clone(),
        writer: writer.clone(),
        limits: limits.clone(),
        quotas: quotas.clone(),
        accounts: accounts.clone(),
    });
    // With other nodes, the names they register; alone, this process registers every one.
    let registrations = cluster.as_ref().map(|_| tokio::spawn(accounts.clone().keep_up(REGISTRATIONS_EVERY)));
    let endpoints = transport::Endpoints {
        limits: limits.clone(),
        keys: keys.clone(),
        accounts: accounts.clone(),
        connections: Default::default(),
        tasks: TaskTracker::new(),
        shutdown: shutdown.clone(),
        session_deps,
    };
    let state = AppState {
        leptos_options,
        site: Arc::new(site),
        rooms,
        store,
        writer,
        limits,
        keys,
        origins: transport::origin::AllowedOrigins::new(config.allowed_origins.clone()),
        hosts: transport::host::AllowedHosts::new(config.allowed_hosts.clone()),
        quotas,
        accounts,
        endpoints,
        cluster,
    };
    // Every node sweeps: their batches are idempotent, and each is one short transaction.
    let sweeps = tokio::spawn(store::retention::sweep_every(
        state.store.clone(),
        config.retention_days,
        config.limits.retention_sweep,
        shutdown.clone(),
    ));
    // This process's name in the webhooks' leases: unique among nodes, and after a restart.
    let node = format!("{}-{}", std::process::id(), hex::encode(fastrand::u64(..).to_be_bytes()));
    let webhooks = tokio::spawn(webhooks::run(
        state.store.clone(),
        webhooks::Settings::new(node.clone(), &config.limits),
        shutdown.clone(),
    ));
    let pings = tokio::spawn(rooms::keepalive::run(
        state.rooms.clone(),
        config.limits.ping_every,
        config.limits.pong_deadline,
    ));
    // Every session is told by its member: one pass over the rooms, not a wait in every session.
    let rooms = state.rooms.clone();
    let told = shutdown.clone();
    tokio::spawn(async move {
        told.cancelled().await;
        rooms.shut_down();
    });
    // The operator's socket, beside the data it administers.
    // Without it the server still serves (a data directory whose path is too long for a
    // socket's, say); the operator is told why `server admin` cannot reach it.
    match admin::listener::bind(&config.data_dir) {
        Ok(socket) => {
            let operator = admin::handler::Admin {
                store: state.store.clone(),
                writer: state.writer.clone(),
                rooms: state.rooms.clone(),
                accounts: state.accounts.clone(),
                node,
            };
            tokio::spawn(admin::listener::serve(socket, operator, shutdown.clone()));
        }
        Err(err) => tracing::warn!(%err, "no admin socket: `server admin` cannot reach this server"),
    }
    if let Some(metrics) = metrics {
        let scrapes = web::metrics::router(state.clone());
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let served = axum::serve(metrics, scrapes).with_graceful_shutdown(stop.cancelled_owned()).await;
            if let Err(err) = served {
                tracing::error!(%err, "serving the metrics failed");
            }
        });
    }
    let app = web::app(state.clone());
    let limits = &config.limits;
    let serving = transport::listen::Serving {
        handshake_timeout: limits.handshake_timeout,
        write_stall: limits.write_stall,
        caps: Caps::from(limits),
        drain: limits.drain_timeout,
    };
    // Every listener shares the caps on connections: the limits hold on every way in.
    let connections = &state.endpoints.connections;
    let legacy = |listener: Option<TcpListener>, app: fn(AppState) -> axum::Router| {
        let (serving, connections, shutdown) = (serving.clone(), connections.clone(), shutdown.clone());
        let serve =
            listener.map(|l| transport::listen::serve(l, app(state.clone()), serving, connections, shutdown));
        futures_util::future::OptionFuture::from(serve)
    };
    let (echo, tornado) =
        (legacy(echo, web::routes::echo_listener), legacy(tornado, web::routes::tornado_listener));
    let main =
        transport::listen::serve(listener, app, serving.clone(), connections.clone(), shutdown.clone());
    // One deadline for the whole drain, from when it began: requests, sessions, the last commits.
    let (main, echo, tornado) = tokio::join!(main, echo, tornado);
    let deadline = [echo, tornado].into_iter().flatten().fold(main, Instant::max);
    let tasks = &state.endpoints.tasks;
    tasks.close();
    if tokio::time::timeout_at(deadline, tasks.wait()).await.is_err() {
        tracing::warn!(left = tasks.len(), "drain deadline passed with connections still open");
    }
    pings.abort();
    sweeps.abort();
    webhooks.abort();
    if let Some(registrations) = registrations {
        registrations.abort();
    }
    // The writer stops once the last handle is gone and its queue is committed.
    drop(state);
    if tokio::time::timeout_at(deadline, writer_task).await.is_err() {
        tracing::warn!("drain deadline passed before the last messages were committed");
    }
    Ok(())
}
