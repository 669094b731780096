//! The generator and validation against the official JSON Schema test suite (`build.rs` made a
//! model of every group it accepts).
//!
//! For every accepted group, every instance must get the suite's answer both from the generated
//! type (decoded, then validated: [`ModelInfo::decode`]) and from validating the JSON as it is,
//! and a valid instance must serialize back to the same JSON. Every refused group must be refused
//! by naming what it needs: a keyword, a format, or a reference the generator does not support.
//! `cargo test -p runcomfy-conformance -- --nocapture` prints the figures per file.

use std::collections::BTreeMap;

use runcomfy::media::Files;
use runcomfy::validate;
use runcomfy_conformance::{MANIFEST, models};
use serde_json::{Value, json};

#[derive(Default)]
struct Figures {
    groups: usize,
    accepted: usize,
    instances: usize,
    agreeing: usize,
}

#[test]
fn the_suite_agrees_or_is_refused_by_name() {
    let manifest: Value = serde_json::from_str(MANIFEST).unwrap();
    let mut figures: BTreeMap<String, Figures> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    for group in manifest["groups"].as_array().unwrap() {
        let file = group["file"].as_str().unwrap().to_owned();
        let stats = figures.entry(file.clone()).or_default();
        stats.groups += 1;
        let label = format!("{file} #{} {}", group["index"], group["description"]);
        if group["status"]["accepted"] == json!(true) {
            stats.accepted += 1;
            let model = models()
                .iter()
                .find(|m| m.id == group["model"].as_str().unwrap())
                .unwrap_or_else(|| panic!("{label}: accepted but not generated"));
            for test in group["tests"].as_array().unwrap() {
                stats.instances += 1;
                let input = json!({"v": test["data"]});
                let expected = test["valid"].as_bool().unwrap();
                let as_json = validate::input(model, &input, Files::Local).is_valid();
                let typed = model.decode(&input);
                let mut problems = Vec::new();
                if as_json != expected {
                    problems.push(format!("validating the JSON says {as_json}"));
                }
                match &typed {
                    Ok(decoded) => {
                        if !expected {
                            problems.push("the generated type decodes and validates it".into());
                        }
                        let sent: Value =
                            serde_json::from_slice(&decoded.encode(usize::MAX).unwrap()).unwrap();
                        // As given, by JSON Schema's equality: an integer goes as one (`1.0`
                        // as `1`).
                        if !runcomfy::validate::equal(&sent, &input) {
                            problems.push(format!("it serializes back as {sent}"));
                        }
                    }
                    Err(err) if expected => {
                        problems.push(format!("the generated type refuses it: {}", err.report))
                    }
                    Err(_) => {}
                }
                if problems.is_empty() {
                    stats.agreeing += 1;
                } else {
                    failures.push(format!(
                        "{label}: {} (valid: {expected}): {}",
                        test["description"],
                        problems.join("; ")
                    ));
                }
            }
        } else {
            let error = group["status"]["error"].as_str().unwrap_or_default();
            match refused_for(error, &group["schema"]) {
                Some(reason) => *refusals.entry(reason).or_default() += 1,
                None => failures.push(format!(
                    "{label}: refused without naming what it needs: {error}"
                )),
            }
        }
    }
    print_figures(&figures, &refusals);
    assert!(
        failures.is_empty(),
        "{} disagreement(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// What a refusal names, when it names something the group's schema holds and the generator
/// does not support: a keyword (`` `not` is not supported``), a format (`` format `ipv4` is not
/// checked``), or a reference (`` `$ref` to `other.json` cannot be resolved``). Other errors
/// may follow from it (a `$ref` that resolves only against a refused `$id`).
fn refused_for(error: &str, schema: &Value) -> Option<String> {
    let text = schema.to_string();
    error
        .lines()
        .filter_map(|line| line.strip_prefix("error: "))
        .filter_map(|line| {
            line.split(": at ")
                .nth(1)?
                .split_once(": ")
                .map(|(_, what)| what)
        })
        .find_map(|what| {
            let named = what.split('`').nth(1)?;
            let held = text.contains(&format!("\"{named}\""));
            let unsupported = [
                "is not supported",
                "is not checked",
                "cannot be resolved",
                "unknown keyword",
            ]
            .iter()
            .any(|phrase| what.contains(phrase));
            (held && unsupported).then(|| match what.split_once(" is not") {
                Some((name, _)) => name.to_owned(),
                None => "`$ref` to another document".to_owned(),
            })
        })
}

fn print_figures(figures: &BTreeMap<String, Figures>, refusals: &BTreeMap<String, usize>) {
    println!("| file | groups | accepted | instances | agreeing |");
    println!("|---|---:|---:|---:|---:|");
    let mut total = Figures::default();
    for (file, f) in figures {
        println!(
            "| {file} | {} | {} | {} | {} |",
            f.groups, f.accepted, f.instances, f.agreeing
        );
        total.groups += f.groups;
        total.accepted += f.accepted;
        total.instances += f.instances;
        total.agreeing += f.agreeing;
    }
    println!(
        "| all | {} | {} | {} | {} |",
        total.groups, total.accepted, total.instances, total.agreeing
    );
    println!();
    println!("| refused for | groups |");
    println!("|---|---:|");
    for (reason, count) in refusals {
        println!("| {reason} | {count} |");
    }
}
