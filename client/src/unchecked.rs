//! Models run without their schema: an id the compiled-in catalog does not have yet (RunComfy
//! adds models every week), or a catalog model whose schema here is stale. Its input is a JSON
//! object sent as written, through the same submit, wait and download as any other model.
//!
//! [`unchecked`] gives such a model's [`ModelInfo`]: for an id of the catalog, that model's
//! price, price units and outputs with no input schema; for another, nothing but its id. Either
//! is made once per id and kept for the life of the process (a model id is a few bytes, and a
//! `&'static ModelInfo` is what every path takes).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalog::find;
pub use crate::error::BadModelId;
use crate::media::{Files, Media};
use crate::model::{DynInput, DynOutput, Input, Model, ModelInfo, Upstream};
use crate::report::ValidationError;
use crate::schema::Schema;
use crate::validate::instance::{Instance, View};
use runcomfy_vocab::json_type::Types;
use runcomfy_vocab::pointer::Path;

/// The input schema of an unchecked model: any object.
static ANY_OBJECT: Schema = Schema {
    types: Types::OBJECT,
    ..Schema::ANY
};

/// [`ANY_OBJECT`] as the catalog's JSON text has it.
const ANY_OBJECT_TEXT: &str = r#"{"type":"object"}"#;

/// The longest model id taken: the catalog's longest is under 60 characters.
const MAX_ID_CHARS: usize = 200;

/// The input of an unchecked model: the JSON object, sent as written. Made by decoding
/// (through [`ModelInfo::decode`] of a model [`unchecked`] gave), which sends it to that model;
/// the [`Unchecked`] type itself names none, and a submit to it is refused
/// ([`Error::InvalidModelId`](crate::Error::InvalidModelId)).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UncheckedInput(Map<String, Value>);

impl Instance for UncheckedInput {
    fn view(&self) -> View<'_> {
        View::Object(&self.0)
    }
}

impl Input for UncheckedInput {
    type Model = Unchecked;
}

/// The type of every unchecked model: the [`ModelInfo`] [`unchecked`] gave is the real one.
#[derive(Debug, Clone, Copy)]
pub struct Unchecked;

/// What [`Unchecked::info`] names: no model (its id is empty).
static UNCHECKED: ModelInfo = ModelInfo {
    id: "",
    display_name: "a model run unchecked",
    docs: None,
    input: &ANY_OBJECT,
    rules: &[],
    outputs: &[],
    upstream: Upstream::UNKNOWN,
    price_units: &[],
    ascii_names: &[],
    input_schema: ANY_OBJECT_TEXT,
    output_schema: "{}",
    decode,
};

impl Model for Unchecked {
    /// Empty: the [`ModelInfo`] [`unchecked`] gave names the model.
    const ID: &'static str = "";
    type Input = UncheckedInput;
    type Output = DynOutput;
    fn info() -> &'static ModelInfo {
        &UNCHECKED
    }
}

/// Every unchecked model made so far, by id: each is made once.
static MADE: Mutex<BTreeMap<String, &'static ModelInfo>> = Mutex::new(BTreeMap::new());

/// The model `id`, run without its input schema: its input is any JSON object, sent as
/// written (no field checked, no local file read: a string is sent as the string it is).
///
/// For an id of the catalog, the model keeps the catalog's display name, price, price units
/// and outputs; for another, its price is unknown until the API says it
/// ([`Client::model_price`](crate::Client::model_price)), and its files are every URL its
/// output names.
pub fn unchecked(id: &str) -> Result<&'static ModelInfo, BadModelId> {
    check_id(id)?;
    let mut made = MADE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(model) = made.get(id) {
        return Ok(model);
    }
    let model: &'static ModelInfo = Box::leak(Box::new(make(id)));
    made.insert(id.to_owned(), model);
    Ok(model)
}

/// The catalog's model of `model`'s id, whose schema (its defaults, its secret fields) a catalog
/// id run unchecked still stands for; `model` itself when the catalog has none.
pub(crate) fn listed(model: &ModelInfo) -> &ModelInfo {
    find(model.id).unwrap_or(model)
}

/// Whether `model` is one [`unchecked`] made.
pub fn is_unchecked(model: &ModelInfo) -> bool {
    let made = MADE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    made.get(model.id).is_some_and(|m| std::ptr::eq(*m, model)) || std::ptr::eq(model, &UNCHECKED)
}

fn make(id: &str) -> ModelInfo {
    let id: &'static str = Box::leak(id.to_owned().into_boxed_str());
    let listed = find(id);
    ModelInfo {
        id,
        display_name: listed.map_or(id, |m| m.display_name),
        docs: None,
        input: &ANY_OBJECT,
        rules: &[],
        outputs: listed.map_or(&[], |m| m.outputs),
        upstream: listed.map_or(Upstream::UNKNOWN, |m| m.upstream.clone()),
        price_units: listed.map_or(&[], |m| m.price_units),
        ascii_names: &[],
        input_schema: ANY_OBJECT_TEXT,
        output_schema: listed.map_or("{}", |m| m.output_schema),
        decode,
    }
}

/// An unchecked model's decode: any object, as it is. A string that names a local file is a
/// warning: it is sent as that text, which names nothing on the server's side.
fn decode(
    model: &'static ModelInfo,
    json: &Value,
    files: Files,
) -> Result<DynInput, ValidationError> {
    let mut report = crate::validate::input(model, json, files);
    let Value::Object(object) = json else {
        return Err(ValidationError { report });
    };
    warn(&mut report, &Path::root(), json, files);
    let warnings = report.into_result()?;
    Ok(DynInput::new(
        model,
        UncheckedInput(object.clone()),
        warnings,
    ))
}

/// Warns, at any depth of `value`, of what is not sent as the user meant: a string that names a
/// file here (with local files read elsewhere), an integer too large to be read exactly.
fn warn(report: &mut crate::report::ValidationReport, path: &Path, value: &Value, files: Files) {
    match value {
        Value::String(text) if files == Files::Local => warn_local_file(report, path, text),
        // Read as a double past 64 bits: 18446744073709551616 goes as 1.8446744073709552e19.
        Value::Number(n)
            if n.is_f64()
                && n.as_f64()
                    .is_some_and(|f| f.fract() == 0.0 && f.abs() >= 9.007_199_254_740_992e15) =>
        {
            report.warning(
                path,
                "unchecked",
                Some(n.to_string()),
                "is an integer too large to be sent exactly (past 64 bits): it is sent as this \
                 floating-point number",
            );
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                warn(report, &path.index(i), item, files);
            }
        }
        Value::Object(object) => {
            for (key, value) in object {
                warn(report, &path.key(key), value, files);
            }
        }
        _ => {}
    }
}

/// Warns when `text` names a file here (a path, or a `file:` URL).
fn warn_local_file(report: &mut crate::report::ValidationReport, path: &Path, text: &str) {
    let Media::Path(file) = Media::parse(text) else {
        return;
    };
    // Long text is a prompt, not a path: not looked up.
    if text.len() <= 4096 && file.is_file() {
        report.warning(
            path,
            "unchecked",
            Some(format!("file {}", file.display())),
            "names a local file, which an unchecked input does not read: the server gets this \
             text, not the file (give an https URL, or a data: URI)",
        );
    }
}

/// Refuses an id that is not made of path segments of letters, digits, `.`, `-` and `_`: what
/// [`unchecked`] takes.
pub fn check_id(id: &str) -> Result<(), BadModelId> {
    let bad = |reason| BadModelId {
        id: crate::printable::printable_id(id, crate::printable::SHOWN_CHARS).into_owned(),
        reason,
    };
    if id.is_empty() {
        return Err(bad("it is empty"));
    }
    if id.chars().count() > MAX_ID_CHARS {
        return Err(bad("it is longer than 200 characters"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/');
    if !id.chars().all(allowed) {
        return Err(bad(
            "a model id is made of letters, digits, `.`, `-`, `_` and `/` (as `vendor/model/task`)",
        ));
    }
    let segments: Vec<&str> = id.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(bad("it has an empty part (a `/` at an end, or `//`)"));
    }
    if segments.iter().any(|s| matches!(*s, "." | "..")) {
        return Err(bad("`.` and `..` are no parts of a model id"));
    }
    if segments.len() < 2 {
        return Err(bad(
            "a model id has a vendor and a model at least (`vendor/model/task`)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::price::Price;

    #[test]
    fn an_unknown_id_is_any_object_at_an_unknown_price() -> Result<(), Box<dyn std::error::Error>> {
        let model = unchecked("acme/new-model/text-to-image")?;
        assert_eq!(model.id, "acme/new-model/text-to-image");
        assert!(!model.upstream.price.is_known());
        assert!(is_unchecked(model));
        assert!(std::ptr::eq(
            model,
            unchecked("acme/new-model/text-to-image")?
        ));
        let input = serde_json::json!({"prompt": "a cat", "anything": [1, {"x": null}]});
        let decoded = model.decode(&input)?;
        assert!(std::ptr::eq(decoded.model(), model));
        let body: Value = serde_json::from_slice(&decoded.encode(1 << 20)?)?;
        assert_eq!(body, input);
        let Err(err) = model.decode(&serde_json::json!(["a cat"])) else {
            return Err("an array was taken".into());
        };
        assert_eq!(err.report.problems()[0].rule, "type");
        Ok(())
    }

    #[test]
    fn a_catalog_id_keeps_its_price_and_outputs() -> Result<(), Box<dyn std::error::Error>> {
        let id = "bytedance/seedream-4-0/edit";
        let listed = find(id).ok_or("no edit model")?;
        let model = unchecked(id)?;
        assert!(!std::ptr::eq(model, listed));
        assert!(!is_unchecked(listed));
        assert_eq!(model.display_name, listed.display_name);
        assert_eq!(model.upstream.price, listed.upstream.price);
        assert_eq!(model.outputs.len(), listed.outputs.len());
        assert!(model.fields().next().is_none());
        // What the catalog's schema refuses is sent as written.
        let input = serde_json::json!({"prompt": "p", "images": "not-a-list", "new_field": 1});
        assert!(listed.decode(&input).is_err());
        assert!(model.decode(&input).is_ok());
        Ok(())
    }

    #[test]
    fn an_estimate_needs_the_catalog_to_know_the_units() -> Result<(), Box<dyn std::error::Error>> {
        use crate::estimate::{Basis, NoEstimate, estimate};
        let per_output = Price {
            usd: "0.03".parse().ok(),
            unit: Some(crate::price::PriceUnit::Output),
            ..Price::UNKNOWN
        };
        // Unknown, a count of 4 is not taken for one output.
        let input = serde_json::json!({"prompt": "p", "num_images": 4});
        let unknown = estimate(unchecked("acme/new-model/t2i")?, &per_output, &input);
        assert_eq!(unknown.basis, Basis::None(NoEstimate::UncheckedUnits));
        // A catalog id keeps its units and their defaults.
        let id = "bytedance/seedream-4-0/sequential";
        let listed = find(id).ok_or("no sequential model")?;
        for input in [
            serde_json::json!({"text": "p"}),
            serde_json::json!({"text": "p", "sequential_image_generation_options": 5}),
        ] {
            let ours = estimate(unchecked(id)?, &per_output, &input);
            assert_eq!(ours, estimate(listed, &per_output, &input));
            assert!(ours.usd().is_some());
        }
        // A field the catalog does not name (a newer count, say) may change the price.
        let newer = serde_json::json!({"text": "p", "max_images": 15});
        assert_eq!(
            estimate(unchecked(id)?, &per_output, &newer).basis,
            Basis::None(NoEstimate::UncheckedField("max_images".into()))
        );
        Ok(())
    }

    #[test]
    fn a_local_file_named_is_a_warning_and_sent_as_its_name()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("cat.png");
        std::fs::write(&file, b"not read")?;
        let name = file.to_string_lossy().into_owned();
        let model = unchecked("acme/new-model/edit")?;
        let input = serde_json::json!({
            "image": name,
            "images": ["https://cdn.example/a.png", name],
            "frames": [{"image": name, "t": 0}],
            "pairs": [[name]],
            "prompt": "cat.png",
        });
        let decoded = model.decode(&input)?;
        let mut paths: Vec<&str> = decoded.warnings().iter().map(|w| w.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            ["frames[0].image", "image", "images[1]", "pairs[0][0]"]
        );
        let body: Value = serde_json::from_slice(&decoded.encode(1 << 20)?)?;
        assert_eq!(body, input);
        Ok(())
    }

    #[test]
    fn an_integer_past_64_bits_is_a_warning() -> Result<(), Box<dyn std::error::Error>> {
        let model = unchecked("acme/new-model/t2i")?;
        let input: Value = serde_json::from_str(
            r#"{"seed": 18446744073709551616, "ok": 18446744073709551615, "n": [-9223372036854775809]}"#,
        )?;
        let decoded = model.decode(&input)?;
        let mut paths: Vec<&str> = decoded.warnings().iter().map(|w| w.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(paths, ["n[0]", "seed"]);
        Ok(())
    }

    #[test]
    fn a_record_keeping_a_file_as_its_hash_is_no_unchecked_input()
    -> Result<(), Box<dyn std::error::Error>> {
        use crate::provenance::{Record, body_summary, input_from_record};
        let model = unchecked("acme/new-model/edit")?;
        let pixel = "data:text/plain;base64,aGVsbG8=";
        // Anywhere in the body: summarized in the record, refused from it.
        let input = serde_json::json!({"prompt": "p", "ref": {"frames": [{"image": pixel}]}});
        let Value::Object(given) = input.clone() else {
            return Err("not an object".into());
        };
        let summary = body_summary(model, &given, &input);
        assert_eq!(summary["ref"]["frames"][0]["image"]["size"], 5);
        let record = Record::new(model.id, "mock", summary);
        let err = input_from_record(model, &record)
            .err()
            .ok_or("a summary was taken")?;
        assert!(err.to_string().contains("ref.frames[0].image"), "{err}");
        // Without a file, a record is the input again.
        let plain = Record::new(
            model.id,
            "mock",
            serde_json::json!({"prompt": "p", "n": [1]}),
        );
        assert_eq!(
            Value::Object(input_from_record(model, &plain)?),
            serde_json::json!({"prompt": "p", "n": [1]})
        );
        Ok(())
    }

    #[test]
    fn ids_that_are_no_path_of_a_model_are_refused() {
        for id in [
            "",
            "single",
            "a//b",
            "/a/b",
            "a/b/",
            "a/../b",
            "a/./b",
            "../v1/requests",
            "a/b?x=1",
            "a/b#c",
            "a/b%2Fc",
            "a b/c",
            "a/b\n",
            "vendor/modèle",
        ] {
            assert!(unchecked(id).is_err(), "{id:?} was taken");
        }
        assert!(unchecked(&format!("a/{}", "b".repeat(MAX_ID_CHARS))).is_err());
        for id in [
            "a/b",
            "blackforestlabs/flux-2-klein/4b/text-to-image",
            "x/y_z/1.5",
        ] {
            assert!(unchecked(id).is_ok(), "{id:?} was refused");
        }
    }
}
