//! Batches against the simulator over loopback: faults, invalid input, ambiguous submits,
//! graceful stops and resuming, the token kept out of every file.

use std::path::Path;
use std::time::{Duration, Instant};

use runcomfy::{Client, PollPolicy, RetryPolicy};
use runcomfy_batch::{BatchConfig, BatchError, ProgressMode, State, Stop};
use runcomfy_simulator::{Endpoint, FaultKind, Faults, RunTime, SimConfig, Simulator};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const TOKEN: &str = "sk-batch-test-secret-0123456789";
const EDIT: &str = "bytedance/seedream-4-0/edit";

/// A line of the edit model making one small (1K) image; `n` keeps every body distinct.
fn line(n: usize) -> String {
    format!(
        r#"{{"model":"{EDIT}","input":{{"prompt":"a small cat, take {n}","images":["https://example.com/ref.png"],"resolution":"1K"}}}}"#
    )
}

fn write_lines(path: &Path, lines: &[String]) -> std::io::Result<()> {
    std::fs::write(path, lines.join("\n") + "\n")
}

fn client(sim: &Simulator) -> Result<Client, runcomfy::Error> {
    Client::builder()
        .token(TOKEN)
        .base_url(sim.base_url())
        .poll_policy(PollPolicy::fixed(Duration::from_millis(25)))
        .retry_policy(
            RetryPolicy::default()
                .with_min_delay(Duration::from_millis(20))
                .with_max_delay(Duration::from_millis(200)),
        )
        .build()
}

async fn sim(workers: usize, faults: Faults) -> Result<Simulator, runcomfy_simulator::SimError> {
    Simulator::start(SimConfig {
        token: Some(TOKEN.into()),
        workers,
        run_time: RunTime::Range(Duration::from_millis(20), Duration::from_millis(80)),
        faults,
        seed: 7,
        ..SimConfig::default()
    })
    .await
}

fn config(input: &Path, out: &Path, concurrency: usize) -> BatchConfig {
    BatchConfig {
        concurrency,
        downloads: 8,
        progress: ProgressMode::Hidden,
        ..BatchConfig::new(input, out)
    }
}

fn report(out: &Path) -> Result<Vec<serde_json::Value>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(out.join("report.jsonl"))?;
    Ok(text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?)
}

/// Every downloaded file decodes as a whole PNG, and no temporary file is left anywhere.
fn check_files(out: &Path) -> TestResult {
    let mut pngs = 0;
    let mut stack = vec![out.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                !name.ends_with(".part") && !name.ends_with(".tmp"),
                "temporary file left: {}",
                entry.path().display()
            );
            if entry.file_type()?.is_dir() {
                stack.push(entry.path());
            } else if name.ends_with(".png") {
                let decoder =
                    png::Decoder::new(std::io::BufReader::new(std::fs::File::open(entry.path())?));
                let mut reader = decoder.read_info()?;
                let mut buf = vec![0; reader.output_buffer_size().ok_or("no buffer size")?];
                reader.next_frame(&mut buf)?;
                pngs += 1;
            }
        }
    }
    assert!(pngs > 0, "no PNG in {}", out.display());
    Ok(())
}

/// Runs `config`'s batch until the server has taken `submissions` submits, then stops it, as
/// Ctrl-C would: the stopped run's summary.
async fn stopped_after(
    sim: &Simulator,
    client: &Client,
    config: BatchConfig,
    submissions: u64,
) -> Result<runcomfy_batch::Summary, Box<dyn std::error::Error>> {
    let stop = Stop::new();
    let run = tokio::spawn({
        let (client, stop) = (client.clone(), stop.clone());
        async move { runcomfy_batch::run(&client, &config, &stop).await }
    });
    while sim.stats().submissions < submissions {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.request();
    Ok(run.await??)
}

/// Carries on the batch in `out` from its journal alone: all its `lines` are then downloaded,
/// none submitted twice.
async fn carried_on_to_the_end(
    sim: &Simulator,
    client: &Client,
    out: &Path,
    lines: usize,
) -> TestResult {
    let resume = BatchConfig {
        progress: ProgressMode::Hidden,
        ..BatchConfig::resume(out)
    };
    let summary = runcomfy_batch::run(client, &resume, &Stop::new()).await?;
    assert!(summary.is_complete(), "{summary}");
    let stats = sim.stats();
    assert_eq!(stats.submissions, lines as u64);
    assert_eq!(stats.duplicate_submissions, 0);
    check_files(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulty_500_line_batch_downloads_every_line_once() -> TestResult {
    let lines = 500;
    let api_faults = [
        FaultKind::Http500,
        FaultKind::Http502,
        FaultKind::Http503,
        FaultKind::Reset,
        FaultKind::Truncated,
        FaultKind::MalformedJson,
        FaultKind::ErrorWith200,
        FaultKind::RateLimited {
            retry_after_secs: 0,
        },
    ];
    let faults = Faults::none()
        // Only faults that prove the job was not taken: anything else is an honest `unknown`.
        .with(
            Endpoint::Submit,
            0.1,
            &[FaultKind::RateLimited {
                retry_after_secs: 0,
            }],
        )
        .with(Endpoint::Status, 0.1, &api_faults)
        .with(Endpoint::Result, 0.1, &api_faults)
        .with(
            Endpoint::Download,
            0.1,
            &[
                FaultKind::Http500,
                FaultKind::Http503,
                FaultKind::Reset,
                FaultKind::Truncated,
                FaultKind::MalformedJson,
            ],
        )
        // A few real rate limits with a pause, which the whole batch must honour.
        .script(
            Endpoint::Submit,
            vec![
                FaultKind::RateLimited {
                    retry_after_secs: 1
                };
                3
            ],
        );
    let sim = sim(48, faults).await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    write_lines(&input, &(0..lines).map(line).collect::<Vec<_>>())?;
    let out = dir.path().join("out");
    let started = Instant::now();
    let summary =
        runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 48), &Stop::new()).await?;
    let took = started.elapsed();
    let stats = sim.stats();
    eprintln!(
        "{summary}\ntook {took:?}; faults: {:?}",
        stats.faults_by_kind
    );
    assert!(summary.is_complete(), "{summary}");
    assert_eq!(summary.count(State::Downloaded), lines as u64);
    assert_eq!(
        stats.submissions, lines as u64,
        "one accepted submit per line"
    );
    assert_eq!(stats.duplicate_submissions, 0);
    // Only requests already in flight when a 429 with Retry-After came can be early.
    assert!(
        stats.retry_after_violations <= 3 * 48,
        "{}",
        stats.retry_after_violations
    );
    assert!(stats.faults_of(Endpoint::Download, "truncated") > 0);
    assert!(stats.faults_of(Endpoint::Submit, "rate_limited") > 0);
    // Each line's one image was served whole exactly once.
    assert_eq!(stats.downloads_by_request.len(), lines);
    assert!(stats.downloads_by_request.values().all(|n| *n == 1));
    let report = report(&out)?;
    assert_eq!(report.len(), lines);
    for (i, entry) in report.iter().enumerate() {
        assert_eq!(entry["line"], i as u64 + 1);
        assert_eq!(entry["status"], "downloaded");
        assert_eq!(entry["submits"], 1);
        assert_eq!(entry["files"].as_array().map(Vec::len), Some(1));
    }
    check_files(&out)?;
    let gallery = std::fs::read_to_string(out.join("gallery.html"))?;
    assert_eq!(gallery.matches("<img loading=\"lazy\"").count(), lines);
    // The run times learned while polling are kept for the next run.
    let history = runcomfy_batch::Journal::open(&out)?
        .meta("poll_history")?
        .ok_or("no poll history saved")?;
    let history: runcomfy::PollHistorySnapshot = serde_json::from_str(&history)?;
    assert!(
        history.models.values().any(|times| !times.is_empty()),
        "{history:?}"
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_rate_limit_pauses_the_whole_batch() -> TestResult {
    let faults = Faults::none().script(
        Endpoint::Submit,
        vec![FaultKind::RateLimited {
            retry_after_secs: 2,
        }],
    );
    let sim = sim(8, faults).await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    write_lines(&input, &(0..12).map(line).collect::<Vec<_>>())?;
    let out = dir.path().join("out");
    let started = Instant::now();
    let summary =
        runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 4), &Stop::new()).await?;
    assert!(summary.is_complete(), "{summary}");
    assert!(started.elapsed() >= Duration::from_secs(2));
    let stats = sim.stats();
    assert_eq!(stats.submissions, 12);
    // At most the three other submits already in flight came early; nothing sent later did.
    assert!(
        stats.retry_after_violations <= 3,
        "{}",
        stats.retry_after_violations
    );
    sim.shutdown().await;
    Ok(())
}

/// A server that asks for hours before more submits stops the batch at once, every line kept
/// for a later run: a batch that waited would say nothing for hours (QA repro29 #1).
#[tokio::test]
async fn a_rate_limit_of_hours_stops_the_batch_with_every_line_kept() -> TestResult {
    let faults = Faults::none().script(
        Endpoint::Submit,
        vec![FaultKind::RateLimited {
            retry_after_secs: 100_000,
        }],
    );
    let sim = sim(8, faults).await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    write_lines(&input, &(0..3).map(line).collect::<Vec<_>>())?;
    let out = dir.path().join("out");
    let started = Instant::now();
    let err = runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 1), &Stop::new())
        .await
        .err()
        .ok_or("the batch waited for hours")?;
    assert!(started.elapsed() < Duration::from_secs(20));
    let BatchError::Halted { summary, source } = err else {
        return Err(format!("unexpected error {err}").into());
    };
    let BatchError::RateLimited { retry_after, .. } = *source else {
        return Err(format!("unexpected cause {source}").into());
    };
    assert_eq!(retry_after, Duration::from_secs(100_000));
    assert_eq!(summary.count(State::Pending), 3, "{summary}");
    assert_eq!(sim.stats().submissions, 0, "nothing was accepted");
    // Not taken: the record each left while on the wire is gone, or the next run would call
    // its line unknown.
    assert!(records_in(&out)?.is_empty());
    sim.shutdown().await;
    Ok(())
}

/// A batch stopped dead while its submits wait out a rate limit (as a `kill -9` stops it: the
/// run dropped, nothing said) leaves those lines pending, with no record of a submit: none was
/// taken, and the next run sends each once. The journal said `submitting` for the whole wait,
/// so the next run called every line `unknown` (QA repro40 L1).
#[tokio::test]
async fn a_batch_stopped_while_waiting_out_a_rate_limit_leaves_its_lines_pending() -> TestResult {
    let faults = Faults::none().script(
        Endpoint::Submit,
        vec![
            FaultKind::RateLimited {
                retry_after_secs: 3
            };
            4
        ],
    );
    let sim = sim(8, faults).await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    write_lines(&input, &(0..4).map(line).collect::<Vec<_>>())?;
    let out = dir.path().join("out");
    let client = client(&sim)?;
    let cut = tokio::time::timeout(
        Duration::from_millis(1500),
        runcomfy_batch::run(&client, &config(&input, &out, 4), &Stop::new()),
    )
    .await;
    assert!(
        cut.is_err(),
        "the batch ended inside the rate limit: {cut:?}"
    );
    let stats = sim.stats();
    assert!(stats.submit_calls >= 1, "the rate limit was never met");
    assert_eq!(stats.submissions, 0);
    let rows = runcomfy_batch::Journal::open(&out)?.rows()?;
    let states: Vec<State> = rows.iter().map(|row| row.state).collect();
    assert_eq!(states, [State::Pending; 4]);
    assert!(records_in(&out)?.is_empty());

    let summary = runcomfy_batch::run(&client, &config(&input, &out, 4), &Stop::new()).await?;
    assert!(summary.is_complete(), "{summary}");
    assert!(summary.unknown.is_empty(), "{summary}");
    let stats = sim.stats();
    assert_eq!(stats.submissions, 4);
    assert_eq!(stats.duplicate_submissions, 0);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn invalid_lines_are_all_reported_and_nothing_is_sent() -> TestResult {
    let sim = sim(4, Faults::none()).await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    let lines = vec![
        line(1),
        "{not json".to_owned(),
        line(3),
        r#"{"model":"no/such-model","input":{}}"#.to_owned(),
        format!(r#"{{"model":"{EDIT}","input":{{"prompt":"x"}}}}"#),
        line(6),
    ];
    write_lines(&input, &lines)?;
    let out = dir.path().join("out");
    let err = runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 4), &Stop::new())
        .await
        .err()
        .ok_or("invalid input was accepted")?;
    let BatchError::Invalid { lines: bad } = err else {
        return Err(format!("unexpected error {err}").into());
    };
    let numbers: Vec<u64> = bad.iter().map(|l| l.number).collect();
    assert_eq!(numbers, [2, 4, 5]);
    assert!(bad[2].to_string().contains("images"), "{}", bad[2]);
    assert_eq!(sim.stats().submit_calls, 0, "nothing sent");
    assert!(!out.exists(), "invalid input leaves no output folder");

    let skip = BatchConfig {
        skip_invalid: true,
        ..config(&input, &out, 4)
    };
    let summary = runcomfy_batch::run(&client(&sim)?, &skip, &Stop::new()).await?;
    assert_eq!(sim.stats().submissions, 3);
    assert_eq!(summary.count(State::Downloaded), 3);
    assert_eq!(summary.invalid.len(), 3);
    assert_eq!(summary.exit_code(), 0, "{summary}");
    let report = report(&out)?;
    assert_eq!(report[1]["status"], "invalid");
    assert!(
        report[1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("JSON"))
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn an_accepted_then_dropped_submit_stays_unknown_until_asked() -> TestResult {
    let faults = Faults::none().script(Endpoint::Submit, vec![FaultKind::AcceptedThenDropped]);
    let sim = sim(4, faults).await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    write_lines(&input, &(1..=3).map(line).collect::<Vec<_>>())?;
    let out = dir.path().join("out");
    // One at a time, so the dropped reply is line 1's.
    let summary =
        runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 1), &Stop::new()).await?;
    assert_eq!(summary.unknown.len(), 1, "{summary}");
    assert_eq!(summary.unknown[0].line, 1);
    assert_eq!(summary.count(State::Downloaded), 2);
    assert_eq!(summary.exit_code(), 3, "unknown lines: exit 3");
    assert!(summary.to_string().contains("line 1"), "{summary}");
    assert_eq!(sim.stats().submissions, 3, "the dropped one was accepted");
    // Its record says what the answer was, when it was sent and its estimate, as `run`'s
    // (QA repro40 L2: "no answer was recorded", no time, no estimate).
    let unanswered: Vec<_> = records_in(&out)?
        .into_iter()
        .filter(|record| record.request_id.is_none())
        .collect();
    assert_eq!(unanswered.len(), 1);
    let record = &unanswered[0];
    assert!(
        record
            .error
            .as_deref()
            .is_some_and(|why| why.starts_with("the server may have accepted its submit")),
        "{:?}",
        record.error
    );
    assert!(record.timings.submitted.is_some() && record.estimate.is_some());
    // The report has when it was sent too (QA repro42 N2).
    assert!(report(&out)?[0]["submitted_at"].is_string());

    // Running again does not send it again.
    let summary =
        runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 1), &Stop::new()).await?;
    assert_eq!(summary.unknown.len(), 1);
    assert_eq!(sim.stats().submissions, 3);

    // Asked to, but a budget too small to send it: it stays unknown, so a later run without
    // the flag (and without the budget) still does not send it.
    let blocked = BatchConfig {
        resubmit_unknown: true,
        max_spend: runcomfy::price::Usd::from_dollars(0.01),
        ..config(&input, &out, 1)
    };
    let summary = runcomfy_batch::run(&client(&sim)?, &blocked, &Stop::new()).await?;
    assert_eq!(summary.unknown.len(), 1, "{summary}");
    assert_eq!(summary.exit_code(), 3, "{summary}");
    let plain = BatchConfig {
        no_max_spend: true,
        ..config(&input, &out, 1)
    };
    let summary = runcomfy_batch::run(&client(&sim)?, &plain, &Stop::new()).await?;
    assert_eq!(summary.unknown.len(), 1, "{summary}");
    assert_eq!(sim.stats().submissions, 3);

    // Asked to, it does (and the simulator sees the duplicate the user accepted to pay for).
    let again = BatchConfig {
        resubmit_unknown: true,
        ..config(&input, &out, 1)
    };
    let summary = runcomfy_batch::run(&client(&sim)?, &again, &Stop::new()).await?;
    assert!(summary.is_complete(), "{summary}");
    let stats = sim.stats();
    assert_eq!(stats.submissions, 4);
    assert_eq!(stats.duplicate_submissions, 1);
    assert_eq!(report(&out)?[0]["submits"], 2);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn results_whose_journal_is_gone_are_not_paid_for_again() -> TestResult {
    let sim = sim(4, Faults::none()).await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    write_lines(&input, &(1..=2).map(line).collect::<Vec<_>>())?;
    let out = dir.path().join("out");
    let summary =
        runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 2), &Stop::new()).await?;
    assert!(summary.is_complete(), "{summary}");
    let journal = runcomfy_batch::Journal::path_in(&out);
    // Emptied, then deleted; and with the report gone too, the lines' records still count.
    let steps: [&dyn Fn() -> std::io::Result<()>; 3] = [
        &|| std::fs::write(&journal, b""),
        &|| std::fs::remove_file(&journal),
        &|| std::fs::remove_file(out.join(runcomfy_batch::report::REPORT_FILE)),
    ];
    for step in steps {
        step()?;
        let err = runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 2), &Stop::new())
            .await
            .err()
            .ok_or("a batch over earlier results ran")?;
        assert!(
            matches!(err, BatchError::EarlierResults { .. }),
            "unexpected error {err}"
        );
        assert_eq!(sim.stats().submissions, 2, "nothing sent again");
    }
    sim.shutdown().await;
    Ok(())
}

/// A journal behind its folders (it lost its write-ahead log in a crash): lines it has as
/// never sent whose folders hold records follow the jobs those name, and one whose record
/// cannot say is unknown; none is sent again (QA repro37 H2: each was paid for twice).
#[tokio::test]
async fn a_journal_behind_its_folders_sends_nothing_twice() -> TestResult {
    let sim = sim(4, Faults::none()).await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    write_lines(&input, &(1..=3).map(line).collect::<Vec<_>>())?;
    let out = dir.path().join("out");
    let summary =
        runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 3), &Stop::new()).await?;
    assert!(summary.is_complete(), "{summary}");
    let journal = runcomfy_batch::Journal::path_in(&out);
    let db = rusqlite::Connection::open(&journal)?;
    db.execute_batch(
        "UPDATE lines SET state = 'pending', request_id = NULL, submits = 0,
                          submitted_ms = NULL, cost_nanos = NULL;
         DELETE FROM files;",
    )?;
    drop(db);
    let third = report(&out)?[2]["files"][0]
        .as_str()
        .ok_or("no file")?
        .split('/')
        .next()
        .ok_or("no folder")?
        .to_owned();
    std::fs::write(
        out.join(&third).join(runcomfy::provenance::RECORD_FILE),
        "{\"runcomfy_record\": 1, \"model\": 7}",
    )?;
    let summary =
        runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 3), &Stop::new()).await?;
    assert_eq!(sim.stats().submissions, 3, "nothing sent again");
    let lines = report(&out)?;
    assert_eq!(lines[0]["status"], "downloaded", "{summary}");
    assert_eq!(lines[1]["status"], "downloaded", "{summary}");
    assert_eq!(lines[2]["status"], "unknown", "{summary}");
    check_files(&out)?;
    sim.shutdown().await;
    Ok(())
}

/// The records in the line folders of `out`, read.
fn records_in(out: &Path) -> Result<Vec<runcomfy::provenance::Record>, Box<dyn std::error::Error>> {
    let mut records = Vec::new();
    for entry in std::fs::read_dir(out)? {
        let path = entry?.path().join(runcomfy::provenance::RECORD_FILE);
        if path.is_file() {
            let value = runcomfy::input::parse_json(&std::fs::read_to_string(&path)?)?;
            records.push(runcomfy::provenance::Record::from_json(&value).ok_or("no record")??);
        }
    }
    Ok(records)
}

/// Killed while its submits were on the wire, with the journal's write-ahead log then lost
/// (its `submitting` gone with it): each line's folder holds the record written before its
/// POST, so the next run calls the lines `unknown` rather than pay for them again (QA repro39
/// F1: all were sent, and paid, twice).
#[tokio::test]
async fn submits_on_the_wire_when_the_journal_lost_them_are_unknown() -> TestResult {
    let faults = Faults::none().with(
        Endpoint::Submit,
        1.0,
        &[FaultKind::Slow(Duration::from_secs(30))],
    );
    // Priced, so each line has an estimate to lose.
    let sim = Simulator::start(SimConfig {
        token: Some(TOKEN.into()),
        faults,
        default_price: Some(runcomfy_simulator::parse_price("0.03/output")?),
        ..SimConfig::default()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    write_lines(&input, &(1..=3).map(line).collect::<Vec<_>>())?;
    let out = dir.path().join("out");
    let client = client(&sim)?;
    let run = tokio::spawn({
        let (client, config) = (client.clone(), config(&input, &out, 3));
        async move { runcomfy_batch::run(&client, &config, &Stop::new()).await }
    });
    let started = Instant::now();
    while sim.stats().submit_calls < 3 || !out.exists() || records_in(&out)?.len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no submit on the wire"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // As a kill leaves it: no answer, the journal's `submitting` rows lost.
    run.abort();
    let _ = run.await;
    for record in records_in(&out)? {
        assert_eq!(record.request_id, None);
        assert!(record.error.is_some_and(|why| why.contains("no answer")));
    }
    let db = rusqlite::Connection::open(runcomfy_batch::Journal::path_in(&out))?;
    let lost = db.execute(
        "UPDATE lines SET state = 'pending', submits = 0, estimate_nanos = NULL, basis = NULL
         WHERE state = 'submitting'",
        [],
    )?;
    drop(db);
    assert_eq!(lost, 3);
    let calls = sim.stats().submit_calls;
    let summary = runcomfy_batch::run(&client, &BatchConfig::resume(&out), &Stop::new()).await?;
    assert_eq!(summary.unknown.len(), 3, "{summary}");
    assert_eq!(sim.stats().submit_calls, calls, "a submit was sent again");
    for row in report(&out)? {
        assert_eq!(row["status"], "unknown", "{row}");
        let reason = row["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("no answer was recorded"), "{row}");
        // At the estimate its record keeps, which a budget counts (QA repro42 N1).
        assert!(
            row["unseen_usd"].as_f64().is_some_and(|usd| usd > 0.0),
            "{row}"
        );
    }
    sim.shutdown().await;
    Ok(())
}

/// A journal that holds no batch (its write-ahead log lost before its first checkpoint) beside
/// line folders with records: the batch is carried on only from the input file those records
/// are of; an edited one (a line inserted, so every folder is another line's; a prompt
/// changed) is refused, as the journal would have refused it (QA repro40 M1: lines followed
/// other lines' jobs, or were paid for twice).
#[tokio::test]
async fn an_emptied_journal_takes_only_the_input_its_records_are_of() -> TestResult {
    let sim = sim(4, Faults::none()).await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    let lines: Vec<String> = (1..=3).map(line).collect();
    write_lines(&input, &lines)?;
    let out = dir.path().join("out");
    let summary =
        runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 3), &Stop::new()).await?;
    assert!(summary.is_complete(), "{summary}");
    let empty = || -> rusqlite::Result<()> {
        let db = rusqlite::Connection::open(runcomfy_batch::Journal::path_in(&out))?;
        db.execute_batch("DELETE FROM files; DELETE FROM lines; DELETE FROM meta;")
    };
    for edited in [
        [vec![line(0)], lines.clone()].concat(),
        [vec![line(1), line(2)], vec![line(7)]].concat(),
    ] {
        empty()?;
        write_lines(&input, &edited)?;
        let err = runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 3), &Stop::new())
            .await
            .err()
            .ok_or("an edited input was taken")?;
        assert!(
            matches!(err, BatchError::ResultsOfAnotherInput { .. }),
            "{err}"
        );
        assert_eq!(sim.stats().submissions, 3, "nothing sent");
    }
    // The file they are of: each line follows its own job, none is sent again.
    empty()?;
    write_lines(&input, &lines)?;
    let summary =
        runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 3), &Stop::new()).await?;
    assert!(summary.is_complete(), "{summary}");
    assert_eq!(sim.stats().submissions, 3);
    check_files(&out)?;
    sim.shutdown().await;
    Ok(())
}

/// Jobs accepted and still running when the journal lost their request ids: each line's
/// folder has the record its submit left, so the batch carried on follows them and pays for
/// none twice (QA repro37 H2).
#[tokio::test]
async fn running_jobs_a_journal_lost_are_followed_from_their_records() -> TestResult {
    let sim = Simulator::start(SimConfig {
        token: Some(TOKEN.into()),
        workers: 8,
        run_time: RunTime::Fixed(Duration::from_millis(600)),
        seed: 7,
        ..SimConfig::default()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    write_lines(&input, &(1..=6).map(line).collect::<Vec<_>>())?;
    let out = dir.path().join("out");
    let client = client(&sim)?;
    stopped_after(&sim, &client, config(&input, &out, 3), 3).await?;
    let db = rusqlite::Connection::open(runcomfy_batch::Journal::path_in(&out))?;
    let lost = db.execute(
        "UPDATE lines SET state = 'pending', request_id = NULL, submits = 0,
                          submitted_ms = NULL
         WHERE state = 'submitted'",
        [],
    )?;
    drop(db);
    assert!(lost > 0, "no job was running when the batch stopped");
    carried_on_to_the_end(&sim, &client, &out, 6).await?;
    sim.shutdown().await;
    Ok(())
}

/// A line's folder deleted while the batch runs: the batch does not end as complete; the line
/// is left for the next run, which fetches its files again (QA repro39 F7: "batch complete").
#[tokio::test]
async fn a_line_folder_deleted_while_the_batch_runs_is_fetched_by_the_next_run() -> TestResult {
    let sim = Simulator::start(SimConfig {
        token: Some(TOKEN.into()),
        workers: 2,
        run_time: RunTime::Fixed(Duration::from_millis(150)),
        seed: 7,
        ..SimConfig::default()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    write_lines(&input, &(1..=5).map(line).collect::<Vec<_>>())?;
    let out = dir.path().join("out");
    let running = {
        let (client, config) = (client(&sim)?, config(&input, &out, 1));
        tokio::spawn(async move { runcomfy_batch::run(&client, &config, &Stop::new()).await })
    };
    let first = out.join("line-1");
    while !first.join("images-0.png").is_file() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    std::fs::remove_dir_all(&first)?;
    let summary = running.await??;
    assert!(!summary.is_complete(), "{summary}");
    assert_eq!(report(&out)?[0]["status"], "submitted");
    carried_on_to_the_end(&sim, &client(&sim)?, &out, 5).await?;
    sim.shutdown().await;
    Ok(())
}

/// The output folder deleted while the batch runs: it does not end as complete, since files
/// it saved went with the folder and its journal (QA repro37 M1: "batch complete", exit 0).
#[tokio::test]
async fn an_output_folder_deleted_while_the_batch_runs_is_no_success() -> TestResult {
    let sim = sim(2, Faults::none()).await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    write_lines(&input, &(1..=12).map(line).collect::<Vec<_>>())?;
    let out = dir.path().join("out");
    let running = {
        let (client, config) = (client(&sim)?, config(&input, &out, 2));
        tokio::spawn(async move { runcomfy_batch::run(&client, &config, &Stop::new()).await })
    };
    let journal = runcomfy_batch::Journal::path_in(&out);
    while !journal.is_file() || sim.stats().submissions < 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Files are being written meanwhile: a removal that raced one is tried again.
    while journal.is_file() {
        let _ = std::fs::remove_dir_all(&out);
    }
    let err = running.await?.err().ok_or("the batch ended as a success")?;
    let BatchError::Halted { source, .. } = &err else {
        return Err(format!("unexpected error {err}").into());
    };
    assert!(
        matches!(**source, BatchError::JournalGone { .. }),
        "{source}"
    );
    // The report says which lines' files went with the folder (QA repro38 N5: all
    // "downloaded"): none is downloaded without its files, and each keeps its request id.
    let lines = report(&out)?;
    let failed = lines.iter().filter(|l| l["status"] == "failed").count();
    assert!(failed > 0, "{lines:?}");
    for line in &lines {
        assert!(line["request_id"].is_string(), "{line}");
        for file in line["files"].as_array().into_iter().flatten() {
            if line["status"] == "downloaded" {
                assert!(out.join(file.as_str().unwrap_or("")).is_file(), "{line}");
            }
        }
    }
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_stopped_batch_resumes_without_paying_twice() -> TestResult {
    let lines = 40;
    let sim = Simulator::start(SimConfig {
        token: Some(TOKEN.into()),
        workers: 4,
        run_time: RunTime::Fixed(Duration::from_millis(300)),
        ..SimConfig::default()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    write_lines(&input, &(0..lines).map(line).collect::<Vec<_>>())?;
    let out = dir.path().join("out");
    let client = client(&sim)?;
    let summary = stopped_after(&sim, &client, config(&input, &out, 8), 10).await?;
    assert!(summary.interrupted);
    assert_eq!(summary.exit_code(), 130);
    assert!(!summary.unfinished.is_empty(), "{summary}");
    let submitted = sim.stats().submissions;
    assert!(submitted < lines as u64, "stopped early ({submitted})");
    // Every accepted submit recorded its request id; nothing was left `submitting`.
    let journal = runcomfy_batch::Journal::open(&out)?;
    let rows = journal.rows()?;
    drop(journal);
    let with_id = rows.iter().filter(|r| r.request_id.is_some()).count() as u64;
    assert_eq!(with_id, submitted);
    // ...and when it was accepted, which the resumed wait plans from.
    assert!(
        rows.iter()
            .all(|r| r.request_id.is_some() == r.submitted_at.is_some())
    );
    assert!(rows.iter().all(|r| r.state != State::Submitting));
    assert!(rows.iter().all(|r| r.state != State::Unknown));

    // What a download or report write killed midway leaves behind is cleaned up.
    let line_dir = out.join(rows[0].dir.as_deref().ok_or("no folder")?);
    std::fs::create_dir_all(&line_dir)?;
    std::fs::write(line_dir.join(".images-0.4242-0.part"), b"half a png")?;
    std::fs::write(out.join(".report.jsonl.4242.tmp"), b"half a report")?;

    // The journal alone is enough to carry on.
    carried_on_to_the_end(&sim, &client, &out, lines).await?;
    // Every line's record says when it was submitted, resumed ones included.
    for row in &rows {
        let dir = out.join(row.dir.as_deref().ok_or("no folder")?);
        let record: runcomfy::provenance::Record =
            serde_json::from_slice(&std::fs::read(dir.join(runcomfy::provenance::RECORD_FILE))?)?;
        assert!(record.timings.submitted.is_some(), "line {}", row.number);
    }
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_server_gone_stops_the_batch_and_a_run_once_it_is_back_pays_nothing_twice() -> TestResult
{
    let lines = 12;
    let dir = tempfile::tempdir()?;
    let state = dir.path().join("sim-state.json");
    let sim_config = |port| SimConfig {
        token: Some(TOKEN.into()),
        workers: 2,
        port,
        run_time: RunTime::Fixed(Duration::from_millis(800)),
        state_file: Some(state.clone()),
        ..SimConfig::default()
    };
    let sim = Simulator::start(sim_config(0)).await?;
    let port = sim.port();
    let input = dir.path().join("prompts.jsonl");
    write_lines(&input, &(0..lines).map(line).collect::<Vec<_>>())?;
    let out = dir.path().join("out");
    let client = client(&sim)?;
    let config = BatchConfig {
        give_up_after: Duration::from_secs(1),
        ..config(&input, &out, 3)
    };
    let run = tokio::spawn({
        let (client, config) = (client.clone(), config.clone());
        async move { runcomfy_batch::run(&client, &config, &Stop::new()).await }
    });
    while sim.stats().submissions < 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let gone = Instant::now();
    sim.shutdown().await;

    // Stopped soon after the limit, each line kept as it was: not after every line's own
    // rounds of retries.
    let Err(BatchError::Halted { summary, source }) = run.await? else {
        return Err("the batch did not stop".into());
    };
    assert!(
        matches!(*source, BatchError::Unreachable { .. }),
        "{source}"
    );
    assert!(
        gone.elapsed() < Duration::from_secs(10),
        "{:?}",
        gone.elapsed()
    );
    assert!(summary.unknown.is_empty(), "{summary}");
    let journal = runcomfy_batch::Journal::open(&out)?;
    let rows = journal.rows()?;
    drop(journal);
    let submitted: Vec<_> = rows.iter().filter(|r| r.request_id.is_some()).collect();
    assert!(!submitted.is_empty());
    assert!(
        rows.iter().all(|r| matches!(
            r.state,
            State::Pending | State::Submitted | State::Downloaded
        )),
        "{rows:?}"
    );

    // The server is back (with its jobs): the next run follows the jobs it has and sends
    // only the lines never taken.
    let sim = Simulator::start(sim_config(port)).await?;
    let summary = runcomfy_batch::run(&client, &config, &Stop::new()).await?;
    assert!(summary.is_complete(), "{summary}");
    let stats = sim.stats();
    assert_eq!(stats.submissions, lines as u64);
    assert_eq!(stats.duplicate_submissions, 0);
    check_files(&out)?;
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn another_input_file_or_a_busy_folder_is_refused() -> TestResult {
    let sim = sim(4, Faults::none()).await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    write_lines(&input, &(1..=2).map(line).collect::<Vec<_>>())?;
    let out = dir.path().join("out");
    runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 2), &Stop::new()).await?;

    let other = dir.path().join("other.jsonl");
    write_lines(&other, &(1..=3).map(line).collect::<Vec<_>>())?;
    let err = runcomfy_batch::run(&client(&sim)?, &config(&other, &out, 2), &Stop::new())
        .await
        .err()
        .ok_or("another input was accepted")?;
    assert!(matches!(err, BatchError::InputMismatch { .. }), "{err}");
    assert_eq!(sim.stats().submissions, 2);

    let held = std::fs::OpenOptions::new()
        .write(true)
        .open(out.join(runcomfy_batch::LOCK_FILE))?;
    held.try_lock()?;
    let err = runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 2), &Stop::new())
        .await
        .err()
        .ok_or("a busy folder was used")?;
    assert!(matches!(err, BatchError::Busy { .. }), "{err}");
    // The earlier run, in this process, left its name in the lock.
    let holder = format!("process {} since", std::process::id());
    assert!(err.to_string().contains(&holder), "{err}");
    drop(held);

    let err = runcomfy_batch::run(
        &client(&sim)?,
        &BatchConfig::resume(dir.path().join("nothing")),
        &Stop::new(),
    )
    .await
    .err()
    .ok_or("resumed nothing")?;
    assert!(matches!(err, BatchError::NoJournal { .. }), "{err}");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn failures_are_reported_and_the_token_is_nowhere() -> TestResult {
    let sim = Simulator::start(SimConfig {
        token: Some(TOKEN.into()),
        fail_rate: 0.5,
        seed: 3,
        ..SimConfig::default()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    let mut lines: Vec<String> = (1..=8).map(line).collect();
    lines.push(format!(
        r#"{{"model":"{EDIT}","key":"with <html> & \"quotes\"","input":{{"prompt":"<script>alert(1)</script>","images":["https://example.com/a.png"],"resolution":"1K"}}}}"#
    ));
    write_lines(&input, &lines)?;
    let out = dir.path().join("out");
    let summary =
        runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 4), &Stop::new()).await?;
    assert!(!summary.failed.is_empty(), "{summary}");
    assert_eq!(
        summary.failed.len() as u64 + summary.count(State::Downloaded),
        9
    );
    let text = summary.to_string();
    for failed in &summary.failed {
        assert!(failed.request_id.is_some());
        assert!(text.contains(&format!("line {}", failed.line)), "{text}");
    }
    assert!(text.contains("simulated failure"), "{text}");
    assert_eq!(summary.exit_code(), 1);
    for name in [
        "journal.sqlite",
        "journal.sqlite-wal",
        "report.jsonl",
        "gallery.html",
    ] {
        let path = out.join(name);
        if path.exists() {
            let bytes = std::fs::read(&path)?;
            assert!(
                !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
                "the token is in {name}"
            );
        }
    }
    let gallery = std::fs::read_to_string(out.join("gallery.html"))?;
    assert!(!gallery.contains("<script>"));
    sim.shutdown().await;
    Ok(())
}

/// `--unchecked` (a model this build lacks, served by a server that has it): a stopped batch
/// is carried on from its journal alone, which keeps that its lines run unchecked; the jobs
/// it had sent are followed, not sent again.
#[tokio::test]
async fn a_stopped_unchecked_batch_resumes_from_its_journal() -> TestResult {
    let lines = 12;
    let sim = Simulator::start(SimConfig {
        token: Some(TOKEN.into()),
        workers: 2,
        run_time: RunTime::Fixed(Duration::from_millis(300)),
        any_model: true,
        ..SimConfig::default()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("prompts.jsonl");
    let text = |n: usize| {
        format!(
            r#"{{"model":"acme/new-model/edit","input":{{"prompt":"cat {n}","strength":0.5}}}}"#
        )
    };
    write_lines(&input, &(0..lines).map(text).collect::<Vec<_>>())?;
    let out = dir.path().join("out");

    // The catalog has no such model: unchecked only.
    let err = runcomfy_batch::run(&client(&sim)?, &config(&input, &out, 4), &Stop::new())
        .await
        .err()
        .ok_or("a model the catalog lacks was run checked")?;
    assert!(matches!(err, BatchError::Invalid { .. }), "{err}");
    assert_eq!(sim.stats().submit_calls, 0);

    let client = client(&sim)?;
    let unchecked = BatchConfig {
        unchecked: true,
        ..config(&input, &out, 4)
    };
    let summary = stopped_after(&sim, &client, unchecked, 3).await?;
    assert!(summary.interrupted);
    assert!(!summary.unfinished.is_empty(), "{summary}");

    carried_on_to_the_end(&sim, &client, &out, lines).await?;
    for row in report(&out)? {
        assert_eq!(row["status"], "downloaded", "{row}");
    }
    sim.shutdown().await;
    Ok(())
}
