//! `lint`: the generator's errors, and one fixture smell per warning kind.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use xtask::lint::{self, WarningKind};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint")
}

#[test]
fn every_warning_kind_is_flagged_where_the_smell_is() {
    let report = lint::lint(&fixture());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let got: Vec<(WarningKind, String, String)> = report
        .warnings
        .iter()
        .map(|w| {
            let file = w.path.strip_prefix(fixture()).unwrap();
            (w.kind, file.display().to_string(), w.pointer.clone())
        })
        .collect();
    let smelly = |file: &str| format!("acme/smelly/{file}");
    let expected = vec![
        (
            WarningKind::RequiredWithDefault,
            smelly("input.json"),
            "/properties/prompt/default",
        ),
        (
            WarningKind::EmptyDescription,
            smelly("input.json"),
            "/properties/seed/description",
        ),
        (
            WarningKind::NonStandardType,
            smelly("input.json"),
            "/properties/strength/type",
        ),
        (
            WarningKind::NumberAsString,
            smelly("input.json"),
            "/properties/strength/minimum",
        ),
        (
            WarningKind::LocalizedText,
            smelly("input.json"),
            "/properties/style/description",
        ),
        (
            WarningKind::UnknownFormat,
            smelly("input.json"),
            "/properties/reference/format",
        ),
        (
            WarningKind::LocalizedText,
            smelly("output.json"),
            "/output/properties/image/description",
        ),
        (
            WarningKind::NoDisplayName,
            smelly("overlay.json"),
            "/display_name",
        ),
        (
            WarningKind::DisambiguatedEnum,
            smelly("input.json"),
            "/properties/style/enum/1",
        ),
        (
            WarningKind::UncommonOutput,
            smelly("output.json"),
            "/output",
        ),
    ];
    let expected: Vec<(WarningKind, String, String)> = expected
        .into_iter()
        .map(|(k, f, p)| (k, f, p.to_owned()))
        .collect();
    assert_eq!(got, expected);
    let kinds: BTreeSet<WarningKind> = got.iter().map(|(k, _, _)| *k).collect();
    assert_eq!(
        kinds,
        WarningKind::ALL.into_iter().collect(),
        "every kind is covered"
    );
}

#[test]
fn messages_name_file_pointer_and_fix() {
    let report = lint::lint(&fixture());
    let disambiguated = report
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::DisambiguatedEnum)
        .unwrap()
        .to_string();
    let path = fixture().join("acme/smelly/input.json");
    assert_eq!(
        disambiguated,
        format!(
            "warning[disambiguated-enum]: {}: at /properties/style/enum/1: enum value \"AUTO\" of `style` would be `Style::Auto`, which another value took, so it is `Style::AutoAlt`; name it in overlay.json `fields.style.variants`",
            path.display()
        )
    );
}

#[test]
fn overlays_that_fix_a_smell_silence_it() {
    // clean-b has an empty description covered by `fields.image.docs` and a `float` the
    // overlay patches to `number`: no warnings, since lint reads what the generator sees.
    let report = lint::lint(&fixture());
    assert!(
        report
            .warnings
            .iter()
            .all(|w| w.path.starts_with(fixture().join("acme/smelly"))),
        "{:#?}",
        report.warnings
    );
}

#[test]
fn exit_codes_follow_errors_and_deny_warnings() {
    assert_eq!(lint::run(&fixture(), false), 0);
    assert_eq!(lint::run(&fixture(), true), 1);
    let committed = xtask::workspace_root().join("schemas");
    assert!(lint::lint(&committed).errors.is_empty());
    assert_eq!(lint::run(&committed, false), 0);
}

#[test]
fn generator_errors_are_lint_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("acme/broken");
    fs::create_dir_all(&model).unwrap();
    fs::write(
        model.join("input.json"),
        r#"{"type": "object", "required": ["missing"], "properties": {"n": {"type": "integer", "minimum": 5, "maximum": 1}}}"#,
    )
    .unwrap();
    fs::write(
        model.join("output.json"),
        r#"{"output": {"type": "object"}}"#,
    )
    .unwrap();
    let report = lint::lint(dir.path());
    let input = model.join("input.json");
    assert_eq!(report.errors.len(), 2, "{:#?}", report.errors);
    assert!(report.errors[0].starts_with(&format!("error: {}: at /required/0:", input.display())));
    assert!(report.errors[1].starts_with(&format!(
        "error: {}: at /properties/n/minimum:",
        input.display()
    )));
    assert_eq!(lint::run(dir.path(), false), 1);
}
