//! What the load benchmarks share: CPU time per thread group, peak memory, medians, and the
//! `BENCH {json}` lines `cargo xtask bench` collects.
//!
//! CPU time comes from `/proc/self/task/*/stat` (what getrusage(RUSAGE_THREAD) reports, summed
//! over the threads whose name starts with a prefix), because the simulator runs in the same
//! process on its own runtime and must not count; the workspace forbids the `unsafe` a direct
//! getrusage call needs. Linux only, like the machine these figures are for.

#![allow(dead_code)] // Each bench uses a different part.

use std::time::Duration;

use runcomfy::{Client, PollHistorySnapshot, PollPolicy};
use runcomfy_simulator::Simulator;
use serde_json::Value;

/// The token the benches' simulators expect.
pub const TOKEN: &str = "bench-token";

/// Clock ticks per second of `/proc` CPU times (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

/// User plus system CPU time of this process's threads whose name starts with `prefix`.
pub fn cpu_of_threads(prefix: &str) -> Duration {
    let mut ticks = 0u64;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ...`: comm may hold spaces, so split at the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if !stat[open + 1..close].starts_with(prefix) {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the state.
        let field = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        ticks += field(11) + field(12);
    }
    Duration::from_secs_f64(ticks as f64 / TICKS)
}

/// User plus system CPU time of the whole process (getrusage(RUSAGE_SELF)).
pub fn cpu_of_process() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let Some(close) = stat.rfind(')') else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_secs_f64((field(11) + field(12)) as f64 / TICKS)
}

/// A `/proc/self/status` figure in bytes (`VmHWM` peak RSS, `VmRSS` current).
pub fn status_bytes(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(key)?.strip_prefix(':')?;
            let kb: u64 = rest.trim().trim_end_matches(" kB").trim().parse().ok()?;
            Some(kb * 1024)
        })
        .unwrap_or(0)
}

/// Resets `VmHWM` to the current RSS (Linux ≥ 4.0), so a peak can be measured from here.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Prints one figure for `cargo xtask bench`.
pub fn emit(row: Value) {
    println!("BENCH {row}");
}

/// Whether `--quick` was passed (`cargo bench ... -- --quick`); other arguments cargo passes
/// (`--bench`) are ignored.
pub fn quick() -> bool {
    std::env::args().any(|a| a == "--quick")
}

/// `--seed-offset N`: added to every simulator's seed, to draw other jobs and histories and
/// see how much the figures move.
pub fn seed_offset() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w[0] == "--seed-offset")
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(0)
}

/// A client of `sim` polling with `policy`, from `history` when given.
pub fn polling_client(
    sim: &Simulator,
    policy: PollPolicy,
    history: Option<PollHistorySnapshot>,
) -> Client {
    let mut builder = Client::builder()
        .token(TOKEN)
        .base_url(sim.base_url())
        .poll_policy(policy);
    if let Some(history) = history {
        builder = builder.poll_history(history);
    }
    builder.build().unwrap()
}

/// The status and result calls `sim` saw for each request.
pub fn requests_of(sim: &Simulator, ids: &[String]) -> Vec<u64> {
    let stats = sim.stats();
    ids.iter()
        .map(|id| stats.status_calls_for(id) + stats.result_calls_for(id))
        .collect()
}
