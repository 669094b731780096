//! Transport overhead (issue 9, target 3): complete job lifecycles per second through
//! [`Client`] against a minimal hand-written reqwest loop making the same HTTP calls, to the
//! simulator with jobs that finish at once, at concurrency 1 and 256.
//!
//! Both loops submit, then poll the result at once until it is terminal (no download), so each
//! makes the same calls; the simulator's counters show it. They run alternately, several
//! rounds, and the medians are compared. CPU time counts only the client runtime's threads
//! (the simulator runs in the same process on its own runtime).
//!
//! A closed-loop load test rather than a divan benchmark: divan times one future at a time.
//! Run with `cargo bench -p runcomfy --bench transport` (`-- --quick` for fewer rounds).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use runcomfy::models::bytedance::seedream_4_0::sequential::{Sequential, SequentialInput};
use runcomfy::{Client, Model, PollPolicy};
use runcomfy_simulator::{RunTime, SimConfig, Simulator};
use serde_json::{Value, json};
use support::*;

/// One side's figures for one round.
#[derive(Debug, Clone, Copy)]
struct Round {
    jobs_per_s: f64,
    cpu_us_per_job: f64,
    calls_per_job: f64,
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Raw,
    Client,
}

fn input() -> SequentialInput {
    SequentialInput::new("Generate 3 images of a beautiful sunset over a calm ocean.")
}

/// The hand-written peer: submit, then GET the result until it is terminal, each GET after a
/// zero-length tokio sleep like the client's poll loop (a timer tick, about 1 ms: without it
/// the loop would spin ~15 calls per job while the simulator's zero-length run ends). It asks
/// for the cost, as the client does (the server prices each finished job for it).
async fn raw_job(http: &reqwest::Client, base: &str, body: &Value) {
    let submitted: Value = http
        .post(format!("{base}/v1/models/{}", Sequential::ID))
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = submitted["request_id"].as_str().unwrap().to_owned();
    loop {
        tokio::time::sleep(Duration::ZERO).await;
        let result: Value = http
            .get(format!("{base}/v1/requests/{id}/result?include_cost=true"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        match result["status"].as_str() {
            Some("succeeded") => return,
            Some("in_queue" | "in_progress") => continue,
            other => panic!("unexpected status {other:?}"),
        }
    }
}

async fn client_job(client: &Client, input: &SequentialInput) {
    let job = client.submit::<Sequential>(input).await.unwrap();
    job.wait().await.unwrap();
}

/// `jobs` lifecycles by `concurrency` closed-loop workers.
fn round(
    rt: &tokio::runtime::Runtime,
    sim: &Simulator,
    side: Side,
    concurrency: usize,
    jobs: usize,
) -> Round {
    let base = sim.base_url();
    let http = reqwest::Client::new();
    let client = Client::builder()
        .token(TOKEN)
        .base_url(&base)
        .poll_policy(PollPolicy::fixed(Duration::ZERO))
        .build()
        .unwrap();
    let body = serde_json::to_value(input()).unwrap();
    let input = Arc::new(input());
    let before = sim.stats();
    let cpu_before = cpu_of_threads("bench-client");
    let start = Instant::now();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for worker in 0..concurrency {
            let share = jobs / concurrency + usize::from(worker < jobs % concurrency);
            let (http, client, base, body, input) = (
                http.clone(),
                client.clone(),
                base.clone(),
                body.clone(),
                input.clone(),
            );
            tasks.push(tokio::spawn(async move {
                for _ in 0..share {
                    match side {
                        Side::Raw => raw_job(&http, &base, &body).await,
                        Side::Client => client_job(&client, &input).await,
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
    let elapsed = start.elapsed();
    let cpu = cpu_of_threads("bench-client") - cpu_before;
    let after = sim.stats();
    let calls = (after.submit_calls + after.status_calls + after.result_calls)
        - (before.submit_calls + before.status_calls + before.result_calls);
    Round {
        jobs_per_s: jobs as f64 / elapsed.as_secs_f64(),
        cpu_us_per_job: cpu.as_secs_f64() * 1e6 / jobs as f64,
        calls_per_job: calls as f64 / jobs as f64,
    }
}

fn main() {
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-sim")
        .enable_all()
        .build()
        .unwrap();
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-client")
        .enable_all()
        .build()
        .unwrap();
    let sim = sim_rt
        .block_on(Simulator::start(SimConfig {
            token: Some(TOKEN.into()),
            workers: 4096,
            run_time: RunTime::Fixed(Duration::ZERO),
            ..SimConfig::default()
        }))
        .unwrap();
    println!(
        "transport: jobs/s, client-thread CPU µs/job, HTTP calls/job (medians of alternating rounds)"
    );
    // Rounds at 256 differ by up to a third, whatever their length or simulator (BENCHMARKS.md
    // §3): the median takes more of them, half a second each.
    for (concurrency, jobs, rounds) in [(1usize, 600usize, 7usize), (256, 6000, 15)] {
        let rounds = if quick() { 3 } else { rounds };
        // Warm-up: connections, allocator, the simulator's tables.
        round(&client_rt, &sim, Side::Raw, concurrency, jobs / 4);
        round(&client_rt, &sim, Side::Client, concurrency, jobs / 4);
        let (mut raw, mut ours) = (Vec::new(), Vec::new());
        for i in 0..rounds {
            // Alternate which goes first, so drift in background load hits both alike.
            let order = if i % 2 == 0 {
                [Side::Raw, Side::Client]
            } else {
                [Side::Client, Side::Raw]
            };
            for side in order {
                let r = round(&client_rt, &sim, side, concurrency, jobs);
                match side {
                    Side::Raw => raw.push(r),
                    Side::Client => ours.push(r),
                }
            }
        }
        let med = |rs: &[Round], f: fn(&Round) -> f64| median(rs.iter().map(f).collect());
        let (raw_rate, our_rate) = (med(&raw, |r| r.jobs_per_s), med(&ours, |r| r.jobs_per_s));
        // Judged on the median of per-round ratios: each pair ran back to back.
        let ratio = median(
            raw.iter()
                .zip(&ours)
                .map(|(r, o)| o.jobs_per_s / r.jobs_per_s)
                .collect(),
        );
        let (raw_cpu, our_cpu) = (
            med(&raw, |r| r.cpu_us_per_job),
            med(&ours, |r| r.cpu_us_per_job),
        );
        let (raw_calls, our_calls) = (
            med(&raw, |r| r.calls_per_job),
            med(&ours, |r| r.calls_per_job),
        );
        // Per-round ratios too: how steady the comparison is on a loaded machine.
        let ratios: Vec<f64> = raw
            .iter()
            .zip(&ours)
            .map(|(r, o)| o.jobs_per_s / r.jobs_per_s)
            .collect();
        println!(
            "  c={concurrency:<3} raw {raw_rate:>7.0} jobs/s {raw_cpu:>6.0} µs {raw_calls:.2} calls | \
             Client {our_rate:>7.0} jobs/s {our_cpu:>6.0} µs {our_calls:.2} calls | ratio {ratio:.2} (rounds {:?})",
            ratios
                .iter()
                .map(|r| (r * 100.0).round() / 100.0)
                .collect::<Vec<_>>()
        );
        emit(json!({
            "target": "3 transport",
            "what": format!("lifecycles/s, concurrency {concurrency}"),
            "ours": our_rate,
            "peer_name": "raw reqwest loop",
            "peer": raw_rate,
            "ratio": ratio,
            "note": format!(
                "ratio = median of per-round Client/raw (>= 0.9 passes); per-round {:?}; HTTP calls/job {our_calls:.2} vs {raw_calls:.2}",
                ratios.iter().map(|r| (r * 100.0).round() / 100.0).collect::<Vec<_>>()
            ),
            "pass": ratio >= 0.9,
        }));
        emit(json!({
            "target": "3 transport",
            "what": format!("client CPU µs/job, concurrency {concurrency}"),
            "ours": our_cpu,
            "peer_name": "raw reqwest loop",
            "peer": raw_cpu,
            "ratio": our_cpu / raw_cpu,
            "note": "client runtime threads only (/proc/self/task, as getrusage); informational",
        }));
    }
    sim_rt.block_on(sim.shutdown());
}
