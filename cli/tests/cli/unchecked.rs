//! `run MODEL --unchecked`: a model the compiled-in catalog does not have, served by a
//! simulator that knows it (as RunComfy knows a model added after this build), its input sent
//! as written and checked by the server alone.

use std::collections::HashMap;
use std::path::Path;

use runcomfy::catalog::ModelInfo;
use runcomfy_simulator::SimConfig;
use serde_json::Value;

use crate::support::{Sim, assert_code, pngs, stderr, stdout};

/// The id of the model this build lacks.
const NEW: &str = "acme/future-model/text-to-image";

/// A model the server has and this build does not: Seedream's sequential schema under [`NEW`].
fn new_model() -> &'static ModelInfo {
    let like = runcomfy::catalog::find("bytedance/seedream-4-0/sequential").unwrap();
    Box::leak(Box::new(ModelInfo {
        id: NEW,
        display_name: "Future Model",
        upstream: like.upstream.clone(),
        ..*like
    }))
}

fn server() -> Sim {
    Sim::start(SimConfig {
        extra_models: vec![new_model()],
        prices: HashMap::from([(
            NEW.to_owned(),
            runcomfy_simulator::parse_price("0.03/output").unwrap(),
        )]),
        ..SimConfig::default()
    })
}

/// Asserts that `output`'s stderr holds `text`.
fn says(output: &std::process::Output, text: &str) {
    assert!(stderr(output).contains(text), "{}", stderr(output));
}

fn record(out: &Path) -> Value {
    let text = std::fs::read_to_string(out.join("runcomfy-record.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_model_the_catalog_lacks_runs_unchecked_and_is_said_how_otherwise() {
    let sim = server();
    let dir = tempfile::tempdir().unwrap();
    let input = r#"{"text": "Generate 2 images of a lighthouse.", "image_size": "2048:2048 (1:1)", "sequential_image_generation_options": 2}"#;

    // Without --unchecked: refused before anything is sent, with the way to run it.
    let refused = sim.output(dir.path(), &["run", NEW, "--input", input]);
    assert_code(&refused, 64);
    says(
        &refused,
        &format!("runcomfy run {NEW} --unchecked --input JSON"),
    );
    assert_eq!(sim.stats().submit_calls, 0);

    let out = dir.path().join("out");
    let ran = sim.output(
        dir.path(),
        &[
            "run",
            NEW,
            "--unchecked",
            "--input",
            input,
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_code(&ran, 0);
    assert_eq!(sim.stats().submissions_by_model.get(NEW), Some(&1));
    // Its files are every URL the output names, saved and printed as any model's.
    let images = pngs(&out);
    assert_eq!(images.len(), 2, "{images:?}");
    assert_eq!(stdout(&ran).lines().count(), 2, "{}", stdout(&ran));
    let record = record(&out);
    assert_eq!(record["model"], NEW);
    let sent: Value = serde_json::from_str(input).unwrap();
    assert_eq!(record["input"], sent);
    // The price is the API's; how many outputs a model unknown here makes is not known, so
    // there is no estimate, and the cost is the server's.
    assert!(
        record["estimate"]["usd"].is_null(),
        "{}",
        record["estimate"]
    );
    let basis = record["estimate"]["basis"].as_str().unwrap_or_default();
    assert!(basis.contains("not in the catalog"), "{basis}");
    says(&ran, "cost $0.06");
}

#[test]
fn the_server_alone_checks_an_unchecked_input() {
    let sim = server();
    let dir = tempfile::tempdir().unwrap();
    // What the catalog's schema would refuse before sending is sent, and the server's refusal
    // (not billed) is what the user reads.
    let output = sim.output(
        dir.path(),
        &[
            "run",
            NEW,
            "--unchecked",
            "--input",
            r#"{"text": "Generate 2 images", "image_size": "weird"}"#,
            "--json",
        ],
    );
    assert_code(&output, 65);
    assert_eq!(sim.stats().submit_calls, 1);
    assert_eq!(sim.stats().submissions, 0);
    says(&output, "image_size");
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["model"], NEW);
    assert_eq!(report["request_id"], Value::Null);
}

#[test]
fn what_an_unchecked_run_cannot_know_is_refused_or_said_before_anything_is_sent() {
    let sim = server();
    let dir = tempfile::tempdir().unwrap();
    // An id is a path of the API: nothing that could reach another endpoint is one.
    for id in [
        "acme/../requests/x/cancel",
        "acme",
        "acme/new?x=1",
        "acme//new",
    ] {
        let output = sim.output(dir.path(), &["run", id, "--unchecked", "--input", "{}"]);
        assert_code(&output, 64);
        assert!(
            stderr(&output).contains("is not a model id"),
            "{id}: {}",
            stderr(&output)
        );
    }
    // Its input is --input's object: without one, nothing is sent (not an empty object).
    let output = sim.output(dir.path(), &["run", NEW, "--unchecked", "--json"]);
    assert_code(&output, 64);
    says(&output, "give --input");
    // A near miss of a catalog id is said, and sent as given.
    let output = sim.output(
        dir.path(),
        &[
            "run",
            "bytedance/seedream-4-0/sequentail",
            "--unchecked",
            "--input",
            "{}",
            "--dry-run",
        ],
    );
    assert_code(&output, 0);
    says(&output, "did you mean `bytedance/seedream-4-0/sequential`");
    // Fields are no flags.
    let output = sim.output(dir.path(), &["run", NEW, "--unchecked", "--text", "a cat"]);
    assert_code(&output, 64);
    says(&output, "--input's JSON object");
    // --max-cost needs an estimate, which a model unknown here has not.
    let output = sim.output(
        dir.path(),
        &[
            "run",
            NEW,
            "--unchecked",
            "--input",
            r#"{"text": "a cat"}"#,
            "--max-cost",
            "5",
        ],
    );
    assert_code(&output, 4);
    says(&output, "not in the catalog");
    assert_eq!(sim.stats().submit_calls, 0);

    // A local file named in an unchecked input is not read: said, and sent as its name.
    std::fs::write(dir.path().join("cat.png"), b"not read").unwrap();
    let output = sim.output(
        dir.path(),
        &[
            "run",
            NEW,
            "--unchecked",
            "--input",
            r#"{"text": "Generate 2 images", "image": "cat.png"}"#,
            "--dry-run",
        ],
    );
    assert_code(&output, 0);
    says(
        &output,
        "names a local file, which an unchecked input does not read",
    );
    assert!(
        stdout(&output).contains(r#""image": "cat.png""#),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_batch_runs_its_lines_unchecked_and_is_carried_on_so() {
    let sim = server();
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        format!(
            r#"{{"model": "{NEW}", "key": "a", "input": {{"text": "Generate 2 images of a", "sequential_image_generation_options": 2}}}}"#
        ),
        format!(
            r#"{{"model": "{NEW}", "key": "b", "input": {{"text": "Generate 1 image of b", "sequential_image_generation_options": 1}}}}"#
        ),
    ];
    std::fs::write(dir.path().join("in.jsonl"), lines.join("\n")).unwrap();

    // Without --unchecked, the lines name no model of the catalog: nothing is sent.
    let refused = sim.output(dir.path(), &["batch", "in.jsonl", "--out", "shots"]);
    assert_code(&refused, 65);
    assert_eq!(sim.stats().submit_calls, 0);

    let ran = sim.output(
        dir.path(),
        &["batch", "in.jsonl", "--out", "run", "--unchecked"],
    );
    assert_code(&ran, 0);
    assert_eq!(sim.stats().submissions_by_model.get(NEW), Some(&2));
    assert_eq!(pngs(&dir.path().join("run/a")).len(), 2);
    assert_eq!(pngs(&dir.path().join("run/b")).len(), 1);
    assert_eq!(record(&dir.path().join("run/a"))["model"], NEW);

    // The journal keeps it: carried on without it, the batch says how it was started.
    let again = sim.output(dir.path(), &["batch", "in.jsonl", "--out", "run"]);
    assert_code(&again, 64);
    says(
        &again,
        "was started with --unchecked, not without --unchecked",
    );
    let resumed = sim.output(
        dir.path(),
        &["batch", "in.jsonl", "--out", "run", "--unchecked"],
    );
    assert_code(&resumed, 0);
    assert_eq!(sim.stats().submit_calls, 2);

    // --model names the model of lines that name none, unchecked as they are; checked, a model
    // the catalog lacks is refused before any line is read, saying how to run it.
    std::fs::write(
        dir.path().join("plain.jsonl"),
        r#"{"input": {"text": "Generate 1 image of c", "sequential_image_generation_options": 1}}"#,
    )
    .unwrap();
    let checked = sim.output(
        dir.path(),
        &["batch", "plain.jsonl", "--out", "m", "--model", NEW],
    );
    assert_code(&checked, 64);
    says(&checked, "--unchecked runs a model");
    let ran = sim.output(
        dir.path(),
        &[
            "batch",
            "plain.jsonl",
            "--out",
            "m",
            "--model",
            NEW,
            "--unchecked",
        ],
    );
    assert_code(&ran, 0);
    assert_eq!(sim.stats().submissions_by_model.get(NEW), Some(&3));
}
