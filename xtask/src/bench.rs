//! `cargo xtask bench [--check] [--quick] [--only NAME] [--builds [N,..]]`: runs issue 9's
//! benchmarks and prints one table of figures, each beside its peer or goal, measured side by
//! side in the same run.
//!
//! Each benchmark is a `harness = false` bench target that prints `BENCH {json}` lines (with
//! `target`, `what`, `ours`, `peer_name`, `peer`, optional `ratio`, `note` and `pass`); this
//! runs them with `cargo bench` and collects the lines, so the measuring code lives beside the
//! crate it measures and its peers stay dev-dependencies there. The build figures (target 2)
//! time `runcomfy` with one model enabled against a 1,000-model and a one-model catalog;
//! `--builds` adds every model enabled and catalogs of 3 and 100 models, or the sizes given
//! (half an hour; `--only builds` for those alone). `--only real-builds` (not in the default
//! run: about 15 minutes) times the catalog the crate ships against the 3 seed models alone.
//! `--check` exits 1 when a figure with a goal misses it.

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
    // Issue 19: cold polling against a 2 s grid, a sibling's history, learning from 1 to 32
    // runs (about 5 minutes: the 2-5 min cold jobs; `--quick` leaves those out).
    Bench {
        name: "learning",
        package: "runcomfy",
        target: "learning",
        args: &[],
    },
    Bench {
        name: "batch-cold",
        package: "runcomfy-batch",
        target: "cold_batch",
        args: &[],
    },
    Bench {
        name: "memory",
        package: "runcomfy-cli",
        target: "memory",
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
    /// Build times of `runcomfy` with every model enabled too, for catalogs of these sizes
    /// (empty: 1, 3, 100 and 1,000); without, only the goal's one-model builds.
    pub builds: Option<Vec<usize>>,
}

/// With `--check`: goals missed, or benchmarks that did not run.
#[derive(Debug, thiserror::Error)]
#[error("{missed} goal(s) missed, {broken} benchmark(s) did not run")]
pub struct BenchError {
    /// Figures with a goal they did not meet.
    pub missed: usize,
    /// Benchmarks that did not run or printed no figures.
    pub broken: usize,
}

/// The command: runs the benchmarks and prints the table; with `options.check`, a missed goal
/// or a benchmark that did not run is an error. Returns the figures.
pub fn run(root: &Path, options: &Options) -> Result<Vec<Value>, BenchError> {
    let mut rows: Vec<Value> = Vec::new();
    let mut broken: Vec<String> = Vec::new();
    for bench in BENCHES {
        if !options.only.is_empty() && !options.only.iter().any(|o| o == bench.name) {
            continue;
        }
        errln!(
            "== {} (cargo bench -p {} --bench {})",
            bench.name,
            bench.package,
            bench.target
        );
        match run_bench(root, bench, options.quick) {
            Ok(found) if !found.is_empty() => rows.extend(found),
            Ok(_) => broken.push(format!("{}: printed no figures", bench.name)),
            Err(err) => broken.push(format!("{}: {err}", bench.name)),
        }
    }
    if options.only.is_empty() || options.only.iter().any(|o| o == "builds") {
        // By default only the goal: one model enabled, against a 1,000-model catalog and a
        // one-model one. `--builds` adds every enabled model and the sizes asked for.
        let (sizes, all_models) = match &options.builds {
            None => (vec![1, 1000], false),
            Some(sizes) if sizes.is_empty() => (vec![1, 3, 100, 1000], true),
            Some(sizes) => {
                let mut sizes = sizes.clone();
                sizes.push(1);
                sizes.sort_unstable();
                sizes.dedup();
                (sizes, true)
            }
        };
        errln!("== builds (runcomfy against synthetic catalogs of {sizes:?} models)");
        match build_times(root, &sizes, all_models) {
            Ok(found) => rows.extend(found),
            Err(err) => broken.push(format!("builds: {err}")),
        }
    }
    if options.only.iter().any(|o| o == "real-builds") {
        errln!("== real-builds (runcomfy with the shipped catalog and with the 3 seeds)");
        match real_build_times(root) {
            Ok(found) => rows.extend(found),
            Err(err) => broken.push(format!("real-builds: {err}")),
        }
    }
    outln!("{}", table(&rows));
    for b in &broken {
        outln!("NOT RUN: {b}");
    }
    let missed: Vec<&Value> = rows
        .iter()
        .filter(|r| r["pass"] == Value::Bool(false))
        .collect();
    let with_goal = rows.iter().filter(|r| r["pass"].is_boolean()).count();
    outln!(
        "{} of {with_goal} goals met{}",
        with_goal - missed.len(),
        if broken.is_empty() {
            String::new()
        } else {
            format!("; {} benchmark(s) did not run", broken.len())
        }
    );
    if options.check && (!missed.is_empty() || !broken.is_empty()) {
        return Err(BenchError {
            missed: missed.len(),
            broken: broken.len(),
        });
    }
    Ok(rows)
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
                None => errln!("{line}"),
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

/// Clean one-model builds per catalog, alternating between catalogs (medians).
const ROUNDS: usize = 3;

/// Build times of `runcomfy` against synthetic catalogs (target 2).
///
/// Each catalog gets its own copy of the workspace (its `client/schemas` the catalog, its
/// `client/Cargo.toml` features written for it, as `cargo xtask features` would), all sharing
/// one target folder: the dependencies are compiled once, by a first build timed on its own,
/// and every later figure is what building `runcomfy` itself costs (its build script, the
/// generator it runs and the crate) with one model enabled and with all of them, clean and
/// after one model's schema changed.
fn build_times(root: &Path, sizes: &[usize], all_models: bool) -> Result<Vec<Value>, String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let copies = sizes
        .iter()
        .map(|&n| CatalogCopy::synthetic(root, scratch.path(), n))
        .collect::<Result<Vec<_>, _>>()?;
    time_copies(&copies, &scratch.path().join("target"), all_models)
}

/// The three models the project started from, the 3-model catalog the real one is set against.
const SEEDS: [&str; 3] = [
    "bytedance/seedream-4-0/edit",
    "bytedance/seedream-4-0/edit-sequential",
    "bytedance/seedream-4-0/sequential",
];

/// Build times of `runcomfy` with the catalog it ships (`schemas/`, every model RunComfy
/// publishes) against the 3 seed models alone: one model (Seedream 4.0 sequential, in both)
/// enabled and every model enabled, clean and incremental.
fn real_build_times(root: &Path) -> Result<Vec<Value>, String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let copies = vec![
        CatalogCopy::real(root, scratch.path(), Some(&SEEDS))?,
        CatalogCopy::real(root, scratch.path(), None)?,
    ];
    time_copies(&copies, &scratch.path().join("target"), true)
}

/// The figures of prepared catalog copies, sharing one target folder.
fn time_copies(
    copies: &[CatalogCopy],
    target: &Path,
    all_models: bool,
) -> Result<Vec<Value>, String> {
    let mut rows = Vec::new();
    for (i, copy) in copies.iter().enumerate() {
        if i == 0 {
            rows.push(dependencies_row(copy, target)?);
        }
        // The generator crate compiles the same whatever the catalog: leave it out of the
        // figures, which are then runcomfy's own (build script, its run, the crate).
        let codegen = ["build", "-q", "--offline", "-p", "runcomfy-codegen"];
        cargo_in(&copy.dir, target, &codegen)?;
    }
    let (one_model, medians) = one_model_rows(copies, target)?;
    rows.extend(one_model);
    if all_models {
        rows.extend(all_models_rows(copies, target)?);
    }
    rows.extend(ratio_row(&medians));
    Ok(rows)
}

/// A catalog's size and name, and the median of its clean one-model builds (s).
type Median = (usize, String, f64);

/// A copy of the workspace with a catalog of its own.
struct CatalogCopy {
    /// How many models the catalog has.
    n: usize,
    /// What the catalog is, for the figures: `1000 synthetic models`, `68 real models`.
    name: String,
    dir: PathBuf,
    /// The `input.json` of the catalog's first model, the one enabled alone.
    first: PathBuf,
    /// The cargo arguments that enable that model alone.
    one: [String; 3],
}

impl CatalogCopy {
    /// Copies the workspace under `scratch` and writes it a synthetic catalog of `n` models
    /// and the features that go with it; its first model is the one enabled alone.
    fn synthetic(root: &Path, scratch: &Path, n: usize) -> Result<Self, String> {
        let dir = scratch.join(format!("workspace-{n}"));
        copy_workspace(root, &dir)?;
        let catalog = dir.join("client/schemas");
        crate::synth::write(&catalog, n, 1).map_err(|e| e.to_string())?;
        let first = first_input(&catalog).ok_or("no model in the synthetic catalog")?;
        let id = first
            .parent()
            .and_then(|dir| dir.strip_prefix(&catalog).ok())
            .map(|rel| rel.to_string_lossy().replace('\\', "/"))
            .ok_or("no model id")?;
        Self::finish(dir, n, format!("{n} synthetic models"), &id)
    }

    /// Copies the workspace under `scratch` with the shipped catalog, or only the `models`
    /// of it; Seedream 4.0 sequential is the one enabled alone.
    fn real(root: &Path, scratch: &Path, models: Option<&[&str]>) -> Result<Self, String> {
        let dir = scratch.join(format!("workspace-real-{}", models.map_or(0, <[_]>::len)));
        copy_workspace(root, &dir)?;
        let (from, to) = (root.join("schemas"), dir.join("client/schemas"));
        match models {
            Some(ids) => {
                for id in ids {
                    copy_tree(&from.join(id), &to.join(id), &|_| false)?;
                }
            }
            None => copy_tree(&from, &to, &|_| false)?,
        }
        let n = runcomfy_codegen::catalog::read_catalog(&to)
            .map_err(|e| e.to_string())?
            .len();
        Self::finish(dir, n, format!("{n} real models"), SEEDS[2])
    }

    /// Writes the copy's features (as `cargo xtask features` would) for its catalog.
    fn finish(dir: PathBuf, n: usize, name: String, alone: &str) -> Result<Self, String> {
        let catalog = dir.join("client/schemas");
        crate::features::sync(&dir.join("client/Cargo.toml"), &catalog, false)
            .map_err(|e| e.to_string())?;
        let first = catalog
            .join(alone)
            .join(runcomfy_codegen::catalog::INPUT_FILE);
        let one = ["--no-default-features", "--features", &model_feature(alone)].map(String::from);
        Ok(Self {
            n,
            name,
            dir,
            first,
            one,
        })
    }

    /// A clean build of `runcomfy` alone (its dependencies stay built), timed.
    fn clean_build(&self, target: &Path, args: &[String]) -> Result<f64, String> {
        let clean = ["clean", "-q", "--offline", "-p", "runcomfy"];
        cargo_in(&self.dir, target, &clean)?;
        timed_build(&self.dir, target, args)
    }

    /// After one model's schema changed, a build with `args`, timed.
    fn incremental_build(&self, target: &Path, args: &[String]) -> Result<f64, String> {
        touch_description(&self.first)?;
        timed_build(&self.dir, target, args)
    }
}

/// The first build, which compiles the dependencies every later build shares.
fn dependencies_row(copy: &CatalogCopy, target: &Path) -> Result<Value, String> {
    let name = &copy.name;
    let with_deps = timed_build(&copy.dir, target, &[])?;
    errln!("  dependencies and runcomfy ({name}), clean: {with_deps:.1} s");
    Ok(json!({
        "target": "2 build cost",
        "what": format!("{name}, all enabled: clean build with dependencies (s)"),
        "ours": with_deps,
        "note": "dev profile; every later build shares these compiled dependencies",
    }))
}

/// Each catalog's clean builds with one model enabled, `ROUNDS` of them alternating between
/// catalogs so that background load hits all alike, then one incremental build: a row per
/// catalog, and its median clean time.
fn one_model_rows(
    copies: &[CatalogCopy],
    target: &Path,
) -> Result<(Vec<Value>, Vec<Median>), String> {
    let mut clean: Vec<Vec<f64>> = vec![Vec::new(); copies.len()];
    for _ in 0..ROUNDS {
        for (times, copy) in clean.iter_mut().zip(copies) {
            times.push(copy.clean_build(target, &copy.one)?);
        }
    }
    let mut rows = Vec::new();
    let mut medians = Vec::new();
    for (mut times, copy) in clean.into_iter().zip(copies) {
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let incremental = copy.incremental_build(target, &copy.one)?;
        let spread = times
            .iter()
            .map(|t| format!("{t:.1}"))
            .collect::<Vec<_>>()
            .join(", ");
        errln!(
            "  {}, one model enabled: clean {spread} s, incremental {incremental:.1} s",
            copy.name
        );
        medians.push((copy.n, copy.name.clone(), median));
        let note = format!(
            "dev profile, dependencies and runcomfy-codegen compiled; clean = build script, its run and the crate, median of {spread} s; incremental = that model's schema changed"
        );
        rows.push(build_row(
            &copy.name,
            "one enabled",
            median,
            incremental,
            note,
        ));
    }
    Ok((rows, medians))
}

/// Each catalog's clean and incremental builds with every model enabled.
fn all_models_rows(copies: &[CatalogCopy], target: &Path) -> Result<Vec<Value>, String> {
    let mut rows = Vec::new();
    for copy in copies {
        let name = &copy.name;
        let clean_all = copy.clean_build(target, &[])?;
        let incremental = copy.incremental_build(target, &[])?;
        let generated = generated_size(target);
        errln!("  {name}, all enabled: clean {clean_all:.1} s, incremental {incremental:.1} s");
        let note = format!(
            "as above, every model enabled; {:.1} MB of Rust generated",
            generated as f64 / 1e6
        );
        rows.push(build_row(name, "all enabled", clean_all, incremental, note));
    }
    Ok(rows)
}

/// The goal: one model costs about as much to build from the largest catalog as from the
/// smallest.
fn ratio_row(medians: &[Median]) -> Option<Value> {
    let (small, small_name, base) = medians.iter().min_by_key(|(n, ..)| *n)?;
    let (big, big_name, with_one) = medians.iter().max_by_key(|(n, ..)| *n)?;
    let (base, with_one) = (*base, *with_one);
    (big > small).then(|| {
        json!({
            "target": "2 build cost",
            "what": format!("runcomfy with one model: {big_name} / {small_name}"),
            "ours": with_one,
            "peer_name": format!("{small_name} s"),
            "peer": base,
            "ratio": with_one / base,
            "note": format!("goal <= 1.3: a dependent compiles only the models it enables; medians of {ROUNDS} alternating clean builds"),
            "pass": with_one / base <= 1.3,
        })
    })
}

/// One catalog's clean and incremental build times.
fn build_row(name: &str, enabled: &str, clean: f64, incremental: f64, note: String) -> Value {
    json!({
        "target": "2 build cost",
        "what": format!("{name}, {enabled}: clean | incremental runcomfy build (s)"),
        "ours": clean,
        "peer_name": "incremental s",
        "peer": incremental,
        "note": note,
    })
}

fn model_feature(id: &str) -> String {
    runcomfy_codegen::features::model_feature(id)
}

/// A changed description in one model: the build script regenerates it.
fn touch_description(input: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(input).map_err(|e| e.to_string())?;
    let changed = text.replacen("\"description\": \"", "\"description\": \"Changed. ", 1);
    std::fs::write(input, changed).map_err(|e| e.to_string())
}

/// The size of the code generated last (the all-models build just run).
fn generated_size(target: &Path) -> u64 {
    std::fs::read_dir(target.join("debug/build"))
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("out/runcomfy_models.rs"))
        .filter_map(|p| {
            let meta = std::fs::metadata(&p).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        })
        .max()
        .map_or(0, |(_, len)| len)
}

/// The workspace's sources without build output, history or catalog.
fn copy_workspace(from: &Path, to: &Path) -> Result<(), String> {
    copy_tree(from, to, &|rel| {
        ["target", ".git", "fuzz", "schemas", "client/schemas"]
            .iter()
            .any(|s| rel == Path::new(s))
    })
}

/// Copies the files under `from` to `to`, but those `skip` names (by relative path).
fn copy_tree(from: &Path, to: &Path, skip: &dyn Fn(&Path) -> bool) -> Result<(), String> {
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = from.join(&rel);
        std::fs::create_dir_all(to.join(&rel)).map_err(|e| format!("{}: {e}", to.display()))?;
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let rel = rel.join(entry.file_name());
            if skip(&rel) {
                continue;
            }
            let kind = entry.file_type().map_err(|e| e.to_string())?;
            if kind.is_dir() {
                stack.push(rel);
            } else if kind.is_file() {
                std::fs::copy(from.join(&rel), to.join(&rel))
                    .map_err(|e| format!("{}: {e}", rel.display()))?;
            }
        }
    }
    Ok(())
}

fn timed_build(workspace: &Path, target: &Path, args: &[String]) -> Result<f64, String> {
    let start = Instant::now();
    let mut all = vec!["build", "-q", "--offline", "-p", "runcomfy", "--lib"];
    all.extend(args.iter().map(String::as_str));
    cargo_in(workspace, target, &all)?;
    Ok(start.elapsed().as_secs_f64())
}

/// Runs cargo in a copy of the workspace with the shared target folder.
fn cargo_in(workspace: &Path, target: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new(cargo())
        .args(args)
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUNCOMFY_SCHEMAS")
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo {} in {} failed",
            args.join(" "),
            workspace.display()
        ))
    }
}

fn first_input(dir: &Path) -> Option<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path
            .file_name()
            .is_some_and(|n| n == runcomfy_codegen::catalog::INPUT_FILE)
        {
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
