//! Turns the measurements of every server into the benchmark's section of `docs/BENCHMARKS.md`
//! (tables per scenario, the targets) and a plot (SVG).

use crate::scenario::{Measurement, KEPT_UP_P99_MS};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The section of BENCHMARKS.md this report owns; the rest of the file is left as it is.
pub const BEGIN: &str = "<!-- fan-out benchmark: begin (written by bench/run.sh) -->";
pub const END: &str = "<!-- fan-out benchmark: end -->";

/// What the report says about where and how it was measured.
#[derive(Debug, Clone)]
pub struct Context {
    pub machine: String,
    pub versions: String,
    pub command: String,
    pub date: String,
    pub plot: String,
}

/// This server's label in the results.
pub const OURS: &str = "chat";
/// The peer the CPU target is measured against.
const UWS: &str = "uWebSockets.js";

pub fn markdown(results: &[Measurement], context: &Context) -> String {
    let mut out = String::new();
    let servers = servers(results);
    let _ = writeln!(out, "{BEGIN}\n");
    let _ = writeln!(out, "## Fan-out: this server and its peers under the same load\n");
    let _ = writeln!(
        out,
        "Measured {} on {}. Every server runs alone, pinned to core 0 (`taskset -c 0`); the load \
         generator (`bench/loadgen`, its workers included) is pinned to core 1. Peers: {}.\n\n\
         Reproduce: `{}`\n",
        context.date, context.machine, context.versions, context.command
    );
    let _ = writeln!(
        out,
        "Every server speaks the seeds' plain-text room (`Welcome, <name> !`, `<name>:<msg>`; Socket.IO \
         the same lines as events). Each message carries its send time; latency is from the sender's \
         write to the receiver's read, on one clock. CPU is the server process's user + system time \
         (`/proc/<pid>/stat`) over the run, divided by the messages delivered. What differs: this \
         server stores every message durably (SQLite, `synchronous=FULL`) before it fans it out and \
         replays the room's recent history to each newcomer; the peers keep nothing. Its flood \
         control and per-address caps are raised for the run (`--messages-per-second`, \
         `--message-burst`, `--max-connections-per-address`, `--new-rooms-per-hour`, \
         `--new-sessions-per-minute`), since the peers have none.\n"
    );
    let _ = writeln!(out, "![fan-out benchmark]({})\n", context.plot);
    let _ = writeln!(out, "{}", targets(results));
    for (scenario, title) in [
        ("a", "(a) 2,000 receivers in one room, 200,000 deliveries/s offered"),
        ("d", "(d) 100 rooms of 100 receivers, 10 messages/s per room"),
    ] {
        let _ = writeln!(out, "### {title}\n");
        let _ = writeln!(
            out,
            "| server | delivered | deliveries/s | p50 | p99 | p99.9 | server CPU / delivery | server CPU | generator CPU | RSS / connection |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
        for server in &servers {
            for m in results.iter().filter(|m| &m.server == server && m.scenario == scenario) {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} | {:.0} % | {:.0} % | {:.1} KiB |",
                    m.server,
                    delivered(m),
                    thousands(m.delivered_per_s),
                    ms(m.latency_ms.p50),
                    ms(m.latency_ms.p99),
                    ms(m.latency_ms.p999),
                    micros(m.cpu_us_per_delivery),
                    m.server_cpu_share * 100.0,
                    m.loadgen_cpu_share * 100.0,
                    m.kib_per_connection
                );
            }
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "### (b) Saturation: 2,000 receivers in one room, offered rate raised in steps of 5 s\n\n\
         A step is kept up with when every message reaches every receiver and p99 stays under \
         {KEPT_UP_P99_MS} ms; the sweep stops at the first step that is not.\n"
    );
    let _ = writeln!(
        out,
        "| server | highest rate kept up with | server CPU / delivery there | first step not kept up with |"
    );
    let _ = writeln!(out, "|---|---|---|---|");
    for server in &servers {
        let steps: Vec<&Measurement> =
            results.iter().filter(|m| &m.server == server && m.scenario == "b").collect();
        if steps.is_empty() {
            continue;
        }
        let best =
            steps.iter().filter(|m| kept_up(m)).max_by(|x, y| x.offered_per_s.total_cmp(&y.offered_per_s));
        let first_miss = steps.iter().find(|m| !kept_up(m));
        let _ = writeln!(
            out,
            "| {server} | {} | {} | {} |",
            best.map_or("none".to_owned(), |m| format!("{} deliveries/s", thousands(m.delivered_per_s))),
            best.map_or("".to_owned(), |m| micros(m.cpu_us_per_delivery)),
            first_miss.map_or("(none up to the last step)".to_owned(), |m| format!(
                "{} offered: {}, p99 {}",
                thousands(m.offered_per_s),
                delivered(m),
                ms(m.latency_ms.p99)
            )),
        );
    }
    let _ = writeln!(out, "\n### (c) 19,000 idle connections (rooms of 100)\n");
    let _ = writeln!(out, "| server | joined | RSS before | RSS with them | per connection |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for m in by_scenario(results, &servers, "c") {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} MiB | {:.1} MiB | {:.2} KiB |",
            m.server,
            if m.complete { format!("{}", m.connections) } else { failure(m) },
            m.rss_base_kib as f64 / 1024.0,
            m.rss_kib as f64 / 1024.0,
            m.kib_per_connection
        );
    }
    let _ = writeln!(
        out,
        "\n### (e) Reconnect storm: the 2,000 clients of (a) drop at once and rejoin\n\n\
         From each client's drop to its own `Welcome` on the new connection (on this server, after \
         the room's recent history): every join is announced to the whole room, so the storm is \
         also 2,000 × 2,000 deliveries.\n"
    );
    let _ = writeln!(out, "| server | rejoined | p50 | p99 | all rejoined after | server CPU |");
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for m in by_scenario(results, &servers, "e") {
        let rejoin = m.rejoin_ms.unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.2} s |",
            m.server,
            if m.complete { "all".to_owned() } else { failure(m) },
            ms(rejoin.p50),
            ms(rejoin.p99),
            ms(rejoin.max),
            m.server_cpu_s
        );
    }
    let errors: Vec<String> = results
        .iter()
        .filter(|m| !m.errors.is_empty())
        .map(|m| {
            let more = match m.errors.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            format!("- {} ({}): {}{more}", m.server, m.scenario, m.errors[0])
        })
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "\nFailures, word for word (the first of each run):\n\n{}", errors.join("\n"));
    }
    let _ = writeln!(out, "\n{END}");
    out
}

fn targets(results: &[Measurement]) -> String {
    let find =
        |server: &str, scenario: &str| results.iter().find(|m| m.server == server && m.scenario == scenario);
    let mut out = String::from("### Targets\n\n| target | this server | peers | met |\n|---|---|---|---|\n");
    let peers = |scenario: &str, show: &dyn Fn(&Measurement) -> String| -> String {
        let mut list: Vec<String> = results
            .iter()
            .filter(|m| m.server != OURS && m.scenario == scenario)
            .map(|m| format!("{} {}", m.server, show(m)))
            .collect();
        list.dedup();
        list.join(", ")
    };
    let yes = |ok: bool| if ok { "yes" } else { "**no**" };
    if let Some(a) = find(OURS, "a") {
        let uws = find(UWS, "a").and_then(|m| m.cpu_us_per_delivery);
        let ours = a.cpu_us_per_delivery;
        let ratio = match (ours, uws) {
            (Some(o), Some(u)) if u > 0.0 => Some(o / u),
            _ => None,
        };
        let _ = writeln!(
            out,
            "| (a) everything delivered, p99 < 10 ms | {}, p99 {} | {} | {} |",
            delivered(a),
            ms(a.latency_ms.p99),
            peers("a", &|m| format!("p99 {}", ms(m.latency_ms.p99))),
            yes(a.complete && a.latency_ms.p99 < 10.0)
        );
        let _ = writeln!(
            out,
            "| (a) server CPU per delivery < 0.8 × uWebSockets.js's | {} ({}) | {} | {} |",
            micros(ours),
            ratio.map_or("no uWebSockets.js figure".to_owned(), |r| format!("{r:.2} ×")),
            peers("a", &|m| micros(m.cpu_us_per_delivery)),
            yes(ratio.is_some_and(|r| r < 0.8))
        );
    }
    let saturation = |server: &str| {
        results
            .iter()
            .filter(|m| m.server == server && m.scenario == "b" && kept_up(m))
            .map(|m| m.delivered_per_s)
            .fold(0.0, f64::max)
    };
    if results.iter().any(|m| m.server == OURS && m.scenario == "b") {
        let ours = saturation(OURS);
        let others: Vec<String> = servers(results)
            .iter()
            .filter(|s| s.as_str() != OURS && results.iter().any(|m| &m.server == *s && m.scenario == "b"))
            .map(|s| format!("{s} {}", thousands(saturation(s))))
            .collect();
        let _ = writeln!(
            out,
            "| (b) ≥ 1,000,000 deliveries/s on one core | {} | {} | {} |",
            thousands(ours),
            others.join(", "),
            yes(ours >= 1_000_000.0)
        );
    }
    if let Some(c) = find(OURS, "c") {
        let _ = writeln!(
            out,
            "| (c) ≤ 2 KiB per idle connection | {:.2} KiB | {} | {} |",
            c.kib_per_connection,
            peers("c", &|m| format!("{:.2} KiB", m.kib_per_connection)),
            yes(c.complete && c.kib_per_connection <= 2.0)
        );
    }
    if let Some(e) = find(OURS, "e") {
        let all = e.rejoin_ms.unwrap_or_default().max;
        let _ = writeln!(
            out,
            "| (e) 2,000 clients caught up < 2 s | {} | {} | {} |",
            ms(all),
            peers("e", &|m| ms(m.rejoin_ms.unwrap_or_default().max)),
            yes(e.complete && all < 2000.0)
        );
    }
    out
}

pub(crate) fn kept_up(m: &Measurement) -> bool {
    m.complete && m.latency_ms.p99 <= KEPT_UP_P99_MS
}

/// Servers in the order they were first measured, this server first.
pub(crate) fn servers(results: &[Measurement]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for m in results {
        if !names.contains(&m.server) {
            names.push(m.server.clone());
        }
    }
    names.sort_by_key(|s| s != OURS);
    names
}

fn by_scenario<'a>(results: &'a [Measurement], servers: &[String], scenario: &str) -> Vec<&'a Measurement> {
    servers
        .iter()
        .filter_map(|s| results.iter().rev().find(|m| &m.server == s && m.scenario == scenario))
        .collect()
}

pub(crate) fn delivered(m: &Measurement) -> String {
    if m.expected == 0 {
        return failure(m);
    }
    let share = m.delivered as f64 * 100.0 / m.expected as f64;
    if m.delivered >= m.expected {
        "100 %".to_owned()
    } else {
        format!("**{share:.1} %**")
    }
}

fn failure(m: &Measurement) -> String {
    match m.errors.first() {
        Some(e) => format!("**failed** ({})", e.chars().take(80).collect::<String>()),
        None => format!("**{} failed**", m.failed_connections),
    }
}

pub(crate) fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.2} ms")
    }
}

pub(crate) fn micros(v: Option<f64>) -> String {
    v.map_or("–".to_owned(), |v| format!("{v:.2} µs"))
}

pub(crate) fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Replaces the report's section of `document` (or appends one).
pub fn splice(document: &str, section: &str) -> String {
    splice_between(document, section, BEGIN, END)
}

/// Replaces what lies between the markers `begin` and `end` (themselves included) with
/// `section`, or appends `section`.
pub fn splice_between(document: &str, section: &str, begin: &str, end: &str) -> String {
    match (document.find(begin), document.find(end)) {
        (Some(b), Some(e)) if b < e => {
            format!("{}{}{}", &document[..b], section.trim_end(), &document[e + end.len()..])
        }
        _ => format!("{}\n{}", document.trim_end_matches('\n').to_owned() + "\n", section),
    }
}

/// Four bar charts side by side: (a) CPU per delivery and p99, (b) saturation, (c) memory per
/// idle connection. Lower is better except for (b).
pub fn svg(results: &[Measurement]) -> String {
    let servers = servers(results);
    let pick = |scenario: &str, value: &dyn Fn(&Measurement) -> Option<f64>| -> Vec<(String, Option<f64>)> {
        servers
            .iter()
            .map(|s| {
                (
                    s.clone(),
                    results.iter().rev().find(|m| &m.server == s && m.scenario == scenario).and_then(value),
                )
            })
            .collect()
    };
    let panels: Vec<(&str, &str, Vec<(String, Option<f64>)>)> = vec![
        ("(a) server CPU per delivery", "µs, lower is better", pick("a", &|m| m.cpu_us_per_delivery)),
        (
            "(a) latency p99",
            "ms, lower is better",
            pick("a", &|m| (m.expected > 0).then_some(m.latency_ms.p99)),
        ),
        (
            "(b) deliveries/s kept up with",
            "thousands, higher is better",
            servers
                .iter()
                .map(|s| {
                    let steps = results.iter().filter(|m| &m.server == s && m.scenario == "b");
                    let best = steps
                        .clone()
                        .filter(|m| kept_up(m))
                        .map(|m| m.delivered_per_s / 1000.0)
                        .fold(0.0, f64::max);
                    (s.clone(), (steps.count() > 0).then_some(best))
                })
                .collect(),
        ),
        (
            "(c) memory per idle connection",
            "KiB, lower is better",
            pick("c", &|m| m.complete.then_some(m.kib_per_connection)),
        ),
    ];
    let (panel_w, bar_h, label_w) = (300.0, 22.0, 120.0);
    let height = 60.0 + bar_h * servers.len() as f64 + 20.0;
    let width = panel_w * panels.len() as f64;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (p, (title, unit, bars)) in panels.iter().enumerate() {
        let x0 = p as f64 * panel_w;
        let _ = writeln!(out, r#"<text x="{}" y="18" font-weight="bold">{}</text>"#, x0 + 8.0, escape(title));
        let _ = writeln!(out, r#"<text x="{}" y="34" fill="grey">{}</text>"#, x0 + 8.0, escape(unit));
        let max = bars.iter().filter_map(|(_, v)| *v).fold(0.0, f64::max).max(1e-9);
        for (i, (server, value)) in bars.iter().enumerate() {
            let y = 48.0 + i as f64 * bar_h;
            let colour = if server == OURS { "#d9480f" } else { "#4263eb" };
            let _ = writeln!(out, r#"<text x="{}" y="{}">{}</text>"#, x0 + 8.0, y + 15.0, escape(server));
            let span = panel_w - label_w - 60.0;
            match value {
                Some(v) => {
                    let w = (v / max * span).max(1.0);
                    let _ = writeln!(
                        out,
                        r#"<rect x="{}" y="{}" width="{w:.1}" height="{}" fill="{colour}"/><text x="{}" y="{}">{}</text>"#,
                        x0 + label_w,
                        y + 3.0,
                        bar_h - 6.0,
                        x0 + label_w + w + 4.0,
                        y + 15.0,
                        short(*v)
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        r#"<text x="{}" y="{}" fill="silver">n/a</text>"#,
                        x0 + label_w,
                        y + 15.0
                    );
                }
            }
        }
    }
    let _ = writeln!(out, "</svg>");
    out
}

fn short(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Reads a results file: one JSON measurement per line; later runs of a server replace earlier
/// ones (per server and scenario).
pub fn read(text: &str) -> anyhow::Result<Vec<Measurement>> {
    let mut runs: BTreeMap<(String, String), Vec<Measurement>> = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    let mut last_key: Option<(String, String)> = None;
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let m: Measurement =
            serde_json::from_str(line).map_err(|e| anyhow::anyhow!("line {}: {e}", i + 1))?;
        let key = (m.server.clone(), m.scenario.clone());
        // A sweep writes several lines in a row: they belong together; a new run replaces them.
        if last_key.as_ref() != Some(&key) {
            runs.insert(key.clone(), Vec::new());
            order.retain(|k| k != &key);
            order.push(key.clone());
        }
        runs.entry(key.clone()).or_default().push(m);
        last_key = Some(key);
    }
    Ok(order.into_iter().flat_map(|k| runs.remove(&k).unwrap_or_default()).collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::latency::Percentiles;

    /// A measurement for tests: 100 of 100 delivered at 199,000/s, p50 1 ms.
    pub(crate) fn m(server: &str, scenario: &str, cpu: f64, p99: f64) -> Measurement {
        Measurement {
            server: server.into(),
            scenario: scenario.into(),
            connections: 2000,
            rooms: 1,
            offered_per_s: 200_000.0,
            seconds: 10.0,
            expected: 100,
            delivered: 100,
            wall_s: 10.0,
            delivered_per_s: 199_000.0,
            latency_ms: Percentiles { p50: 1.0, p99, p999: p99, max: p99 },
            rejoin_ms: None,
            server_cpu_s: 1.0,
            cpu_us_per_delivery: Some(cpu),
            server_cpu_share: 0.5,
            loadgen_cpu_share: 0.4,
            rss_base_kib: 1000,
            rss_kib: 2000,
            kib_per_connection: 1.5,
            complete: true,
            failed_connections: 0,
            errors: vec![],
        }
    }

    #[test]
    fn the_targets_compare_with_the_peers() {
        let results = vec![m(UWS, "a", 2.5, 20.0), m(OURS, "a", 1.0, 5.0)];
        let text = markdown(
            &results,
            &Context {
                machine: "2 cores".into(),
                versions: "v".into(),
                command: "bench/run.sh".into(),
                date: "today".into(),
                plot: "fanout.svg".into(),
            },
        );
        assert!(
            text.contains("| (a) server CPU per delivery < 0.8 × uWebSockets.js's | 1.00 µs (0.40 ×)"),
            "{text}"
        );
        // This server's rows come first.
        assert!(text.find("| chat | 100 %").unwrap() < text.find("| uWebSockets.js | 100 %").unwrap());
        assert!(svg(&results).starts_with("<svg"));
    }

    #[test]
    fn the_section_is_replaced_in_place() {
        let doc = format!("# B\n\nintro\n\n{BEGIN}\nold\n{END}\n\n## after\n");
        let new = splice(&doc, &format!("{BEGIN}\nnew\n{END}\n"));
        assert_eq!(new, format!("# B\n\nintro\n\n{BEGIN}\nnew\n{END}\n\n## after\n"));
        assert_eq!(splice("# B\n", "S"), "# B\n\nS");
    }

    #[test]
    fn a_later_run_replaces_an_earlier_one() {
        let line = |s: &str, sc: &str, cpu: f64| serde_json::to_string(&m(s, sc, cpu, 1.0)).unwrap();
        let text =
            [line("x", "b", 1.0), line("x", "b", 2.0), line("x", "a", 3.0), line("x", "b", 4.0)].join("\n");
        let read = read(&text).unwrap();
        let cpus: Vec<f64> = read.iter().filter_map(|m| m.cpu_us_per_delivery).collect();
        assert_eq!(cpus, [3.0, 4.0]);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(1_234_567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(ms(123.4), "123 ms");
    }
}
