//! The server's shared state: cheap handles, cloned into every handler.

use crate::config::Limits;
use crate::identity::SessionKeys;
use crate::quota::Quotas;
use crate::rooms::Rooms;
use crate::session::SessionDeps;
use crate::store::DynStore;
use crate::transport::connections::Connections;
use crate::transport::host::AllowedHosts;
use crate::transport::origin::AllowedOrigins;
use crate::writer::Writer;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub rooms: Rooms,
    pub store: DynStore,
    pub writer: Writer,
    pub limits: Arc<Limits>,
    pub keys: SessionKeys,
    pub origins: AllowedOrigins,
    /// The names this server answers to.
    pub hosts: AllowedHosts,
    /// Connections held, per client address and in all.
    pub connections: Connections,
    /// What each session and address may do, whichever way it comes.
    pub quotas: Arc<Quotas>,
    /// Every live WebSocket session, so that shutdown can wait for them.
    pub sessions: TaskTracker,
    /// Cancelled when the server starts to drain.
    pub shutdown: CancellationToken,
    /// What every room session shares: made once, so that a session holds one pointer to it.
    pub session_deps: Arc<SessionDeps>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
