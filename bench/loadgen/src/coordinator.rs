//! The coordinator's side of its worker processes: starts them with their plans, sends commands
//! to all, and gathers their reports.

use crate::plan::{Command, Plan, Progress, Report, Totals};
use anyhow::Context as _;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::mpsc;

pub struct Workers {
    procs: Vec<Worker>,
    reports: mpsc::Receiver<(usize, Report)>,
}

struct Worker {
    pid: u32,
    stdin: ChildStdin,
    latest: Progress,
    /// The last command has taken effect.
    done: bool,
    totals: Option<Totals>,
    // Killed if the coordinator stops early: no worker outlives a run.
    _child: Child,
}

/// How long a worker has to answer a report request.
const ANSWER_DEADLINE: Duration = Duration::from_secs(30);

impl Workers {
    pub async fn start(plans: Vec<Plan>) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("finding the loadgen binary")?;
        // Progress from every worker once a second; this is far more than ever waits.
        let (sender, reports) = mpsc::channel(1024);
        let mut procs = Vec::with_capacity(plans.len());
        for (index, plan) in plans.iter().enumerate() {
            let mut child = tokio::process::Command::new(&exe)
                .arg("worker")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .context("starting a worker")?;
            let pid = child.id().context("a worker without a pid")?;
            let mut stdin = child.stdin.take().context("the worker's stdin")?;
            let stdout = child.stdout.take().context("the worker's stdout")?;
            let mut line = serde_json::to_string(plan)?;
            line.push('\n');
            stdin.write_all(line.as_bytes()).await?;
            let sender = sender.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stdout).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    match serde_json::from_str::<Report>(&line) {
                        Ok(report) => {
                            if sender.send((index, report)).await.is_err() {
                                return;
                            }
                        }
                        Err(err) => eprintln!("worker {index}: unreadable report {line:?}: {err}"),
                    }
                }
            });
            procs.push(Worker {
                pid,
                stdin,
                latest: Progress::default(),
                done: false,
                totals: None,
                _child: child,
            });
        }
        Ok(Self { procs, reports })
    }

    /// Sends `command` to every worker and waits until it has taken effect in all of them
    /// (for `Report`, see [`Workers::totals`]).
    pub async fn command(&mut self, command: &Command) -> anyhow::Result<()> {
        self.send(command).await?;
        if matches!(command, Command::Report | Command::Quit) {
            return Ok(());
        }
        self.await_all(|w| w.done).await
    }

    async fn send(&mut self, command: &Command) -> anyhow::Result<()> {
        let mut line = serde_json::to_string(command)?;
        line.push('\n');
        for worker in &mut self.procs {
            worker.done = false;
            worker.totals = None;
            worker.stdin.write_all(line.as_bytes()).await.context("a worker stopped")?;
        }
        Ok(())
    }

    /// Takes in reports until `answered` holds for every worker.
    async fn await_all(&mut self, answered: impl Fn(&Worker) -> bool) -> anyhow::Result<()> {
        let deadline = Instant::now() + ANSWER_DEADLINE;
        while !self.procs.iter().all(&answered) {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.reports.recv()).await {
                Ok(Some((index, report))) => self.take(index, report),
                Ok(None) => anyhow::bail!("the workers stopped before answering"),
                Err(_) => anyhow::bail!("a worker did not answer within {ANSWER_DEADLINE:?}"),
            }
        }
        Ok(())
    }

    /// The sum of every worker's latest progress.
    pub fn progress(&mut self) -> Progress {
        while let Ok((index, report)) = self.reports.try_recv() {
            self.take(index, report);
        }
        let mut sum = Progress::default();
        for worker in &self.procs {
            sum.add(&worker.latest);
        }
        sum
    }

    fn take(&mut self, index: usize, report: Report) {
        let Some(worker) = self.procs.get_mut(index) else { return };
        match report {
            Report::Progress(progress) => worker.latest = progress,
            Report::Done(progress) => {
                worker.latest = progress;
                worker.done = true;
            }
            Report::Totals(totals) => {
                worker.latest = totals.progress.clone();
                worker.totals = Some(totals);
            }
        }
    }

    /// Every worker's totals since the last call (their counters start again).
    pub async fn totals(&mut self) -> anyhow::Result<Vec<Totals>> {
        self.send(&Command::Report).await?;
        self.await_all(|w| w.totals.is_some()).await?;
        Ok(self.procs.iter_mut().filter_map(|w| w.totals.take()).collect())
    }

    /// Waits until `done` holds for the summed progress, printing it every second; gives up
    /// after `limit`. Returns the last progress and whether `done` held.
    pub async fn wait_until(
        &mut self,
        what: &str,
        limit: Duration,
        done: impl Fn(&Progress) -> bool,
    ) -> (Progress, bool) {
        let started = Instant::now();
        let mut shown = Instant::now();
        loop {
            let progress = self.progress();
            if done(&progress) {
                return (progress, true);
            }
            if started.elapsed() >= limit {
                eprintln!("  {what}: gave up after {limit:?}: {progress:?}");
                return (progress, false);
            }
            if shown.elapsed() >= Duration::from_secs(1) {
                shown = Instant::now();
                eprintln!("  {what}: {:.0} s {progress:?}", started.elapsed().as_secs_f64());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// CPU seconds used by all workers: to tell whether the load generator itself was the limit.
    pub fn cpu_seconds(&self) -> f64 {
        self.procs.iter().filter_map(|w| crate::proc_stat::cpu_seconds(w.pid).ok()).sum()
    }

    pub async fn quit(mut self) {
        let _ = self.send(&Command::Quit).await;
        for worker in self.procs {
            let mut child = worker._child;
            if tokio::time::timeout(Duration::from_secs(10), child.wait()).await.is_err() {
                let _ = child.kill().await;
            }
        }
    }
}
