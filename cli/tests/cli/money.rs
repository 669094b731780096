//! Money: prices shown, estimates for both units (and none for base prices), `--dry-run`
//! sending nothing, `--max-cost`, the cost of a run, and its provenance record rerun.

use std::collections::HashMap;

use runcomfy_simulator::{SimConfig, parse_price};
use serde_json::Value;

use crate::support::{Sim, assert_code, sha256, stderr, stdout, write_png};

const SEQUENTIAL: &str = "bytedance/seedream-4-0/sequential";
const EDIT: &str = "bytedance/seedream-4-0/edit";
/// Per second, `fixed` in the catalog.
const SEEDANCE: &str = "bytedance/seedance-2.5/text-to-video/1080p";
/// `base` in the catalog: a floor, never an estimate.
const FLUX_VIDEO: &str = "blackforestlabs/flux-3/text-to-video";

/// A simulator with prices: 3 cents an output for the Seedream models, 10 cents a second for
/// Seedance, 5 cents a second (a base price) for FLUX 3.
fn priced() -> Sim {
    let price = |text: &str| parse_price(text).unwrap();
    Sim::start(SimConfig {
        prices: HashMap::from([
            (SEQUENTIAL.to_owned(), price("0.03/output")),
            (EDIT.to_owned(), price("0.03/output")),
            (SEEDANCE.to_owned(), price("0.1/second")),
            (FLUX_VIDEO.to_owned(), price("0.05/second")),
        ]),
        ..SimConfig::default()
    })
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(output)).unwrap_or_else(|e| panic!("{e}: {}", stdout(output)))
}

#[test]
fn prices_are_shown_from_the_catalog_and_live() {
    let sim = priced();
    let dir = tempfile::tempdir().unwrap();
    // The catalog alone: FLUX 3 video is a base price, Seedance 2.5 1080p a fixed one whose
    // rate the catalog does not have.
    let output = sim.runcomfy(dir.path()).args(["models"]).output().unwrap();
    assert_code(&output, 0);
    let text = stdout(&output);
    let flux = text.lines().find(|l| l.starts_with(FLUX_VIDEO)).unwrap();
    assert!(flux.contains(" base "), "{flux}");

    let output = sim.output(dir.path(), &["models", "--live", "--json"]);
    assert_code(&output, 0);
    let models = json(&output);
    let entry = |id: &str| {
        models
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(entry(SEQUENTIAL)["price"]["usd"], 0.03);
    assert_eq!(entry(SEQUENTIAL)["price"]["source"], "api");
    assert_eq!(entry(SEQUENTIAL)["price"]["unit"], "output");
    assert_eq!(entry(SEEDANCE)["price"]["usd"], 0.1);
    assert_eq!(entry(SEEDANCE)["price"]["pricing"], "fixed");
    assert_eq!(entry(FLUX_VIDEO)["price"]["pricing"], "base");
    assert_eq!(
        entry(SEQUENTIAL)["price"]["unit_fields"][0]["field"],
        "sequential_image_generation_options"
    );

    let output = sim.output(dir.path(), &["describe", SEEDANCE, "--live"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("Price (today): $0.10 per second"), "{text}");
    assert!(text.contains("duration counts the seconds"), "{text}");
}

/// `batch --dry-run --max-spend` says which lines the budget would leave unsent (in order,
/// each if its estimate fits in what is left; none without an estimate) and exits as the batch
/// would: 4 when it leaves any.
#[test]
fn a_batch_dry_run_names_the_lines_a_budget_leaves_and_exits_as_the_batch_would() {
    let sim = priced();
    let dir = tempfile::tempdir().unwrap();
    let line = |model: &str, field: &str, text: &str| {
        format!("{{\"model\": \"{model}\", \"input\": {{\"{field}\": \"{text}\"}}}}\n")
    };
    let lines = [
        line(SEQUENTIAL, "text", "Generate 3 images of a fox."),
        line(SEQUENTIAL, "text", "Generate 3 images of a cat."),
        line(FLUX_VIDEO, "prompt", "a fox"),
        // $0.09 each: the third does not fit in $0.20, but the base price's line has none.
        line(SEQUENTIAL, "text", "Generate 3 images of an owl."),
    ];
    std::fs::write(dir.path().join("in.jsonl"), lines.concat()).unwrap();
    let dry = |budget: &str| {
        sim.output(
            dir.path(),
            &["batch", "in.jsonl", "--dry-run", "--max-spend", budget],
        )
    };
    let output = dry("0.20");
    assert_code(&output, 4);
    let err = stderr(&output);
    assert!(
        err.contains("--max-spend $0.20: lines 3, 4 would be left unsent if each job cost its estimate (2 lines sent, $0.18 of the budget)"),
        "{err}"
    );
    let output = dry("100");
    assert_code(&output, 4);
    assert!(
        stderr(&output).contains(": line 3 would be left unsent"),
        "{}",
        stderr(&output)
    );
    std::fs::write(dir.path().join("in.jsonl"), lines[..2].concat()).unwrap();
    let output = dry("0.18");
    assert_code(&output, 0);
    assert!(stderr(&output).contains("--max-spend $0.18: every line fits"));
    assert_eq!(sim.stats().submit_calls, 0);
}

/// A dry run of a batch begun in its `--out` folder prices only the lines the run would still
/// send, and holds them to what is left of the budget after what the batch has spent.
#[test]
fn a_dry_run_of_a_begun_batch_counts_what_it_has_spent() {
    let sim = priced();
    let dir = tempfile::tempdir().unwrap();
    let lines: String = ["a fox", "a cat", "an owl"]
        .iter()
        .map(|text| format!("{{\"model\": \"{SEQUENTIAL}\", \"input\": {{\"text\": \"Generate 3 images of {text}.\"}}}}\n"))
        .collect();
    std::fs::write(dir.path().join("in.jsonl"), lines).unwrap();
    // $0.09 a line: the first run sends one.
    let output = sim.output(
        dir.path(),
        &["batch", "in.jsonl", "--out", "shots", "--max-spend", "0.09"],
    );
    assert_code(&output, 4);
    assert_eq!(sim.stats().submit_calls, 1);

    let output = sim.output(
        dir.path(),
        &[
            "batch",
            "in.jsonl",
            "--out",
            "shots",
            "--dry-run",
            "--max-spend",
            "0.20",
        ],
    );
    assert_code(&output, 4);
    let err = stderr(&output);
    assert!(err.contains("2 lines to send of 3"), "{err}");
    assert!(
        err.contains(
            "--max-spend $0.20, $0.09 of it spent or running already: line 3 would be left unsent"
        ),
        "{err}"
    );
    assert_eq!(stdout(&output).lines().count(), 2, "only the lines to send");
    // The budget the journal keeps, when none is given.
    let output = sim.output(
        dir.path(),
        &["batch", "in.jsonl", "--out", "shots", "--dry-run"],
    );
    assert_code(&output, 4);
    assert!(
        stderr(&output).contains("--max-spend $0.09, $0.09"),
        "{}",
        stderr(&output)
    );
    assert_eq!(sim.stats().submit_calls, 1, "a dry run sends nothing");
}

/// A job that fails may be billed: `run` says what the server says it cost, beside the
/// estimate, and `--json` has both, as for a job that succeeded.
#[test]
fn a_failed_run_says_what_it_cost() {
    let sim = {
        let price = |text: &str| parse_price(text).unwrap();
        Sim::start(SimConfig {
            prices: HashMap::from([(SEQUENTIAL.to_owned(), price("0.03/output"))]),
            fail_rate: 1.0,
            ..SimConfig::default()
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let args = ["run", SEQUENTIAL, "--text", "Generate 3 images of a fox."];
    let output = sim.output(dir.path(), &args);
    assert_code(&output, 1);
    let err = stderr(&output);
    assert!(err.contains(": cost $0.00 (estimated $0.09)"), "{err}");

    let output = sim.output(dir.path(), &[&args[..], &["--json"]].concat());
    assert_code(&output, 1);
    let report = json(&output);
    assert_eq!(report["status"], "failed", "{report}");
    assert_eq!(report["cost_usd"], 0.0, "{report}");
    assert_eq!(report["estimate"]["usd"], 0.09, "{report}");
    // Its record says so too: what was sent, why it failed, and what it cost.
    let path = report["record"].as_str().unwrap();
    let record: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(path)).unwrap()).unwrap();
    assert!(
        record["error"].as_str().unwrap().contains("failed"),
        "{record}"
    );
    assert_eq!(record["cost_usd"], 0.0, "{record}");
    assert_eq!(
        record["input"]["text"], "Generate 3 images of a fox.",
        "{record}"
    );

    // A batch line that fails keeps the same record in its folder, and the gallery names it.
    let line = format!("{{\"model\": \"{SEQUENTIAL}\", \"input\": {{\"text\": \"a fox\"}}}}\n");
    std::fs::write(dir.path().join("in.jsonl"), line).unwrap();
    let output = sim.output(dir.path(), &["batch", "in.jsonl", "--out", "shots"]);
    assert_code(&output, 1);
    let record: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("shots/line-1/runcomfy-record.json")).unwrap(),
    )
    .unwrap();
    assert!(
        record["error"].as_str().unwrap().contains("failed"),
        "{record}"
    );
    assert_eq!(record["cost_usd"], 0.0, "{record}");
    assert_eq!(record["files"], serde_json::json!([]), "{record}");
    let gallery = std::fs::read_to_string(dir.path().join("shots/gallery.html")).unwrap();
    assert!(gallery.contains("line 1 · failed"), "{gallery}");
}

#[test]
fn dry_runs_estimate_both_units_print_the_body_and_send_nothing() {
    let sim = priced();
    let dir = tempfile::tempdir().unwrap();
    let dry = |args: &[&str]| {
        let output = sim
            .runcomfy(dir.path())
            .args(["run"])
            .args(args)
            .args(["--dry-run", "--json"])
            .output()
            .unwrap();
        assert_code(&output, 0);
        json(&output)
    };
    // Per output: the count the input asks for.
    let four = dry(&[
        SEQUENTIAL,
        "--text",
        "Generate 4 images of a fox.",
        "--sequential-image-generation-options",
        "4",
    ]);
    assert_eq!(four["status"], "dry_run");
    assert_eq!(four["estimate"]["usd"], 0.12, "{four}");
    assert_eq!(four["estimate"]["units"], 4.0);
    assert_eq!(four["body"]["sequential_image_generation_options"], 4);
    assert_eq!(four["body"]["text"], "Generate 4 images of a fox.");
    assert_eq!(four["warnings"], Value::Array(Vec::new()), "{four}");
    // The input's warnings come with the body.
    let blank = dry(&[SEQUENTIAL, "--text", " "]);
    assert_eq!(blank["warnings"][0]["path"], "text", "{blank}");
    assert_eq!(blank["warnings"][0]["severity"], "warning", "{blank}");
    // Left out, the schema's default counts (3).
    let default = dry(&[SEQUENTIAL, "--text", "Generate 3 images of a fox."]);
    assert_eq!(default["estimate"]["usd"], 0.09, "{default}");
    // Per second: the duration.
    let seven = dry(&[SEEDANCE, "--prompt", "a wave", "--duration", "7"]);
    assert_eq!(seven["estimate"]["usd"], 0.7, "{seven}");
    assert!(
        seven["estimate"]["basis"]
            .as_str()
            .unwrap()
            .contains("duration 7"),
        "{seven}"
    );
    // A base price is a floor: no estimate, and why.
    let base = dry(&[FLUX_VIDEO, "--prompt", "a wave", "--duration", "8"]);
    assert_eq!(base["estimate"]["usd"], Value::Null);
    assert!(
        base["estimate"]["basis"]
            .as_str()
            .unwrap()
            .contains("base price"),
        "{base}"
    );
    // Media are shown as name, size and sha256 of the bytes that would be sent.
    write_png(&dir.path().join("cat.png"), 40, 30);
    let bytes = std::fs::read(dir.path().join("cat.png")).unwrap();
    let media = dry(&[EDIT, "--prompt", "a hat", "--images", "cat.png"]);
    let image = &media["body"]["images"][0];
    assert_eq!(image["name"], "cat.png", "{media}");
    assert_eq!(image["size"], bytes.len());
    assert_eq!(image["sha256"].as_str().unwrap(), sha256(&bytes));
    // The plain form: the body on stdout, the estimate on stderr.
    let output = sim
        .runcomfy(dir.path())
        .args(["run", SEQUENTIAL, "--text", "Generate 2 images."])
        .args(["--sequential-image-generation-options", "2", "--dry-run"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert!(stderr(&output).contains("estimate: $0.06: $0.03 per output × 2 outputs"));
    assert_eq!(json(&output)["sequential_image_generation_options"], 2);
    // With --preflight, a media URL that cannot be read is said before the body.
    let output = sim
        .runcomfy(dir.path())
        .args(["run", EDIT, "--prompt", "a hat"])
        .args([
            "--images",
            "https://127.0.0.1:9/cat.png",
            "--preflight",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let text = stderr(&output);
    assert!(text.contains("images[0]: the URL cannot be read"), "{text}");
    // Invalid: 65, and still nothing sent.
    let output = sim.output(dir.path(), &["run", SEQUENTIAL, "--dry-run"]);
    assert_code(&output, 65);
    let stats = sim.stats();
    assert_eq!(
        (stats.submit_calls, stats.submissions),
        (0, 0),
        "nothing sent"
    );
}

#[test]
fn max_cost_refuses_a_submit_over_the_estimate_or_without_one() {
    let sim = priced();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], max: &str| {
        sim.runcomfy(dir.path())
            .args(["run"])
            .args(args)
            .args(["--max-cost", max, "--no-wait"])
            .output()
            .unwrap()
    };
    let four = [
        SEQUENTIAL,
        "--text",
        "Generate 4 images.",
        "--sequential-image-generation-options",
        "4",
    ];
    let output = run(&four, "0.11");
    assert_code(&output, 4);
    assert!(
        stderr(&output).contains("the estimate $0.12 is above --max-cost $0.11"),
        "{}",
        stderr(&output)
    );
    let output = run(&[FLUX_VIDEO, "--prompt", "a wave"], "100");
    assert_code(&output, 4);
    assert!(
        stderr(&output).contains("base price"),
        "{}",
        stderr(&output)
    );
    // A dry run says the run would be refused, and exits as it would.
    let dry = |args: &[&str], max: &str, json: &[&str]| {
        sim.runcomfy(dir.path())
            .args(["run"])
            .args(args)
            .args(["--max-cost", max, "--dry-run"])
            .args(json)
            .output()
            .unwrap()
    };
    let output = dry(&four, "0.11", &[]);
    assert_code(&output, 4);
    assert!(
        stderr(&output).contains("the run would be refused: the estimate $0.12 is above"),
        "{}",
        stderr(&output)
    );
    assert_code(&dry(&[FLUX_VIDEO, "--prompt", "a wave"], "100", &[]), 4);
    let output = dry(&four, "0.12", &["--json"]);
    assert_code(&output, 0);
    let report = json(&output);
    assert_eq!(report["over_max_cost"], false, "{report}");
    assert_eq!(report["max_cost_usd"], 0.12, "{report}");
    assert_eq!(sim.stats().submit_calls, 0, "nothing sent over budget");
    let output = run(&four, "0.12");
    assert_code(&output, 0);
    assert_eq!(sim.stats().submissions, 1);
}

#[test]
fn a_run_shows_its_cost_records_its_provenance_and_reruns_the_same_body() {
    let sim = priced();
    let dir = tempfile::tempdir().unwrap();
    write_png(&dir.path().join("cat.png"), 40, 30);
    let output = sim
        .runcomfy(dir.path())
        .args(["run", EDIT, "--prompt", "a hat", "--images", "cat.png"])
        .args(["--resolution", "1K", "--out", "first", "--json"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let first = json(&output);
    // One output at $0.03, as the server said; estimated at today's price, as a dry run is
    // (the catalog knows no price for the model).
    assert_eq!(first["cost_usd"], 0.03, "{first}");
    assert_eq!(first["estimate"]["usd"], 0.03, "{first}");
    assert!(
        stderr(&output).contains("cost $0.03"),
        "{}",
        stderr(&output)
    );

    let record_path = dir.path().join("first").join("runcomfy-record.json");
    let record: Value = serde_json::from_slice(&std::fs::read(&record_path).unwrap()).unwrap();
    assert_eq!(record["model"], EDIT);
    assert_eq!(record["request_id"], first["request_id"]);
    assert_eq!(record["cost_usd"], 0.03);
    assert_eq!(record["estimate"]["usd"], 0.03, "{record}");
    assert_eq!(record["input"]["prompt"], "a hat");
    assert_eq!(record["input"]["images"][0]["name"], "cat.png");
    for key in ["submitted", "finished", "noticed"] {
        assert!(record["timings"][key].is_string(), "{key}: {record}");
    }
    // Seen running, or never (it ended between two polls): never a start after the end.
    let timings = &record["timings"];
    match timings["started"].as_str() {
        Some(started) => assert!(started <= timings["finished"].as_str().unwrap(), "{record}"),
        None => assert!(timings["started"].is_null(), "{record}"),
    }
    let files = record["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    for file in files {
        let bytes = std::fs::read(
            dir.path()
                .join("first")
                .join(file["name"].as_str().unwrap()),
        )
        .unwrap();
        assert_eq!(file["bytes"], bytes.len());
        assert_eq!(file["sha256"].as_str().unwrap(), sha256(&bytes), "{file}");
        assert!(file["url"].as_str().unwrap().starts_with(&sim.url()));
    }

    // The record is an input: the same body is sent again (the simulator sees a duplicate).
    let output = sim
        .runcomfy(dir.path())
        .args(["run", EDIT, "--input", "@first/runcomfy-record.json"])
        .args(["--out", "again"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    let stats = sim.stats();
    assert_eq!(stats.submissions, 2);
    assert_eq!(stats.duplicate_submissions, 1, "the same body");

    // A media file that changed since is refused: not the same input.
    write_png(&dir.path().join("cat.png"), 41, 30);
    let output = sim.output(
        dir.path(),
        &["run", EDIT, "--input", "@first/runcomfy-record.json"],
    );
    assert_code(&output, 65);
    assert!(stderr(&output).contains("images[0]"), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("has changed"),
        "{}",
        stderr(&output)
    );
    // A flag giving the field instead: the recorded file is not read back.
    std::fs::remove_file(dir.path().join("cat.png")).unwrap();
    write_png(&dir.path().join("dog.png"), 40, 30);
    let output = sim
        .runcomfy(dir.path())
        .args(["run", EDIT, "--input", "@first/runcomfy-record.json"])
        .args(["--images", "dog.png", "--out", "dog", "--dry-run"])
        .output()
        .unwrap();
    assert_code(&output, 0);
    // So is a record of another model.
    let output = sim.output(
        dir.path(),
        &["run", SEQUENTIAL, "--input", "@first/runcomfy-record.json"],
    );
    assert_code(&output, 65);
    assert_eq!(sim.stats().submissions, 2);

    // A second run into the same folder keeps the first's record, as it keeps its files.
    let before = std::fs::read(&record_path).unwrap();
    let output = sim
        .runcomfy(dir.path())
        .args([
            "run", SEQUENTIAL, "--text", "a fox", "--out", "first", "--json",
        ])
        .output()
        .unwrap();
    assert_code(&output, 0);
    assert_eq!(std::fs::read(&record_path).unwrap(), before);
    let second = dir.path().join("first").join("runcomfy-record-1.json");
    let second: Value = serde_json::from_slice(&std::fs::read(second).unwrap()).unwrap();
    assert_eq!(
        second["request_id"],
        json(&output)["request_id"],
        "{second}"
    );
    assert_eq!(second["model"], SEQUENTIAL);
}
