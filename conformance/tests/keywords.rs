//! The validation keywords that take no part in the Rust types (`not`, `if`/`then`/`else`,
//! `contains`, `dependencies`, `patternProperties`, `propertyNames`), as a catalog model uses
//! them: the messy fixture's `acme/upscale`. The suite says whether they agree with JSON
//! Schema; this says what a person is told, typed or as JSON, where.

// Tests fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use runcomfy::{Input, Model, Severity};
use runcomfy_conformance::models::acme::upscale::{Mode, Upscale, UpscaleInput};
use serde_json::{Value, json};

/// The errors of a JSON input, decoded and validated as the CLI does: `(path, rule, message)`.
fn errors(input: Value) -> Vec<(String, String, String)> {
    match Upscale::info().decode(&input) {
        Ok(_) => Vec::new(),
        Err(err) => err
            .report
            .problems()
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .map(|p| (p.path.clone(), p.rule.clone(), p.message.clone()))
            .collect(),
    }
}

fn with(extra: Value) -> Value {
    let mut input = json!({"image": "https://example.com/a.png", "mode": "factor", "factor": 2});
    for (key, value) in extra.as_object().unwrap() {
        input[key] = value.clone();
    }
    input
}

fn one(input: Value) -> (String, String, String) {
    let mut found = errors(input);
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

#[test]
fn a_valid_input_passes_every_keyword() {
    let input = with(json!({
        "tags": ["upscale", "photo"],
        "metadata": {"x-source": "camera"},
        "negative_prompt": "blur",
    }));
    assert_eq!(errors(input), Vec::new());
    let sized =
        json!({"image": "https://example.com/a.png", "mode": "size", "width": 128, "height": 96});
    assert_eq!(errors(sized), Vec::new());
}

#[test]
fn the_branch_if_picks_is_checked_under_its_own_keywords() {
    // `then` requires both; `dependencies` is silent while neither is given.
    let found = errors(json!({"image": "https://example.com/a.png", "mode": "size"}));
    let required = |path: &str| {
        (
            path.to_owned(),
            "required".to_owned(),
            "is required".to_owned(),
        )
    };
    assert_eq!(found, [required("width"), required("height")]);
    let (path, rule, _) = one(json!({"image": "https://example.com/a.png", "mode": "factor"}));
    assert_eq!((path.as_str(), rule.as_str()), ("factor", "required"));
}

#[test]
fn a_dependency_names_the_property_that_brings_it() {
    let (path, rule, message) = one(with(json!({"width": 128})));
    assert_eq!(path, "height");
    assert_eq!(rule, "dependencies");
    assert_eq!(message, "is required when `width` is given");
}

#[test]
fn contains_counts_the_items_that_pass() {
    let (path, rule, message) = one(with(json!({"tags": ["photo"]})));
    assert_eq!((path.as_str(), rule.as_str()), ("tags", "contains"));
    assert_eq!(
        message,
        "must have at least 1 item that passes the schema under `contains`"
    );
    let (_, rule, message) = one(with(json!({"tags": ["upscale", "upscale"]})));
    assert_eq!(rule, "maxContains");
    assert_eq!(
        message,
        "must have at most 1 item that passes the schema under `contains`"
    );
}

#[test]
fn names_are_checked_by_pattern_and_by_propertynames() {
    let (path, rule, message) = one(with(json!({"metadata": {"source": "camera"}})));
    assert_eq!(
        (path.as_str(), rule.as_str()),
        ("metadata.source", "additionalProperties")
    );
    assert_eq!(
        message,
        "is not allowed: this object takes the names matching ^x-"
    );
    let long = format!("x-{}", "a".repeat(40));
    let (path, rule, message) = one(with(json!({"metadata": {long.clone(): "v"}})));
    assert_eq!(path, format!("metadata.{long}"));
    assert_eq!(rule, "propertyNames");
    assert_eq!(
        message,
        "is not an allowed property name: it must be at most 32 characters long"
    );
    // A matching name's value meets the pattern's schema.
    let (_, rule, _) = one(with(json!({"metadata": {"x-a": "v".repeat(101)}})));
    assert_eq!(rule, "maxLength");
}

#[test]
fn not_refuses_what_its_schema_accepts() {
    let (path, rule, message) = one(with(json!({"negative_prompt": ""})));
    assert_eq!((path.as_str(), rule.as_str()), ("negative_prompt", "not"));
    assert_eq!(message, "is ruled out: it passes the schema under `not`");
}

#[test]
fn typed_inputs_keep_pattern_properties_and_are_checked_alike() {
    let mut metadata = serde_json::Map::new();
    metadata.insert("x-source".into(), json!("camera"));
    let input = UpscaleInput::new("https://example.com/a.png", Mode::Size)
        .with_width(128)
        .with_metadata(metadata.clone());
    let report = input.validate();
    let rules: Vec<&str> = report.errors().map(|p| p.rule.as_str()).collect();
    // `then` wants the height, and so does the width's dependency.
    assert_eq!(rules, ["dependencies", "required"], "{report}");
    let input = input.with_height(96);
    assert!(input.validate().is_valid(), "{}", input.validate());
    let sent = serde_json::to_value(&input).unwrap();
    assert_eq!(sent["metadata"], Value::Object(metadata));
}
