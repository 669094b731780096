//! Crash and resume: `runcomfy -vvv batch` (with `RUST_LOG=trace`) killed with SIGKILL at ten seeded random moments,
//! run again each time against the same simulator, then once more to the end.
//!
//! Every line is submitted exactly once, or is honestly `unknown` (killed between its POST and
//! the journal write) and then never sent again; nothing is paid twice; every output is a
//! whole PNG; no temporary file is left; and the token is in no log line and no file.
//!
//! `cargo test -p runcomfy-cli --test crash_resume -- --nocapture` prints the figures
//! TESTING.md cites.

#![cfg(unix)]

mod common;

use common::check_files;

#[allow(dead_code)] // The CLI tests' helpers; this file uses the simulator and the token.
#[path = "cli/support.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runcomfy_simulator::{RunTime, SimConfig};
use serde_json::Value;
use support::{Sim, TOKEN};

const LINES: usize = 100;
const KILLS: usize = 10;
const SEED: u64 = 0xc0ff_ee10;

/// xorshift64*: the kill moments, the same on every run of the test.
struct Moments(u64);

impl Moments {
    /// A delay in `lo..hi` milliseconds.
    fn next(&mut self, lo: u64, hi: u64) -> Duration {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let n = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        Duration::from_millis(lo + n % (hi - lo))
    }
}

/// A line making one small image; `n` keeps every body distinct.
fn line(n: usize) -> String {
    format!(
        r#"{{"model":"bytedance/seedream-4-0/edit","key":"shot-{n}","input":{{"prompt":"a harbour at dawn, take {n}","images":["https://example.com/ref.png"],"resolution":"1K"}}}}"#
    )
}

/// `RUST_LOG=trace runcomfy -vvv --base-url SIM batch in.jsonl --out out`, logs to `log`.
fn batch(sim: &Sim, dir: &Path, log: &Path) -> Command {
    let mut cmd = sim.process(dir);
    // Everything, the HTTP stack included (`-vvv` alone traces this project's crates).
    cmd.env("RUST_LOG", "trace")
        .args(["-vvv", "batch", "in.jsonl"])
        .args(["--out", "out", "--concurrency", "8"])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(log.with_extension("out")).unwrap())
        .stderr(std::fs::File::create(log).unwrap());
    cmd
}

/// Whether `needle` occurs in any file below `dir`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
            {
                hits.push(path.display().to_string());
            }
        }
    }
    hits
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[test]
fn ten_kill_9s_at_random_moments_then_a_resume_pays_each_line_once() {
    let started = Instant::now();
    let sim = Sim::start(SimConfig {
        workers: 6,
        run_time: RunTime::Range(Duration::from_millis(100), Duration::from_millis(300)),
        seed: SEED,
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..LINES).map(line).collect();
    std::fs::write(dir.path().join("in.jsonl"), lines.join("\n") + "\n").unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();

    let mut moments = Moments(SEED);
    let (mut killed, mut finished_first) = (0, 0);
    let mut submitted_at_kill = Vec::new();
    for round in 0..KILLS {
        let log = logs.join(format!("run-{round}.log"));
        let mut child = batch(&sim, dir.path(), &log).spawn().unwrap();
        // From start-up (journal, validation) through submits, polls and downloads.
        std::thread::sleep(moments.next(60, 900));
        match child.try_wait().unwrap() {
            Some(_) => finished_first += 1,
            None => {
                child.kill().unwrap(); // SIGKILL: no cleanup, no last journal write.
                killed += 1;
            }
        }
        child.wait().unwrap();
        submitted_at_kill.push(sim.stats().submissions);
    }
    let log = logs.join("final.log");
    let status = batch(&sim, dir.path(), &log).status().unwrap();
    let stdout = std::fs::read_to_string(log.with_extension("out")).unwrap();

    let out = dir.path().join("out");
    let report: Vec<Value> = std::fs::read_to_string(out.join("report.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stats = sim.stats();
    let count = |status: &str| report.iter().filter(|r| r["status"] == status).count();
    let (downloaded, unknown) = (count("downloaded"), count("unknown"));
    let pngs = check_files(&out);
    println!(
        "crash/resume: {LINES} lines, {killed} SIGKILLs ({finished_first} runs ended before \
         their kill), then a resume, in {:.1?}",
        started.elapsed()
    );
    println!("  submissions seen after each kill: {submitted_at_kill:?}");
    println!(
        "  downloaded {downloaded}, unknown {unknown}; submissions {} of {} calls, \
         duplicates {}; {pngs} PNGs decode whole",
        stats.submissions, stats.submit_calls, stats.duplicate_submissions
    );

    assert!(
        killed >= KILLS / 2,
        "most runs were killed mid-way ({killed})"
    );
    assert_eq!(report.len(), LINES, "{stdout}");
    // Nothing lost: each line is downloaded, or honestly unknown (it may have been billed).
    assert_eq!(downloaded + unknown, LINES, "{stdout}");
    for entry in report.iter().filter(|r| r["status"] == "unknown") {
        let reason = entry["reason"].as_str().unwrap();
        assert!(reason.contains("interrupted while submitting"), "{entry}");
    }
    assert_eq!(
        status.code(),
        Some(if unknown == 0 { 0 } else { 3 }), // unknown lines exit 3 (README)
        "{stdout}"
    );
    // Nothing paid twice, and nothing sent again after a crash.
    assert_eq!(stats.duplicate_submissions, 0);
    assert!(report.iter().all(|r| r["submits"].as_u64() <= Some(1)));
    assert!(stats.submissions <= LINES as u64);
    assert!(stats.submissions >= downloaded as u64);
    if unknown == 0 {
        assert_eq!(stats.submissions, LINES as u64, "every line submitted once");
    }
    assert_eq!(pngs, downloaded, "one whole PNG per downloaded line");

    // Nothing leaked: eleven runs of TRACE logs and every file of the batch.
    let runs = std::fs::read_dir(&logs).unwrap().count();
    assert_eq!(runs, 2 * (KILLS + 1));
    assert!(
        !files_containing(&logs, b" TRACE ").is_empty(),
        "no TRACE lines: -vvv logs not captured"
    );
    println!(
        "  {} bytes of -vvv logs, no token in them",
        dir_bytes(&logs)
    );
    assert!(files_containing(&logs, TOKEN.as_bytes()).is_empty());
    assert!(files_containing(&out, TOKEN.as_bytes()).is_empty());
}
