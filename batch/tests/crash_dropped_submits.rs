//! Ambiguous submits at scale: the server takes the job, then the connection dies before the
//! reply, on one submit in twenty of a 200-line batch run 32 at a time. Exactly those lines
//! are journaled `unknown` (the client reported `SubmitOutcomeUnknown`), every other line is
//! downloaded, and neither that run nor a second one sends anything twice.

use std::time::Duration;

use runcomfy::{Client, PollPolicy, RetryPolicy};
use runcomfy_batch::{BatchConfig, ProgressMode, State, Stop};
use runcomfy_simulator::{Endpoint, FaultKind, Faults, RunTime, SimConfig, Simulator};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const TOKEN: &str = "sk-batch-dropped-0123456789";
const LINES: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_the_dropped_submits_are_unknown_and_none_is_sent_twice() -> TestResult {
    let sim = Simulator::start(SimConfig {
        token: Some(TOKEN.into()),
        workers: 16,
        run_time: RunTime::Range(Duration::from_millis(5), Duration::from_millis(30)),
        seed: 21,
        faults: Faults::none().with_seed(21).with(
            Endpoint::Submit,
            0.05,
            &[FaultKind::AcceptedThenDropped],
        ),
        ..SimConfig::default()
    })
    .await?;
    let client = Client::builder()
        .token(TOKEN)
        .base_url(sim.base_url())
        .poll_policy(PollPolicy::fixed(Duration::from_millis(20)))
        .retry_policy(RetryPolicy::default().with_min_delay(Duration::from_millis(10)))
        .build()?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    let lines: Vec<String> = (0..LINES)
        .map(|n| {
            format!(
                r#"{{"model":"bytedance/seedream-4-0/edit","input":{{"prompt":"a kite, take {n}","images":["https://example.com/ref.png"],"resolution":"1K"}}}}"#
            )
        })
        .collect();
    std::fs::write(&input, lines.join("\n") + "\n")?;
    let out = dir.path().join("out");
    let config = BatchConfig {
        concurrency: 32,
        progress: ProgressMode::Hidden,
        ..BatchConfig::new(&input, &out)
    };

    let summary = tokio::time::timeout(
        Duration::from_secs(60),
        runcomfy_batch::run(&client, &config, &Stop::new()),
    )
    .await??;
    let stats = sim.stats();
    let dropped = stats.faults_of(Endpoint::Submit, "accepted_then_dropped");
    println!(
        "dropped submits: {dropped} of {LINES}; unknown {}, downloaded {}, submissions {}, \
         duplicates {}",
        summary.unknown.len(),
        summary.count(State::Downloaded),
        stats.submissions,
        stats.duplicate_submissions
    );
    assert!(dropped > 0, "no submit was dropped");
    assert_eq!(summary.unknown.len() as u64, dropped, "{summary}");
    assert_eq!(summary.count(State::Downloaded), LINES as u64 - dropped);
    // The dropped ones were accepted too: every line once, none twice.
    assert_eq!(stats.submit_calls, LINES as u64);
    assert_eq!(stats.submissions, LINES as u64);
    assert_eq!(stats.duplicate_submissions, 0);
    assert_eq!(summary.exit_code(), 3, "unknown lines: exit 3");
    let rows = runcomfy_batch::Journal::open(&out)?.rows()?;
    for line in &summary.unknown {
        let row = &rows[line.line as usize - 1];
        assert_eq!(row.state, State::Unknown);
        assert_eq!(row.request_id, None, "line {}", line.line);
    }

    // Running again resumes, and still does not send the unknown lines again.
    sim.set_faults(Faults::none());
    let again = runcomfy_batch::run(&client, &config, &Stop::new()).await?;
    assert_eq!(again.unknown.len() as u64, dropped);
    let stats = sim.stats();
    assert_eq!(stats.submit_calls, LINES as u64);
    assert_eq!(stats.duplicate_submissions, 0);
    sim.shutdown().await;
    Ok(())
}
