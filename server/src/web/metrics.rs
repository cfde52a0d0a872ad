//! `GET /metrics` on `--metrics-addr`: the process's metrics (see `crate::metrics`) in
//! Prometheus's text format, on a listener of its own, so that what the operator watches is
//! never on the address the internet reaches.

use super::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

pub fn router(state: AppState) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(state)
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    // States, read now rather than kept in step with every join and leave.
    let occupancy = state.rooms.occupancy();
    let metrics = crate::metrics::get();
    metrics.rooms.set(i64::try_from(occupancy.len()).unwrap_or(i64::MAX));
    let members: usize = occupancy.iter().map(|(_, members)| members).sum();
    metrics.members.set(i64::try_from(members).unwrap_or(i64::MAX));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], crate::metrics::text())
}
