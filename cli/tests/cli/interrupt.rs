//! Ctrl-C while waiting: a queued job is cancelled, a running one is said to go on; exit 130.

use std::io::{BufRead, BufReader, Read as _};
use std::process::{Command, Stdio};
use std::time::Duration;

use runcomfy_simulator::{Endpoint, FaultKind, Faults, SimConfig, parse_price};

use crate::support::{Sim, queued_behind_a_busy_worker};

/// `run` of a sunset against the simulator.
fn run_sunset(sim: &Sim, dir: &std::path::Path) -> Command {
    let mut command = sim.process(dir);
    command.args([
        "run",
        "bytedance/seedream-4-0/sequential",
        "--text",
        "Generate 3 images of a beautiful sunset over a calm ocean.",
    ]);
    command
}

/// Runs `command`, sends SIGINT once stderr shows `trigger`, and returns the exit code and all
/// of stderr.
fn interrupt_when(command: Command, trigger: &str) -> (Option<i32>, String) {
    signal_when(command, trigger, "-INT")
}

/// [`interrupt_when`] with another signal (`-KILL`).
fn signal_when(mut command: Command, trigger: &str, signal: &str) -> (Option<i32>, String) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    read_until(&mut stderr, trigger, &mut seen);
    send(&child, signal);
    stderr.read_to_string(&mut seen).unwrap();
    let status = child.wait().unwrap();
    (status.code(), seen)
}

/// Reads lines of `stderr` into `seen` until one shows `trigger`.
fn read_until(stderr: &mut impl BufRead, trigger: &str, seen: &mut String) {
    loop {
        let mut line = String::new();
        let read = stderr.read_line(&mut line).unwrap();
        assert!(read > 0, "the CLI ended before {trigger:?}:\n{seen}");
        seen.push_str(&line);
        if line.contains(trigger) {
            return;
        }
    }
}

/// Sends `signal` (`-INT`) to `child`.
fn send(child: &std::process::Child, signal: &str) {
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[test]
fn ctrl_c_cancels_a_queued_job() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, _) = queued_behind_a_busy_worker(dir.path());
    let (code, stderr) = interrupt_when(run_sunset(&sim, dir.path()), "in queue");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted: cancelled job"), "{stderr}");
    assert_eq!(sim.stats().jobs_cancelled, 1);
    // Nothing runs, nothing is billed: no folder is left for it (the two jobs ahead of it,
    // left with --no-wait, have theirs).
    assert_eq!(
        std::fs::read_dir(dir.path().join("runcomfy-out"))
            .unwrap()
            .count(),
        2
    );
    // Nor any folder its `--out` would have made.
    let mut run = run_sunset(&sim, dir.path());
    run.args(["--out", "new/deeper"]);
    let (code, stderr) = interrupt_when(run, "in queue");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(!dir.path().join("new").exists(), "{stderr}");
}

/// A closed terminal or a lost SSH session (SIGHUP), and `kill` (SIGTERM), are Ctrl-C: the
/// queued job is cancelled rather than left to run and bill with nobody to fetch it.
#[test]
fn sighup_and_sigterm_cancel_a_queued_job_as_ctrl_c_does() {
    for signal in ["-HUP", "-TERM"] {
        let dir = tempfile::tempdir().unwrap();
        let (sim, _) = queued_behind_a_busy_worker(dir.path());
        let (code, stderr) = signal_when(run_sunset(&sim, dir.path()), "in queue", signal);
        assert_eq!(code, Some(130), "{signal}: {stderr}");
        assert!(
            stderr.contains("interrupted: cancelled job"),
            "{signal}: {stderr}"
        );
        assert_eq!(sim.stats().jobs_cancelled, 1, "{signal}");
    }
}

#[test]
fn ctrl_c_on_a_running_job_says_it_goes_on() {
    let sim = Sim::running(Duration::from_secs(30));
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = interrupt_when(run_sunset(&sim, dir.path()), "running");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("can no longer be cancelled"), "{stderr}");
    assert_eq!(sim.stats().jobs_cancelled, 0);
    assert_eq!(sim.stats().cancel_calls, 1);
    // It is billed: what was sent is recorded where its files would have gone, for
    // `result --wait --out` to complete.
    assert!(
        stderr.contains("saves its files and completes the record"),
        "{stderr}"
    );
    let folders: Vec<_> = std::fs::read_dir(dir.path().join("runcomfy-out"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folders[0].join("runcomfy-record.json")).unwrap())
            .unwrap();
    assert_eq!(record["files"], serde_json::json!([]));
    assert!(record["timings"]["submitted"].is_string(), "{record}");
}

#[test]
fn ctrl_c_stops_waiting_for_a_result_and_leaves_the_job_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, queued) = queued_behind_a_busy_worker(dir.path());
    let mut wait = sim.process(dir.path());
    wait.args(["result", &queued, "--wait"]);
    let (code, stderr) = interrupt_when(wait, "in queue");
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("stopped waiting for job"), "{stderr}");
    // `result` did not start the job, so it does not cancel it.
    assert_eq!(sim.stats().cancel_calls, 0);
}

/// A run killed outright (kill -9) while its paid job runs leaves the record of what it sent,
/// written when the job was accepted; `result --wait --out` into that folder completes it.
#[test]
fn kill_9_while_waiting_leaves_the_record_that_result_completes() {
    let sim = Sim::running(Duration::from_secs(3));
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let mut run = run_sunset(&sim, dir.path());
    run.env("RUNCOMFY_CACHE_DIR", &cache);
    let (code, stderr) = signal_when(run, "running", "-KILL");
    assert_eq!(code, None, "killed: {stderr}");
    let id = stderr
        .split("submitted ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    let folder = dir.path().join("runcomfy-out").join(&id);
    let read = |path: &std::path::Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path.join("runcomfy-record.json")).unwrap()).unwrap()
    };
    let record = read(&folder);
    assert_eq!(record["request_id"], id.as_str(), "{record}");
    assert_eq!(record["files"], serde_json::json!([]));
    assert_eq!(
        record["input"]["text"],
        "Generate 3 images of a beautiful sunset over a calm ocean."
    );
    // What the wait learned before the kill: the estimate, and the start a poll saw.
    assert!(record["estimate"].is_object(), "{record}");
    assert!(record["timings"]["started"].is_string(), "{record}");

    // The cache kept the job and its record at once: `result` into another folder writes the
    // completed record there.
    let output = sim
        .runcomfy(dir.path())
        .env("RUNCOMFY_CACHE_DIR", &cache)
        .args(["result", &id, "--wait", "--out", "elsewhere"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let elsewhere = read(&dir.path().join("elsewhere"));
    assert_eq!(
        elsewhere["files"].as_array().map(Vec::len),
        Some(3),
        "{elsewhere}"
    );
    assert_eq!(elsewhere["input"], record["input"], "{elsewhere}");

    let output = sim
        .runcomfy(dir.path())
        .args(["result", &id, "--wait", "--out"])
        .arg(&folder)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let record = read(&folder);
    assert_eq!(
        record["files"].as_array().map(Vec::len),
        Some(3),
        "{record}"
    );
    assert_eq!(
        std::fs::read_dir(&folder).unwrap().count(),
        4,
        "three images and one record"
    );
}

/// A second Ctrl-C while the submit waits for its answer quits with the submit's outcome
/// unknown (exit 3) and leaves the record of what was sent, with what it may cost at today's
/// price, for a charge to be matched with (QA repro43 F1: no record, exit 130; repro45 N5: no
/// estimate).
#[test]
fn a_second_ctrl_c_during_the_submit_keeps_what_was_sent_and_its_estimate() {
    let sim = Sim::start(SimConfig {
        faults: Faults::none().script(
            Endpoint::Submit,
            vec![FaultKind::Slow(Duration::from_secs(5))],
        ),
        default_price: Some(parse_price("0.03/output").unwrap()),
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let mut command = run_sunset(&sim, dir.path());
    command.args(["--out", "o", "--json"]);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    read_until(&mut stderr, "submitting", &mut seen);
    while sim.stats().submit_calls == 0 {
        std::thread::sleep(Duration::from_millis(20));
    }
    send(&child, "-INT");
    read_until(&mut stderr, "waiting for the submit's answer", &mut seen);
    send(&child, "-INT");
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(3), "{seen}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "unknown", "{report}");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("o/runcomfy-record.json")).unwrap())
            .unwrap();
    assert!(record["request_id"].is_null(), "{record}");
    assert!(record["timings"]["submitted"].is_string(), "{record}");
    assert!(
        record["estimate"]["usd"]
            .as_f64()
            .is_some_and(|usd| usd > 0.0),
        "{record}"
    );
    assert_eq!(report["estimate"], record["estimate"], "{report}");
}
