//! `runcomfy batch` end to end: the binary against a simulator in this process (`--base-url`)
//! or its own `--mock`, killed with SIGKILL or interrupted with Ctrl-C and run again.

mod common;

use common::check_files;

#[allow(dead_code)] // The CLI tests' helpers; this file spawns and kills the binary.
#[path = "cli/support.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runcomfy_simulator::{Endpoint, FaultKind, Faults, RunTime, SimConfig};
use serde_json::{Value, json};
use support::{Sim, runcomfy_process, sha256, write_png};

const EDIT: &str = "bytedance/seedream-4-0/edit";

/// `runcomfy --base-url <sim> batch ARGS` in `dir`, with the token.
fn batch(sim: &Sim, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = sim.process(dir);
    cmd.arg("batch").args(args);
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

    let mut child = batch(&sim, dir.path(), &args)
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

    let (code, stdout, stderr) = output(&mut batch(&sim, dir.path(), &args));
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
    // Unknown lines exit 3 (README): no wrapper retrying on 75 may resend a paid submit.
    assert_eq!(
        code,
        if unknown.is_empty() { 0 } else { 3 },
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

    let child = runcomfy_process(dir.path())
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

    let (code, stdout, stderr) = output(runcomfy_process(dir.path()).args(args));
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
    let (code, _, stderr) = output(&mut batch(&sim, dir.path(), &["in.jsonl", "--out", "out"]));
    assert_eq!(code, 65, "{stderr}");
    assert!(stderr.contains("3 invalid lines"), "{stderr}");
    for needle in ["line 2: invalid JSON", "line 4:", "line 5: unknown model"] {
        assert!(stderr.contains(needle), "{needle:?} in {stderr}");
    }
    assert!(!stderr.contains("line 1:") && !stderr.contains("line 3:"));
    // Not the whole catalog on the line.
    assert!(!stderr.contains("wan-ai/"), "{stderr}");
    assert_eq!(sim.stats().submit_calls, 0);
    assert!(!dir.path().join("out").exists());

    // A dry run says each invalid line on stdout too, one JSON line each, and still the valid
    // ones' estimates and bodies (QA repro41 L14: only the invalid ones).
    let (code, stdout, stderr) = output(&mut batch(&sim, dir.path(), &["in.jsonl", "--dry-run"]));
    assert_eq!(code, 65, "{stderr}");
    let said: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let numbers: Vec<&Value> = said.iter().map(|l| &l["line"]).collect();
    // In the file's order (QA repro42 N4: the invalid lines came first).
    assert_eq!(numbers, [1, 2, 3, 4, 5], "{stdout}");
    assert_eq!(said[3]["model"], EDIT, "{stdout}");
    for at in [1, 3, 4] {
        assert!(
            said[at]["invalid"]
                .as_array()
                .is_some_and(|p| !p.is_empty()),
            "{stdout}"
        );
    }
    assert!(
        [0, 2].iter().all(|&at| said[at]["body"].is_object()),
        "{stdout}"
    );
    // A schema's problems are also structured, as `run --json` gives them (QA repro46 D9);
    // a line refused before its input was read has none.
    let problem = &said[3]["problems"][1];
    assert_eq!(problem["pointer"], "/resolution", "{stdout}");
    assert_eq!(problem["rule"], "enum", "{stdout}");
    assert_eq!(problem["given"], "8K", "{stdout}");
    assert_eq!(said[1]["problems"], json!([]), "{stdout}");

    let (code, _, stderr) = output(&mut batch(
        &sim,
        dir.path(),
        &["in.jsonl", "--dry-run", "--skip-invalid"],
    ));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning: 3 invalid lines, skipped (--skip-invalid)"),
        "{stderr}"
    );
    let (code, stdout, stderr) = output(&mut batch(
        &sim,
        dir.path(),
        &["in.jsonl", "--out", "out", "--skip-invalid"],
    ));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("2 downloaded"), "{stdout}");
    assert!(stdout.contains("invalid (skipped)"), "{stdout}");
    assert_eq!(sim.stats().submissions, 2);
    // The report names an invalid line's model when it is one of the catalog.
    let models: Vec<Value> = report(&dir.path().join("out"))
        .iter()
        .filter(|line| line["status"] == "invalid")
        .map(|line| line["model"].clone())
        .collect();
    assert_eq!(models, [Value::Null, Value::from(EDIT), Value::Null]);
}

/// What `run` warns of (an empty prompt, a prompt asking for another count than the input's)
/// a batch says too, per line, before sending: warnings do not stop a line.
#[test]
fn lines_with_warnings_are_named_and_still_sent() {
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let sequential = "bytedance/seedream-4-0/sequential";
    write_input(
        dir.path(),
        &[
            line(1),
            format!(r#"{{"model":"{sequential}","input":{{"text":"  "}},"key":"blank"}}"#),
            format!(
                r#"{{"model":"{sequential}","input":{{"text":"Generate 5 images of a cat","sequential_image_generation_options":2}}}}"#
            ),
        ],
    );
    let (code, stdout, stderr) = output(&mut batch(&sim, dir.path(), &["in.jsonl", "--dry-run"]));
    assert_eq!(code, 0, "{stderr}");
    // Each line's JSON says its warnings too, as `run --dry-run --json` does.
    let said: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["warnings"].clone())
        .collect();
    assert_eq!(said[0], json!([]));
    assert!(
        said[1][0]
            .as_str()
            .unwrap()
            .starts_with("input.text: is required but empty"),
        "{said:?}"
    );
    let warned = |stderr: &str| {
        assert!(
            stderr.contains("line 2 (key \"blank\"): warning: input.text: is required but empty"),
            "{stderr}"
        );
        assert!(
            stderr.contains("line 3: warning: input.text: The prompt asks for a different number"),
            "{stderr}"
        );
        assert!(!stderr.contains("line 1: warning"), "{stderr}");
    };
    warned(&stderr);
    let (code, stdout, stderr) =
        output(&mut batch(&sim, dir.path(), &["in.jsonl", "--out", "out"]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    warned(&stderr);
    assert!(stdout.contains("3 lines: 3 downloaded"), "{stdout}");
    assert_eq!(sim.stats().submissions, 3);
}

/// Under `--max-spend`, lines whose results cannot be read are left for the next run after
/// their rounds of retries, and the line waiting for the budget they held is then told it
/// does not fit (it waited for ever: their reservations were never given back). About 31 s:
/// the batch's own back-off between rounds.
#[test]
fn lines_left_for_the_next_run_give_back_their_budget_slot() {
    let price = runcomfy_simulator::parse_price("0.01/output").unwrap();
    let sim = Sim::start(SimConfig {
        prices: std::collections::HashMap::from([(EDIT.to_owned(), price)]),
        ..SimConfig::default()
    });
    sim.sim
        .set_faults(Faults::none().with(Endpoint::Result, 1.0, &[FaultKind::MalformedJson]));
    let dir = tempfile::tempdir().unwrap();
    write_input(dir.path(), &[line(1), line(2), line(3)]);
    let mut child = batch(
        &sim,
        dir.path(),
        &[
            "in.jsonl",
            "--out",
            "out",
            "--concurrency",
            "3",
            "--max-spend",
            "0.02",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(150) {
            child.kill().unwrap();
            panic!("the batch hung waiting for its budget");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Two sent, both left for the next run; the third never sent, for the budget. Accepted
    // jobs left to download outrank lines the budget left unsent: 75, not 4.
    assert_eq!(sim.stats().submissions, 2, "{stderr}");
    assert_eq!(status.code(), Some(75), "{stderr}");
    assert!(stderr.contains("--max-spend"), "{stderr}");
}

#[test]
fn a_batch_whose_stdout_and_stderr_are_closed_still_finishes() {
    // `runcomfy batch ... 2>&1 | head -1`: the reader goes away; the batch must not panic on
    // its next line (abandoning submits in flight), but finish and exit as it would have.
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    write_input(dir.path(), &[line(1), line(2)]);
    let mut child = batch(&sim, dir.path(), &["in.jsonl", "--out", "out"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(sim.stats().submissions, 2);
    let done = report(&dir.path().join("out"));
    assert!(done.iter().all(|l| l["status"] == "downloaded"), "{done:?}");
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
    let (code, stdout, stderr) = output(&mut batch(&sim, dir.path(), &args));
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(stdout.contains("1 unknown"), "{stdout}");
    assert!(stdout.contains("--resubmit-unknown"), "{stdout}");
    assert!(stdout.contains("  line 1"), "{stdout}");
    assert_eq!(sim.stats().submissions, 3);

    // `--resume` carries on from the journal and still does not send it again...
    let (code, stdout, _) = output(&mut batch(&sim, dir.path(), &["--resume", "out"]));
    assert_eq!(code, 3, "{stdout}");
    assert_eq!(sim.stats().submissions, 3);

    // ...until asked to.
    let mut args = args.to_vec();
    args.push("--resubmit-unknown");
    let (code, stdout, stderr) = output(&mut batch(&sim, dir.path(), &args));
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
    let (code, _, stderr) = output(runcomfy_process(dir.path()).args(["batch", "in.jsonl"]));
    assert_eq!(code, 64, "{stderr}");
    let (code, _, stderr) =
        output(runcomfy_process(dir.path()).args(["--mock", "batch", "--resume", "nothing"]));
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("no batch journal"), "{stderr}");
}

/// A server that refuses the token stops the batch: said once, as an error line (no log line
/// at error level beside it), exit 77, the line left pending for the next run.
#[test]
fn a_refused_token_stops_the_batch_and_says_so_once() {
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    write_input(dir.path(), &[line(1)]);
    let mut wrong = batch(&sim, dir.path(), &["in.jsonl", "--out", "out"]);
    wrong.env("RUNCOMFY_TOKEN", "not-the-token");
    let (code, _, stderr) = output(&mut wrong);
    assert_eq!(code, 77, "{stderr}");
    assert_eq!(stderr.matches("the batch stopped").count(), 1, "{stderr}");
    assert!(
        stderr.contains("refused by the server: unauthorized"),
        "{stderr}"
    );
    assert!(!stderr.contains("ERROR"), "{stderr}");
    assert!(!stderr.contains("detail: []"), "{stderr}");
    let rows = report(&dir.path().join("out"));
    assert_eq!(rows[0]["status"], "pending", "{rows:?}");
    assert_eq!(sim.stats().submissions, 0);
}

/// A server that never answers stops the batch after --give-up-after, as unavailable (69),
/// every line left pending for the next run, not after minutes of each line's own retries.
#[test]
fn a_server_that_never_answers_stops_the_batch_after_give_up_after() {
    // A port nothing listens on: every call is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    write_input(dir.path(), &[line(1), line(2), line(3)]);
    let mut cmd = runcomfy_process(dir.path());
    cmd.env("RUNCOMFY_TOKEN", "sk-any")
        .args(["--base-url", &format!("http://127.0.0.1:{port}")])
        .args(["batch", "in.jsonl", "--out", "out", "--give-up-after", "1s"]);
    let started = Instant::now();
    let (code, _, stderr) = output(&mut cmd);
    assert_eq!(code, 69, "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert!(stderr.contains("has not answered for"), "{stderr}");
    assert!(stderr.contains("run the batch again"), "{stderr}");
    let rows = report(&dir.path().join("out"));
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["status"] == "pending"), "{rows:?}");
}

/// A budget the journal keeps holds back a line with no estimate on every later run; only
/// `--no-max-spend` drops it, and then the line is sent.
#[test]
fn no_max_spend_drops_the_kept_budget() {
    let price = runcomfy_simulator::parse_price("0.01/output").unwrap();
    let sim = Sim::start(SimConfig {
        run_time: RunTime::Range(Duration::from_millis(50), Duration::from_millis(100)),
        prices: std::collections::HashMap::from([(EDIT.to_owned(), price)]),
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    // The second line's model has no price anywhere: no estimate.
    let unpriced = r#"{"model":"bytedance/seedream-4-0/sequential","input":{"text":"a hen"}}"#;
    write_input(dir.path(), &[line(1), unpriced.to_owned()]);
    let run = |extra: &[&str]| {
        let mut args = vec!["in.jsonl", "--out", "out"];
        args.extend_from_slice(extra);
        output(&mut batch(&sim, dir.path(), &args))
    };
    let (code, stdout, stderr) = run(&["--max-spend", "1"]);
    assert_eq!(code, 4, "{stdout}\n{stderr}");
    assert!(stdout.contains("--no-max-spend"), "{stdout}");
    // The budget is kept: a larger one, or none given, still holds the line back.
    assert_eq!(run(&["--max-spend", "5"]).0, 4);
    assert_eq!(run(&[]).0, 4);
    assert_eq!(sim.stats().submissions, 1);
    let (code, stdout, stderr) = run(&["--no-max-spend"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(sim.stats().submissions, 2);
    assert!(
        report(&dir.path().join("out"))
            .iter()
            .all(|r| r["status"] == "downloaded")
    );
}

/// Without a budget a batch still estimates each line at today's price, as its dry run shows
/// it: the report does not say "no estimate" for a model the catalog has no price for.
#[test]
fn a_batch_without_a_budget_estimates_at_todays_price() {
    let price = runcomfy_simulator::parse_price("0.02/output").unwrap();
    let sim = Sim::start(SimConfig {
        run_time: RunTime::Range(Duration::from_millis(50), Duration::from_millis(100)),
        prices: std::collections::HashMap::from([(EDIT.to_owned(), price)]),
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    write_input(dir.path(), &(0..3).map(line).collect::<Vec<_>>());
    let (code, _, stderr) = output(&mut batch(&sim, dir.path(), &["in.jsonl", "--out", "out"]));
    assert_eq!(code, 0, "{stderr}");
    let rows = report(&dir.path().join("out"));
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row["estimate_usd"], 0.02, "{row}");
        assert_eq!(row["cost_usd"], 0.02, "{row}");
    }
}

/// `--max-spend` on 100 lines of one output at $0.01 each, with a budget of $0.50: a kill -9
/// part way, then `--resume` without the flag (the journal keeps the budget). Exactly 50 lines
/// are charged (downloaded, or unknown: caught by the kill between the journal and the
/// answer), the other 50 stay pending with their reason, nothing is sent twice, and the
/// report, the gallery and each line's provenance record say what each job cost.
#[test]
fn max_spend_stops_a_100_line_batch_at_the_budget_across_kill_9_and_resume() {
    let lines = 100;
    let price = runcomfy_simulator::parse_price("0.01/output").unwrap();
    let sim = Sim::start(SimConfig {
        workers: 6,
        run_time: RunTime::Range(Duration::from_millis(100), Duration::from_millis(300)),
        seed: 17,
        prices: std::collections::HashMap::from([(EDIT.to_owned(), price)]),
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    write_input(dir.path(), &(0..lines).map(line).collect::<Vec<_>>());
    let out = dir.path().join("out");

    // The dry run says what it would cost, and sends nothing.
    let (code, stdout, stderr) = output(&mut batch(&sim, dir.path(), &["in.jsonl", "--dry-run"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), lines);
    assert!(stderr.contains("estimated total $1.00"), "{stderr}");
    assert_eq!(sim.stats().submit_calls, 0);

    let args = [
        "in.jsonl",
        "--out",
        "out",
        "--concurrency",
        "8",
        "--max-spend",
        "0.50",
    ];
    let mut child = batch(&sim, dir.path(), &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("some lines submitted", || sim.stats().submissions >= 15);
    child.kill().unwrap(); // SIGKILL: no cleanup, no last journal write.
    child.wait().unwrap();
    assert!(sim.stats().submissions < 50, "killed before the budget");

    let (code, stdout, stderr) = output(&mut batch(&sim, dir.path(), &["--resume", "out"]));
    let rows = report(&out);
    assert_eq!(rows.len(), lines, "nothing lost");
    let of = |status: &str| rows.iter().filter(|r| r["status"] == status).count();
    let (downloaded, unknown, pending) = (of("downloaded"), of("unknown"), of("pending"));
    assert_eq!(downloaded + unknown + pending, lines, "{stdout}\n{stderr}");
    assert_eq!(
        downloaded + unknown,
        50,
        "exactly at the budget: {stdout}\n{stderr}"
    );
    assert_eq!(code, if unknown == 0 { 4 } else { 3 }, "{stdout}\n{stderr}");
    for line in rows.iter().filter(|r| r["status"] == "pending") {
        let reason = line["reason"].as_str().unwrap();
        assert!(reason.contains("--max-spend $0.50"), "{line}");
        assert_eq!(line["submits"], 0);
    }
    let stats = sim.stats();
    assert_eq!(stats.duplicate_submissions, 0, "nothing paid twice");
    assert!(stats.submissions <= 50, "never past the budget");
    // What each job cost, everywhere: the report, the summary, the gallery, the records.
    let spent: u64 = rows
        .iter()
        .filter(|r| r["status"] == "downloaded")
        .map(|r| {
            assert_eq!(r["cost_usd"], 0.01, "{r}");
            assert_eq!(r["estimate_usd"], 0.01, "{r}");
            1
        })
        .sum();
    let total = format!("${:.2}", spent as f64 / 100.0);
    assert!(stdout.contains("of --max-spend $0.50"), "{stdout}");
    if unknown == 0 {
        assert!(
            stdout.contains("spent: $0.50 of --max-spend $0.50"),
            "{stdout}"
        );
    }
    let gallery = std::fs::read_to_string(out.join("gallery.html")).unwrap();
    assert!(gallery.contains(&format!("total cost {total}")), "{total}");
    assert_eq!(gallery.matches("cost $0.01").count(), downloaded);
    for line in rows.iter().filter(|r| r["status"] == "downloaded") {
        let file = line["files"][0].as_str().unwrap();
        let folder = out.join(Path::new(file).parent().unwrap());
        let record: Value =
            serde_json::from_slice(&std::fs::read(folder.join("runcomfy-record.json")).unwrap())
                .unwrap();
        assert_eq!(record["request_id"], line["request_id"]);
        assert_eq!(record["cost_usd"], 0.01);
        let saved = &record["files"][0];
        let bytes = std::fs::read(folder.join(saved["name"].as_str().unwrap())).unwrap();
        assert_eq!(saved["bytes"], bytes.len());
        assert_eq!(saved["sha256"].as_str().unwrap(), sha256(&bytes));
    }
    assert_eq!(check_files(&out), downloaded);

    // A larger budget sends the rest, each line once.
    let (code, stdout, stderr) = output(&mut batch(
        &sim,
        dir.path(),
        &["--resume", "out", "--max-spend", "1.00"],
    ));
    assert!(code == 0 || code == 3, "{stdout}\n{stderr}");
    assert_eq!(
        report(&out)
            .iter()
            .filter(|r| r["status"] == "downloaded")
            .count(),
        lines - unknown
    );
    assert_eq!(sim.stats().duplicate_submissions, 0);
}

/// A line whose folder is taken by a file (or is a link, which would put its files outside
/// the output folder) is not paid for: the batch stops, cannot write (74), and a run after the
/// folder is mended sends it once.
#[test]
fn a_line_whose_folder_is_taken_is_not_paid_for() {
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    write_input(dir.path(), &[line(1), line(2)]);
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("line-2"), b"mine").unwrap();
    let (code, _, err) = output(&mut batch(
        &sim,
        dir.path(),
        &["in.jsonl", "--out", "out", "--concurrency", "1"],
    ));
    assert_eq!(code, 74, "{err}");
    assert!(
        err.contains("a file is there, where the line's files go"),
        "{err}"
    );
    assert_eq!(sim.stats().submit_calls, 1, "line 2 was not sent");
    assert_eq!(std::fs::read(out.join("line-2")).unwrap(), b"mine");

    std::fs::remove_file(out.join("line-2")).unwrap();
    let (code, _, err) = output(&mut batch(&sim, dir.path(), &["--resume", "out"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(sim.stats().submit_calls, 2);
}

/// A batch run again after its files were removed or cut fetches them again (never sending a
/// line again), rather than reporting lines downloaded whose files are gone.
#[test]
fn files_gone_since_a_batch_ended_are_fetched_again() {
    let sim = Sim::start(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    write_input(dir.path(), &[line(1), line(2), line(3)]);
    let run = || output(&mut batch(&sim, dir.path(), &["in.jsonl", "--out", "out"]));
    let (code, _, err) = run();
    assert_eq!(code, 0, "{err}");
    let out = dir.path().join("out");
    let files = |n: usize| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(out.join(format!("line-{n}")))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e != "json"))
            .collect()
    };
    let first = files(1)[0].clone();
    let whole = std::fs::read(&first).unwrap();
    std::fs::remove_file(&first).unwrap();
    std::fs::write(&files(2)[0], b"cut").unwrap();
    std::fs::remove_file(out.join("line-3/runcomfy-record.json")).unwrap();

    let (code, _, err) = run();
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("lines 1-3 downloaded before no longer have their files"),
        "{err}"
    );
    assert_eq!(std::fs::read(&first).unwrap(), whole);
    assert!(std::fs::metadata(&files(2)[0]).unwrap().len() > 3);
    assert!(out.join("line-3/runcomfy-record.json").is_file());
    assert_eq!(sim.stats().submit_calls, 3, "nothing sent again");
}

/// `--json`: how the batch ended, as one object on stdout (the text on stderr), for scripts.
#[test]
fn json_says_how_the_batch_ended_as_one_object() {
    let sim = Sim::start(SimConfig {
        run_time: RunTime::Fixed(Duration::from_millis(50)),
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    write_input(dir.path(), &[line(1), line(2)]);
    let (code, stdout, stderr) = output(&mut batch(
        &sim,
        dir.path(),
        &["in.jsonl", "--out", "out", "--json"],
    ));
    assert_eq!(code, 0, "{stderr}");
    let ended: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(ended["status"], "complete");
    assert_eq!(ended["lines"], 2);
    assert_eq!(ended["counts"]["downloaded"], 2);
    assert_eq!(ended["failed"], json!([]));
    assert!(ended["report"].as_str().unwrap().ends_with("report.jsonl"));
    assert!(stderr.contains("batch complete"), "{stderr}");

    // An invalid line: nothing sent, said as an object too.
    write_input(dir.path(), &[line(3), "{\"model\": 5}".to_owned()]);
    let (code, stdout, _) = output(&mut batch(
        &sim,
        dir.path(),
        &["in.jsonl", "--out", "out2", "--json"],
    ));
    assert_eq!(code, 65);
    let ended: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(ended["status"], "invalid");
    // As the summary of a batch run with --skip-invalid lists them (QA repro41 M2).
    assert_eq!(ended["invalid"][0]["line"], 2, "{ended}");
    assert!(
        ended["invalid"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("model"),
        "{ended}"
    );
    assert_eq!(ended["invalid"][0]["problems"], json!([]), "{ended}");
}

/// A batch carried on reads each local image where the batch first found it, whatever the
/// working folder then (QA repro52 F2: `--resume` from another folder sent that folder's
/// `sub/ok.png`); and a line whose image is gone since is kept for the next run, not failed
/// for good unsent (QA repro52 F1).
#[test]
fn a_batch_carried_on_sends_the_images_it_checked_or_waits_for_them() {
    // Nothing listens on the port at first: every line is left pending.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let (img, elsewhere) = (dir.path().join("img"), dir.path().join("elsewhere"));
    for folder in [&img, &elsewhere] {
        std::fs::create_dir_all(folder.join("sub")).unwrap();
    }
    write_png(&img.join("sub/ok.png"), 64, 48);
    write_png(&elsewhere.join("sub/ok.png"), 48, 64);
    let lines: Vec<String> = (1..=2)
        .map(|n| {
            format!(
                r#"{{"model":"{EDIT}","input":{{"prompt":"take {n}","images":["sub/ok.png"],"resolution":"1K"}}}}"#
            )
        })
        .collect();
    write_input(&img, &lines);
    let run = |folder: &Path, args: &[&str]| {
        let mut cmd = runcomfy_process(folder);
        cmd.env("RUNCOMFY_TOKEN", support::TOKEN)
            .args(["--base-url", &base, "batch"])
            .args(args);
        output(&mut cmd)
    };
    let args = ["in.jsonl", "--out", "out", "--give-up-after", "1s"];
    let (code, _, stderr) = run(&img, &args);
    assert_eq!(code, 69, "{stderr}");

    // The image moved away: nothing is sent and the lines wait (65), not fail.
    let sim = Sim::start(SimConfig {
        port,
        run_time: RunTime::Fixed(Duration::from_millis(200)),
        ..SimConfig::default()
    });
    std::fs::rename(img.join("sub/ok.png"), img.join("ok.png")).unwrap();
    let (code, _, stderr) = run(&img, &args);
    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.contains("cannot be sent as it was checked"),
        "{stderr}"
    );
    assert_eq!(sim.stats().submit_calls, 0);
    let rows = report(&img.join("out"));
    assert!(rows.iter().all(|r| r["status"] == "pending"), "{rows:?}");

    // Back where it was, and carried on from another folder: the batch's own image is sent.
    std::fs::rename(img.join("ok.png"), img.join("sub/ok.png")).unwrap();
    let out = img.join("out");
    let (code, _, stderr) = run(&elsewhere, &["--resume", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(sim.stats().submit_calls, 2);
    let sent = sha256(&std::fs::read(img.join("sub/ok.png")).unwrap());
    for n in 1..=2 {
        let record = out.join(format!("line-{n}/runcomfy-record.json"));
        let record = std::fs::read_to_string(record).unwrap();
        let record: Value = serde_json::from_str(&record).unwrap();
        assert_eq!(record["input"]["images"][0]["sha256"], sent, "{record}");
    }
}
