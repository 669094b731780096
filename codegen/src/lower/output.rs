//! Output types: read leniently (text, numbers, lists of text, or JSON), since outputs are only
//! read, never checked, and a server may add fields any day.

use std::collections::BTreeSet;

use runcomfy_vocab::json_type::{JsonType, Types};
use runcomfy_vocab::media::MediaKind;
use serde_json::Value;

use super::Ctx;
use crate::catalog::SourceModel;
use crate::error::Error;
use crate::ir::{OutputField, OutputKind, OutputType};
use crate::naming;

/// The output type of the model of `ctx` (named later, once every model has been read).
pub(super) fn lower(ctx: &mut Ctx<'_>) -> Option<OutputType> {
    let src = ctx.src;
    let Some(map) = src.output.as_object() else {
        ctx.errors.push(Error::schema(
            &src.output_path,
            src.output_pointer,
            "expected an object schema",
        ));
        return None;
    };
    // The output is read into a struct: an output that is no object cannot fit it (QA repro48
    // F5: an array output generated one no reply could fill).
    let object = match map.get("type") {
        None => true,
        Some(Value::String(name)) => name == "object",
        Some(Value::Array(names)) => names.iter().any(|n| n == "object"),
        Some(_) => false,
    };
    if !object {
        ctx.errors.push(
            Error::schema(
                &src.output_path,
                format!("{}/type", src.output_pointer),
                "an output is a JSON object (`\"type\": \"object\"`): its files are its properties",
            )
            .hint("fix it with the overlay's `output_patch`"),
        );
        return None;
    }
    let properties = map
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let required: BTreeSet<&str> = map
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut idents = BTreeSet::new();
    let mut fields = Vec::new();
    for (index, (wire, prop)) in properties.iter().enumerate() {
        let ident = naming::unique(
            naming::snake_ident(wire, &format!("field_{}", index + 1)),
            &mut idents,
            "_",
        );
        let docs = ["description", "title"]
            .iter()
            .find_map(|k| {
                prop.get(*k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
            })
            .map(str::to_owned);
        fields.push(OutputField {
            wire: wire.clone(),
            ident,
            docs,
            ty: kind(prop),
            required: required.contains(wire.as_str()),
        });
    }
    let extra_ident = naming::unique("extra".to_owned(), &mut idents, "_fields");
    let segments: Vec<&str> = src.id.split('/').collect();
    let base = src
        .overlay
        .type_name
        .clone()
        .unwrap_or_else(|| naming::model_type_ident(&segments));
    // The output RunComfy's docs show for every model (of its kind) is no one model's, whether
    // a file gives it or not: a pulled catalog has it in every `output.json`.
    let (name, docs) = match documented_name(src) {
        None => (format!("{base}Output"), "The output of a succeeded job."),
        Some(name @ AUDIO_OUTPUT) => (
            name.to_owned(),
            "The output of a succeeded job of a model of audio: the one RunComfy's docs show \
             for every model, with fields for audio files named as those docs name images and \
             videos.",
        ),
        Some(name) => (
            name.to_owned(),
            "The output of a succeeded job: the one RunComfy's docs show for every model.",
        ),
    };
    Some(OutputType {
        name,
        docs: vec![docs.to_owned()],
        fields,
        extra_ident,
        users: Vec::new(),
    })
}

/// The type of the output RunComfy's docs show for every model.
const MEDIA_OUTPUT: &str = "MediaOutput";
/// The same with fields for audio files, for a model of audio.
const AUDIO_OUTPUT: &str = "AudioOutput";

/// The names of the documented outputs: no other output may take them.
pub(super) const DOCUMENTED_NAMES: [&str; 2] = [MEDIA_OUTPUT, AUDIO_OUTPUT];

/// The name of `src`'s output when it is the documented one of its kind.
pub(super) fn documented_name(src: &SourceModel) -> Option<&'static str> {
    src.has_documented_output()
        .then(|| match src.output_kind() {
            Some(MediaKind::Audio) => AUDIO_OUTPUT,
            _ => MEDIA_OUTPUT,
        })
}

/// How an output property is read: by its one non-null type.
fn kind(schema: &Value) -> OutputKind {
    let types = match schema.get("type") {
        Some(Value::String(s)) => JsonType::parse(s).map(Types::of),
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(|n| n.as_str().and_then(JsonType::parse))
            .map(Types::of)
            .reduce(Types::with),
        _ => None,
    }
    .map(Types::without_null);
    match types {
        Some(t) if t == Types::STRING => OutputKind::String,
        Some(t) if t == Types::INTEGER => OutputKind::Integer,
        Some(t) if t == Types::NUMBER => OutputKind::Number,
        Some(t) if t == Types::BOOLEAN => OutputKind::Boolean,
        Some(t) if t == Types::ARRAY => match schema.get("items").map(kind) {
            Some(OutputKind::String) => OutputKind::StringList,
            _ => OutputKind::Json,
        },
        _ => OutputKind::Json,
    }
}
