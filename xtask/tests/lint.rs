//! `lint`: the generator's errors, and one fixture smell per warning kind it reports.

use std::fs;
use std::path::PathBuf;

use runcomfy_codegen::error::WarningKind;
use xtask::lint::{self, LintError};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint")
}

#[test]
fn every_warning_kind_is_flagged_where_the_smell_is() {
    let report = lint::lint(&fixture());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let mut got: Vec<(WarningKind, String, String)> = report
        .warnings
        .iter()
        .map(|w| {
            let file = w.path.strip_prefix(fixture()).unwrap();
            (w.kind, file.display().to_string(), w.pointer.clone())
        })
        .collect();
    got.sort();
    let smelly = |file: &str| format!("acme/smelly/{file}");
    let mut expected: Vec<(WarningKind, String, String)> = [
        (
            WarningKind::EmptyDescription,
            smelly("input.json"),
            "/properties/seed/description",
        ),
        (
            WarningKind::NoDescription,
            smelly("input.json"),
            "/properties/scale/description",
        ),
        (
            WarningKind::GuessedMedia,
            smelly("input.json"),
            "/properties/mask/validations",
        ),
        (
            WarningKind::UnknownPricing,
            smelly("upstream.json"),
            "/pricing",
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
            WarningKind::UncommonOutput,
            smelly("output.json"),
            "/output",
        ),
        (
            WarningKind::DisambiguatedEnum,
            smelly("input.json"),
            "/properties/style/enum/1",
        ),
        (
            WarningKind::RequiredWithDefault,
            smelly("input.json"),
            "/properties/prompt/default",
        ),
        (
            WarningKind::NoDisplayName,
            smelly("overlay.json"),
            "/display_name",
        ),
        (
            WarningKind::DefaultMismatch,
            smelly("input.json"),
            "/properties/steps/default",
        ),
        (
            WarningKind::Unchecked,
            smelly("input.json"),
            "/properties/reference/format",
        ),
        (
            WarningKind::UnreachableChoice,
            smelly("input.json"),
            "/properties/quality/enum",
        ),
        (
            WarningKind::Ignored,
            smelly("input.json"),
            "/properties/steps/then",
        ),
        (
            WarningKind::NameClash,
            smelly("input.json"),
            "/properties/Seed",
        ),
    ]
    .into_iter()
    .map(|(k, f, p)| (k, f, p.to_owned()))
    .collect();
    expected.sort();
    assert_eq!(got, expected);
    for kind in WarningKind::ALL {
        assert!(
            got.iter().any(|(k, _, _)| k == kind),
            "the fixture has no {} smell",
            kind.code()
        );
    }
}

#[test]
fn warnings_print_code_file_pointer_and_fix() {
    let report = lint::lint(&fixture());
    let disambiguated = report
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::DisambiguatedEnum)
        .unwrap()
        .to_string();
    let path = fixture().join("acme/smelly/input.json");
    let prefix = format!(
        "warning[disambiguated-enum]: {}: at /properties/style/enum/1: ",
        path.display()
    );
    assert!(disambiguated.starts_with(&prefix), "{disambiguated}");
    assert!(
        disambiguated.contains("\"AUTO\"") && disambiguated.contains("fields.style.variants"),
        "{disambiguated}"
    );
}

#[test]
fn overlays_that_fix_a_smell_silence_it() {
    // clean-b has an empty description covered by `fields.image.docs` and a `float` the
    // overlay patches to `number`: no warnings, since the generator reads the patched schema.
    let report = lint::lint(&fixture());
    let clean: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| !w.path.starts_with(fixture().join("acme/smelly")))
        .collect();
    assert!(clean.is_empty(), "{clean:#?}");
    // Without its overlay, clean-b has both smells.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("acme/clean-b");
    fs::create_dir_all(&model).unwrap();
    for file in ["input.json", "output.json"] {
        fs::copy(fixture().join("acme/clean-b").join(file), model.join(file)).unwrap();
    }
    fs::write(model.join("overlay.json"), r#"{"display_name": "Clean B"}"#).unwrap();
    let kinds: Vec<WarningKind> = lint::lint(dir.path())
        .warnings
        .iter()
        .map(|w| w.kind)
        .collect();
    assert_eq!(
        kinds,
        [WarningKind::EmptyDescription, WarningKind::NonStandardType]
    );
}

#[test]
fn run_fails_on_errors_and_on_denied_warnings() {
    assert_eq!(lint::run(&fixture(), false).unwrap().warnings.len(), 16);
    assert!(matches!(
        lint::run(&fixture(), true),
        Err(LintError::Warnings(16))
    ));
    let committed = xtask::workspace_root().join("schemas");
    let report = lint::run(&committed, false).unwrap();
    assert!(report.errors.is_empty());
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
    let mut at: Vec<(PathBuf, String)> = report
        .errors
        .iter()
        .map(|e| match e {
            runcomfy_codegen::Error::Schema { path, pointer, .. } => {
                (path.clone(), pointer.clone())
            }
            other => panic!("{other}"),
        })
        .collect();
    at.sort();
    assert_eq!(
        at,
        [
            (input.clone(), "/properties/n/minimum".to_owned()),
            (input.clone(), "/required/0".to_owned()),
        ]
    );
    assert!(report.warnings.is_empty());
    assert!(matches!(
        lint::run(dir.path(), false),
        Err(LintError::Errors(2))
    ));
}

/// Every warning code is documented where maintainers look it up (QA repro48 F12: none was).
#[test]
fn every_warning_code_is_in_the_catalogs_readme() {
    let readme =
        fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas/README.md"))
            .unwrap();
    for kind in WarningKind::ALL {
        assert!(
            readme.contains(&format!("`{}`", kind.code())),
            "{} is not in schemas/README.md",
            kind.code()
        );
    }
}
