//! A worker process: holds its share of the connections on one thread, follows the
//! coordinator's commands from stdin and reports on stdout.

use crate::conn::{self, Context, Phase};
use crate::plan::{Command, Plan, Report};
use anyhow::Context as _;
use std::io::Write as _;
use std::rc::Rc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{watch, Semaphore};
use tokio::task::LocalSet;

pub fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    LocalSet::new().block_on(&runtime, run())
}

async fn run() -> anyhow::Result<()> {
    // Each connection is a file: take every one the hard limit allows.
    rlimit::increase_nofile_limit(u64::MAX).context("raising the open-files limit")?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let plan = lines.next_line().await?.context("no plan on stdin")?;
    let plan: Plan = serde_json::from_str(&plan).context("reading the plan")?;
    let context = Rc::new(Context {
        target: plan.target,
        source: plan.source,
        dialect: plan.dialect,
        message_bytes: plan.message_bytes,
        connecting: Semaphore::new(plan.connect_concurrency.max(1)),
        stats: Default::default(),
    });
    let (phase, watcher) = watch::channel(Phase { per_sender: 0.0, generation: 0, quit: false });
    for member in plan.connections {
        tokio::task::spawn_local(conn::run(member, context.clone(), watcher.clone()));
    }
    let mut every_second = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = every_second.tick() => emit(&Report::Progress(context.stats.progress()))?,
            line = lines.next_line() => {
                // The coordinator gone is a quit.
                let Some(line) = line? else { break };
                let command: Command = serde_json::from_str(&line).with_context(|| format!("command {line:?}"))?;
                match command {
                    Command::Go { per_sender } => phase.send_modify(|p| p.per_sender = per_sender),
                    Command::Stop => phase.send_modify(|p| p.per_sender = 0.0),
                    Command::Report => {
                        emit(&Report::Totals(context.stats.take()))?;
                        continue;
                    }
                    Command::Storm { generation } => phase.send_modify(|p| p.generation = generation),
                    Command::Quit => break,
                }
                // Let every connection see the new phase before saying it has taken effect:
                // after a Stop, the counts then include every message that will be sent.
                tokio::task::yield_now().await;
                emit(&Report::Done(context.stats.progress()))?;
            }
        }
    }
    phase.send_modify(|p| p.quit = true);
    Ok(())
}

fn emit(report: &Report) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, report)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}
