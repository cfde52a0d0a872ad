//! The two-node benchmark's section of `docs/BENCHMARKS.md`: scenario (f), one room shared by two
//! nodes of a server, its senders on one and its receivers on the other.

use crate::report::{delivered, kept_up, micros, ms, servers, thousands, Context};
use crate::scenario::{Measurement, KEPT_UP_P99_MS};
use std::fmt::Write as _;

pub const BEGIN: &str = "<!-- two-node benchmark: begin (written by bench/two-nodes.sh) -->";
pub const END: &str = "<!-- two-node benchmark: end -->";

/// The section, from the measurements of scenario `f` in `results` (`None` if there are none).
pub fn markdown(results: &[Measurement], context: &Context) -> Option<String> {
    let results: Vec<Measurement> = results.iter().filter(|m| m.scenario == "f").cloned().collect();
    if results.is_empty() {
        return None;
    }
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}\n");
    let _ = writeln!(out, "## Fan-out across two nodes sharing one room through Redis\n");
    let _ = writeln!(
        out,
        "Measured {} on {}. Peer: {}.\n\nReproduce: `{}`\n",
        context.date, context.machine, context.versions, context.command
    );
    let _ = writeln!(
        out,
        "One room of 2,000: its 20 senders join node A, the other 1,980 members node B, so all but \
         the senders' own copies cross from node to node. Latency is from the sender's write on A to \
         the receiver's read on B (1 % of the deliveries are the senders' own copies, on A). Both \
         nodes, Redis and (for this server) PostgreSQL share core 0; the load generator has core 1. \
         CPU is the user + system time of every one of those processes over the run, divided by the \
         messages delivered. This server commits every message to PostgreSQL before it publishes it \
         on the bus; Socket.IO's Redis adapter keeps nothing. The offered rate is raised in steps of \
         5 s; a step is kept up with when every message reaches every receiver and p99 stays under \
         {KEPT_UP_P99_MS} ms.\n"
    );
    let _ = writeln!(
        out,
        "| server | highest rate kept up with | p50 / p99 there | CPU / delivery there | first step not kept up with |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    let servers = servers(&results);
    for server in &servers {
        let steps: Vec<&Measurement> = results.iter().filter(|m| &m.server == server).collect();
        let best =
            steps.iter().filter(|m| kept_up(m)).max_by(|x, y| x.offered_per_s.total_cmp(&y.offered_per_s));
        let first_miss = steps.iter().find(|m| !kept_up(m));
        let _ = writeln!(
            out,
            "| {server} | {} | {} | {} | {} |",
            best.map_or("none".to_owned(), |m| format!("{} deliveries/s", thousands(m.delivered_per_s))),
            best.map_or(String::new(), |m| format!("{} / {}", ms(m.latency_ms.p50), ms(m.latency_ms.p99))),
            best.map_or(String::new(), |m| micros(m.cpu_us_per_delivery)),
            first_miss.map_or("(none up to the last step)".to_owned(), |m| format!(
                "{} offered: {}, p99 {}",
                thousands(m.offered_per_s),
                delivered(m),
                ms(m.latency_ms.p99)
            )),
        );
    }
    let _ = writeln!(out, "\nEvery step:\n");
    let _ = writeln!(
        out,
        "| server | offered | delivered | deliveries/s | p50 | p99 | p99.9 | CPU / delivery | CPU (all processes) |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for server in &servers {
        for m in results.iter().filter(|m| &m.server == server) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {:.0} % |",
                m.server,
                thousands(m.offered_per_s),
                delivered(m),
                thousands(m.delivered_per_s),
                ms(m.latency_ms.p50),
                ms(m.latency_ms.p99),
                ms(m.latency_ms.p999),
                micros(m.cpu_us_per_delivery),
                m.server_cpu_share * 100.0
            );
        }
    }
    let _ = writeln!(out, "\n{END}");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(server: &str, offered: f64, p99: f64) -> Measurement {
        let mut m = crate::report::tests::m(server, "f", 2.0, p99);
        m.offered_per_s = offered;
        m.delivered_per_s = offered;
        m
    }

    #[test]
    fn the_sweep_reads_as_the_highest_step_kept_up_with() {
        let context = Context {
            machine: "2 cores".into(),
            versions: "v".into(),
            command: "bench/two-nodes.sh".into(),
            date: "today".into(),
            plot: String::new(),
        };
        assert!(markdown(&[], &context).is_none());
        let results = vec![
            step("Socket.IO", 50_000.0, 20.0),
            step("Socket.IO", 100_000.0, 900.0),
            step("chat", 50_000.0, 3.0),
        ];
        let text = markdown(&results, &context).unwrap();
        assert!(text.starts_with(BEGIN) && text.trim_end().ends_with(END), "{text}");
        assert!(
            text.contains(
                "| chat | 50,000 deliveries/s | 1.00 ms / 3.00 ms | 2.00 µs | (none up to the last step) |"
            ),
            "{text}"
        );
        assert!(text.contains("| Socket.IO | 50,000 deliveries/s | 1.00 ms / 20.00 ms | 2.00 µs | 100,000 offered: 100 %, p99 900 ms |"), "{text}");
        assert!(text.find("| chat |").unwrap() < text.find("| Socket.IO |").unwrap());
    }
}
