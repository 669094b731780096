//! Memory of the `runcomfy` process (issue 19, goal 3): the whole process's peak RSS (the
//! kernel's `ru_maxrss`, its `VmHWM` at exit, file-backed pages of the binary included) for
//!
//! - `runcomfy run` of one job with 15 outputs of 20 MB (300 MB saved): goal <= 10 MiB;
//!   RunComfy's CLI measured 8.1-8.4 MiB on the same job (issue 19; it is not built here);
//! - `runcomfy batch` of 8 such lines at concurrency 8 (120 files, 2.4 GB): informational;
//! - `runcomfy --version`: the floor, what the process costs before doing anything.
//!
//! The binary is the one users install, built here with the release profile (`opt-level =
//! "z"`, `panic = "abort"`; this bench's own profile builds at opt-level 3, as the library's
//! users do).
//!
//! Each is a child process against a simulator in this process (`--output-bytes 20MB`, jobs of
//! 1 s), with an empty cache folder; the peak is read by GNU time (`/usr/bin/time -f %M`, from
//! `wait4`), else by sampling the child's `/proc/PID/status` every millisecond (which can miss
//! a peak reached in its last millisecond). Three rounds of `run`, the largest kept; one
//! batch.
//!
//! Run with `cargo bench -p runcomfy-cli --bench memory` (`-- --quick`: one round of `run`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use runcomfy_simulator::{RunTime, SimConfig, Simulator};
use serde_json::{Value, json};

const TOKEN: &str = "bench-token";
const MODEL: &str = "bytedance/seedream-4-0/sequential";
const OUTPUTS: usize = 15;
const OUTPUT_BYTES: u64 = 20_000_000;
const BATCH_LINES: usize = 8;
const GNU_TIME: &str = "/usr/bin/time";

/// Builds `runcomfy` with the release profile (cargo's lock on the target folder is free while
/// a bench runs); returns its path.
fn release_binary() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "runcomfy-cli",
            "--bin",
            "runcomfy",
        ])
        .arg("--message-format=json")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(output.status.success(), "cargo build --release failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "runcomfy")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo named no runcomfy executable")
}

/// Runs `bin ARGS` in `dir` to the end; returns its peak RSS in bytes and whether it succeeded.
fn peak_of(bin: &Path, dir: &Path, args: &[&str]) -> (u64, bool) {
    let gnu_time = Path::new(GNU_TIME).is_file();
    let mut cmd = if gnu_time {
        let mut cmd = Command::new(GNU_TIME);
        cmd.args(["-f", "PEAK_KB %M"]).arg(bin);
        cmd
    } else {
        Command::new(bin)
    };
    cmd.args(args)
        .current_dir(dir)
        .env("RUNCOMFY_TOKEN", TOKEN)
        .env("RUNCOMFY_CACHE_DIR", dir.join("cache"))
        .env_remove("RUNCOMFY_BASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut sampled = 0;
    if !gnu_time {
        let status = format!("/proc/{}/status", child.id());
        while child.try_wait().unwrap().is_none() {
            if let Ok(text) = std::fs::read_to_string(&status) {
                sampled = sampled.max(hwm_kb(&text));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let kb = if gnu_time {
        stderr
            .lines()
            .filter_map(|l| l.strip_prefix("PEAK_KB "))
            .filter_map(|v| v.trim().parse::<u64>().ok())
            .next_back()
            .unwrap_or(0)
    } else {
        sampled
    };
    if !output.status.success() {
        eprintln!("runcomfy {args:?} failed: {stderr}");
    }
    (kb * 1024, output.status.success())
}

fn hwm_kb(status: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The files saved under `dir` and their total size.
fn saved(dir: &Path) -> (usize, u64) {
    let mut found = (0, 0);
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "png") {
                found.0 += 1;
                found.1 += entry.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    found
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 1 } else { 3 };
    let bin = release_binary();
    let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
    println!("  {} ({:.1} MB)", bin.display(), size as f64 / 1e6);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = runtime
        .block_on(Simulator::start(SimConfig {
            token: Some(TOKEN.into()),
            workers: 16,
            run_time: RunTime::Fixed(Duration::from_secs(1)),
            output_bytes: Some(OUTPUT_BYTES),
            ..SimConfig::default()
        }))
        .unwrap();
    let base = sim.base_url().to_string();
    let outputs = OUTPUTS.to_string();
    let run_args = |out: &str| -> Vec<String> {
        [
            "--base-url",
            &base,
            "run",
            MODEL,
            "--text",
            "Generate 15 images of a sunset.",
            "--sequential-image-generation-options",
            &outputs,
            "--out",
            out,
        ]
        .map(String::from)
        .to_vec()
    };

    let scratch = tempfile::tempdir().unwrap();
    let (floor, _) = peak_of(&bin, scratch.path(), &["--version"]);

    let mut runs = Vec::new();
    let mut ok = true;
    for round in 0..rounds {
        let dir = tempfile::tempdir_in(scratch.path()).unwrap();
        let args = run_args("out");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (peak, success) = peak_of(&bin, dir.path(), &args);
        let (files, bytes) = saved(&dir.path().join("out"));
        println!(
            "  run, round {}: peak {:.1} MiB, {files} files, {:.0} MB",
            round + 1,
            mib(peak),
            bytes as f64 / 1e6
        );
        ok &= success && files == OUTPUTS;
        runs.push(peak);
    }
    let run_peak = runs.iter().copied().max().unwrap_or(0);

    // The batch: 8 lines of the same job at concurrency 8.
    let dir = tempfile::tempdir_in(scratch.path()).unwrap();
    let line = json!({"model": MODEL, "input": {
        "text": "Generate 15 images of a sunset.",
        "sequential_image_generation_options": OUTPUTS,
    }});
    let lines: Vec<String> = (0..BATCH_LINES)
        .map(|i| {
            let mut line = line.clone();
            line["input"]["seed"] = json!(i);
            line.to_string()
        })
        .collect();
    std::fs::write(dir.path().join("lines.jsonl"), lines.join("\n") + "\n").unwrap();
    let (batch_peak, batch_ok) = peak_of(
        &bin,
        dir.path(),
        &[
            "--base-url",
            &base,
            "batch",
            "lines.jsonl",
            "--out",
            "out",
            "--concurrency",
            "8",
        ],
    );
    let (batch_files, batch_bytes) = saved(&dir.path().join("out"));
    println!(
        "  batch: peak {:.1} MiB, {batch_files} files, {:.0} MB",
        mib(batch_peak),
        batch_bytes as f64 / 1e6
    );
    runtime.block_on(sim.shutdown());

    let method = if Path::new(GNU_TIME).is_file() {
        "GNU time %M (wait4 ru_maxrss)"
    } else {
        "VmHWM sampled every 1 ms"
    };
    let spread = runs
        .iter()
        .map(|p| format!("{:.1}", mib(*p)))
        .collect::<Vec<_>>()
        .join(", ");
    println!("  runcomfy --version: peak {:.1} MiB", mib(floor));
    support_emit(json!({
        "target": "19.3 memory",
        "what": format!("runcomfy run, {OUTPUTS} x 20 MB outputs: whole-process peak RSS (MiB)"),
        "ours": mib(run_peak),
        "peer_name": "RunComfy CLI MiB (issue 19)",
        "peer": 8.4,
        "note": format!(
            "goal <= 10 MiB; largest of {rounds} round(s): {spread} MiB; runcomfy --version peaks at {:.1} MiB in the same run; {method}",
            mib(floor)
        ),
        "pass": ok && mib(run_peak) <= 10.0,
    }));
    support_emit(json!({
        "target": "19.3 memory",
        "what": format!("runcomfy batch, {BATCH_LINES} lines x {OUTPUTS} x 20 MB, concurrency 8: peak RSS (MiB)"),
        "ours": mib(batch_peak),
        "peer_name": "runcomfy run MiB",
        "peer": mib(run_peak),
        "ratio": batch_peak as f64 / run_peak.max(1) as f64,
        "note": format!(
            "informational; {batch_files} files, {:.1} GB saved{}; {method}",
            batch_bytes as f64 / 1e9,
            if batch_ok { "" } else { "; the batch FAILED" }
        ),
    }));
}

/// Prints one figure for `cargo xtask bench`.
fn support_emit(row: serde_json::Value) {
    println!("BENCH {row}");
}
