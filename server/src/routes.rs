//! The HTTP surface: pages, WebSocket endpoints, health, static files.

use crate::state::AppState;
use crate::transport;
use app::{shell, App};
use axum::{middleware, routing::get, Router};
use leptos_axum::{generate_route_list, LeptosRoutes};

pub fn app(state: AppState) -> Router {
    let pages = generate_route_list(App);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/chat", get(transport::lobby))
        .route("/chat/{room}", get(transport::room))
        .route("/echo", get(transport::echo))
        .leptos_routes(&state, pages, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(state.clone(), transport::seed_root))
        .with_state(state)
}
