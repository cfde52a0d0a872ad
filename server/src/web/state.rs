//! The server's shared state: cheap handles, cloned into every handler.

use crate::config::Limits;
use crate::identity::SessionKeys;
use crate::rooms::Rooms;
use crate::session::quota::Quotas;
use crate::store::{DynStore, Writer};
use crate::transport::host::AllowedHosts;
use crate::transport::origin::AllowedOrigins;
use crate::transport::Endpoints;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// Where the site's files come from.
    pub site: Arc<super::site::Site>,
    pub rooms: Rooms,
    pub store: DynStore,
    pub writer: Writer,
    pub limits: Arc<Limits>,
    pub keys: SessionKeys,
    pub origins: AllowedOrigins,
    /// The names this server answers to.
    pub hosts: AllowedHosts,
    /// What each session and address may do, whichever way it comes.
    pub quotas: Arc<Quotas>,
    /// Registered nicknames, and the sessions logged in to them.
    pub accounts: crate::accounts::Accounts,
    /// What the WebSocket endpoints need (the connections held and the live sessions among it).
    pub endpoints: Endpoints,
    /// This node's part of a cluster, if it shares its rooms with others.
    pub cluster: Option<crate::cluster::Cluster>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Endpoints {
    fn from_ref(state: &AppState) -> Self {
        state.endpoints.clone()
    }
}
