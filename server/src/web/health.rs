//! `GET /healthz`: whether this process serves. A single node says `ok`. A node of a cluster
//! says how its bus stands: with the bus down it still serves its own clients, and the other
//! nodes' messages reach them from the log a second or so late, so it is `degraded`, not
//! failing (every node would fail together when Redis does, and a load balancer would then
//! take them all out). `GET /readyz` says whether it can take new clients now.

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;

pub async fn healthz(State(state): State<AppState>) -> String {
    let Some(cluster) = &state.cluster else { return "ok".to_owned() };
    let status = cluster.health.status();
    let for_how_long = status.since.elapsed().as_secs();
    if status.up {
        format!(
            "ok\nnode {:016x}: bus up for {for_how_long} s, {} other nodes heard of\n",
            cluster.node(),
            cluster.peers()
        )
    } else {
        format!(
            "degraded\nnode {:016x}: bus down for {for_how_long} s ({}); the other nodes' messages come from the log\n",
            cluster.node(),
            status.reason.as_deref().unwrap_or("unknown"),
        )
    }
}

/// How long `/readyz` waits for the store (and the bus) to answer.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// `GET /readyz`: whether this process can serve a message now: the store answers (and, with
/// several nodes, the bus is up). 200 `ready`, or 503 with what is not. Unlike `/healthz`, a
/// node whose bus is down is not ready: a load balancer may send new clients elsewhere.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    let lobby = app::names::RoomName::lobby();
    let probe = state.store.position(&lobby);
    let store = match tokio::time::timeout(READY_WITHIN, probe).await {
        Ok(Ok(_)) => None,
        Ok(Err(err)) => Some(format!("the store does not answer: {err}")),
        Err(_) => Some(format!("the store did not answer within {READY_WITHIN:?}")),
    };
    let bus = state.cluster.as_ref().and_then(|cluster| {
        let status = cluster.health.status();
        (!status.up).then(|| format!("the bus is down: {}", status.reason.as_deref().unwrap_or("unknown")))
    });
    let not_ready: Vec<String> = store.into_iter().chain(bus).collect();
    if not_ready.is_empty() {
        (StatusCode::OK, "ready\n".to_owned())
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, format!("not ready\n{}\n", not_ready.join("\n")))
    }
}
