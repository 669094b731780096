//! `status`, `result` and `cancel` by request id.

use std::time::{Duration, Instant};

use runcomfy_simulator::{RunTime, SimConfig};
use serde_json::Value;

use crate::support::{
    Sim, assert_code, pngs, queued_behind_a_busy_worker, stderr, stdout, submit_no_wait,
};

#[test]
fn status_result_and_cancel_follow_jobs_by_id() {
    // One worker: the first job runs for 3 s, the second waits in the queue.
    let sim = Sim::start(SimConfig {
        workers: 1,
        run_time: RunTime::Fixed(Duration::from_secs(3)),
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let running = submit_no_wait(&sim, dir.path(), "Generate 3 images of a red barn.");
    let queued = submit_no_wait(&sim, dir.path(), "Generate 3 images of a blue barn.");
    let run = |args: &[&str]| sim.output(dir.path(), args);

    let output = run(&["status", &running]);
    assert_code(&output, 0);
    assert_eq!(stdout(&output).trim(), format!("{running}: running"));
    let output = run(&["status", &queued, "--json"]);
    assert_code(&output, 0);
    let status: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status["status"], "in_queue");
    // As the server numbers it (the simulator counts from 0).
    assert!(status["queue_position"].is_u64(), "{status}");

    // Not finished yet: try again later.
    let output = run(&["result", &running]);
    assert_code(&output, 75);
    assert!(
        stderr(&output).contains("not finished yet"),
        "{}",
        stderr(&output)
    );

    // Only the queued job can be cancelled.
    let output = run(&["cancel", &running]);
    assert_code(&output, 1);
    assert!(
        stdout(&output).contains("not cancellable"),
        "{}",
        stdout(&output)
    );
    let output = run(&["cancel", &queued, "--json"]);
    assert_code(&output, 0);
    let cancel: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(cancel["outcome"], "cancelled");
    assert_eq!(cancel["status"], "cancelled");
    assert!(cancel.get("error").is_none(), "{cancel}");
    let output = run(&["result", &queued]);
    assert_code(&output, 1);
    assert!(stderr(&output).contains("cancelled"), "{}", stderr(&output));

    // Once done: the URLs, then the files with --out.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !stdout(&run(&["status", &running])).contains("completed") {
        assert!(Instant::now() < deadline, "the job did not finish");
        std::thread::sleep(Duration::from_millis(200));
    }
    let output = run(&["result", &running]);
    assert_code(&output, 0);
    let urls: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
    assert_eq!(urls.len(), 3, "{urls:?}");
    assert!(
        urls.iter().all(|u| u.starts_with("http://127.0.0.1:")),
        "{urls:?}"
    );

    let output = run(&["result", &running, "--out", "saved", "--json"]);
    assert_code(&output, 0);
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["status"], "succeeded");
    assert_eq!(result["files"].as_array().unwrap().len(), 3);
    let images = pngs(&dir.path().join("saved"));
    assert_eq!(images.len(), 3);
    assert!(images.iter().all(|(_, w, h)| (*w, *h) == (2560, 1440)));
    assert_eq!(sim.stats().jobs_cancelled, 1);
}

#[test]
fn unknown_ids_exit_65_and_failed_jobs_1() {
    let sim = Sim::start(SimConfig {
        fail_rate: 1.0,
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| sim.output(dir.path(), args);
    for command in ["status", "result", "cancel"] {
        let output = run(&[command, "no-such-request"]);
        assert_code(&output, 65);
        assert!(stderr(&output).contains("not found"), "{}", stderr(&output));
    }
    // Ids that cannot be one are usage errors, and nothing is asked of the server (a URL
    // would drop `..`, and call another endpoint).
    let asked = |sim: &Sim| {
        let stats = sim.stats();
        stats.status_calls + stats.result_calls + stats.cancel_calls
    };
    let before = asked(&sim);
    for id in ["", "..", "a\tb", " padded "] {
        for command in ["status", "result", "cancel"] {
            let output = run(&[command, id]);
            assert_code(&output, 64);
            assert!(
                stderr(&output).contains("is not a request id"),
                "{}",
                stderr(&output)
            );
        }
    }
    assert_eq!(asked(&sim), before);
    let id = submit_no_wait(&sim, dir.path(), "Generate 3 images of a red barn.");
    let output = run(&["result", &id, "--wait", "--json"]);
    assert_code(&output, 1);
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["status"], "failed");
    assert!(stderr(&output).contains("failed"), "{}", stderr(&output));
}

#[test]
fn result_wait_follows_a_job_to_its_files() {
    let sim = Sim::running(Duration::from_secs(2));
    let dir = tempfile::tempdir().unwrap();
    let id = submit_no_wait(&sim, dir.path(), "Generate 3 images of a red barn.");
    let output = sim.output(
        dir.path(),
        &["result", &id, "--wait", "--out", "saved", "--json"],
    );
    assert_code(&output, 0);
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["status"], "succeeded", "{result}");
    assert_eq!(result["files"].as_array().unwrap().len(), 3, "{result}");
    assert_eq!(pngs(&dir.path().join("saved")).len(), 3);
    // Progress went to stderr, and the job was polled at the cold pace: at once, then 2 s on
    // (that no call follows the one that ended a wait, the client's tests check).
    assert!(stderr(&output).contains("running"), "{}", stderr(&output));
    let stats = sim.stats();
    let polls = stats.result_calls + stats.status_calls;
    assert!((1..=3).contains(&polls), "{polls} polls for a 2 s job");
}

#[test]
fn result_wait_timeout_leaves_a_queued_job_queued() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, queued) = queued_behind_a_busy_worker(dir.path());
    let started = Instant::now();
    let output = sim.output(
        dir.path(),
        &["result", &queued, "--wait", "--timeout", "1s", "--json"],
    );
    assert_code(&output, 75);
    assert!(started.elapsed() < Duration::from_secs(10));
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["status"], "timeout", "{result}");
    let text = stderr(&output);
    assert!(text.contains("did not finish within 1s"), "{text}");
    assert!(text.contains("goes on as it was"), "{text}");
    assert_eq!(sim.stats().cancel_calls, 0);

    // Without --wait, --timeout bounds the one call: a queued job is not finished yet.
    let output = sim.output(dir.path(), &["result", &queued, "--timeout", "5s"]);
    assert_code(&output, 75);
    assert!(
        stderr(&output).contains("not finished yet"),
        "{}",
        stderr(&output)
    );
}

/// `run --no-wait` writes the record of what it sent into the folder the files will go to;
/// `result --wait --out` into that folder completes it.
#[test]
fn a_job_left_with_no_wait_gets_its_record_completed_by_result() {
    let sim = Sim::running(Duration::from_millis(1500));
    let dir = tempfile::tempdir().unwrap();
    let no_wait = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "bytedance/seedream-4-0/sequential",
            "--text",
            "a fox",
        ];
        args.push("--no-wait");
        args.extend_from_slice(extra);
        sim.output(dir.path(), &args)
    };
    let output = no_wait(&["--out", "shots", "--json"]);
    assert_code(&output, 0);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let id = report["request_id"].as_str().unwrap().to_owned();
    let path = dir.path().join(report["record"].as_str().unwrap());
    assert_eq!(path.parent(), Some(dir.path().join("shots").as_path()));
    let pending: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(pending["request_id"], id.as_str());
    assert_eq!(pending["input"]["text"], "a fox");
    assert!(pending["estimate"].is_object(), "{pending}");
    assert!(pending["timings"]["submitted"].is_string(), "{pending}");
    assert_eq!(pending["files"], serde_json::json!([]));

    let output = sim.output(dir.path(), &["result", &id, "--wait", "--out", "shots"]);
    assert_code(&output, 0);
    assert!(
        stderr(&output).contains("completed the record"),
        "{}",
        stderr(&output)
    );
    let done: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let files = done["files"].as_array().map(Vec::len).unwrap_or(0);
    assert!(files > 0, "{done}");
    assert_eq!(files, pngs(&dir.path().join("shots")).len());
    assert!(done["timings"]["finished"].is_string(), "{done}");
    assert!(done["output"].is_object(), "{done}");
    assert!(done["timings"]["noticed"].is_string(), "{done}");
    assert_eq!(done["estimate"], pending["estimate"]);
    // `-q`: the paths only, no summary, as `run -q` (QA repro46 D6).
    let output = sim.output(dir.path(), &["result", &id, "--out", "again", "-q"]);
    assert_code(&output, 0);
    assert_eq!(stderr(&output), "", "{}", stderr(&output));
    assert_eq!(
        stdout(&output).lines().count(),
        files,
        "{}",
        stdout(&output)
    );

    // A folder that cannot take the record is found before anything is paid, as for `run`.
    std::fs::write(dir.path().join("afile"), "").unwrap();
    let before = sim.stats().submit_calls;
    let output = no_wait(&["--out", "afile/sub"]);
    assert_code(&output, 74);
    assert_eq!(sim.stats().submit_calls, before);

    // Without --json, the hint names the folder.
    let output = no_wait(&[]);
    assert_code(&output, 0);
    let id = stdout(&output).trim().to_owned();
    let expected = format!(
        "--wait --out runcomfy-out/{id}` waits for it, saves its files and completes the record"
    );
    assert!(stderr(&output).contains(&expected), "{}", stderr(&output));
}

/// `result --out` for a job with no run record to complete (submitted elsewhere, or its record
/// gone) writes one of what it knows: the job, its server, its files and their hashes, and no
/// input, which `--input` then refuses to run again rather than guess.
#[test]
fn result_out_writes_a_record_for_a_job_it_did_not_submit() {
    let sim = Sim::running(Duration::from_millis(300));
    let (here, there) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let id = submit_no_wait(&sim, there.path(), "a fox");
    let output = sim.output(here.path(), &["result", &id, "--wait", "--out", "shots"]);
    assert_code(&output, 0);
    let shots = here.path().join("shots");
    let record: Value =
        serde_json::from_slice(&std::fs::read(shots.join("runcomfy-record.json")).unwrap())
            .unwrap();
    assert_eq!(record["request_id"], id.as_str());
    assert_eq!(record["model"], "bytedance/seedream-4-0/sequential");
    assert_eq!(record["server"], format!("{}/", sim.url()).as_str());
    assert!(record["input"].is_null(), "{record}");
    let files = record["files"].as_array().cloned().unwrap_or_default();
    assert_eq!(files.len(), pngs(&shots).len());
    for file in &files {
        let name = file["name"].as_str().unwrap_or_default();
        let bytes = std::fs::read(shots.join(name)).unwrap();
        assert_eq!(file["sha256"], crate::support::sha256(&bytes).as_str());
    }
    let output = sim.output(
        here.path(),
        &[
            "run",
            "bytedance/seedream-4-0/sequential",
            "--input",
            "@shots/runcomfy-record.json",
            "--dry-run",
        ],
    );
    assert_code(&output, 65);
    assert!(
        stderr(&output).contains("holds no input"),
        "{}",
        stderr(&output)
    );
}

/// RunComfy's CLI's variable for the server is honoured when neither `--base-url` nor
/// `RUNCOMFY_BASE_URL` says: a user switching tools does not send paid submits elsewhere.
#[test]
fn runcomfys_own_base_url_variable_is_honoured() {
    let sim = Sim::running(Duration::from_millis(100));
    let dir = tempfile::tempdir().unwrap();
    let output = crate::support::runcomfy_process(dir.path())
        .env("RUNCOMFY_TOKEN", crate::support::TOKEN)
        .env("RUNCOMFY_MODEL_API_BASE", sim.url())
        .args([
            "run",
            "bytedance/seedream-4-0/sequential",
            "--text",
            "a fox",
            "--no-wait",
        ])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert_eq!(sim.stats().submissions, 1);
}

/// `--poll-secs N` polls every N seconds, as RunComfy's CLI does, instead of the learned
/// schedule; a value out of range is a usage error.
#[test]
fn poll_secs_polls_on_a_fixed_interval() {
    let sim = Sim::running(Duration::from_millis(1500));
    let dir = tempfile::tempdir().unwrap();
    let polls = || sim.stats().status_calls + sim.stats().result_calls;
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "bytedance/seedream-4-0/sequential",
            "--text",
            "a fox",
        ];
        args.extend_from_slice(extra);
        sim.output(dir.path(), &args)
    };
    let output = run(&["--poll-secs", "0.1", "--out", "a"]);
    assert_code(&output, 0);
    // A 1.5 s job polled every 0.1 s; cold, the default polls it two or three times.
    let fixed = polls();
    assert!(fixed >= 10, "{fixed} polls");
    for bad in ["0", "-1", "abc", "4000"] {
        let output = run(&["--poll-secs", bad, "--dry-run"]);
        assert_code(&output, 64);
    }
    // Refused before the command is known, `--json` still gets run's object.
    let before = sim.output(
        dir.path(),
        &[
            "--poll-secs=1e308",
            "run",
            "bytedance/seedream-4-0/sequential",
            "--text",
            "a fox",
            "--json",
        ],
    );
    assert_code(&before, 64);
    let said: serde_json::Value = serde_json::from_slice(&before.stdout).unwrap();
    assert_eq!(said["status"], "not_submitted", "{said}");
    assert!(said["request_id"].is_null(), "{said}");
    let error = said["error"].as_str().unwrap();
    assert!(error.contains("1e308 is not between"), "{error}");
}

/// The status URL a submit answers with, pasted whole, names its job; so does the result URL.
/// A token pasted with its `Bearer ` scheme works too.
#[test]
fn a_pasted_status_url_names_its_job() {
    let sim = Sim::running(Duration::from_millis(100));
    let dir = tempfile::tempdir().unwrap();
    let id = submit_no_wait(&sim, dir.path(), "a fox");
    for url in [
        format!("{}/v1/requests/{id}/status", sim.url()),
        format!("{}/v1/requests/{id}/result?include_cost=true", sim.url()),
    ] {
        let output = sim
            .runcomfy(dir.path())
            .env(
                "RUNCOMFY_TOKEN",
                format!("Bearer {}", crate::support::TOKEN),
            )
            .args(["status", &url, "--json"])
            .output()
            .unwrap();
        assert_code(&output, 0);
        let status: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(status["request_id"], id.as_str());
    }
}

/// `result --wait` without `--out` saves nothing, and says so and how to.
#[test]
fn result_without_out_says_nothing_was_saved() {
    let sim = Sim::running(Duration::from_millis(200));
    let dir = tempfile::tempdir().unwrap();
    let id = submit_no_wait(&sim, dir.path(), "a fox");
    let output = sim.output(dir.path(), &["result", &id, "--wait"]);
    assert_code(&output, 0);
    let err = stderr(&output);
    assert!(
        err.contains("nothing saved") && err.contains("--out DIR` saves them"),
        "{err}"
    );
    assert!(stdout(&output).contains("http"), "{}", stdout(&output));
}
