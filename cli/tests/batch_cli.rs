//! `runcomfy batch` end to end: the binary against a simulator in this process (`--base-url`)
//! or its own `--mock`, killed with SIGKILL or interrupted with Ctrl-C and run again.

mod common;

use common::check_files;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runcomfy_simulator::{Endpoint, FaultKind, Faults, RunTime, SimConfig, Simulator, Stats};
use serde_json::Value;

const TOKEN: &str = "test-token-batch-5c1d";
const EDIT: &str = "bytedance/seedream-4-0/edit";

/// A simulator on a runtime of its own, so it serves while the test waits on the binary.
struct Sim {
    sim: Simulator,
    _runtime: tokio::runtime::Runtime,
}

impl Sim {
    fn start(config: SimConfig) -> Sim {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sim = runtime
            .block_on(Simulator::start(SimConfig {
                token: Some(TOKEN.into()),
                ..config
            }))
            .unwrap();
        Sim {
            sim,
            _runtime: runtime,
        }
    }

    fn stats(&self) -> Stats {
        self.sim.stats()
    }

    /// `runcomfy --base-url <sim> batch ARGS` in `dir`, with the token.
    fn batch(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = runcomfy(dir);
        cmd.env("RUNCOMFY_TOKEN", TOKEN)
            .args(["--base-url", &self.sim.base_url(), "batch"])
            .args(args);
        cmd
    }
}

fn runcomfy(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_runcomfy"));
    cmd.current_dir(dir)
        .env_remove("RUNCOMFY_TOKEN")
        .env_remove("RUNCOMFY_BASE_URL")
        .env_remove("RUST_LOG")
        .env("RUNCOMFY_CACHE_DIR", "");
    cmd
}

/// Runs to the end; returns the exit code, stdout and stderr.
fn output(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A line making one small image; `n` keeps every body distinct.
fn line(n: usize) -> String {
    format!(
        r#"{{"model":"{EDIT}","input":{{"prompt":"a lighthouse, take {n}","images":["https://example.com/ref.png"],"resolution":"1K"}}}}"#
    )
}

fn write_input(dir: &Path, lines: &[String]) {
    std::fs::write(dir.join("in.jsonl"), lines.join("\n") + "\n").unwrap();
}

fn report(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("report.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Polls `ready` every 20 ms for up to 60 s.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kill_9_mid_batch_then_the_same_command_finishes_paying_once() {
    let lines = 60;
    let sim = Sim::start(SimConfig {
        workers: 6,
        run_time: RunTime::Range(Duration::from_millis(150), Duration::from_millis(400)),
        seed: 5,
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    write_input(dir.path(), &(0..lines).map(line).collect::<Vec<_>>());
    let out = dir.path().join("out");
    let args = ["in.jsonl", "--out", "out", "--concurrency", "8"];

    let mut child = sim
        .batch(dir.path(), &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("a third of the lines submitted", || {
        sim.stats().submissions >= lines as u64 / 3
    });
    child.kill().unwrap(); // SIGKILL: no cleanup, no last journal write.
    child.wait().unwrap();
    let before = sim.stats().submissions;
    assert!(before < lines as u64, "killed before the end ({before})");

    let (code, stdout, stderr) = output(&mut sim.batch(dir.path(), &args));
    let stats = sim.stats();
    let report = report(&out);
    assert_eq!(report.len(), lines);
    // A line killed between its POST and the journal write is `unknown`: never sent again.
    let unknown: Vec<&Value> = report.iter().filter(|r| r["status"] == "unknown").collect();
    assert!(unknown.len() <= 8, "{stdout}");
    for line in &unknown {
        assert!(
            line["reason"]
                .as_str()
                .unwrap()
                .contains("interrupted while submitting"),
            "{line}"
        );
    }
    let downloaded = report
        .iter()
        .filter(|r| r["status"] == "downloaded")
        .count();
    assert_eq!(downloaded + unknown.len(), lines, "{stdout}\n{stderr}");
    assert_eq!(
        code,
        if unknown.is_empty() { 0 } else { 1 },
        "{stdout}\n{stderr}"
    );
    assert_eq!(stats.duplicate_submissions, 0, "nothing paid twice");
    assert!(stats.submissions <= lines as u64);
    if unknown.is_empty() {
        assert_eq!(stats.submissions, lines as u64, "every line submitted once");
    }
    assert!(report.iter().all(|r| r["submits"].as_u64() <= Some(1)));
    assert_eq!(check_files(&out), downloaded);
}

#[test]
fn ctrl_c_with_mock_then_a_rerun_gets_every_image_paid_once() {
    // The new user's story: 20 prompts, one command, Ctrl-C halfway, the same command again.
    let dir = tempfile::tempdir().unwrap();
    let prompts: Vec<String> = (1..=20)
        .map(|i| {
            format!(
                r#"{{"key":"prompt-{i}","input":{{"text":"Generate 2 images of a red fox in the snow, scene {i}.","sequential_image_generation_options":2}}}}"#
            )
        })
        .collect();
    std::fs::write(dir.path().join("prompts.jsonl"), prompts.join("\n")).unwrap();
    let args = [
        "--mock",
        "batch",
        "prompts.jsonl",
        "--out",
        "shots",
        "--model",
        "bytedance/seedream-4-0/sequential",
    ];
    let state = dir.path().join("shots").join(".mock-simulator.json");
    let submitted = |state: &Path| -> u64 {
        std::fs::read(state)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|v| v["submissions"].as_u64())
            .unwrap_or(0)
    };

    let child = runcomfy(dir.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("a few submissions", || submitted(&state) >= 5);
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let first = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&first.stdout);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stdout.contains("batch interrupted"), "{stdout}");
    assert!(stderr.contains("stopping: no new submits"), "{stderr}");
    let halfway = submitted(&state);
    assert!(halfway < 20, "stopped before the end ({halfway})");

    let (code, stdout, stderr) = output(runcomfy(dir.path()).args(args));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("batch complete: 20 lines: 20 downloaded"),
        "{stdout}"
    );
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved["submissions"], 20, "each prompt paid once");
    assert_eq!(saved["duplicate_submissions"], 0);
    let shots = dir.path().join("shots");
    for i in 1..=20 {
        let pngs = std::fs::read_dir(shots.join(format!("prompt-{i}")))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".png"))
            })
            .count();
        assert_eq!(pngs, 2, "prompt-{i}");
    }
    assert_eq!(check_files(&shots), 40);
    assert_eq!(report(&shots).len(), 20);
    let gallery = std::fs::read_to_string(shots.join("gallery.html")).unwrap();
    assert_eq!(gallery.matches("<img loading=\"lazy\"").count(), 40);
    assert!(gallery.contains("a red fox in the snow, scene 7"));
}

#[test]
fn invalid_lines_are_listed_with_their_numbers_and_nothing_is_sent() {
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    write_input(
        dir.path(),
        &[
            line(1),
            "{\"model\": ".to_owned(),
            line(3),
            format!(
                r#"{{"model":"{EDIT}","input":{{"prompt":"p","images":[],"resolution":"8K"}}}}"#
            ),
            r#"{"model":"acme/nope","input":{"prompt":"p"}}"#.to_owned(),
        ],
    );
    let (code, _, stderr) = output(&mut sim.batch(dir.path(), &["in.jsonl", "--out", "out"]));
    assert_eq!(code, 65, "{stderr}");
    assert!(stderr.contains("3 invalid line(s)"), "{stderr}");
    for needle in ["line 2: invalid JSON", "line 4:", "line 5: unknown model"] {
        assert!(stderr.contains(needle), "{needle:?} in {stderr}");
    }
    assert!(!stderr.contains("line 1:") && !stderr.contains("line 3:"));
    assert_eq!(sim.stats().submit_calls, 0);
    assert!(!dir.path().join("out").exists());

    let (code, stdout, stderr) =
        output(&mut sim.batch(dir.path(), &["in.jsonl", "--out", "out", "--skip-invalid"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("2 downloaded"), "{stdout}");
    assert!(stdout.contains("invalid (skipped)"), "{stdout}");
    assert_eq!(sim.stats().submissions, 2);
}

#[test]
fn an_accepted_then_dropped_submit_is_unknown_until_resubmit_unknown() {
    let sim = Sim::start(SimConfig {
        faults: Faults::none().script(Endpoint::Submit, vec![FaultKind::AcceptedThenDropped]),
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    write_input(dir.path(), &(1..=3).map(line).collect::<Vec<_>>());
    let args = ["in.jsonl", "--out", "out", "--concurrency", "1"];
    let (code, stdout, stderr) = output(&mut sim.batch(dir.path(), &args));
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(stdout.contains("1 unknown"), "{stdout}");
    assert!(stdout.contains("--resubmit-unknown"), "{stdout}");
    assert!(stdout.contains("  line 1"), "{stdout}");
    assert_eq!(sim.stats().submissions, 3);

    // `--resume` carries on from the journal and still does not send it again...
    let (code, stdout, _) = output(&mut sim.batch(dir.path(), &["--resume", "out"]));
    assert_eq!(code, 3, "{stdout}");
    assert_eq!(sim.stats().submissions, 3);

    // ...until asked to.
    let mut args = args.to_vec();
    args.push("--resubmit-unknown");
    let (code, stdout, stderr) = output(&mut sim.batch(dir.path(), &args));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(sim.stats().submissions, 4);
    assert!(
        report(&dir.path().join("out"))
            .iter()
            .all(|r| r["status"] == "downloaded")
    );
}

#[test]
fn usage_errors_exit_64() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = output(runcomfy(dir.path()).args(["batch", "in.jsonl"]));
    assert_eq!(code, 64, "{stderr}");
    let (code, _, stderr) =
        output(runcomfy(dir.path()).args(["--mock", "batch", "--resume", "nothing"]));
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("no batch journal"), "{stderr}");
}
