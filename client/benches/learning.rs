//! Polling, round 2 (issue 19, goals 1 and 2): what a client knows before a model's history
//! exists, and how fast it learns, each figure beside RunComfy's CLI (a fixed 2 s interval)
//! on the same jobs.
//!
//! - **Cold** (no history at all): jobs of 1-3 s, 19-21 s and 2-5 min, each on a fresh client,
//!   against a fixed 2 s interval on the same run times. Goal: never more requests (median
//!   and mean) and never a later median notice.
//! - **A sibling's history**: the first run of `bytedance/seedream-4-0/edit` on a client that
//!   has six runs of `.../sequential` (19-21 s). Goal: median <= 6 requests, notice <= 500 ms.
//! - **Learning**: jobs of `.../sequential` (19-21 s) on clients holding 1, 2, 4, 8 or 32
//!   runs of it, as the second, third, fifth, ninth or a later run of a model one at a time.
//!   Goal for each: median <= 5 requests and notice <= 300 ms.
//!
//! - **Resumed**: a job submitted by one client and resumed by another 5 s later, both holding
//!   8 runs of the model, from its whole record (with its submit time) or from its ids alone
//!   (as before records had the time). Informational.
//!
//! Real time: the run times of the histories are learned by a warm-up of 32 jobs, concurrent
//! with the cold short and 20 s jobs (one wave of about 21 s); then one wave of about 21 s for
//! the sibling and learning rows. The long cold jobs run through both waves and end within
//! 5 minutes; `-- --quick` leaves them out and runs 8 jobs per row instead of 48.
//!
//! Each row has its own simulator (so its notice delays are its own), seeded so that a row and
//! its peer meet the same run times. Every job of a learning row gets its own client with its
//! own slice of the learned runs: sequential runs, one at a time, each start with exactly the
//! history the ones before left, and running them side by side measures the same thing in one
//! wave.
//!
//! Run with `cargo bench -p runcomfy --bench learning` (`-- --seed-offset N` for other draws).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use runcomfy::models::bytedance::seedream_4_0::edit::{Edit, EditInput};
use runcomfy::models::bytedance::seedream_4_0::sequential::{Sequential, SequentialInput};
use runcomfy::{Client, JobRecord, Media, PollHistorySnapshot, PollPolicy};
use runcomfy_simulator::{RunTime, SimConfig, Simulator};
use serde_json::json;
use support::*;

const SEQUENTIAL: &str = "bytedance/seedream-4-0/sequential";

/// The seed of the measured jobs (a row and its peer get the same run times); the warm-up
/// draws others.
const JOBS_SEED: u64 = 10;
const WARM_UP_SEED: u64 = 2;

/// The history lengths of the learning table.
const HISTORIES: [usize; 5] = [1, 2, 4, 8, 32];

/// Runs of the sibling model the first run of `edit` knows of.
const SIBLING_RUNS: usize = 6;

/// Runs of the model the clients of the resumed rows hold, and how long after its submit a
/// job is resumed.
const RESUMED_HISTORY: usize = 8;
const RESUME_AFTER: Duration = Duration::from_secs(5);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

async fn simulator(seed: u64, from: Duration, to: Duration) -> Simulator {
    Simulator::start(SimConfig {
        token: Some(TOKEN.into()),
        workers: 256,
        run_time: RunTime::Range(from, to),
        seed: seed + seed_offset(),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

#[derive(Clone, Copy)]
enum Model {
    Sequential,
    Edit,
}

/// Runs `jobs` jobs at once, job `i` on the client `make(i)` gives; returns the requests
/// (status + result calls) each made.
async fn run(
    sim: &Simulator,
    model: Model,
    jobs: usize,
    make: impl Fn(usize) -> Client,
) -> Vec<u64> {
    let clients: Vec<Client> = (0..jobs).map(make).collect();
    let waits = clients.iter().enumerate().map(|(i, c)| async move {
        match model {
            Model::Sequential => {
                let input = SequentialInput::new(format!("Generate 3 images of sunset {i}."));
                let job = c.submit::<Sequential>(&input).await.unwrap();
                job.wait().await.unwrap();
                job.id().to_owned()
            }
            Model::Edit => {
                let images = vec![Media::url("https://example.com/ref.png")];
                let input = EditInput::new(format!("a small cat, take {i}"), images);
                let job = c.submit::<Edit>(&input).await.unwrap();
                job.wait().await.unwrap();
                job.id().to_owned()
            }
        }
    });
    let ids = futures::future::join_all(waits).await;
    requests_of(sim, &ids)
}

/// `jobs` jobs of `.../sequential` at once, each submitted by a client that then stops and
/// resumed [`RESUME_AFTER`] later by another, both with [`RESUMED_HISTORY`] learned runs: from
/// its whole record, or `with_time: false` from its ids alone. Returns the requests each made.
async fn resumed(sim: &Simulator, learned: &[u64], jobs: usize, with_time: bool) -> Vec<u64> {
    let waits = (0..jobs).map(|k| async move {
        let history = slice(learned, SEQUENTIAL, RESUMED_HISTORY, k);
        let first = polling_client(sim, PollPolicy::default(), Some(history.clone()));
        let input = SequentialInput::new(format!("Generate 3 images of dawn {k}."));
        let record = first.submit::<Sequential>(&input).await.unwrap().record();
        let record = if with_time {
            record
        } else {
            JobRecord::new(record.request_id, record.model_id)
        };
        tokio::time::sleep(RESUME_AFTER).await;
        let second = polling_client(sim, PollPolicy::default(), Some(history));
        let job = second.resume::<Sequential>(&record).unwrap();
        job.wait().await.unwrap();
        job.id().to_owned()
    });
    let ids = futures::future::join_all(waits).await;
    requests_of(sim, &ids)
}

/// One row's figures.
#[derive(Debug, Clone, Copy)]
struct Figures {
    median: f64,
    mean: f64,
    max: u64,
    p50_ms: f64,
    p95_ms: f64,
}

impl Figures {
    fn of(sim: &Simulator, requests: &[u64]) -> Self {
        let stats = sim.stats();
        Figures {
            median: median(requests.iter().map(|r| *r as f64).collect()),
            mean: requests.iter().sum::<u64>() as f64 / requests.len().max(1) as f64,
            max: requests.iter().copied().max().unwrap_or(0),
            p50_ms: stats.notice_delay_ms_p50.unwrap_or(f64::NAN),
            p95_ms: stats.notice_delay_ms_p95.unwrap_or(f64::NAN),
        }
    }

    fn line(&self) -> String {
        format!(
            "{:>4.1} {:>6.2} {:>4} {:>8.0} {:>8.0}",
            self.median, self.mean, self.max, self.p50_ms, self.p95_ms
        )
    }
}

/// Runs the same jobs with the default policy on fresh clients and with a fixed 2 s interval
/// (RunComfy's CLI), side by side on two simulators of one seed.
async fn cold_pair(from: Duration, to: Duration, jobs: usize) -> (Figures, Figures) {
    let (ours_sim, peer_sim) = (
        simulator(JOBS_SEED, from, to).await,
        simulator(JOBS_SEED, from, to).await,
    );
    let peer = polling_client(&peer_sim, PollPolicy::fixed(secs(2)), None);
    let (ours, theirs) = tokio::join!(
        run(&ours_sim, Model::Sequential, jobs, |_| polling_client(
            &ours_sim,
            PollPolicy::default(),
            None
        )),
        async {
            // Half a grid step later: both sides' polls would otherwise land at the same
            // instants on the same two cores, and whichever simulator answers first looks
            // earlier (tens of ms on the median, either way).
            tokio::time::sleep(Duration::from_millis(1000)).await;
            run(&peer_sim, Model::Sequential, jobs, |_| peer.clone()).await
        },
    );
    let figures = (
        Figures::of(&ours_sim, &ours),
        Figures::of(&peer_sim, &theirs),
    );
    ours_sim.shutdown().await;
    peer_sim.shutdown().await;
    figures
}

/// A history of `n` of the learned run times, the `k`th such slice (rotating, so the jobs of a
/// row meet many draws), under `model`.
fn slice(learned: &[u64], model: &str, n: usize, k: usize) -> PollHistorySnapshot {
    let runs: Vec<u64> = (0..n)
        .map(|i| learned[(k * n + i) % learned.len()])
        .collect();
    PollHistorySnapshot {
        version: PollHistorySnapshot::VERSION,
        models: BTreeMap::from([(model.to_owned(), runs)]),
    }
}

/// A cold row against its peer: never more requests (median and mean), never later (median).
fn emit_cold(what: &str, ours: &Figures, peer: &Figures) {
    let pass = ours.median <= peer.median && ours.mean <= peer.mean && ours.p50_ms <= peer.p50_ms;
    emit(json!({
        "target": "19.1 cold",
        "what": format!("{what}: notice p50 ms"),
        "ours": ours.p50_ms,
        "peer_name": "fixed 2 s (RunComfy CLI) p50 ms",
        "peer": peer.p50_ms,
        "note": format!(
            "goal: never more requests nor later than the 2 s grid; requests median {} vs {}, mean {:.2} vs {:.2}, max {} vs {}; p95 {:.0} vs {:.0} ms",
            ours.median, peer.median, ours.mean, peer.mean, ours.max, peer.max, ours.p95_ms, peer.p95_ms
        ),
        "pass": pass,
    }));
}

/// A row with goals of its own: (most requests, longest median notice in ms).
fn emit_goal(target: &str, what: &str, ours: &Figures, peer: &Figures, goal: (f64, f64)) {
    let (requests, notice) = goal;
    emit(json!({
        "target": target,
        "what": format!("{what}: requests/job (median) | notice p50 ms"),
        "ours": ours.median,
        "peer_name": "notice p50 ms",
        "peer": ours.p50_ms,
        "note": format!(
            "goal <= {requests} requests and <= {notice} ms; mean {:.2}, max {}, p95 {:.0} ms; fixed 2 s (RunComfy CLI) on the same jobs: median {}, mean {:.2}, p50 {:.0} ms",
            ours.mean, ours.max, ours.p95_ms, peer.median, peer.mean, peer.p50_ms
        ),
        "pass": ours.median <= requests && ours.p50_ms <= notice,
    }));
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = quick();
    let jobs = if quick { 8 } else { 48 };
    let cold_jobs = if quick { 8 } else { 96 };
    let long_jobs = 48;

    // The long cold jobs run through both waves.
    let long = tokio::spawn(async move {
        if quick {
            None
        } else {
            Some(cold_pair(secs(120), secs(300), long_jobs).await)
        }
    });

    // Wave 1: cold short and 20 s jobs, and the warm-up that learns the histories.
    let warm_sim = simulator(WARM_UP_SEED, secs(19), secs(21)).await;
    let warm = polling_client(&warm_sim, PollPolicy::default(), None);
    let (short, twenty, _) = tokio::join!(
        cold_pair(secs(1), secs(3), cold_jobs),
        cold_pair(secs(19), secs(21), cold_jobs),
        run(&warm_sim, Model::Sequential, 32, |_| warm.clone()),
    );
    let learned: Vec<u64> = warm
        .poll_history()
        .models
        .get(SEQUENTIAL)
        .cloned()
        .unwrap_or_default();
    assert!(!learned.is_empty(), "the warm-up learned nothing");
    println!("learned run times (ms): {learned:?}");
    warm_sim.shutdown().await;

    // Wave 2: the sibling's first run and the learning table, with their peers.
    let (from, to) = (secs(19), secs(21));
    let sibling_sim = simulator(JOBS_SEED, from, to).await;
    let sibling_peer_sim = simulator(JOBS_SEED, from, to).await;
    let learning_peer_sim = simulator(JOBS_SEED, from, to).await;
    let mut learning_sims = Vec::new();
    for _ in HISTORIES {
        learning_sims.push(simulator(JOBS_SEED, from, to).await);
    }
    let resumed_sim = simulator(JOBS_SEED, from, to).await;
    let resumed_bare_sim = simulator(JOBS_SEED, from, to).await;
    let sibling_peer = polling_client(&sibling_peer_sim, PollPolicy::fixed(secs(2)), None);
    let learning_peer = polling_client(&learning_peer_sim, PollPolicy::fixed(secs(2)), None);
    let learned = &learned;
    let learning_runs = HISTORIES
        .iter()
        .zip(&learning_sims)
        .map(|(n, sim)| async move {
            run(sim, Model::Sequential, jobs, |k| {
                polling_client(
                    sim,
                    PollPolicy::default(),
                    Some(slice(learned, SEQUENTIAL, *n, k)),
                )
            })
            .await
        });
    let (
        sibling,
        sibling_peer_requests,
        learning_peer_requests,
        learning,
        resumed_requests,
        resumed_bare_requests,
    ) = tokio::join!(
        run(&sibling_sim, Model::Edit, jobs, |k| polling_client(
            &sibling_sim,
            PollPolicy::default(),
            Some(slice(learned, SEQUENTIAL, SIBLING_RUNS, k)),
        )),
        run(&sibling_peer_sim, Model::Edit, jobs, |_| sibling_peer
            .clone()),
        run(&learning_peer_sim, Model::Sequential, jobs, |_| {
            learning_peer.clone()
        }),
        futures::future::join_all(learning_runs),
        resumed(&resumed_sim, learned, jobs, true),
        resumed(&resumed_bare_sim, learned, jobs, false),
    );
    let resumed = Figures::of(&resumed_sim, &resumed_requests);
    let resumed_bare = Figures::of(&resumed_bare_sim, &resumed_bare_requests);
    let sibling = Figures::of(&sibling_sim, &sibling);
    let sibling_peer = Figures::of(&sibling_peer_sim, &sibling_peer_requests);
    let learning_peer = Figures::of(&learning_peer_sim, &learning_peer_requests);
    let learning: Vec<Figures> = learning
        .iter()
        .zip(&learning_sims)
        .map(|(requests, sim)| Figures::of(sim, requests))
        .collect();
    let long = long.await.unwrap();

    println!("requests per job (median, mean, max) and notice (p50, p95 ms); ours | fixed 2 s");
    let mut rows: Vec<(String, Figures, Figures)> = vec![
        (format!("cold, 1-3 s, {cold_jobs} jobs"), short.0, short.1),
        (
            format!("cold, 19-21 s, {cold_jobs} jobs"),
            twenty.0,
            twenty.1,
        ),
    ];
    if let Some((ours, peer)) = long {
        rows.push((format!("cold, 2-5 min, {long_jobs} jobs"), ours, peer));
    }
    rows.push((
        format!("edit after {SIBLING_RUNS} runs of sequential, {jobs} jobs"),
        sibling,
        sibling_peer,
    ));
    for (n, figures) in HISTORIES.iter().zip(&learning) {
        rows.push((
            format!("history of {n} run(s), 19-21 s, {jobs} jobs"),
            *figures,
            learning_peer,
        ));
    }
    rows.push((
        format!("resumed after 5 s, history of {RESUMED_HISTORY} | ids alone, {jobs} jobs"),
        resumed,
        resumed_bare,
    ));
    for (name, ours, peer) in &rows {
        println!("  {name:<44} {} | {}", ours.line(), peer.line());
    }

    emit_cold(
        &format!("1-3 s jobs, cold, {cold_jobs} jobs"),
        &short.0,
        &short.1,
    );
    emit_cold(
        &format!("19-21 s jobs, cold, {cold_jobs} jobs"),
        &twenty.0,
        &twenty.1,
    );
    if let Some((ours, peer)) = &long {
        emit_cold(&format!("2-5 min jobs, cold, {long_jobs} jobs"), ours, peer);
    } else {
        println!("(--quick: the 2-5 min cold jobs are left out)");
    }
    emit_goal(
        "19.1 sibling",
        &format!("first run of edit after {SIBLING_RUNS} runs of sequential, 19-21 s"),
        &sibling,
        &sibling_peer,
        (6.0, 500.0),
    );
    for (n, figures) in HISTORIES.iter().zip(&learning) {
        emit_goal(
            "19.2 learning",
            &format!("history of {n} run(s), one job at a time, 19-21 s"),
            figures,
            &learning_peer,
            (5.0, 300.0),
        );
    }
    emit(json!({
        "target": "19 resumed",
        "what": format!(
            "job resumed {}s after its submit from its record, history of {RESUMED_HISTORY} runs, 19-21 s: notice p50 ms",
            RESUME_AFTER.as_secs()
        ),
        "ours": resumed.p50_ms,
        "peer_name": "resumed from its ids alone (start unknown): notice p50 ms",
        "peer": resumed_bare.p50_ms,
        "note": format!(
            "informational; requests median {} vs {}, mean {:.2} vs {:.2}; p95 {:.0} vs {:.0} ms",
            resumed.median, resumed_bare.median, resumed.mean, resumed_bare.mean, resumed.p95_ms, resumed_bare.p95_ms
        ),
    }));
    for sim in learning_sims {
        sim.shutdown().await;
    }
    for sim in [
        sibling_sim,
        sibling_peer_sim,
        learning_peer_sim,
        resumed_sim,
        resumed_bare_sim,
    ] {
        sim.shutdown().await;
    }
}
