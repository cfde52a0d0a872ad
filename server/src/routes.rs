//! The HTTP surface: pages, WebSocket endpoints, history pages, health, static files.

use crate::history;
use crate::state::AppState;
use crate::transport;
use app::{shell, App};
use axum::{middleware, routing::get, Router};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;

pub fn app(state: AppState) -> Router {
    // Pages and static files are compressed: the wasm shrinks to about 40 % with gzip.
    // The WebSocket endpoints stay outside that layer, so handshakes pass untouched.
    let pages = Router::new()
        .route("/api/rooms/{room}/messages", get(history::messages))
        .leptos_routes_with_context(
            &state,
            generate_route_list(App),
            {
                let history = history::source(state.store.clone(), state.limits.history_on_join);
                move || provide_context(history.clone())
            },
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(CompressionLayer::new());
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/chat", get(transport::lobby))
        .route("/chat/{room}", get(transport::room))
        .route("/echo", get(transport::echo))
        .merge(pages)
        .layer(middleware::from_fn_with_state(state.clone(), transport::seed_root))
        .with_state(state)
}
