//! A process's CPU time and resident memory, from `/proc`.

use anyhow::Context as _;
use std::sync::OnceLock;

/// Seconds of CPU (user and system, all threads) the process has used.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).with_context(|| format!("process {pid}"))?;
    let ticks = parse_cpu_ticks(&stat).with_context(|| format!("/proc/{pid}/stat: {stat:?}"))?;
    Ok(ticks as f64 / clock_ticks_per_second())
}

/// utime + stime: fields 14 and 15, counted after the command name, which may hold spaces and
/// parentheses of its own (hence the last `)`).
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The CPU seconds of each of `pids` that can still be read.
pub fn cpu_each(pids: &[u32]) -> Vec<(u32, f64)> {
    pids.iter().filter_map(|&pid| cpu_seconds(pid).ok().map(|s| (pid, s))).collect()
}

/// The CPU the processes of `before` used since, counting only those still there (a process
/// that ended took its count with it).
pub fn cpu_since(before: &[(u32, f64)]) -> f64 {
    before.iter().filter_map(|&(pid, then)| cpu_seconds(pid).ok().map(|now| (now - then).max(0.0))).sum()
}

/// The resident memory of `pids` together, in KiB.
pub fn rss_all_kib(pids: &[u32]) -> anyhow::Result<u64> {
    pids.iter().map(|&pid| rss_kib(pid)).sum()
}

/// Resident memory in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).with_context(|| format!("process {pid}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no VmRSS for process {pid}"))
}

/// The kernel's clock tick (`getconf CLK_TCK`), 100 on every Linux this runs on.
fn clock_ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_read_past_an_awkward_name() {
        let stat = "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 5 1000 200";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }

    #[test]
    fn this_process_has_a_cpu_time_and_memory() {
        let me = std::process::id();
        assert!(cpu_seconds(me).unwrap() >= 0.0);
        assert!(rss_kib(me).unwrap() > 100);
    }
}
