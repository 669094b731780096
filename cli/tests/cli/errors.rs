//! Exit codes of failures, against a simulator started here: auth, 5xx, 429, deadlines, job
//! failures, unreachable servers; and the token never shows.

use std::time::Duration;

use runcomfy_simulator::{Endpoint, FaultKind, Faults, SimConfig};
use serde_json::{Value, json};

use crate::support::{Sim, TOKEN, assert_code, runcomfy, stderr, stdout};

const MODEL: &str = "bytedance/seedream-4-0/sequential";
const PROMPT: &str = "Generate 3 images of a beautiful sunset over a calm ocean.";

#[test]
fn no_token_exits_77_before_any_call() {
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["run", MODEL, "--text", PROMPT],
        vec!["status", "some-id"],
        vec!["result", "some-id"],
        vec!["cancel", "some-id"],
    ] {
        let output = runcomfy(dir.path())
            .args(["--base-url", &sim.url()])
            .args(&args)
            .output()
            .unwrap();
        assert_code(&output, 77);
        assert!(
            stderr(&output).contains("RUNCOMFY_TOKEN"),
            "{}",
            stderr(&output)
        );
    }
    // Empty or missing token files too.
    std::fs::write(dir.path().join("empty"), "\n").unwrap();
    for file in ["empty", "missing"] {
        let output = runcomfy(dir.path())
            .args([
                "--base-url",
                &sim.url(),
                "--token-file",
                file,
                "status",
                "x",
            ])
            .output()
            .unwrap();
        assert_code(&output, 77);
    }
    assert_eq!(sim.stats().submit_calls + sim.stats().status_calls, 0);
    // A budget's dry run must ask today's price, as the run does: no token is the run's 77,
    // not "over budget" by the catalog's price (QA repro46 D1: exit 4). Without a budget a
    // dry run needs no token.
    std::fs::write(
        dir.path().join("in.jsonl"),
        format!("{{\"model\":\"{MODEL}\",\"input\":{{\"text\":\"{PROMPT}\"}}}}\n"),
    )
    .unwrap();
    for (args, code) in [
        (
            vec![
                "run",
                MODEL,
                "--text",
                PROMPT,
                "--dry-run",
                "--max-cost",
                "1",
            ],
            77,
        ),
        (
            vec!["batch", "in.jsonl", "--dry-run", "--max-spend", "1"],
            77,
        ),
        (vec!["run", MODEL, "--text", PROMPT, "--dry-run"], 0),
        (vec!["batch", "in.jsonl", "--dry-run"], 0),
    ] {
        let output = runcomfy(dir.path())
            .args(["--base-url", &sim.url()])
            .args(&args)
            .output()
            .unwrap();
        assert_code(&output, code);
    }
    assert_eq!(sim.stats().submit_calls, 0);
}

/// `run --json` answers with one object however it ends before the submit: no token, an
/// `--input` that cannot be read, an `--out` that cannot take files.
#[test]
fn run_json_says_not_submitted_for_every_failure_before_the_submit() {
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("afile"), "").unwrap();
    for (extra, token, code) in [
        (&[][..], false, 77),
        (&["--input", "{bad"][..], true, 65),
        (&["--input", "@missing.json"][..], true, 65),
        (&["--out", "afile/sub"][..], true, 74),
    ] {
        let mut cmd = runcomfy(dir.path());
        if token {
            cmd.env("RUNCOMFY_TOKEN", TOKEN);
        }
        let output = cmd
            .args([
                "--base-url",
                &sim.url(),
                "run",
                MODEL,
                "--text",
                PROMPT,
                "--json",
            ])
            .args(extra)
            .output()
            .unwrap();
        assert_code(&output, code);
        let report: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|err| panic!("{extra:?}: {err}: {}", stdout(&output)));
        assert_eq!(report["status"], "not_submitted", "{extra:?}");
        assert!(report["error"].is_string(), "{report}");
    }
    assert_eq!(sim.stats().submit_calls, 0);
}

/// A command line refused before any command runs (a bad value, an unknown flag, an unknown
/// model, a missing id) still gives `--json` its object on stdout, with exit 64; without
/// `--json`, stdout stays empty.
#[test]
fn json_commands_answer_a_refused_command_line_with_an_object() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str, Value); 9] = [
        (
            &["run", MODEL, "--timeout", "abc", "--json"],
            "'abc'",
            json!({"request_id": null, "model": MODEL, "status": "not_submitted"}),
        ),
        (
            &["run", "no/such-model", "--json"],
            "no/such-model",
            json!({"request_id": null, "model": "no/such-model", "status": "not_submitted"}),
        ),
        (
            &["result", "req-1", "--json", "--bogus"],
            "--bogus",
            json!({"request_id": "req-1", "status": "error"}),
        ),
        (
            &["status", "--json"],
            "<REQUEST_ID>",
            json!({"request_id": null, "status": "error"}),
        ),
        // A global option refused before the command: its id is still named.
        (
            &["--poll-secs=0", "status", "req-2", "--json"],
            "--poll-secs",
            json!({"request_id": "req-2", "status": "error"}),
        ),
        (
            &["models", "--json", "--kind", "smell"],
            "smell",
            json!({"status": "error"}),
        ),
        // Before the command, or given a value: still asked for.
        (&["--json", "models"], "--json", json!({"status": "error"})),
        (&["models", "--json=yes"], "yes", json!({"status": "error"})),
        // `batch` too (QA repro41 L7: nothing on stdout).
        (&["batch", "--json"], "FILE", json!({"status": "error"})),
    ];
    for (args, named, expected) in cases {
        let output = runcomfy(dir.path()).args(args).output().unwrap();
        assert_code(&output, 64);
        let report: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|err| panic!("{args:?}: {err}: {}", stdout(&output)));
        for (key, value) in expected.as_object().unwrap() {
            assert_eq!(&report[key], value, "{args:?}: {report}");
        }
        let error = report["error"].as_str().unwrap_or_default();
        assert!(error.contains(named), "{args:?}: {report}");
        assert!(!error.contains('\n'), "{args:?}: one line: {report}");

        let without: Vec<&str> = args
            .iter()
            .copied()
            .filter(|arg| !arg.starts_with("--json"))
            .collect();
        let output = runcomfy(dir.path()).args(&without).output().unwrap();
        if output.status.code() == Some(64) {
            assert_eq!(stdout(&output), "", "{without:?}");
        }
    }
}

/// `models --live --json`, `describe --live --json` and `batch --json` that fail (here: no
/// token) print an object with the error, as the other commands do.
#[test]
fn models_and_describe_json_answer_a_failure_with_an_object() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.jsonl"), "{}\n").unwrap();
    for args in [
        &["models", "--live", "--json"][..],
        &["describe", MODEL, "--live", "--json"][..],
        &[
            "batch", "in.jsonl", "--out", "o", "--model", MODEL, "--json",
        ][..],
    ] {
        let output = runcomfy(dir.path()).args(args).output().unwrap();
        assert_code(&output, 77);
        let report: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|err| panic!("{args:?}: {err}: {}", stdout(&output)));
        assert!(
            report["error"]
                .as_str()
                .is_some_and(|e| e.contains("token")),
            "{report}"
        );
        assert_eq!(report["status"], "error");
    }
}

#[test]
fn a_refused_token_exits_77_and_no_token_is_ever_printed() {
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let wrong = "wrong-token-5d1e77aa";
    let output = runcomfy(dir.path())
        .env("RUNCOMFY_TOKEN", wrong)
        .args([
            "-vv",
            "--base-url",
            &sim.url(),
            "run",
            MODEL,
            "--text",
            PROMPT,
        ])
        .output()
        .unwrap();
    assert_code(&output, 77);
    let all = format!("{}{}", stdout(&output), stderr(&output));
    assert!(!all.contains(wrong), "{all}");
    assert!(all.contains("unauthorized"), "{all}");

    // The right token from a file: the whole run, logged at -vv, never shows it.
    std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).unwrap();
    let output = runcomfy(dir.path())
        .args(["-vv", "--base-url", &sim.url(), "--token-file", "token"])
        .args(["run", MODEL, "--text", PROMPT, "--json", "--out", "out"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let all = format!("{}{}", stdout(&output), stderr(&output));
    assert!(!all.contains(TOKEN), "{all}");
    assert!(all.contains("submitted"), "-vv logs missing: {all}");
}

#[test]
fn server_errors_exit_69_and_an_accepted_job_lost_to_them_3() {
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();

    // A 500 on submit: the job may exist, so it is not sent again, and the exit code says so.
    sim.sim
        .set_faults(Faults::none().with(Endpoint::Submit, 1.0, &[FaultKind::Http500]));
    let output = sim.output(dir.path(), &["run", MODEL, "--text", PROMPT]);
    assert_code(&output, 3);
    let err = stderr(&output);
    assert!(err.contains("may or may not have been accepted"), "{err}");
    assert!(err.contains("before submitting again"), "{err}");
    assert_eq!(sim.stats().submit_calls, 1);

    // 503s while polling, past every retry and the minute a wait rides out: the job was
    // accepted, so not 69 (a wrapper would send it again) but 3, with how to pick it up.
    let outage = || {
        Faults::none()
            .with(Endpoint::Status, 1.0, &[FaultKind::Http503])
            .with(Endpoint::Result, 1.0, &[FaultKind::Http503])
    };
    sim.sim.set_faults(outage());
    let output = sim.output(dir.path(), &["run", MODEL, "--text", PROMPT]);
    assert_code(&output, 3);
    let err = stderr(&output);
    assert!(err.contains("server error"), "{err}");
    assert!(
        err.contains("--wait --out runcomfy-out/") && err.contains("completes the record"),
        "{err}"
    );

    // An outage of a few seconds while it waits is ridden out: the job is saved. So are
    // replies that cannot be read for as long (a proxy's page sent with 200).
    let garbled = Faults::none()
        .with(Endpoint::Status, 1.0, &[FaultKind::MalformedJson])
        .with(Endpoint::Result, 1.0, &[FaultKind::MalformedJson]);
    // Polls refused with 429 are the API answering: said so, not as silence (QA repro29 #4).
    let limit = FaultKind::RateLimited {
        retry_after_secs: 1,
    };
    let limited = Faults::none()
        .with(Endpoint::Status, 1.0, std::slice::from_ref(&limit))
        .with(Endpoint::Result, 1.0, &[limit]);
    for (faults, out, said) in [
        (outage(), "after-outage", "no answer from the API"),
        (garbled, "after-garbling", "no answer from the API"),
        (
            limited,
            "after-rate-limits",
            "the API rate-limits the polls",
        ),
    ] {
        sim.sim.set_faults(faults);
        let child = sim
            .process(dir.path())
            .args(["run", MODEL, "--text", PROMPT, "--out", out])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_secs(8));
        sim.sim.set_faults(Faults::none());
        let output = child.wait_with_output().unwrap();
        assert_code(&output, 0);
        assert!(!stdout(&output).is_empty(), "{}", stderr(&output));
        // Said while it lasted, not taken for a job still running.
        let err = stderr(&output);
        assert!(err.contains(said) && err.contains("s more ("), "{err}");
    }

    // Nothing listening at all.
    let output = runcomfy(dir.path())
        .env("RUNCOMFY_TOKEN", TOKEN)
        .args(["--base-url", "http://127.0.0.1:9", "status", "x"])
        .output()
        .unwrap();
    assert_code(&output, 69);
}

#[test]
fn a_deadline_on_a_running_job_exits_3_not_75_and_a_rate_limit_75() {
    let sim = Sim::running(Duration::from_secs(30));
    let dir = tempfile::tempdir().unwrap();

    // The job runs, and is paid for: a wrapper that retries on 75 would pay for it again.
    let output = sim.output(
        dir.path(),
        &["run", MODEL, "--text", PROMPT, "--timeout", "1s", "--json"],
    );
    assert_code(&output, 3);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "timeout");
    assert!(report["request_id"].is_string(), "{report}");
    assert!(
        stderr(&output).contains("did not finish within"),
        "{}",
        stderr(&output)
    );
    // What was sent is recorded where the files would have gone, for `result` to complete.
    let id = report["request_id"].as_str().unwrap();
    let record = dir.path().join(report["record"].as_str().unwrap());
    assert_eq!(
        record.parent(),
        Some(dir.path().join("runcomfy-out").join(id).as_path())
    );
    let left: Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    assert_eq!(
        (&left["request_id"], &left["input"]["text"]),
        (&json!(id), &json!(PROMPT))
    );
    assert_eq!(left["files"], json!([]));
    assert!(
        left["timings"]["started"].is_string(),
        "seen running: {left}"
    );
    assert!(left.get("output").is_none(), "no output yet: {left}");
    assert!(
        stderr(&output).contains(&format!(
            "--wait --out runcomfy-out/{id}` waits for it, saves its files and completes the record"
        )),
        "{}",
        stderr(&output)
    );

    sim.sim.set_faults(Faults::none().with(
        Endpoint::Status,
        1.0,
        &[FaultKind::RateLimited {
            retry_after_secs: 1,
        }],
    ));
    let output = sim.output(dir.path(), &["status", "any-id"]);
    assert_code(&output, 75);
    assert!(
        stderr(&output).contains("rate limited"),
        "{}",
        stderr(&output)
    );
    assert_eq!(sim.stats().retry_after_violations, 0);
}

#[test]
fn a_failed_job_exits_1() {
    let sim = Sim::start(SimConfig {
        fail_rate: 1.0,
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let output = sim.output(dir.path(), &["run", MODEL, "--text", PROMPT, "--json"]);
    assert_code(&output, 1);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "failed");
    // `error` is text in every object; the server's own error beside it, as it gave it.
    assert!(report["error"].is_string(), "{report}");
    assert!(report["error_detail"].is_object(), "{report}");
    assert!(stderr(&output).contains("failed"), "{}", stderr(&output));
    let id = report["request_id"].as_str().unwrap_or_default().to_owned();
    let output = sim.output(dir.path(), &["result", &id, "--json"]);
    assert_code(&output, 1);
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(result["error"].is_string(), "{result}");
    assert_eq!(result["error_detail"], report["error_detail"]);
    // No files; the record of what was sent and why it failed, written when it was accepted.
    let folder = dir
        .path()
        .join("runcomfy-out")
        .join(report["request_id"].as_str().unwrap());
    let left: Vec<_> = std::fs::read_dir(&folder).unwrap().collect();
    assert_eq!(left.len(), 1, "{left:?}");
    let record: Value =
        serde_json::from_slice(&std::fs::read(folder.join("runcomfy-record.json")).unwrap())
            .unwrap();
    // In the words `result` records it with.
    let error = record["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("failed: "), "{record}");

    // Left with --no-wait, its record says how it ended once `result` saw it.
    let output = sim.output(
        dir.path(),
        &["run", MODEL, "--text", PROMPT, "--no-wait", "--out", "f"],
    );
    assert_code(&output, 0);
    let id = stdout(&output).trim().to_owned();
    let output = sim.output(dir.path(), &["result", &id, "--wait", "--out", "f"]);
    assert_code(&output, 1);
    let record: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("f/runcomfy-record.json")).unwrap())
            .unwrap();
    let error = record["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("failed: "), "{record}");
    assert!(record["timings"]["finished"].is_string(), "{record}");
    assert_eq!(record["files"], json!([]));

    // `result` into another folder than the run's (the cache says where its record is) makes
    // that folder for the completed record, though the job saved no file.
    let cached = |args: &[&str]| {
        sim.runcomfy(dir.path())
            .env("RUNCOMFY_CACHE_DIR", dir.path().join("cache"))
            .args(args)
            .output()
            .unwrap()
    };
    let output = cached(&["run", MODEL, "--text", PROMPT, "--no-wait", "--out", "g"]);
    assert_code(&output, 0);
    let id = stdout(&output).trim().to_owned();
    let output = cached(&["result", &id, "--wait", "--out", "h/deeper"]);
    assert_code(&output, 1);
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
    let record: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("h/deeper/runcomfy-record.json")).unwrap(),
    )
    .unwrap();
    assert!(record["error"].is_string(), "{record}");
}

/// Stderr closed by its reader (`2>&1 | head -1`): the logs of `-v` and the warnings are lost,
/// the run is not (QA repro37 H1: tracing-subscriber's own `eprintln!` panicked, and the
/// process aborted just after the paid submit, with no record).
#[test]
fn a_closed_stderr_ends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = crate::support::runcomfy_process(dir.path())
        .args([
            "--mock", "-vv", "run", MODEL, "--text", PROMPT, "--out", "shots",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(stdout(&output).lines().count(), 3, "{}", stdout(&output));
    assert!(dir.path().join("shots/runcomfy-record.json").is_file());
}
