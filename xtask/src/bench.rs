//! `cargo xtask bench [--check] [--quick] [--only NAME] [--builds [N,..]]`: runs issue 9's
//! benchmarks and prints one table of figures, each beside its peer or goal, measured side by
//! side in the same run.
//!
//! Each benchmark is a `harness = false` bench target that prints `BENCH {json}` lines (with
//! `target`, `what`, `ours`, `peer_name`, `peer`, optional `ratio`, `note` and `pass`); this
//! runs them with `cargo bench` and collects the lines, so the measuring code lives beside the
//! crate it measures and its peers stay dev-dependencies there. `--builds` adds the build
//! times of `runcomfy` against synthetic catalogs of 3, 100 and 1,000 models, or the sizes
//! given (several minutes more; `--only builds --builds` for those alone). `--check` exits 1 when a figure with a goal misses it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Value, json};

/// One benchmark: a name for `--only`, the package and bench target, and its arguments.
struct Bench {
    name: &'static str,
    package: &'static str,
    target: &'static str,
    args: &'static [&'static str],
}

const BENCHES: &[Bench] = &[
    Bench {
        name: "generator",
        package: "xtask",
        target: "generator",
        args: &["--report"],
    },
    Bench {
        name: "transport",
        package: "runcomfy",
        target: "transport",
        args: &[],
    },
    Bench {
        name: "validation",
        package: "runcomfy",
        target: "validate_vs_decode",
        args: &["--report"],
    },
    Bench {
        name: "downloads",
        package: "runcomfy",
        target: "download",
        args: &[],
    },
    Bench {
        name: "polling",
        package: "runcomfy",
        target: "polling",
        args: &[],
    },
    Bench {
        name: "scale",
        package: "runcomfy-batch",
        target: "scale",
        args: &[],
    },
];

/// What `cargo xtask bench` was asked.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Exit 1 when a goal is missed.
    pub check: bool,
    /// Fewer rounds and jobs.
    pub quick: bool,
    /// Only these benchmarks (by name).
    pub only: Vec<String>,
    /// Also time builds of `runcomfy` for catalogs of these sizes (empty: 3, 100 and 1,000).
    pub builds: Option<Vec<usize>>,
}

/// The command. Returns the exit code.
pub fn run(root: &Path, options: &Options) -> u8 {
    let mut rows: Vec<Value> = Vec::new();
    let mut broken: Vec<String> = Vec::new();
    for bench in BENCHES {
        if !options.only.is_empty() && !options.only.iter().any(|o| o == bench.name) {
            continue;
        }
        eprintln!(
            "== {} (cargo bench -p {} --bench {})",
            bench.name, bench.package, bench.target
        );
        match run_bench(root, bench, options.quick) {
            Ok(found) if !found.is_empty() => rows.extend(found),
            Ok(_) => broken.push(format!("{}: printed no figures", bench.name)),
            Err(err) => broken.push(format!("{}: {err}", bench.name)),
        }
    }
    if let Some(sizes) = &options.builds {
        let sizes = if sizes.is_empty() {
            vec![3, 100, 1000]
        } else {
            sizes.clone()
        };
        eprintln!("== builds (runcomfy against synthetic catalogs of {sizes:?} models)");
        match build_times(root, &sizes) {
            Ok(found) => rows.extend(found),
            Err(err) => broken.push(format!("builds: {err}")),
        }
    }
    println!("{}", table(&rows));
    for b in &broken {
        println!("NOT RUN: {b}");
    }
    let missed: Vec<&Value> = rows
        .iter()
        .filter(|r| r["pass"] == Value::Bool(false))
        .collect();
    let with_goal = rows.iter().filter(|r| r["pass"].is_boolean()).count();
    println!(
        "{} of {with_goal} goals met{}",
        with_goal - missed.len(),
        if broken.is_empty() {
            String::new()
        } else {
            format!("; {} benchmark(s) did not run", broken.len())
        }
    );
    if options.check && (!missed.is_empty() || !broken.is_empty()) {
        1
    } else {
        0
    }
}

/// Runs one bench target, echoing its own lines, and returns its `BENCH` figures.
fn run_bench(root: &Path, bench: &Bench, quick: bool) -> Result<Vec<Value>, String> {
    let mut args = vec![
        "bench",
        "-q",
        "-p",
        bench.package,
        "--bench",
        bench.target,
        "--",
    ];
    args.extend(bench.args);
    if quick {
        args.push("--quick");
    }
    let mut child = Command::new(cargo())
        .args(&args)
        .current_dir(root)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut rows = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading its output: {e}"))?;
            match line.strip_prefix("BENCH ") {
                Some(json) => match serde_json::from_str::<Value>(json) {
                    Ok(row) => rows.push(row),
                    Err(e) => return Err(format!("unreadable figure {json}: {e}")),
                },
                None => eprintln!("{line}"),
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo bench failed ({status})"));
    }
    Ok(rows)
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Clean and incremental `cargo build -p runcomfy --lib` times against synthetic catalogs of
/// each size, each in its own target folder so nothing is shared between sizes.
fn build_times(root: &Path, sizes: &[usize]) -> Result<Vec<Value>, String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let mut rows = Vec::new();
    let mut clean_times = Vec::new();
    for &n in sizes {
        let catalog = scratch.path().join(format!("schemas-{n}"));
        crate::synth::write(&catalog, n, 1).map_err(|e| e.to_string())?;
        let target = scratch.path().join(format!("target-{n}"));
        let clean = timed_build(root, &catalog, &target)?;
        // A changed description in one model: the build script regenerates, and the crate
        // recompiles incrementally.
        let first = first_input(&catalog).ok_or("no model in the synthetic catalog")?;
        let text = std::fs::read_to_string(&first).map_err(|e| e.to_string())?;
        let changed = text.replacen("\"description\": \"", "\"description\": \"Changed. ", 1);
        std::fs::write(&first, changed).map_err(|e| e.to_string())?;
        let incremental = timed_build(root, &catalog, &target)?;
        let generated = std::fs::read_dir(target.join("debug/build"))
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("out/runcomfy_models.rs"))
            .find_map(|p| std::fs::metadata(&p).ok().map(|m| m.len()))
            .unwrap_or(0);
        eprintln!(
            "  {n} models: clean {clean:.1} s, incremental {incremental:.1} s, generated {:.1} MB",
            generated as f64 / 1e6
        );
        clean_times.push((n, clean));
        rows.push(json!({
            "target": "2 build cost",
            "what": format!("{n} models: clean | incremental build of runcomfy (s)"),
            "ours": clean,
            "peer_name": "incremental s",
            "peer": incremental,
            "note": format!("dev profile, own target dir; generated {:.1} MB of Rust", generated as f64 / 1e6),
        }));
    }
    if let (Some((_, one)), Some((n, big))) = (clean_times.first(), clean_times.last()) {
        rows.push(json!({
            "target": "2 build cost",
            "what": format!("clean build, {n} models / {} models", sizes[0]),
            "ours": big / one,
            "peer_name": "goal (with one model enabled)",
            "peer": 1.3,
            "ratio": big / one,
            "note": "no per-model features yet: every model is compiled",
            "pass": big / one <= 1.3,
        }));
    }
    Ok(rows)
}

fn timed_build(root: &Path, catalog: &Path, target: &Path) -> Result<f64, String> {
    let start = Instant::now();
    let status = Command::new(cargo())
        .args(["build", "-q", "-p", "runcomfy", "--lib"])
        .current_dir(root)
        .env("RUNCOMFY_SCHEMAS", catalog)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build against {} failed", catalog.display()));
    }
    Ok(start.elapsed().as_secs_f64())
}

fn first_input(dir: &Path) -> Option<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.file_name().is_some_and(|n| n == "input.json") {
            return Some(path);
        }
        if path.is_dir()
            && let Some(found) = first_input(&path)
        {
            return Some(found);
        }
    }
    None
}

/// The figures as a fixed-width table.
pub fn table(rows: &[Value]) -> String {
    let num = |v: &Value| match v.as_f64() {
        Some(x) if x.abs() >= 100.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.3}"),
        None => String::from("-"),
    };
    let mut out = format!(
        "{:<18} {:<58} {:>10} {:>10} {:>7} {:<6} {}\n",
        "target", "figure", "ours", "peer", "ratio", "goal", "peer is / note"
    );
    for r in rows {
        let pass = match r["pass"].as_bool() {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        out.push_str(&format!(
            "{:<18} {:<58} {:>10} {:>10} {:>7} {:<6} {}: {}\n",
            r["target"].as_str().unwrap_or(""),
            r["what"].as_str().unwrap_or(""),
            num(&r["ours"]),
            num(&r["peer"]),
            r["ratio"]
                .as_f64()
                .map(|x| format!("{x:.2}"))
                .unwrap_or_default(),
            pass,
            r["peer_name"].as_str().unwrap_or(""),
            r["note"].as_str().unwrap_or(""),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_marks_goals() {
        let rows = vec![
            json!({"target": "t", "what": "w", "ours": 1.0, "peer": 2.0, "ratio": 0.5, "pass": false, "peer_name": "p", "note": "n"}),
            json!({"target": "t", "what": "x", "ours": 300.0, "peer": 2.0, "pass": true}),
        ];
        let text = table(&rows);
        assert!(text.contains("MISSED"), "{text}");
        assert!(text.contains("met"), "{text}");
        assert!(text.contains("0.50"), "{text}");
    }
}
