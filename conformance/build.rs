//! Turns every group of the JSON Schema test suite into a catalog model, as an outsider would,
//! and generates the ones the generator accepts.
//!
//! Each group's schema becomes the required property `v` of a model's input (`suite/<file>/gN`),
//! its local `$ref`s moved under `/properties/v` with it. Every group is first loaded alone: a
//! refusal is recorded with the generator's message (the test checks it names the keyword).
//! The accepted ones are generated together into `OUT_DIR/suite_models.rs`, and
//! `OUT_DIR/suite.json` lists every group, its instances and what became of it.
//!
//! The suite is `../shared/json-schema-test-suite/draft7` beside the workspace, or the folder
//! `RUNCOMFY_JSON_SCHEMA_SUITE` names (another version, another draft: `draft2020-12`). The
//! models of `regressions/` (defects the suite found, as catalog entries) and of the generator's
//! messy fixture catalog are generated with them.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use runcomfy_vocab::keyword::{Dialect, Holds, Keyword};
use serde_json::{Value, json};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    println!("cargo::rerun-if-env-changed=RUNCOMFY_JSON_SCHEMA_SUITE");
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    let suite = suite_dir(&manifest)?;
    let mut files = Vec::new();
    collect(&suite, &suite, &mut files)?;
    files.sort();

    let groups_root = out.join("groups");
    let accepted_root = out.join("accepted");
    for dir in [&groups_root, &accepted_root] {
        if dir.exists() {
            fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
    }
    let roots = Roots {
        dialect: dialect_uri(&suite),
        groups: groups_root,
        accepted: accepted_root,
    };
    let mut manifest_groups = Vec::new();
    for (name, path) in &files {
        manifest_groups.extend(load_file(&roots, name, path)?);
    }
    let code = generate_accepted(&manifest, &roots.accepted)?;
    write(&out.join("suite_models.rs"), &code)?;
    let manifest = json!({"suite": suite, "groups": manifest_groups});
    write(&out.join("suite.json"), &manifest.to_string())
}

/// The suite's draft folder: `RUNCOMFY_JSON_SCHEMA_SUITE`, else the shared checkout.
fn suite_dir(manifest: &Path) -> Result<PathBuf, String> {
    let suite = match env::var_os("RUNCOMFY_JSON_SCHEMA_SUITE") {
        Some(dir) => PathBuf::from(dir),
        None => manifest.join("../../shared/json-schema-test-suite/draft7"),
    };
    println!("cargo::rerun-if-changed={}", suite.display());
    if !suite.is_dir() {
        return Err(format!(
            "the JSON Schema test suite is not at {}: set RUNCOMFY_JSON_SCHEMA_SUITE to its draft folder",
            suite.display()
        ));
    }
    Ok(suite)
}

/// Where the groups' models are written, and the `$schema` they declare.
struct Roots {
    dialect: &'static str,
    /// Each group's model alone, to be loaded by itself.
    groups: PathBuf,
    /// The models the generator accepted, generated together.
    accepted: PathBuf,
}

/// Makes a model of each group of one suite file and loads it alone; returns the groups'
/// manifest entries.
fn load_file(roots: &Roots, name: &str, path: &Path) -> Result<Vec<Value>, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let groups: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut entries = Vec::new();
    for (index, group) in groups.as_array().into_iter().flatten().enumerate() {
        let id = format!("suite/{}/g{index}", slug(name));
        let schema = group.get("schema").cloned().unwrap_or(Value::Bool(true));
        let input = json!({
            "$schema": roots.dialect,
            "type": "object",
            "required": ["v"],
            "properties": {"v": rebase(&schema, roots.dialect)},
        });
        let alone = roots.groups.join(format!("{}-{index}", slug(name)));
        write_model(&alone, &id, &input)?;
        let status = match runcomfy_codegen::load(&alone) {
            Ok(_) => {
                write_model(&roots.accepted, &id, &input)?;
                json!({"accepted": true})
            }
            Err(errors) => json!({"accepted": false, "error": errors.to_string()}),
        };
        entries.push(json!({
            "file": name,
            "index": index,
            "model": id,
            "description": group.get("description"),
            "schema": schema,
            "tests": group.get("tests"),
            "status": status,
        }));
    }
    Ok(entries)
}

/// Generates the accepted groups' models, with the regression and messy fixture models.
fn generate_accepted(manifest: &Path, accepted_root: &Path) -> Result<String, String> {
    // The regression models: one per defect the suite found, generated with the suite's.
    let regressions = manifest.join("regressions");
    println!("cargo::rerun-if-changed={}", regressions.display());
    copy_dir(&regressions, accepted_root)?;
    // The generator's messy fixture catalog, generated here too so its models are run, not only
    // compiled: `tests/messy.rs` validates real media files with them.
    let messy = manifest.join("../codegen/tests/fixtures/messy");
    println!("cargo::rerun-if-changed={}", messy.display());
    copy_dir(&messy, accepted_root)?;
    if !accepted_root.exists() {
        return Ok(
            "pub mod models {}\nstatic GENERATED_MODELS: &[&crate::catalog::ModelInfo] = &[];\n"
                .to_owned(),
        );
    }
    runcomfy_codegen::Generator::new()
        .pretty(false)
        .generate(accepted_root)
        .map_err(|errors| format!("the accepted suite groups do not generate together:\n{errors}"))
}

/// The `$schema` of the suite's draft, from its folder name.
fn dialect_uri(suite: &Path) -> &'static str {
    let name = suite
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.as_str() {
        "draft4" => "http://json-schema.org/draft-04/schema#",
        "draft6" => "http://json-schema.org/draft-06/schema#",
        "draft2019-09" => "https://json-schema.org/draft/2019-09/schema",
        "draft2020-12" | "draft-next" => "https://json-schema.org/draft/2020-12/schema",
        _ => "http://json-schema.org/draft-07/schema#",
    }
}

/// The suite's files, as `(name relative to the suite, path)`.
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .with_extension("")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((name, path));
        }
    }
    Ok(())
}

/// A model id segment from a file name: `optional/format/date-time` → `optional-format-date-time`.
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// The schema as it reads under `/properties/v`: every local `$ref` (in a place that holds a
/// schema) moves with it, unless an `$id` around it makes it local to that `$id`'s resource,
/// which moves as a whole. Values that are data (`enum`, `const`, `default`) are left as they
/// are. Up to draft 7 an `$id` beside a `$ref` is ignored, so it starts no resource.
fn rebase(schema: &Value, dialect: &str) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let read_as = Dialect::from_uri(dialect).unwrap_or_default();
    // `$id`, or draft 4's `id`.
    let resource = map
        .iter()
        .find(|(key, _)| read_as.keyword(key) == Some(Keyword::Id))
        .and_then(|(_, id)| id.as_str())
        .is_some_and(|id| !id.starts_with('#'));
    let id_ignored = map.contains_key("$ref") && !read_as.ref_siblings_apply();
    if resource && !id_ignored {
        return schema.clone();
    }
    let rebase = |value: &Value| rebase(value, dialect);
    let mut out = serde_json::Map::new();
    for (key, value) in map {
        let moved = match read_as.keyword(key) {
            Some(Keyword::Ref) => match value.as_str() {
                // A JSON pointer fragment (`#`, `#/definitions/a`); an anchor (`#foo`) names no
                // place and stays as it is.
                Some(reference) if reference == "#" || reference.starts_with("#/") => {
                    Value::String(format!("#/properties/v{}", &reference[1..]))
                }
                _ => value.clone(),
            },
            Some(keyword) => match (keyword.holds(), value) {
                (Holds::Schema, _) => rebase(value),
                (Holds::Schemas | Holds::SchemaOrSchemas, Value::Array(items)) => {
                    Value::Array(items.iter().map(rebase).collect())
                }
                (Holds::SchemaOrSchemas, _) => rebase(value),
                (Holds::SchemaMap, Value::Object(entries)) => Value::Object(
                    entries
                        .iter()
                        .map(|(k, v)| (k.clone(), rebase(v)))
                        .collect(),
                ),
                _ => value.clone(),
            },
            None => value.clone(),
        };
        out.insert(key.clone(), moved);
    }
    Value::Object(out)
}

fn write_model(root: &Path, id: &str, input: &Value) -> Result<(), String> {
    let dir = root.join(id);
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    write(&dir.join("input.json"), &input.to_string())?;
    write(
        &dir.join("output.json"),
        r#"{"type": "object", "properties": {"images": {"type": "array", "items": {"type": "string"}}}}"#,
    )?;
    write(
        &dir.join("overlay.json"),
        &json!({"display_name": id, "output_type": "SuiteOutput"}).to_string(),
    )
}

/// Copies the folder `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    let entries = fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("{}: {e}", from.display()))?
            .path();
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            fs::copy(&path, &target).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
