//! `GET /healthz`: whether this process serves. A single node says `ok`. A node of a cluster
//! says how its bus stands: with the bus down it still serves its own clients, and the other
//! nodes' messages reach them from the log a second or so late, so it is `degraded`, not
//! failing (every node would fail together when Redis does, and a load balancer would then
//! take them all out).

use super::AppState;
use axum::extract::State;

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
