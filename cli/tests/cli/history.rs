//! Run times learned by one command are cached for the next: `RUNCOMFY_CACHE_DIR`.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Sim, assert_code, pngs, stderr};

const MODEL: &str = "bytedance/seedream-4-0/sequential";

/// What one run cost and how late it saw its job end.
struct Run {
    /// Status and result calls.
    calls: u64,
    /// From the job's end to the reply that said so.
    notice_ms: f64,
}

/// Runs one job of [`MODEL`] with the cache in `cache`.
fn run_once(sim: &Sim, dir: &Path, cache: &Path, text: &str) -> Run {
    let before = sim.stats();
    let output = sim
        .runcomfy(dir)
        .env("RUNCOMFY_CACHE_DIR", cache)
        .args(["run", MODEL, "--text", text, "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_code(&output, 0);
    let after = sim.stats();
    assert_eq!(
        after.notice_delays_ms.len(),
        before.notice_delays_ms.len() + 1,
        "one more job noticed"
    );
    Run {
        calls: (after.status_calls + after.result_calls)
            - (before.status_calls + before.result_calls),
        notice_ms: after.notice_delays_ms.last().copied().unwrap_or(f64::NAN),
    }
}

/// The run times saved for the simulator's server, in milliseconds.
fn cached_run_times(cache: &Path, sim: &Sim) -> Vec<u64> {
    let text = std::fs::read_to_string(cache.join("poll-history.json")).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let servers = file["servers"].as_object().unwrap();
    let (_, entry) = servers
        .iter()
        .find(|(server, _)| server.trim_end_matches('/') == sim.url().trim_end_matches('/'))
        .unwrap_or_else(|| panic!("no entry for {} in {text}", sim.url()));
    entry["history"]["models"][MODEL]
        .as_array()
        .unwrap()
        .iter()
        .map(|ms| ms.as_u64().unwrap())
        .collect()
}

#[test]
fn a_second_run_polls_on_the_run_time_the_first_learned() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let sim = Sim::running(Duration::from_millis(2500));

    // Cold: polls every 2 s, so it sees the job running at 2 s and done at 4 s, 1.5 s late.
    let cold = run_once(&sim, dir.path(), &cache, "first");
    assert!(
        cold.calls >= 2 && cold.notice_ms >= 1_000.0,
        "a cold run polls at 2 s and 4 s, made {} calls, noticed {} ms late",
        cold.calls,
        cold.notice_ms
    );
    let learned = cached_run_times(&cache, &sim);
    assert_eq!(learned.len(), 1, "{learned:?}");
    assert!((2_000..=4_100).contains(&learned[0]), "{learned:?}");

    // Warm: a new process plans its polls around the run time the first one saved, so it
    // sees the end within a fraction of a second, for no more calls.
    let warm = run_once(&sim, dir.path(), &cache, "second");
    assert!(
        warm.calls <= cold.calls && warm.notice_ms < 500.0,
        "warm run made {} calls, noticed {} ms late; cold run {} calls",
        warm.calls,
        warm.notice_ms,
        cold.calls
    );
    assert_eq!(cached_run_times(&cache, &sim).len(), 2);
}

/// `result ID --out b` of a job that `run --no-wait --out a` left: the cache knows where its
/// record is, so `b` gets one beside the files (the input, estimate and submit time from `a`),
/// and `a`'s is left pending, its files not there.
#[test]
fn result_into_another_folder_completes_the_record_there() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let sim = Sim::running(Duration::from_millis(500));
    let runcomfy = |args: &[&str]| {
        sim.runcomfy(dir.path())
            .env("RUNCOMFY_CACHE_DIR", &cache)
            .args(args)
            .output()
            .unwrap()
    };
    let output = runcomfy(&["run", MODEL, "--text", "a heron", "--no-wait", "--out", "a"]);
    assert_code(&output, 0);
    let id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let read = |folder: &str| -> Value {
        let path = dir.path().join(folder).join("runcomfy-record.json");
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    };
    let pending = read("a");

    let output = runcomfy(&["result", &id, "--wait", "--out", "b"]);
    assert_code(&output, 0);
    // Written there from the run's, which is left as it was (QA repro46 D13: "completed").
    assert!(
        stderr(&output).contains("wrote the completed record: b/runcomfy-record.json"),
        "{}",
        stderr(&output)
    );
    let done = read("b");
    assert_eq!(done["request_id"], id.as_str());
    assert_eq!(done["input"], pending["input"]);
    assert_eq!(done["estimate"], pending["estimate"]);
    assert_eq!(
        done["timings"]["submitted"],
        pending["timings"]["submitted"]
    );
    let files = done["files"].as_array().map(Vec::len).unwrap_or(0);
    assert!(files > 0, "{done}");
    assert_eq!(files, pngs(&dir.path().join("b")).len());
    assert_eq!(read("a"), pending);

    // Without the cache, `c` gets the files and a record of what is known, with no input:
    // nothing here says what was sent.
    let output = sim
        .runcomfy(dir.path())
        .args(["result", &id, "--out", "c"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert!(
        stderr(&output).contains("wrote a record of what is known"),
        "{}",
        stderr(&output)
    );
    let unseen = read("c");
    assert!(unseen["input"].is_null(), "{unseen}");
    assert_eq!(unseen["request_id"], id.as_str());
    assert!(!pngs(&dir.path().join("c")).is_empty());
}

/// `run --no-wait` keeps the job's record in the cache, so `result --wait` on it, in another
/// process, polls on the model's learned schedule from the submit, as the `run` would have.
#[test]
fn result_wait_on_a_job_run_left_polls_on_its_learned_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let sim = Sim::running(Duration::from_millis(2500));
    run_once(&sim, dir.path(), &cache, "first");

    let output = sim
        .runcomfy(dir.path())
        .env("RUNCOMFY_CACHE_DIR", &cache)
        .args(["run", MODEL, "--text", "second", "--no-wait"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let before = sim.stats();
    let output = sim
        .runcomfy(dir.path())
        .env("RUNCOMFY_CACHE_DIR", &cache)
        .args(["result", &id, "--wait", "--out"])
        .arg(dir.path().join("second"))
        .output()
        .unwrap();
    assert_code(&output, 0);
    let after = sim.stats();
    let calls =
        (after.status_calls + after.result_calls) - (before.status_calls + before.result_calls);
    let notice_ms = after.notice_delays_ms.last().copied().unwrap_or(f64::NAN);
    // At the cold pace it would look at once, then 2 s later and 4 s later: 1.5 s late.
    assert!(
        notice_ms < 500.0 && calls <= 4,
        "result --wait made {calls} calls, noticed {notice_ms} ms late"
    );
    // It did not learn the run: its start was not seen (the job may have queued unseen).
    assert_eq!(cached_run_times(&cache, &sim).len(), 1);
}

/// Two commands waiting at once, and ending at once: each adds what it learned to the file
/// as it stands, so neither loses the other's run time.
#[test]
fn commands_side_by_side_keep_each_others_run_times() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let sim = Sim::running(Duration::from_millis(1500));
    let children: Vec<_> = ["left", "right"]
        .iter()
        .map(|text| {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_runcomfy"));
            cmd.current_dir(dir.path())
                .env("RUNCOMFY_TOKEN", crate::support::TOKEN)
                .env("RUNCOMFY_CACHE_DIR", &cache)
                .env_remove("RUNCOMFY_BASE_URL")
                .args([
                    "--base-url",
                    &sim.url(),
                    "run",
                    MODEL,
                    "--text",
                    text,
                    "--out",
                ])
                .arg(dir.path().join(text))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            cmd.spawn().unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(cached_run_times(&cache, &sim).len(), 2);
}

#[test]
fn an_unreadable_cache_is_replaced_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join("poll-history.json"), "{ not json").unwrap();
    let sim = Sim::running(Duration::from_millis(50));

    run_once(&sim, dir.path(), &cache, "first");
    assert_eq!(cached_run_times(&cache, &sim).len(), 1);
}

/// A cache that cannot be written (its folder is a file) is said once, as the CLI's other
/// warnings are, and the run goes on.
#[test]
fn an_unusable_cache_is_said_once_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("afile"), "").unwrap();
    let sim = Sim::running(Duration::from_millis(50));
    let output = sim
        .runcomfy(dir.path())
        .env("RUNCOMFY_CACHE_DIR", dir.path().join("afile/cache"))
        .args(["run", MODEL, "--text", "x", "--out", "out"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let err = stderr(&output);
    assert_eq!(err.matches("run-time cache").count(), 1, "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("warning: the run-time cache") && l.contains("afile")),
        "{err}"
    );
    assert!(!err.contains("WARN"), "{err}");
}

/// Without `RUNCOMFY_CACHE_DIR` the cache is the platform's (`$XDG_CACHE_HOME/runcomfy` here);
/// set but empty, there is none.
#[cfg(target_os = "linux")]
#[test]
fn the_cache_is_the_platforms_unless_the_variable_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::running(Duration::from_millis(50));
    let xdg = dir.path().join("xdg");
    let run = |cache_dir: Option<&str>| {
        let mut cmd = sim.runcomfy(dir.path());
        cmd.env("XDG_CACHE_HOME", &xdg);
        match cache_dir {
            Some(value) => cmd.env("RUNCOMFY_CACHE_DIR", value),
            None => cmd.env_remove("RUNCOMFY_CACHE_DIR"),
        };
        let output = cmd
            .args(["run", MODEL, "--text", "x", "--out"])
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        assert_code(&output, 0);
    };

    run(Some(""));
    assert!(!xdg.exists(), "the cache is off, yet something was written");
    run(None);
    assert_eq!(cached_run_times(&xdg.join("runcomfy"), &sim).len(), 1);
}
