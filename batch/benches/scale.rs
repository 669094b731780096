//! Scale (issue 9, target 7): 10,000 jobs in one batch at concurrency 512 against the
//! simulator, through `runcomfy_batch::run` (journal, scheduler, downloads, report, gallery).
//! Reports wall time, jobs per second, CPU time per job of the batch's own threads (the
//! simulator runs in the same process on its own runtime) and of the whole process, and peak
//! memory.
//!
//! Run with `cargo bench -p runcomfy-batch --bench scale` (`-- --quick` for 1,000 jobs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../client/benches/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use runcomfy::{Client, PollPolicy};
use runcomfy_batch::{BatchConfig, ProgressMode, State, Stop};
use runcomfy_simulator::{RunTime, SimConfig, Simulator};
use serde_json::json;
use support::*;

const TOKEN: &str = "bench-token";
const CONCURRENCY: usize = 512;

fn line(n: usize) -> String {
    format!(
        r#"{{"model":"bytedance/seedream-4-0/edit","input":{{"prompt":"a small cat, take {n}","images":["https://example.com/ref.png"],"resolution":"1K"}}}}"#
    )
}

fn main() {
    let jobs = if quick() { 1_000 } else { 10_000 };
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-sim")
        .enable_all()
        .build()
        .unwrap();
    let batch_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-batch")
        .enable_all()
        .build()
        .unwrap();
    let sim = sim_rt
        .block_on(Simulator::start(SimConfig {
            token: Some(TOKEN.into()),
            workers: CONCURRENCY,
            run_time: RunTime::Range(Duration::from_millis(200), Duration::from_millis(800)),
            seed: 7,
            ..SimConfig::default()
        }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("lines.jsonl");
    let lines: Vec<String> = (0..jobs).map(line).collect();
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("out");
    let client = Client::builder()
        .token(TOKEN)
        .base_url(sim.base_url())
        // The default adaptive policy: what a user's batch would use.
        .poll_policy(PollPolicy::default())
        .build()
        .unwrap();
    let config = BatchConfig {
        concurrency: CONCURRENCY,
        downloads: 16,
        progress: ProgressMode::Hidden,
        ..BatchConfig::new(&input, &out)
    };
    let rss = status_bytes("VmRSS");
    reset_peak_rss();
    let (cpu_sim, cpu_all) = (cpu_of_threads("bench-sim"), cpu_of_process());
    let start = Instant::now();
    let summary = batch_rt
        .block_on(runcomfy_batch::run(&client, &config, &Stop::new()))
        .unwrap();
    let elapsed = start.elapsed().as_secs_f64();
    let cpu_sim = (cpu_of_threads("bench-sim") - cpu_sim).as_secs_f64();
    let cpu_all = (cpu_of_process() - cpu_all).as_secs_f64();
    // The batch's own future runs on the main thread (block_on), its tasks on the runtime's
    // threads, SQLite on blocking threads: everything but the simulator's threads.
    let cpu_batch = cpu_all - cpu_sim;
    let peak = status_bytes("VmHWM").saturating_sub(rss) as f64 / (1024.0 * 1024.0);
    let downloaded = summary.counts.get(&State::Downloaded).copied().unwrap_or(0);
    let stats = sim.stats();
    println!(
        "scale: {downloaded}/{jobs} lines downloaded in {elapsed:.1} s ({:.0} jobs/s) at concurrency {CONCURRENCY}; \
         CPU/job {:.2} ms batch (all threads but the simulator's), {:.2} ms whole process (with the simulator); peak RSS +{peak:.0} MiB; \
         {:.2} status+result calls/job",
        jobs as f64 / elapsed,
        cpu_batch * 1e3 / jobs as f64,
        cpu_all * 1e3 / jobs as f64,
        (stats.status_calls + stats.result_calls) as f64 / jobs as f64,
    );
    emit(json!({
        "target": "7 scale",
        "what": format!("{jobs} jobs at concurrency {CONCURRENCY}: done"),
        "ours": downloaded,
        "peer_name": "jobs",
        "peer": jobs,
        "note": format!(
            "{elapsed:.1} s, {:.0} jobs/s; runs 200-800 ms; every line downloaded (1K PNGs)",
            jobs as f64 / elapsed
        ),
        "pass": downloaded == jobs as u64,
    }));
    emit(json!({
        "target": "7 scale",
        "what": "CPU ms/job: batch (all but simulator) | whole process",
        "ours": cpu_batch * 1e3 / jobs as f64,
        "peer_name": "whole process incl. simulator",
        "peer": cpu_all * 1e3 / jobs as f64,
        "note": format!(
            "from /proc/self/task/*/stat (as getrusage); simulator threads {:.2} ms/job (it renders every PNG)",
            cpu_sim * 1e3 / jobs as f64
        ),
    }));
    emit(json!({
        "target": "7 scale",
        "what": "peak RSS growth (MiB), whole process",
        "ours": peak,
        "peer_name": "per job (KiB)",
        "peer": peak * 1024.0 / jobs as f64,
        "note": format!("includes the in-process simulator's {jobs} jobs and their files"),
    }));
    sim_rt.block_on(sim.shutdown());
}
