//! `diff`: a table of crafted schema changes, each classified by its effect on the generated
//! API; git revisions; exit codes.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use xtask::diff::{self, Change, Impact, Source};
use xtask::store;

#[derive(Clone)]
struct Model {
    input: Value,
    output: Value,
    overlay: Value,
}

type Catalog = BTreeMap<String, Model>;

const BASE: &str = "acme/base";
const OTHER: &str = "acme/other";

fn base_model() -> Model {
    Model {
        input: json!({
            "type": "object",
            "title": "Input Schema",
            "required": ["prompt", "images"],
            "properties": {
                "prompt": {"title": "Prompt", "description": "What to draw.", "type": "string", "maxLength": 600},
                "negative": {"title": "Negative", "description": "What to avoid.", "type": "string"},
                "seed": {"title": "Seed", "description": "Seed.", "type": "integer", "minimum": 0, "maximum": 100},
                "steps": {"title": "Steps", "description": "Steps.", "type": "integer", "minimum": 1, "maximum": 50, "default": 28},
                "guidance": {"title": "Guidance", "description": "Guidance.", "type": "number", "minimum": 0, "maximum": 20},
                "images": {
                    "title": "Images",
                    "description": "References.",
                    "type": "array",
                    "items": {"type": "string", "format": "image_uri"},
                    "validations": [
                        {"validation_rule": "file_size_mb<", "validation_value": 10, "validation_error": "Too big."},
                        {"validation_rule": "width_pixels>", "validation_value": 14, "validation_error": "Too narrow."}
                    ],
                    "minItems": 1,
                    "maxItems": 10
                },
                "size": {"title": "Size", "description": "Aspect ratio.", "type": "string", "enum": ["1:1", "16:9"], "default": "1:1"},
                "count": {"title": "Count", "description": "How many.", "type": "integer", "enum": [1, 2, 3], "default": 1}
            }
        }),
        output: json!({"output": {"type": "object", "properties": {
            "image": {"type": "string", "format": "uri", "description": "Single image URL"},
            "videos": {"type": "array", "description": "Multiple video URLs", "items": {"type": "string", "format": "uri"}}
        }}}),
        overlay: json!({
            "display_name": "Base",
            "fields": {"images": {"formats": ["jpeg", "png"]}},
            "rules": [{"rule": "max_total", "fields": ["images", "count"], "max": 12, "message": "Too many."}]
        }),
    }
}

fn base() -> Catalog {
    let mut other = base_model();
    other.overlay = json!({"display_name": "Other"});
    BTreeMap::from([(BASE.to_owned(), base_model()), (OTHER.to_owned(), other)])
}

fn write(dir: &Path, catalog: &Catalog) {
    for (id, m) in catalog {
        store::write_model(dir, id, &m.input, &m.output).unwrap();
        fs::write(
            dir.join(id).join("overlay.json"),
            store::to_pretty(&m.overlay),
        )
        .unwrap();
    }
}

fn diff_of(change: impl Fn(&mut Catalog)) -> Vec<Change> {
    let old = tempfile::tempdir().unwrap();
    let new = tempfile::tempdir().unwrap();
    let before = base();
    let mut after = base();
    change(&mut after);
    write(old.path(), &before);
    write(new.path(), &after);
    diff::diff_dirs(old.path(), new.path()).unwrap()
}

fn input(c: &mut Catalog) -> &mut Value {
    &mut c.get_mut(BASE).unwrap().input
}

fn prop<'a>(c: &'a mut Catalog, name: &str) -> &'a mut Value {
    &mut input(c)["properties"][name]
}

fn overlay(c: &mut Catalog) -> &mut Value {
    &mut c.get_mut(BASE).unwrap().overlay
}

/// Changes the output of every model alike, so that they keep sharing one output type.
fn outputs(c: &mut Catalog, change: impl Fn(&mut serde_json::Map<String, Value>)) {
    for model in c.values_mut() {
        change(
            model.output["output"]["properties"]
                .as_object_mut()
                .unwrap(),
        );
    }
}

type Case = (&'static str, fn(&mut Catalog), Option<Impact>, &'static str);

/// (what, change, the worst impact expected, a phrase the classifying change must contain).
const CASES: &[Case] = &[
    (
        "model removed",
        |c| {
            c.remove(OTHER);
        },
        Some(Impact::Breaking),
        "model removed",
    ),
    (
        "model added",
        |c| {
            let m = c[OTHER].clone();
            c.insert("acme/new-one".into(), m);
        },
        Some(Impact::Additive),
        "new model",
    ),
    (
        "field removed",
        |c| {
            input(c)["properties"]
                .as_object_mut()
                .unwrap()
                .remove("negative");
        },
        Some(Impact::Breaking),
        "field `negative` removed",
    ),
    (
        "new optional field",
        |c| {
            input(c)["properties"]["style"] = json!({"type": "string"});
        },
        Some(Impact::Additive),
        "new optional field `style`",
    ),
    (
        "new required field",
        |c| {
            input(c)["properties"]["style"] = json!({"type": "string"});
            input(c)["required"] = json!(["prompt", "images", "style"]);
        },
        Some(Impact::Breaking),
        "new required field `style`",
    ),
    (
        "field made required",
        |c| {
            input(c)["required"] = json!(["prompt", "images", "negative"]);
        },
        Some(Impact::Breaking),
        "`negative` is now required",
    ),
    (
        "field made optional",
        |c| {
            input(c)["required"] = json!(["images"]);
        },
        Some(Impact::Breaking),
        "`prompt` is now optional",
    ),
    (
        "type changed",
        |c| {
            prop(c, "seed")["type"] = json!("string");
            prop(c, "seed")
                .as_object_mut()
                .unwrap()
                .retain(|k, _| k != "minimum" && k != "maximum");
        },
        Some(Impact::Breaking),
        "type changed from an integer to a string",
    ),
    (
        "maxLength lowered",
        |c| {
            prop(c, "prompt")["maxLength"] = json!(500);
        },
        Some(Impact::Breaking),
        "`maxLength` lowered from 600 to 500",
    ),
    (
        "maxLength raised",
        |c| {
            prop(c, "prompt")["maxLength"] = json!(800);
        },
        Some(Impact::Additive),
        "`maxLength` raised from 600 to 800",
    ),
    (
        "maxLength added",
        |c| {
            prop(c, "negative")["maxLength"] = json!(100);
        },
        Some(Impact::Breaking),
        "`maxLength` 100 added",
    ),
    (
        "minLength added",
        |c| {
            prop(c, "prompt")["minLength"] = json!(1);
        },
        Some(Impact::Breaking),
        "`minLength` 1 added",
    ),
    (
        "maxItems lowered",
        |c| {
            prop(c, "images")["maxItems"] = json!(4);
        },
        Some(Impact::Breaking),
        "`maxItems` lowered from 10 to 4",
    ),
    (
        "minItems raised",
        |c| {
            prop(c, "images")["minItems"] = json!(2);
        },
        Some(Impact::Breaking),
        "`minItems` raised from 1 to 2",
    ),
    (
        "maximum lowered",
        |c| {
            prop(c, "seed")["maximum"] = json!(50);
        },
        Some(Impact::Breaking),
        "`maximum` lowered from 100 to 50",
    ),
    (
        "minimum raised",
        |c| {
            prop(c, "seed")["minimum"] = json!(10);
        },
        Some(Impact::Breaking),
        "`minimum` raised from 0 to 10",
    ),
    (
        "maximum raised",
        |c| {
            prop(c, "guidance")["maximum"] = json!(30);
        },
        Some(Impact::Additive),
        "`maximum` raised from 20 to 30",
    ),
    (
        "minimum removed",
        |c| {
            prop(c, "seed").as_object_mut().unwrap().remove("minimum");
        },
        Some(Impact::Additive),
        "`minimum` 0 removed",
    ),
    (
        "enum value added",
        |c| {
            prop(c, "size")["enum"] = json!(["1:1", "16:9", "4:3"]);
        },
        Some(Impact::Additive),
        "value \"4:3\" added as `Size::V4x3` (generated enums are #[non_exhaustive])",
    ),
    (
        "integer enum value added",
        |c| {
            prop(c, "count")["enum"] = json!([1, 2, 3, 4]);
        },
        Some(Impact::Additive),
        "value \"4\" added",
    ),
    (
        "enum value removed",
        |c| {
            prop(c, "size")["enum"] = json!(["1:1"]);
        },
        Some(Impact::Breaking),
        "value \"16:9\" removed",
    ),
    (
        "variant renamed by the overlay",
        |c| {
            overlay(c)["fields"]["size"] = json!({"variants": {"1:1": "Square"}});
        },
        Some(Impact::Breaking),
        "`Size::V1x1` → `Size::Square`",
    ),
    (
        "enum type renamed by the overlay",
        |c| {
            overlay(c)["fields"]["size"] = json!({"type_name": "AspectRatio"});
        },
        Some(Impact::Breaking),
        "enum type renamed `Size` → `AspectRatio`",
    ),
    (
        "validation rule added",
        |c| {
            prop(c, "images")["validations"].as_array_mut().unwrap().push(json!({"validation_rule": "height_pixels>", "validation_value": 14, "validation_error": "Too short."}));
        },
        Some(Impact::Breaking),
        "validation `height_pixels>` 14 added",
    ),
    (
        "validation tightened",
        |c| {
            prop(c, "images")["validations"][0]["validation_value"] = json!(5);
        },
        Some(Impact::Breaking),
        "validation `file_size_mb<` tightened from 10 to 5",
    ),
    (
        "lower-bound validation tightened",
        |c| {
            prop(c, "images")["validations"][1]["validation_value"] = json!(64);
        },
        Some(Impact::Breaking),
        "validation `width_pixels>` tightened from 14 to 64",
    ),
    (
        "validation loosened",
        |c| {
            prop(c, "images")["validations"][0]["validation_value"] = json!(20);
        },
        Some(Impact::Additive),
        "validation `file_size_mb<` loosened from 10 to 20",
    ),
    (
        "validation removed",
        |c| {
            prop(c, "images")["validations"]
                .as_array_mut()
                .unwrap()
                .remove(1);
        },
        Some(Impact::Additive),
        "validation `width_pixels>` 14 removed",
    ),
    (
        "validation message reworded",
        |c| {
            prop(c, "images")["validations"][0]["validation_error"] = json!("Smaller, please.");
        },
        Some(Impact::Notable),
        "validation messages changed",
    ),
    (
        "format no longer accepted",
        |c| {
            overlay(c)["fields"]["images"]["formats"] = json!(["jpeg"]);
        },
        Some(Impact::Breaking),
        "format(s) png no longer accepted",
    ),
    (
        "format now accepted",
        |c| {
            overlay(c)["fields"]["images"]["formats"] = json!(["jpeg", "png", "webp"]);
        },
        Some(Impact::Additive),
        "format(s) webp now accepted",
    ),
    (
        "default changed",
        |c| {
            prop(c, "size")["default"] = json!("16:9");
        },
        Some(Impact::Notable),
        "default of `size` changed from \"1:1\" to \"16:9\"",
    ),
    (
        "default removed",
        |c| {
            prop(c, "steps").as_object_mut().unwrap().remove("default");
        },
        Some(Impact::Breaking),
        "the accessor `steps()` that returned it is gone",
    ),
    (
        "default added",
        |c| {
            prop(c, "guidance")["default"] = json!(3.5);
        },
        Some(Impact::Additive),
        "now defaults to 3.5 (new accessor `guidance()`)",
    ),
    (
        "description changed",
        |c| {
            prop(c, "seed")["description"] = json!("The random seed.");
        },
        Some(Impact::Notable),
        "documentation of `seed` changed",
    ),
    (
        "nullable optional field",
        |c| {
            prop(c, "negative")["type"] = json!(["string", "null"]);
        },
        Some(Impact::Notable),
        "`negative` now accepts null",
    ),
    (
        "nullable required field",
        |c| {
            prop(c, "prompt")["type"] = json!(["string", "null"]);
        },
        Some(Impact::Breaking),
        "its type changes between `T` and `Option<T>`",
    ),
    (
        "output field removed",
        |c| {
            outputs(c, |p| {
                p.remove("videos");
            })
        },
        Some(Impact::Breaking),
        "output field `videos` removed",
    ),
    (
        "output field added",
        |c| {
            outputs(c, |p| {
                p.insert("seed".into(), json!({"type": "integer"}));
            })
        },
        Some(Impact::Additive),
        "new output field `seed`",
    ),
    (
        "output field type changed",
        |c| {
            outputs(c, |p| {
                p.insert(
                    "image".into(),
                    json!({"type": "integer", "description": "Single image URL"}),
                );
            })
        },
        Some(Impact::Breaking),
        "output field `image` changed from a string to an integer",
    ),
    (
        "output field documented differently",
        |c| {
            outputs(c, |p| {
                p["image"]["description"] = json!("The image.");
            })
        },
        Some(Impact::Notable),
        "documentation of output field `image` changed",
    ),
    (
        "max_total lowered",
        |c| {
            overlay(c)["rules"][0]["max"] = json!(8);
        },
        Some(Impact::Breaking),
        "max lowered from 12 to 8",
    ),
    (
        "max_total rule removed",
        |c| {
            overlay(c).as_object_mut().unwrap().remove("rules");
        },
        Some(Impact::Additive),
        "rule `max_total` over images + count removed",
    ),
    (
        "model type renamed by the overlay",
        |c| {
            overlay(c)["type_name"] = json!("Fancy");
        },
        Some(Impact::Breaking),
        "model type renamed `Base` → `Fancy`",
    ),
    (
        "display name changed",
        |c| {
            overlay(c)["display_name"] = json!("Base 2");
        },
        Some(Impact::Notable),
        "display name \"Base\" → \"Base 2\"",
    ),
    (
        "upstream change undone by an overlay patch",
        |c| {
            prop(c, "prompt")["maxLength"] = json!(500);
            overlay(c)["patch"] = json!({"properties": {"prompt": {"maxLength": 600}}});
        },
        None,
        "",
    ),
    ("nothing changed", |_| {}, None, ""),
];

#[test]
fn every_crafted_change_is_classified() {
    assert!(CASES.len() >= 20);
    let mut failures = Vec::new();
    for (name, change, expected, phrase) in CASES {
        let changes = diff_of(change);
        let worst = diff::worst(&changes);
        let found = expected.is_none()
            || changes
                .iter()
                .any(|c| Some(c.impact) == *expected && c.what.contains(phrase));
        if worst != *expected || !found {
            failures.push(format!(
                "{name}: expected {expected:?} with {phrase:?}, got {worst:?}:\n{}",
                changes
                    .iter()
                    .map(|c| format!("    {c}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn changes_name_model_file_and_pointer() {
    let changes = diff_of(|c| {
        prop(c, "prompt")["maxLength"] = json!(500);
        outputs(c, |p| {
            p.remove("videos");
        });
    });
    let lines: Vec<String> = changes.iter().map(|c| format!("{} {c}", c.model)).collect();
    assert_eq!(
        lines,
        [
            "acme/base BREAKING input.json#/properties/prompt/maxLength: `maxLength` lowered from 600 to 500: values in between no longer validate",
            "acme/base BREAKING output.json#/output/properties/videos: output field `videos` removed (`BaseOutput.videos` is gone)",
            "acme/other BREAKING output.json#/output/properties/videos: output field `videos` removed (`BaseOutput.videos` is gone)",
        ]
    );
}

#[test]
fn an_output_change_of_one_model_can_break_another() {
    // Models with the same output schema share one type, named after the first of them unless
    // an overlay names it. Adding a field to one model's output splits the type, and the other
    // model's output is renamed: additive for one model, breaking for the other.
    let changes = diff_of(|c| {
        let base = &mut c.get_mut(BASE).unwrap().output["output"]["properties"];
        base["seed"] = json!({"type": "integer"});
    });
    let lines: Vec<String> = changes.iter().map(|c| format!("{} {c}", c.model)).collect();
    assert_eq!(
        lines,
        [
            "acme/base additive output.json#/output/properties/seed: new output field `seed` (the output type is #[non_exhaustive])",
            "acme/other BREAKING output.json#/output: output type renamed `BaseOutput` → `OtherOutput`",
        ]
    );
}

#[test]
fn exit_codes_say_whether_anything_breaks() {
    let repo = xtask::workspace_root();
    let old = tempfile::tempdir().unwrap();
    write(old.path(), &base());
    let dir = |p: &Path| Source::Dir(p.to_owned());
    assert_eq!(
        diff::run(&repo, &dir(old.path()), &dir(old.path()), None),
        0
    );
    let new = tempfile::tempdir().unwrap();
    let mut additive = base();
    prop(&mut additive, "guidance")["maximum"] = json!(30);
    write(new.path(), &additive);
    assert_eq!(
        diff::run(&repo, &dir(old.path()), &dir(new.path()), Some("1.0.0")),
        0
    );
    let mut breaking = base();
    breaking.remove(OTHER);
    let broken = tempfile::tempdir().unwrap();
    write(broken.path(), &breaking);
    assert_eq!(
        diff::run(&repo, &dir(old.path()), &dir(broken.path()), None),
        1
    );
    let missing = old.path().join("missing");
    assert_eq!(diff::run(&repo, &dir(old.path()), &dir(&missing), None), 2);
}

#[test]
fn a_catalog_that_does_not_load_is_an_error_naming_the_side() {
    let old = tempfile::tempdir().unwrap();
    write(old.path(), &base());
    let new = tempfile::tempdir().unwrap();
    let mut bad = base();
    prop(&mut bad, "seed")["minimum"] = json!(500);
    write(new.path(), &bad);
    let err = diff::diff_dirs(old.path(), new.path())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("the new catalog"), "{err}");
    assert!(err.contains("/properties/seed/minimum"), "{err}");
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=xtask",
            "-c",
            "user.email=xtask@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn git_revisions_are_compared_without_touching_the_tree() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    let schemas = repo.path().join("schemas");
    write(&schemas, &base());
    git(repo.path(), &["add", "schemas"]);
    git(repo.path(), &["commit", "-q", "-m", "v1"]);
    let mut next = base();
    prop(&mut next, "size")["enum"] = json!(["1:1"]);
    write(&schemas, &next);
    git(repo.path(), &["commit", "-q", "-am", "v2"]);
    let rev = |r: &str| Source::parse(&format!("{r}:schemas"));
    assert_eq!(
        rev("HEAD~1"),
        Source::Git {
            rev: "HEAD~1".into(),
            path: "schemas".into()
        }
    );
    let changes = diff::diff_sources(repo.path(), &rev("HEAD~1"), &rev("HEAD")).unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].impact, Impact::Breaking);
    // The working tree against its own HEAD: nothing.
    let changes =
        diff::diff_sources(repo.path(), &rev("HEAD"), &Source::Dir(schemas.clone())).unwrap();
    assert!(changes.is_empty());
    // A revision that does not load names its files as in the repository.
    let mut bad = next.clone();
    prop(&mut bad, "seed")["minimum"] = json!(500);
    write(&schemas, &bad);
    git(repo.path(), &["commit", "-q", "-am", "v3"]);
    let err = diff::diff_sources(repo.path(), &rev("HEAD~1"), &rev("HEAD"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("the new catalog (HEAD:schemas) does not load:\nerror: HEAD:schemas/acme/base/input.json: at /properties/seed/minimum:"),
        "{err}"
    );
    let err = diff::diff_sources(repo.path(), &rev("HEAD~1"), &Source::parse("HEAD:nowhere"))
        .unwrap_err();
    assert!(err.to_string().contains("HEAD:nowhere: no files"), "{err}");
}
