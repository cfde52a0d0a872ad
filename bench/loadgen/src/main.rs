//! A load generator for WebSocket chat rooms. `run` drives one server through the benchmark's
//! scenarios with worker processes of its own and appends the measurements to a file; `report`
//! turns the measurements of every server into tables and a plot.

mod conn;
mod coordinator;
mod dialect;
mod latency;
mod plan;
mod proc_stat;
mod report;
mod scenario;
mod stats;
mod two_nodes;
mod worker;
mod ws;

use anyhow::Context as _;
use clap::Parser;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "loadgen", about = "Fan-out benchmark for WebSocket chat rooms (loopback only)")]
enum Cli {
    /// Runs scenarios against one server and appends the measurements (JSON lines) to `--out`.
    Run(RunArgs),
    /// Writes the benchmark's section of a Markdown file, and its plot, from the measurements.
    Report(ReportArgs),
    /// One worker process (started by `run`; reads its plan and commands on stdin).
    #[command(hide = true)]
    Worker,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The server's address: a loopback address only.
    #[arg(long)]
    target: SocketAddr,
    /// For scenario f: a second node of the server, sharing its rooms, where the receivers join.
    #[arg(long)]
    second_target: Option<SocketAddr>,
    /// The server's process ids, whose CPU time and memory are measured together (with several
    /// nodes: every node, and what joins them).
    #[arg(long, value_delimiter = ',', required = true)]
    server_pid: Vec<u32>,
    /// The server's name in the results.
    #[arg(long)]
    label: String,
    #[arg(long, value_enum, default_value = "plain")]
    dialect: dialect::Dialect,
    /// Scenarios to run: a (2,000 receivers, 200,000 deliveries/s), b (the saturation point),
    /// c (19,000 idle connections), d (100 rooms of 100), e (reconnect storm), f (one room of
    /// 2,000 across two nodes, the saturation point; needs --second-target).
    #[arg(long, value_delimiter = ',', default_value = "a,e,b,d,c")]
    scenarios: Vec<String>,
    /// Multiplies connection counts and rates: 1 is the benchmark, 0.05 a quick check.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// How long each load is offered, in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// The file the measurements are appended to.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// Measurements, as `run --out` wrote them.
    #[arg(long)]
    results: PathBuf,
    /// The Markdown file whose benchmark section is replaced (or appended).
    #[arg(long)]
    markdown: PathBuf,
    /// Where the plot of scenarios a to e goes (SVG); the Markdown links it by its file name.
    #[arg(long)]
    svg: PathBuf,
    /// The machine, in words.
    #[arg(long)]
    machine: String,
    /// The peers' versions, in words.
    #[arg(long)]
    versions: String,
    /// The command that reproduces the run.
    #[arg(long)]
    command: String,
    /// The day of the run.
    #[arg(long)]
    date: String,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse() {
        Cli::Worker => worker::main(),
        Cli::Report(args) => {
            let text = std::fs::read_to_string(&args.results)
                .with_context(|| format!("reading {}", args.results.display()))?;
            let results = report::read(&text)?;
            let plot = args.svg.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let context = report::Context {
                machine: args.machine,
                versions: args.versions,
                command: args.command,
                date: args.date,
                plot,
            };
            let mut document = std::fs::read_to_string(&args.markdown).unwrap_or_default();
            // Each section is rewritten only from measurements of its own scenarios, so that the
            // two benchmarks can be run apart.
            let single: Vec<_> = results.iter().filter(|m| m.scenario != "f").cloned().collect();
            if !single.is_empty() {
                document = report::splice(&document, &report::markdown(&single, &context));
                std::fs::write(&args.svg, report::svg(&single))?;
            }
            if let Some(section) = two_nodes::markdown(&results, &context) {
                document = report::splice_between(&document, &section, two_nodes::BEGIN, two_nodes::END);
            }
            std::fs::write(&args.markdown, document)?;
            Ok(())
        }
        Cli::Run(args) => {
            // Load tests stay on this machine.
            for addr in std::iter::once(&args.target).chain(&args.second_target) {
                anyhow::ensure!(addr.ip().is_loopback(), "{addr} is not a loopback address");
            }
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let target = scenario::Target {
                label: args.label,
                addr: args.target,
                second: args.second_target,
                dialect: args.dialect,
                pids: args.server_pid,
            };
            let sizing = scenario::Sizing { scale: args.scale, seconds: args.seconds };
            let results = runtime.block_on(scenario::run(&target, &args.scenarios, sizing))?;
            let mut out = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&args.out)
                .with_context(|| format!("opening {}", args.out.display()))?;
            for m in &results {
                eprintln!(
                    "{} {}: {}/{} delivered, {:.0}/s, p50 {:.2} ms p99 {:.2} ms p99.9 {:.2} ms, {:.2} µs CPU/delivery, \
                     server CPU {:.0} %, loadgen CPU {:.0} %, {:.2} KiB/connection",
                    m.server,
                    m.scenario,
                    m.delivered,
                    m.expected,
                    m.delivered_per_s,
                    m.latency_ms.p50,
                    m.latency_ms.p99,
                    m.latency_ms.p999,
                    m.cpu_us_per_delivery.unwrap_or(0.0),
                    m.server_cpu_share * 100.0,
                    m.loadgen_cpu_share * 100.0,
                    m.kib_per_connection
                );
                serde_json::to_writer(&mut out, m)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        }
    }
}
