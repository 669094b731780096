//! The messy fixture's `acme/composed`: an input written as JSON Schema 2020-12 composes one,
//! its properties brought by a root `$ref`, an `allOf` member and an anchor. Its fields are all
//! of them, and a choice given exactly as one of several spellings stays as written.

// Tests fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use runcomfy::{Input, Model};
use runcomfy_conformance::models::acme::composed::{Composed, ComposedInput};
use serde_json::json;

#[test]
fn fields_come_from_the_root_ref_and_the_all_of_members() {
    let names: Vec<&str> = Composed::info().fields().map(|f| f.name).collect();
    // `upscale` last: only the `then` of a member names it.
    assert_eq!(
        names,
        [
            "seed",
            "reference",
            "steps",
            "mode",
            "finish",
            "s",
            "string",
            "prompt",
            "width",
            "height",
            "upscale"
        ]
    );
    let in_branch = |name| Composed::info().field(name).unwrap().in_branch();
    assert!(in_branch("upscale") && !in_branch("width"));
    let input = ComposedInput::new("a fox").with_width(512).with_height(512);
    assert!(input.validate().is_valid());
    // A definition's choices are a type of their own, named after it.
    let input = input.with_finish(runcomfy_conformance::models::acme::composed::Finish::Gloss);
    assert_eq!(serde_json::to_value(&input).unwrap()["finish"], "gloss");
    // The member that says more than properties stays one, and is checked.
    let err = Composed::info()
        .decode(&json!({"prompt": "a fox", "width": 512}))
        .unwrap_err();
    assert_eq!(err.report.problems()[0].path, "height");
    // The anchor's bounds reach both sides; the input is closed over every member's fields.
    let err = Composed::info()
        .decode(&json!({"prompt": "a fox", "width": 32, "height": 512, "depth": 1}))
        .unwrap_err();
    let found: Vec<(&str, &str)> = err
        .report
        .problems()
        .iter()
        .map(|p| (p.path.as_str(), p.rule.as_str()))
        .collect();
    assert_eq!(
        found,
        [("width", "minimum"), ("depth", "unevaluatedProperties")]
    );
}

/// `reference` is text at the root and an image in the root `$ref`: it holds a file (a local
/// one is read and sent inline), not its path as text.
#[test]
fn a_field_another_definition_makes_media_holds_a_file() {
    let reference: Option<runcomfy::Media> = ComposedInput::new("a fox").reference;
    assert!(reference.is_none());
    let field = Composed::info().field("reference").unwrap();
    assert_eq!(
        field.kind(),
        runcomfy::catalog::FieldKind::Media(runcomfy::schema::MediaKind::Image)
    );
}

/// `seed` is the root's integer and the root `$ref`'s `minimum: 0` at once: what the field is
/// (for flags and `describe`) is both, and validation checks both.
#[test]
fn a_field_defined_twice_is_both_definitions() {
    let seed = Composed::info().field("seed").unwrap();
    assert_eq!(seed.kind(), runcomfy::catalog::FieldKind::Integer);
    assert_eq!(
        seed.own_schema().minimum,
        Some(runcomfy::Number::from_i64(0))
    );
    assert_eq!(seed.own_schema().description, Some("Random seed."));
    let err = Composed::info()
        .decode(&json!({"prompt": "a fox", "seed": -1}))
        .unwrap_err();
    assert_eq!(err.report.problems()[0].path, "seed");
    assert_eq!(err.report.problems()[0].rule, "minimum");
}

/// `unevaluatedProperties: false` takes what a passing `then` evaluates: `upscale` only in
/// high definition. The struct keeps such a property beside its fields, and validation decides.
#[test]
fn unevaluated_properties_take_what_a_passing_branch_evaluates() {
    let info = Composed::info();
    assert!(
        info.decode(&json!({"prompt": "a fox", "mode": "hd", "upscale": true}))
            .is_ok()
    );
    let err = info
        .decode(&json!({"prompt": "a fox", "mode": "sd", "upscale": true}))
        .unwrap_err();
    let problem = &err.report.problems()[0];
    assert_eq!(
        (problem.path.as_str(), problem.rule.as_str()),
        ("upscale", "unevaluatedProperties")
    );
    assert_eq!(
        problem.message,
        "is not allowed: no schema here takes this property"
    );
}

#[test]
fn a_choice_given_exactly_stays_as_written() {
    let info = Composed::info();
    for exact in [json!("5"), json!(5), json!("auto")] {
        let mut input = json!({"prompt": "a fox", "steps": exact.clone()});
        let loose = info.normalize_choices(input.as_object_mut().unwrap());
        assert_eq!(input["steps"], exact);
        assert!(loose.problems().is_empty(), "{loose:?}");
    }
    let mut input = json!({"prompt": "a fox", "steps": "AUTO"});
    let loose = info.normalize_choices(input.as_object_mut().unwrap());
    assert_eq!(input["steps"], "auto");
    assert_eq!(loose.problems().len(), 1);
}
