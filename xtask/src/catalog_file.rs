//! Catalog files as RunComfy publishes them, read into models to store.
//!
//! Three shapes, told apart by their content:
//! - the Model API's `GET /v1/models?include_schema=true` reply:
//!   `{"models": [{"model_id", "display_name", "input_schema", "output_schema"?, ...}], "total"}`;
//! - one model, as `GET /v1/models/{id}` serves it: `{"model_id", "input_schema", ...}`;
//! - the list RunComfy's ComfyUI partner nodes ship (`models.json`):
//!   `[{"model_id", "display_name", "output_type", "pricing_mode", "schema", ...}]`.
//!
//! What is not JSON Schema (display name, output kind, categories, prices) is kept as the
//! model's upstream facts, apart from the maintainer's overlay, so a re-import refreshes them.

use std::path::{Path, PathBuf};

use runcomfy_codegen::catalog::Upstream;
use runcomfy_codegen::error::FileError;
use runcomfy_json::without_bom;
use runcomfy_vocab::media::MediaKind;
use serde_json::{Map, Value};

use crate::normalize;

/// One model read from a catalog file, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The model id.
    pub id: String,
    /// `input.json` (normalized).
    pub input: Value,
    /// `output.json` (normalized), when the file has one.
    pub output: Option<Value>,
    /// What RunComfy says of the model besides its schemas.
    pub upstream: Upstream,
}

/// A catalog file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogFileError {
    /// The file cannot be read, or is not JSON.
    #[error(transparent)]
    File(#[from] FileError),
    /// The JSON is not one of the shapes, or an entry lacks what a model needs.
    #[error("{}: {}{problem}", path.display(), at(pointer))]
    Shape {
        /// The file.
        path: PathBuf,
        /// JSON pointer to the entry.
        pointer: String,
        /// What is wrong.
        problem: String,
    },
}

/// Whether a file looks like a catalog file (JSON) rather than a doc page: it opens an object
/// with a key (or `{}`), or an array of objects (or `[]`). A page exported as text may open
/// with a bracket too (`[Skip to main content]`), but not with one of those.
pub fn is_catalog_file(text: &str) -> bool {
    let text = without_bom(text).trim_start();
    let mut chars = text.chars();
    let opened = chars.next();
    let next = chars.as_str().trim_start().chars().next();
    matches!(
        (opened, next),
        (Some('{'), Some('"' | '}')) | (Some('['), Some('{' | ']'))
    )
}

/// Reads every model of a catalog file.
pub fn read(path: &Path) -> Result<Vec<Model>, CatalogFileError> {
    let text = std::fs::read_to_string(path).map_err(FileError::io(path))?;
    parse(path, &text)
}

/// Reads every model of a catalog file's text; `path` names it in errors.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Model>, CatalogFileError> {
    let value: Value = runcomfy_json::parse(text)
        .map_err(|err| FileError::json(path, &err, runcomfy_codegen::error::json_message(&err)))?;
    let shape = |pointer: &str, problem: &str| CatalogFileError::Shape {
        path: path.to_owned(),
        pointer: pointer.to_owned(),
        problem: problem.to_owned(),
    };
    let entries: Entries = match &value {
        Value::Object(map) if map.contains_key("models") => match map.get("models") {
            Some(Value::Array(models)) => entries(models, "/models", &shape)?,
            _ => return Err(shape("/models", "`models` must be an array of models")),
        },
        Value::Object(map) if map.contains_key("model_id") => vec![(String::new(), map)],
        Value::Array(models) => entries(models, "", &shape)?,
        _ => {
            return Err(shape(
                "",
                "not a catalog: expected the API's `{\"models\": [...]}`, one model `{\"model_id\", \"input_schema\", ...}`, or a list of models",
            ));
        }
    };
    let mut models = Vec::new();
    for (pointer, entry) in entries {
        let model = entry_model(entry).map_err(|problem| shape(&pointer, &problem))?;
        models.push((pointer, model));
    }
    // Stable: of two entries of one model, the first in the file stays first.
    models.sort_by(|a, b| a.1.id.cmp(&b.1.id));
    for pair in models.windows(2) {
        if pair[0].1.id == pair[1].1.id {
            return Err(shape(
                &pair[1].0,
                &format!(
                    "model `{}` is listed twice (also at {})",
                    pair[1].1.id, pair[0].0
                ),
            ));
        }
    }
    Ok(models.into_iter().map(|(_, model)| model).collect())
}

/// `at POINTER: `, or nothing for the whole file (the empty pointer).
fn at(pointer: &str) -> String {
    if pointer.is_empty() {
        String::new()
    } else {
        format!("at {pointer}: ")
    }
}

/// Each model entry of a file, with the JSON pointer that names it in errors.
type Entries<'a> = Vec<(String, &'a Map<String, Value>)>;

fn entries<'a, E>(
    models: &'a [Value],
    base: &str,
    shape: &impl Fn(&str, &str) -> E,
) -> Result<Entries<'a>, E> {
    models
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let pointer = format!("{base}/{i}");
            match entry.as_object() {
                Some(map) => Ok((pointer, map)),
                None => Err(shape(&pointer, "a model must be an object")),
            }
        })
        .collect()
}

/// One entry of any shape: the API's (`input_schema`, `output_schema`, `categories`, prices)
/// or the partner nodes' (`schema`, `output_type`, `pricing_mode`).
pub fn entry_model(entry: &Map<String, Value>) -> Result<Model, String> {
    let id = match entry.get("model_id") {
        None | Some(Value::Null) => return Err("no `model_id`".to_owned()),
        Some(Value::String(id)) => id.trim_matches('/').to_owned(),
        Some(other) => return Err(format!("`model_id` is {other}, not a string")),
    };
    let schema = |key: &str| -> Result<Option<Value>, String> {
        match entry.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Value::Object(map.clone()))),
            // The API has served schemas as JSON text too.
            Some(Value::String(text)) => runcomfy_json::parse(text)
                .ok()
                .filter(Value::is_object)
                .map(Some)
                .ok_or_else(|| format!("`{id}`: `{key}` is not a JSON object")),
            Some(_) => Err(format!("`{id}`: `{key}` is not a JSON object")),
        }
    };
    let input = match (schema("input_schema")?, schema("schema")?) {
        (Some(input), _) | (None, Some(input)) => input,
        (None, None) => {
            return Err(format!(
                "`{id}`: no input schema (`input_schema`, or `schema`; pull with include_schema=true)"
            ));
        }
    };
    let text = |key: &str| {
        entry
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    // A fact given but unreadable is refused, not dropped: `upstream.json` is rewritten from
    // what is read, so a dropped price would erase the one the last import kept.
    let unreadable = |key: &str, value: &Value, wanted: &str| {
        format!("`{id}`: `{key}` is {value}, not {wanted}")
    };
    let number = |key: &str| -> Result<Option<f64>, String> {
        match entry.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .map(Some)
                .ok_or_else(|| unreadable(key, v, "a number (US dollars)")),
        }
    };
    let mut output_kind = None;
    // `kind` is the API's word for more than the output's kind: only read when it is one.
    for key in ["output_type", "output_kind", "kind"] {
        let Some(value) = entry.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        match value.as_str().and_then(MediaKind::parse) {
            Some(kind) => {
                output_kind.get_or_insert(kind.name().to_owned());
            }
            None if key == "kind" => {}
            None => return Err(unreadable(key, value, "image, video or audio")),
        }
    }
    let categories = match entry.get("categories") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| unreadable("categories", item, "a category name"))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(unreadable("categories", other, "a list of names")),
    };
    let upstream = Upstream {
        display_name: text("display_name").map(|name| normalize::display_name(&name)),
        output_kind,
        categories,
        base_price_usd: number("base_price_usd")?,
        price_unit: text("price_unit"),
        pricing: text("pricing_mode").or_else(|| text("pricing")),
        pricing_note: text("pricing_note"),
    };
    let output = schema("output_schema")?.map(normalize::output);
    Ok(Model {
        id,
        input: normalize::input(input),
        output,
        upstream,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_that_opens_with_a_bracket_is_a_page() {
        for json in [
            "{\"models\": []}",
            "\u{feff} [ {\"model_id\": \"a/b\"}]",
            "{}",
            "[]",
            "{\n  \"model_id\"",
        ] {
            assert!(is_catalog_file(json), "{json}");
        }
        for page in [
            "[Skip to main content](#main)\n{\"properties\": {}}",
            "{{template}}",
            "Title\n{}",
            "",
        ] {
            assert!(!is_catalog_file(page), "{page}");
        }
    }
    use serde_json::json;

    fn one(value: Value) -> Result<Vec<Model>, CatalogFileError> {
        parse(Path::new("catalog.json"), &value.to_string())
    }

    #[test]
    fn facts_given_but_unreadable_are_refused_by_name() {
        let schema = json!({"type": "object", "properties": {}});
        for (key, value, said) in [
            (
                "base_price_usd",
                json!("0,05"),
                "`base_price_usd` is \"0,05\"",
            ),
            ("output_type", json!("TEXT"), "`output_type` is \"TEXT\""),
            (
                "categories",
                json!([{"name": "x"}]),
                "`categories` is {\"name\":\"x\"}",
            ),
            ("categories", json!("x"), "`categories` is \"x\""),
        ] {
            let mut entry = json!({"model_id": "a/b", "input_schema": schema});
            entry[key] = value;
            let err = one(json!([entry])).unwrap_err().to_string();
            assert!(err.contains(said), "{err}");
        }
        // The API's `kind` says more than the output's kind: another word is no error.
        let entry = json!({"model_id": "a/b", "kind": "workflow", "input_schema": schema});
        assert!(one(json!([entry])).is_ok());
    }

    #[test]
    fn reads_the_three_shapes() {
        let schema = json!({"type": "object", "properties": {"prompt": {"type": "string"}}});
        let api = one(json!({"models": [{"model_id": "a/b", "display_name": "B", "categories": ["text-to-image"], "base_price_usd": 0.03, "price_unit": "output", "input_schema": schema}], "total": 1})).unwrap();
        assert_eq!(api[0].id, "a/b");
        assert_eq!(api[0].upstream.categories, ["text-to-image"]);
        assert_eq!(api[0].upstream.base_price_usd, Some(0.03));
        let single = one(json!({"model_id": "a/c", "input_schema": schema.to_string()})).unwrap();
        assert_eq!(single[0].input, schema);
        let nodes = one(json!([{"model_id": "a/d", "display_name": "RunComfy D", "output_type": "VIDEO", "pricing_mode": "base", "schema": schema}])).unwrap();
        assert_eq!(nodes[0].upstream.output_kind.as_deref(), Some("video"));
        assert_eq!(nodes[0].upstream.display_name.as_deref(), Some("D"));
        assert_eq!(nodes[0].upstream.pricing.as_deref(), Some("base"));
    }

    #[test]
    fn broken_files_name_the_place() {
        let err = parse(Path::new("c.json"), "{\n  \"models\": [,]\n}").unwrap_err();
        assert!(err.to_string().starts_with("c.json:2:"), "{err}");
        let err = one(json!({"models": [{"display_name": "x"}]})).unwrap_err();
        assert!(
            err.to_string().contains("at /models/0: no `model_id`"),
            "{err}"
        );
        let err = one(json!([{"model_id": "a/b"}])).unwrap_err();
        assert!(err.to_string().contains("no input schema"), "{err}");
        let err = one(json!(3)).unwrap_err();
        assert!(err.to_string().contains("not a catalog"), "{err}");
        let err = one(json!([{"model_id": 123}])).unwrap_err();
        assert!(
            err.to_string()
                .contains("at /0: `model_id` is 123, not a string"),
            "{err}"
        );
        let entry = json!({"model_id": "a/b", "input_schema": {"type": "object"}});
        let err = one(json!({"models": [entry, {"model_id": "a/c", "input_schema": {}}, entry]}))
            .unwrap_err();
        assert!(
            err.to_string()
                .ends_with("at /models/2: model `a/b` is listed twice (also at /models/0)"),
            "{err}"
        );
    }
}
