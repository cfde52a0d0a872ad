//! The benchmark's scenarios, each a sequence of commands to the workers and measurements of the
//! server, ending in one or more [`Measurement`]s.

use crate::coordinator::Workers;
use crate::dialect::Dialect;
use crate::latency::{self, Percentiles};
use crate::plan::{Command, Member, Plan, Progress, Totals};
use crate::proc_stat;
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

/// The server under test.
#[derive(Debug, Clone)]
pub struct Target {
    pub label: String,
    pub addr: SocketAddr,
    /// For (f), a second node of the same server, sharing its rooms: the receivers join there
    /// and the senders at `addr`.
    pub second: Option<SocketAddr>,
    pub dialect: Dialect,
    /// Every process whose CPU and memory count as the server's: with several nodes, all of them
    /// and what joins them (Redis, PostgreSQL).
    pub pids: Vec<u32>,
}

/// How the scenarios are sized: `scale` multiplies connections and rates (1 is the real
/// benchmark; a small one is a quick check), `seconds` is how long each rate is offered.
#[derive(Debug, Clone, Copy)]
pub struct Sizing {
    pub scale: f64,
    pub seconds: f64,
}

impl Sizing {
    fn count(&self, full: usize) -> usize {
        ((full as f64 * self.scale).round() as usize).max(1)
    }
}

/// One line of the results: what one server did under one load.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    pub server: String,
    /// `a` to `e`.
    pub scenario: String,
    pub connections: u64,
    pub rooms: u64,
    /// Deliveries per second offered (messages sent × receivers in their room).
    pub offered_per_s: f64,
    /// How long the load was offered, or for a storm how long until the last client rejoined.
    pub seconds: f64,
    pub expected: u64,
    pub delivered: u64,
    /// From the start of the load until the last delivery (or the end of the storm).
    pub wall_s: f64,
    /// Deliveries per second over `wall_s`.
    pub delivered_per_s: f64,
    pub latency_ms: Percentiles,
    /// After a storm: from each client's drop to its welcome.
    pub rejoin_ms: Option<Percentiles>,
    pub server_cpu_s: f64,
    pub cpu_us_per_delivery: Option<f64>,
    /// The server's CPU time over wall time: 1.0 is one core flat out.
    pub server_cpu_share: f64,
    /// The load generator's, likewise: near 1.0, the generator (on its one core) was the limit.
    pub loadgen_cpu_share: f64,
    pub rss_base_kib: u64,
    pub rss_kib: u64,
    pub kib_per_connection: f64,
    /// Every message delivered, to every connection that joined.
    pub complete: bool,
    pub failed_connections: u64,
    pub errors: Vec<String>,
}

/// Connections per worker process: under the 20,000 open files a process may have here.
const MAX_PER_WORKER: usize = 9_000;
/// How long the room may take to fill: every join is announced to every member, so a room of n
/// costs n²/2 deliveries before the benchmark starts.
const FILL_LIMIT: Duration = Duration::from_secs(300);
/// After the senders stop, how long deliveries may go on arriving.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);
/// Text bytes per benchmark message: a typical chat line.
const MESSAGE_BYTES: usize = 64;
/// The offered rates of (f), deliveries per second, raised until one is not kept up with.
const TWO_NODE_STEPS: [f64; 12] = [
    10_000.0,
    25_000.0,
    50_000.0,
    100_000.0,
    200_000.0,
    300_000.0,
    500_000.0,
    750_000.0,
    1_000_000.0,
    1_500_000.0,
    2_000_000.0,
    3_000_000.0,
];
/// The highest p99 latency at which a rate still counts as kept up with in the sweep.
pub const KEPT_UP_P99_MS: f64 = 100.0;

#[derive(Debug, Clone, Copy)]
struct Layout {
    rooms: usize,
    per_room: usize,
    senders_per_room: usize,
}

impl Layout {
    fn connections(&self) -> usize {
        self.rooms * self.per_room
    }

    /// The workers' plans: everybody at `target.addr`, or with `split`, the senders there and
    /// the receivers at the second node.
    fn plans(&self, target: &Target, run: u8, split: bool) -> anyhow::Result<Vec<Plan>> {
        let members: Vec<Member> = (0..self.connections())
            .map(|i| Member {
                room: format!("bench{}", i / self.per_room),
                name: format!("u{i}"),
                sender: i % self.per_room < self.senders_per_room,
            })
            .collect();
        let groups: Vec<(SocketAddr, Vec<Member>)> = match (split, target.second) {
            (false, _) => vec![(target.addr, members)],
            (true, Some(second)) => {
                let (senders, receivers) = members.into_iter().partition(|m| m.sender);
                vec![(target.addr, senders), (second, receivers)]
            }
            (true, None) => anyhow::bail!("{}: two nodes wanted, and no --second-target", target.label),
        };
        let mut plans = Vec::new();
        for (addr, members) in groups {
            for chunk in members.chunks(MAX_PER_WORKER) {
                let w = plans.len();
                plans.push(Plan {
                    target: addr,
                    dialect: target.dialect,
                    // A fresh address per run and worker: the ports of the last run linger in
                    // TIME_WAIT, and one address has about 28,000.
                    source: Ipv4Addr::new(127, run, (w / 250) as u8, (w % 250) as u8 + 2),
                    connections: chunk.to_vec(),
                    connect_concurrency: 256,
                    message_bytes: MESSAGE_BYTES,
                });
            }
        }
        Ok(plans)
    }
}

/// Runs `scenarios` (letters `a` to `e`) against `target`; returns every measurement.
pub async fn run(target: &Target, scenarios: &[String], sizing: Sizing) -> anyhow::Result<Vec<Measurement>> {
    let mut results = Vec::new();
    let run_id = (std::process::id() % 200) as u8 + 20;
    let wants = |s: &str| scenarios.iter().any(|x| x == s);
    if wants("a") || wants("b") || wants("e") {
        let layout = Layout { rooms: 1, per_room: sizing.count(2_000), senders_per_room: sizing.count(20) };
        let mut bench = Bench::start(target, layout, run_id, false).await?;
        if bench.filled {
            if wants("a") {
                results.push(bench.offer("a", sizing.scale * 200_000.0, sizing.seconds).await?);
            }
            if wants("e") {
                results.push(bench.storm().await?);
            }
            if wants("b") {
                for step in [
                    250_000.0,
                    500_000.0,
                    750_000.0,
                    1_000_000.0,
                    1_250_000.0,
                    1_500_000.0,
                    2_000_000.0,
                    3_000_000.0,
                    4_000_000.0,
                    5_000_000.0,
                    6_000_000.0,
                ] {
                    let m = bench.offer("b", sizing.scale * step, sizing.seconds.min(5.0)).await?;
                    let kept_up = m.complete && m.latency_ms.p99 <= KEPT_UP_P99_MS;
                    results.push(m);
                    if !kept_up {
                        break;
                    }
                }
            }
        } else {
            results.push(bench.not_filled("a"));
        }
        bench.workers.quit().await;
    }
    if wants("d") {
        let layout = Layout { rooms: 100, per_room: sizing.count(100), senders_per_room: 1 };
        let mut bench = Bench::start(target, layout, run_id.wrapping_add(1), false).await?;
        let offered = (layout.rooms * layout.per_room) as f64 * 10.0;
        results.push(match bench.filled {
            true => bench.offer("d", offered, sizing.seconds).await?,
            false => bench.not_filled("d"),
        });
        bench.workers.quit().await;
    }
    if wants("f") {
        // One room of 2,000 across two nodes: the senders on one, everybody else on the other, so
        // that all but the senders' own copies cross from node to node. The offered rate is
        // raised as in (b) until a step is not kept up with.
        let layout = Layout { rooms: 1, per_room: sizing.count(2_000), senders_per_room: sizing.count(20) };
        let mut bench = Bench::start(target, layout, run_id.wrapping_add(3), true).await?;
        if bench.filled {
            for step in TWO_NODE_STEPS {
                let m = bench.offer("f", sizing.scale * step, sizing.seconds.min(5.0)).await?;
                let kept_up = m.complete && m.latency_ms.p99 <= KEPT_UP_P99_MS;
                results.push(m);
                if !kept_up {
                    break;
                }
            }
        } else {
            results.push(bench.not_filled("f"));
        }
        bench.workers.quit().await;
    }
    if wants("c") {
        let layout = Layout { rooms: sizing.count(190), per_room: 100, senders_per_room: 0 };
        let bench = Bench::start(target, layout, run_id.wrapping_add(2), false).await?;
        results.push(bench.idle().await);
        bench.workers.quit().await;
    }
    Ok(results)
}

struct Bench<'a> {
    target: &'a Target,
    layout: Layout,
    workers: Workers,
    rss_base_kib: u64,
    filled: bool,
    joined: Progress,
}

impl<'a> Bench<'a> {
    async fn start(target: &'a Target, layout: Layout, run: u8, split: bool) -> anyhow::Result<Self> {
        let rss_base_kib = proc_stat::rss_all_kib(&target.pids)?;
        let total = layout.connections() as u64;
        eprintln!(
            "{}: {total} connections in {} room(s), {} sender(s) each",
            target.label, layout.rooms, layout.senders_per_room
        );
        let mut workers = Workers::start(layout.plans(target, run, split)?).await?;
        let (joined, filled) = workers
            .wait_until("joining", FILL_LIMIT, |p| {
                p.welcomed >= total || p.welcomed + p.failed >= total && p.failed > 0
            })
            .await;
        let filled = filled && joined.failed == 0;
        Ok(Self { target, layout, workers, rss_base_kib, filled, joined })
    }

    fn blank(&self, scenario: &str) -> Measurement {
        Measurement {
            server: self.target.label.clone(),
            scenario: scenario.to_owned(),
            connections: self.layout.connections() as u64,
            rooms: self.layout.rooms as u64,
            offered_per_s: 0.0,
            seconds: 0.0,
            expected: 0,
            delivered: 0,
            wall_s: 0.0,
            delivered_per_s: 0.0,
            latency_ms: Percentiles::default(),
            rejoin_ms: None,
            server_cpu_s: 0.0,
            cpu_us_per_delivery: None,
            server_cpu_share: 0.0,
            loadgen_cpu_share: 0.0,
            rss_base_kib: self.rss_base_kib,
            rss_kib: proc_stat::rss_all_kib(&self.target.pids).unwrap_or(0),
            kib_per_connection: 0.0,
            complete: false,
            failed_connections: self.joined.failed,
            errors: Vec::new(),
        }
    }

    /// A measurement saying the room never filled.
    fn not_filled(&self, scenario: &str) -> Measurement {
        let mut m = self.blank(scenario);
        m.errors.push(format!(
            "only {} of {} connections joined within {FILL_LIMIT:?} ({} failed)",
            self.joined.welcomed,
            self.layout.connections(),
            self.joined.failed
        ));
        m
    }

    /// Offers `deliveries_per_s` for `seconds`, then waits for what is still on its way.
    async fn offer(
        &mut self,
        scenario: &str,
        deliveries_per_s: f64,
        seconds: f64,
    ) -> anyhow::Result<Measurement> {
        let per_room = self.layout.per_room as f64;
        let senders = (self.layout.rooms * self.layout.senders_per_room) as f64;
        let per_sender = deliveries_per_s / per_room / senders;
        eprintln!(
            "{} ({scenario}): offering {deliveries_per_s:.0} deliveries/s ({:.0} messages/s) for {seconds} s",
            self.target.label,
            deliveries_per_s / per_room
        );
        self.workers.totals().await?;
        let clock = Clocks::start(&self.target.pids, &self.workers);
        let started_ns = crate::conn::now_ns();
        self.workers.command(&Command::Go { per_sender }).await?;
        let sending = Duration::from_secs_f64(seconds);
        self.workers.wait_until("sending", sending, |_| false).await;
        self.workers.command(&Command::Stop).await?;
        self.drain(per_room as u64).await;
        let totals = self.workers.totals().await?;
        let mut m = self.blank(scenario);
        // To the last delivery; with none at all, the whole time the run took.
        let wall = match totals.iter().map(|t| t.progress.last_delivery_ns).max().unwrap_or(0) {
            0 => clock.wall.elapsed(),
            last_ns => Duration::from_nanos(last_ns.saturating_sub(started_ns)),
        };
        clock.finish(&self.target.pids, &self.workers, wall, &mut m);
        m.offered_per_s = deliveries_per_s;
        m.seconds = seconds;
        self.account(&totals, &mut m)?;
        Ok(m)
    }

    /// Waits until every message sent has been delivered to its room, or deliveries stop coming.
    async fn drain(&mut self, per_room: u64) {
        let started = Instant::now();
        let (mut seen, mut changed) = (self.workers.progress().delivered, Instant::now());
        loop {
            let p = self.workers.progress();
            if p.delivered >= p.sent * per_room {
                return;
            }
            if p.delivered != seen {
                (seen, changed) = (p.delivered, Instant::now());
            }
            // Progress comes once a second: three quiet reports mean nothing more is coming.
            if changed.elapsed() > Duration::from_secs(3) || started.elapsed() > DRAIN_LIMIT {
                eprintln!("  draining: stopped at {p:?}");
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn account(&self, totals: &[Totals], m: &mut Measurement) -> anyhow::Result<()> {
        let mut latency = latency::histogram();
        let mut sent = 0;
        for t in totals {
            latency.add(latency::decode(&t.latency)?).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            sent += t.sent_by_room.values().sum::<u64>();
            m.delivered += t.progress.delivered;
            m.errors.extend(t.errors.iter().cloned());
        }
        m.failed_connections = totals.iter().map(|t| t.progress.failed).sum();
        m.expected = sent * self.layout.per_room as u64;
        m.latency_ms = Percentiles::of(&latency);
        m.complete = m.expected > 0 && m.delivered >= m.expected && m.failed_connections == 0;
        m.cpu_us_per_delivery = (m.delivered > 0).then(|| m.server_cpu_s * 1e6 / m.delivered as f64);
        m.delivered_per_s = m.delivered as f64 / m.wall_s.max(1e-3);
        m.errors.truncate(10);
        Ok(())
    }

    /// Every connection drops at once and rejoins: how long until each has its welcome.
    async fn storm(&mut self) -> anyhow::Result<Measurement> {
        let total = self.layout.connections() as u64;
        eprintln!("{} (e): {total} connections drop and rejoin at once", self.target.label);
        self.workers.totals().await?;
        let before = self.workers.progress().rejoined;
        let clock = Clocks::start(&self.target.pids, &self.workers);
        self.workers.command(&Command::Storm { generation: 1 }).await?;
        let (p, done) = self
            .workers
            .wait_until("rejoining", FILL_LIMIT, |p| p.rejoined >= before + total || p.failed > 0)
            .await;
        let totals = self.workers.totals().await?;
        let mut m = self.blank("e");
        clock.finish(&self.target.pids, &self.workers, clock.wall.elapsed(), &mut m);
        let mut rejoin = latency::histogram();
        for t in &totals {
            rejoin.add(latency::decode(&t.rejoin)?).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            m.errors.extend(t.errors.iter().cloned());
        }
        let rejoin = Percentiles::of(&rejoin);
        m.seconds = rejoin.max / 1000.0;
        m.rejoin_ms = Some(rejoin);
        m.failed_connections = p.failed;
        m.complete = done && p.failed == 0;
        m.errors.truncate(10);
        Ok(m)
    }

    /// The server's memory with every connection joined and idle.
    async fn idle(&self) -> Measurement {
        let mut m = match self.filled {
            true => self.blank("c"),
            false => self.not_filled("c"),
        };
        // Let the server settle (allocators return what the joins used) before reading.
        tokio::time::sleep(Duration::from_secs(5)).await;
        m.rss_kib = proc_stat::rss_all_kib(&self.target.pids).unwrap_or(0);
        m.kib_per_connection =
            m.rss_kib.saturating_sub(m.rss_base_kib) as f64 / self.layout.connections().max(1) as f64;
        m.complete = self.filled;
        m
    }
}

/// CPU and wall time from the start of a measurement.
struct Clocks {
    wall: Instant,
    server_cpu: Vec<(u32, f64)>,
    loadgen_cpu: f64,
}

impl Clocks {
    fn start(pids: &[u32], workers: &Workers) -> Self {
        Self {
            wall: Instant::now(),
            server_cpu: proc_stat::cpu_each(pids),
            loadgen_cpu: workers.cpu_seconds(),
        }
    }

    /// `wall`: the time the measured work took (to the last delivery); CPU is read now, and
    /// what it used after that moment (next to nothing: it was idle) is counted too.
    fn finish(&self, pids: &[u32], workers: &Workers, wall: Duration, m: &mut Measurement) {
        let wall = wall.as_secs_f64().max(1e-3);
        m.server_cpu_s = proc_stat::cpu_since(&self.server_cpu);
        m.server_cpu_share = m.server_cpu_s / wall;
        m.loadgen_cpu_share = (workers.cpu_seconds() - self.loadgen_cpu) / wall;
        m.rss_kib = proc_stat::rss_all_kib(pids).unwrap_or(0);
        m.kib_per_connection = m.rss_kib.saturating_sub(m.rss_base_kib) as f64 / m.connections.max(1) as f64;
        m.wall_s = wall;
    }
}
