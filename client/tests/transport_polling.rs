//! Adaptive polling against the simulator: it learns run times, then polls around the expected
//! end with few requests; the learned history survives an export and import.

mod transport_support;

use std::time::Duration;

use runcomfy::models::bytedance::seedream_4_0::edit::Edit;
use runcomfy::poll::AdaptivePolling;
use runcomfy::{Client, Job, JobRecord, Model, PollHistorySnapshot, PollPolicy};
use runcomfy_simulator::{RunTime, SimConfig, Simulator};
use transport_support::*;

/// The default schedule scaled down twentyfold: jobs of about 1 s instead of 20 s.
fn scaled_policy() -> PollPolicy {
    PollPolicy::Adaptive(
        AdaptivePolling::default()
            .with_cold(Duration::from_millis(200), Duration::from_millis(400))
            .with_min_interval(Duration::from_millis(20))
            .with_margin(Duration::from_millis(5))
            .with_overrun_max(Duration::from_millis(200)),
    )
}

fn scaled_client(sim: &Simulator, history: Option<PollHistorySnapshot>) -> TestResult<Client> {
    let mut builder = builder(sim).poll_policy(scaled_policy());
    if let Some(history) = history {
        builder = builder.poll_history(history);
    }
    Ok(builder.build()?)
}

/// Runs `count` jobs at once; returns the status plus result requests each made.
async fn run_jobs(
    sim: &Simulator,
    client: &Client,
    first: usize,
    count: usize,
) -> TestResult<Vec<u64>> {
    let mut jobs = Vec::new();
    for n in first..first + count {
        jobs.push(client.submit::<Edit>(&edit_input_n(n)).await?);
    }
    let waits = jobs.iter().map(|job| job.wait());
    for outcome in futures::future::join_all(waits).await {
        outcome?;
    }
    let stats = sim.stats();
    Ok(jobs
        .iter()
        .map(|job| stats.status_calls_for(job.id()) + stats.result_calls_for(job.id()))
        .collect())
}

/// Run times of the scaled jobs that learn: a twentieth of 21-23 s.
const ABOUT_1_S: RunTime = RunTime::Range(Duration::from_millis(1050), Duration::from_millis(1150));

/// A simulator of `workers` workers whose jobs run `run_time` (drawn with `seed`).
async fn sim_of(workers: usize, run_time: RunTime, seed: u64) -> TestResult<Simulator> {
    simulator(SimConfig {
        workers,
        run_time,
        seed,
        ..SimConfig::default()
    })
    .await
}

fn median_notice_ms(sim: &Simulator) -> f64 {
    sim.stats().notice_delay_ms_p50.unwrap_or(f64::INFINITY)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_learns_run_times_then_polls_near_the_end() -> TestResult {
    let sim = sim_of(16, ABOUT_1_S, 11).await?;
    let client = scaled_client(&sim, None)?;

    // Cold: no history, polls at 200 ms then every 400 ms (1 s, 1.4 s: well after the end).
    run_jobs(&sim, &client, 0, 3).await?;
    let cold_notice = median_notice_ms(&sim);
    let learned = client.poll_history();
    let samples = &learned.models[Edit::ID];
    assert_eq!(samples.len(), 3);
    // Learned from the server's own timestamps: the run times, not the poll times.
    assert!(
        samples.iter().all(|ms| (1040..=1170).contains(ms)),
        "{samples:?}"
    );

    // Warm: polls cluster around 1 s.
    sim.reset_stats();
    let requests = run_jobs(&sim, &client, 100, 8).await?;
    let warm_notice = median_notice_ms(&sim);
    assert!(requests.iter().all(|r| *r <= 6), "{requests:?}");
    let mean = requests.iter().sum::<u64>() as f64 / requests.len() as f64;
    assert!(mean <= 5.0, "{requests:?}");
    assert!(warm_notice <= 80.0, "warm median notice {warm_notice} ms");
    assert!(
        warm_notice < cold_notice,
        "warm {warm_notice} ms is not better than cold {cold_notice} ms"
    );

    // A new client that imports the history is warm from its first job.
    let saved = serde_json::to_string(&client.poll_history())?;
    let fresh = scaled_client(&sim, Some(serde_json::from_str(&saved)?))?;
    sim.reset_stats();
    let requests = run_jobs(&sim, &fresh, 200, 2).await?;
    assert!(requests.iter().all(|r| *r <= 6), "{requests:?}");
    assert!(
        median_notice_ms(&sim) <= 150.0,
        "{}",
        median_notice_ms(&sim)
    );
    sim.shutdown().await;
    Ok(())
}

/// Waits for `job`; the time from its end (the server's `finished_at`: the simulator runs on
/// this clock) to the wait's return.
async fn notice_of(job: &Job<Edit>) -> TestResult<Duration> {
    job.wait().await?;
    let returned = std::time::SystemTime::now();
    let finished: jiff::Timestamp = job.server_times().1.ok_or("no finished_at")?.parse()?;
    Ok(returned.duration_since(finished.into())?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_resumed_with_its_submit_time_is_polled_on_its_learned_schedule() -> TestResult {
    let sim = sim_of(16, ABOUT_1_S, 12).await?;
    let first = scaled_client(&sim, None)?;
    run_jobs(&sim, &first, 0, 3).await?;

    // One process submits two jobs, saves them and stops; another, with the model's history,
    // resumes them 200 ms later: one from its whole record, one from its ids alone.
    let saved = serde_json::to_string(&[
        first.submit::<Edit>(&edit_input_n(10)).await?,
        first.submit::<Edit>(&edit_input_n(11)).await?,
    ])?;
    let [timed, bare]: [JobRecord; 2] = serde_json::from_str(&saved)?;
    assert!(timed.submitted_at.is_some());
    let bare = JobRecord::new(bare.request_id, bare.model_id);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = scaled_client(&sim, Some(first.poll_history()))?;
    let (timed, bare) = (
        second.resume::<Edit>(&timed)?,
        second.resume::<Edit>(&bare)?,
    );
    assert_eq!(timed.submitted_at(), timed.record().submitted_at);
    let (timed_notice, bare_notice) = tokio::join!(notice_of(&timed), notice_of(&bare));
    let (timed_notice, bare_notice) = (timed_notice?, bare_notice?);
    let stats = sim.stats();
    let calls =
        |job: &Job<Edit>| stats.status_calls_for(job.id()) + stats.result_calls_for(job.id());

    // Placed on the plan from 1.05-1.15 s: noticed as a job of this process would be.
    assert!(
        timed_notice <= Duration::from_millis(150),
        "{timed_notice:?} ({} calls)",
        calls(&timed)
    );
    assert!(calls(&timed) <= 6, "{} calls", calls(&timed));
    // Its start unknown, the other looks at once (200 ms), then every 400 ms: it sees the end
    // at 1.4 s, a quarter of a second late.
    assert!(
        bare_notice >= Duration::from_millis(200),
        "{bare_notice:?} ({} calls)",
        calls(&bare)
    );
    // Neither run's start was seen (either may have queued while nobody looked): neither is
    // learned.
    assert_eq!(second.poll_history().models[Edit::ID].len(), 3);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_resumed_after_its_end_teaches_no_run_time() -> TestResult {
    let sim = sim_of(16, RunTime::Fixed(Duration::from_millis(300)), 0).await?;
    let first = scaled_client(&sim, None)?;
    let record = first.submit::<Edit>(&edit_input_n(0)).await?.record();
    // Resumed a second after it ended: only that pause would bound its run time.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let second = scaled_client(&sim, None)?;
    second.resume::<Edit>(&record)?.wait().await?;
    assert!(second.poll_history().models.is_empty());
    sim.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_job_seen_leaving_the_queue_teaches_its_run_time() -> TestResult {
    // One worker, busy for a second: the job resumed at once is seen queued, then running.
    let sim = sim_of(1, RunTime::Fixed(Duration::from_secs(1)), 0).await?;
    let first = scaled_client(&sim, None)?;
    let ahead = first.submit::<Edit>(&edit_input_n(0)).await?;
    let record = first.submit::<Edit>(&edit_input_n(1)).await?.record();
    let second = scaled_client(&sim, None)?;
    let queued = second.resume::<Edit>(&record)?;
    let (ahead_done, queued_done) = tokio::join!(ahead.wait(), queued.wait());
    ahead_done?;
    queued_done?;
    assert!(sim.stats().status_calls_for(queued.id()) > 0, "seen queued");
    // Its run, dated from the polls around its start, without the second it queued.
    let learned = &second.poll_history().models[Edit::ID];
    assert!(
        learned.len() == 1 && (700..=1500).contains(&learned[0]),
        "{learned:?}"
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_job_polls_its_queue_no_faster_than_its_run() -> TestResult {
    // One worker: the second job waits about a second for the first, then runs a second.
    let sim = sim_of(1, RunTime::Fixed(Duration::from_secs(1)), 0).await?;
    let (first, second) = (scaled_client(&sim, None)?, scaled_client(&sim, None)?);
    let ahead = first.submit::<Edit>(&edit_input_n(0)).await?;
    let started = std::time::Instant::now();
    let queued = second.submit::<Edit>(&edit_input_n(1)).await?;
    let (ahead_done, queued_done) = tokio::join!(ahead.wait(), async {
        let outcome = queued.wait().await;
        (outcome, started.elapsed())
    });
    ahead_done?;
    let (outcome, elapsed) = queued_done;
    outcome?;
    let stats = sim.stats();
    let calls = stats.status_calls_for(queued.id()) + stats.result_calls_for(queued.id());
    // The cold pace is 400 ms: a grid of it over the whole wait, plus one poll for the grid
    // restarting at the run's start. Polling the queue every 200 ms, as a job with a history
    // does at the front, it made 9 calls where the grid makes 6.
    let grid = elapsed.as_millis().div_ceil(400) as u64;
    assert!(calls <= grid + 1, "{calls} calls in {elapsed:?}");
    // The second job was seen queued, and its run time learned without the queue.
    assert!(stats.status_calls_for(queued.id()) > 0);
    let learned = &second.poll_history().models[Edit::ID];
    assert!(
        learned.iter().all(|ms| (900..=1500).contains(ms)),
        "{learned:?}"
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_with_history_polls_fast_only_at_the_front_of_the_queue() -> TestResult {
    // One worker and ten jobs of 500 ms at once: the last waits 4.5 s, the first 3.5 s of
    // them with two or more jobs ahead.
    let run = Duration::from_millis(500);
    let sim = sim_of(1, RunTime::Fixed(run), 0).await?;
    let history = PollHistorySnapshot {
        version: PollHistorySnapshot::VERSION,
        models: [(Edit::ID.to_owned(), vec![500; 4])].into(),
    };
    let client = scaled_client(&sim, Some(history))?;
    let mut jobs = Vec::new();
    for n in 0..10 {
        jobs.push(client.submit::<Edit>(&edit_input_n(n)).await?);
    }
    for outcome in futures::future::join_all(jobs.iter().map(|job| job.wait())).await {
        outcome?;
    }
    let last = jobs.last().ok_or("no job")?;
    let status_calls = sim.stats().status_calls_for(last.id());
    // Queued, it asks for its status: every 400 ms (the cold pace) while two or more jobs are
    // ahead, every 200 ms at the front (13 calls). At 200 ms all along it made 20.
    let (back, front) = (Duration::from_millis(3500), Duration::from_millis(1000));
    let bound = back.as_millis().div_ceil(400) + front.as_millis().div_ceil(200) + 2;
    assert!(
        u128::from(status_calls) <= bound,
        "{status_calls} status calls, more than {bound}"
    );
    sim.shutdown().await;
    Ok(())
}
