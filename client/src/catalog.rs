//! The runtime catalog: every generated model, as data.
//!
//! The generator emits one [`ModelInfo`] per model. Its input [`Schema`] is the same data the
//! typed `validate()` checks, so the CLI (flags, `describe`), the batch engine and the
//! simulator work from it with no per-model code, and report the same problems in the same
//! words.

use crate::input::DynInput;
use crate::media::Files;
use crate::schema::{Choice, Items, Json, JsonType, MediaKind, MediaSpec, Schema, Types};
use crate::validate::ValidationError;

/// Every model this crate was generated with, sorted by id.
pub fn catalog() -> &'static [&'static ModelInfo] {
    crate::GENERATED_MODELS
}

/// Looks a model up by its id (the API path, e.g. `bytedance/seedream-4-0/edit`).
pub fn find(id: &str) -> Option<&'static ModelInfo> {
    catalog().iter().copied().find(|m| m.id == id)
}

/// One model of the catalog.
#[derive(Debug)]
pub struct ModelInfo {
    /// The model id, exactly the API path.
    pub id: &'static str,
    /// A human name for the model.
    pub display_name: &'static str,
    /// Documentation of the model, if the catalog has any.
    pub docs: Option<&'static str>,
    /// The input's schema: an object whose properties are the input fields.
    pub input: &'static Schema,
    /// Rules across fields.
    pub rules: &'static [CrossRule],
    /// The fields of the output object, in schema order.
    pub outputs: &'static [OutputField],
    /// What RunComfy says of the model besides its schema.
    pub upstream: Upstream,
    /// The input JSON Schema as the catalog has it (after the overlay's fixes), as JSON text.
    pub input_schema: &'static str,
    /// The output JSON Schema (the `output` object), as JSON text.
    pub output_schema: &'static str,
    /// Decodes a JSON input into the model's typed input and validates it: the one way from
    /// JSON to a request body ([`crate::input::decode`]).
    pub decode: fn(&serde_json::Value, Files) -> Result<DynInput, ValidationError>,
}

/// What RunComfy publishes about a model besides its schemas (kept apart from the maintainer's
/// overlay, so a re-import refreshes it).
#[derive(Debug, Clone, Copy, Default)]
pub struct Upstream {
    /// The kind of files the model returns, when known.
    pub output_kind: Option<MediaKind>,
    /// RunComfy's categories (`text-to-image`).
    pub categories: &'static [&'static str],
}

impl ModelInfo {
    /// The input fields, in schema order.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = Field> + '_ {
        self.input.properties.iter().map(|p| Field {
            name: p.name,
            schema: p.schema,
            required: self.input.requires(p.name),
        })
    }

    /// Looks a field up by its wire name.
    pub fn field(&self, name: &str) -> Option<Field> {
        self.fields().find(|f| f.name == name)
    }

    /// Checks a JSON input and decodes it, as a request body would be (local files allowed);
    /// see [`crate::input::decode`].
    pub fn decode(&self, input: &serde_json::Value) -> Result<DynInput, ValidationError> {
        (self.decode)(input, Files::Local)
    }

    /// Replaces each choice a JSON input names by a value or alias the user types (`"16:9"`,
    /// `"Fast"`) with its wire value, so hand-written inputs (the CLI's `--input`, batch
    /// lines) take what the flags take. Anything else is left for validation to report.
    pub fn normalize_choices(&self, input: &mut serde_json::Map<String, serde_json::Value>) {
        for (key, value) in input.iter_mut() {
            let Some(field) = self.field(key) else {
                continue;
            };
            let fix = |schema: &Schema, v: &mut serde_json::Value| {
                if let serde_json::Value::String(text) = v
                    && let Some(choice) = find_choice(schema, text)
                {
                    *v = choice.value.to_value();
                }
            };
            match (value, field.schema.item_schema()) {
                (serde_json::Value::Array(items), Some(item)) => {
                    items.iter_mut().for_each(|v| fix(item, v));
                }
                (other, _) => fix(field.schema, other),
            }
        }
    }
}

/// One input field: a property of the input object.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The wire name (the JSON property).
    pub name: &'static str,
    /// Its schema.
    pub schema: &'static Schema,
    /// Whether it must be present.
    pub required: bool,
}

impl Field {
    /// The schema's title, if any.
    pub fn title(&self) -> Option<&'static str> {
        self.schema.title
    }

    /// The schema's description (with the overlay's docs), if any.
    pub fn description(&self) -> Option<&'static str> {
        self.schema.description
    }

    /// The default, if the schema has one.
    pub fn default(&self) -> Option<&'static Json> {
        self.schema.default
    }

    /// Whether JSON `null` is a valid value.
    pub fn nullable(&self) -> bool {
        self.schema.types.names(JsonType::Null)
    }

    /// Whether the field holds a list: an array of one kind of item.
    pub fn is_list(&self) -> bool {
        self.schema.types.without_null() == Types::ARRAY
            && matches!(self.schema.items, Items::Each(_) | Items::Any)
    }

    /// The schema of one value: the item's for a list, else the field's own.
    pub fn value_schema(&self) -> &'static Schema {
        match (self.is_list(), self.schema.items) {
            (true, Items::Each(item)) => item,
            _ => self.schema,
        }
    }

    /// What one value of the field is (one item, for a list).
    pub fn kind(&self) -> FieldKind {
        kind(self.value_schema())
    }

    /// The allowed values, for a field (or list) of choices.
    pub fn choices(&self) -> &'static [Choice] {
        self.value_schema().choices.unwrap_or(&[])
    }

    /// The choice a user means by `raw`: its value or alias, exactly, else ignoring ASCII case.
    pub fn find_choice(&self, raw: &str) -> Option<&'static Choice> {
        find_choice(self.value_schema(), raw)
    }

    /// The media spec, for a media field or a list of media.
    pub fn media(&self) -> Option<&'static MediaSpec> {
        self.value_schema().media
    }
}

fn find_choice(schema: &Schema, raw: &str) -> Option<&'static Choice> {
    let choices = schema.choices?;
    let raw = raw.trim();
    choices
        .iter()
        .find(|c| c.text() == raw || c.alias == Some(raw))
        .or_else(|| {
            choices.iter().find(|c| {
                c.text().eq_ignore_ascii_case(raw)
                    || c.alias.is_some_and(|a| a.eq_ignore_ascii_case(raw))
            })
        })
}

/// What a value of a schema is, as the CLI reads it from a flag and `describe` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Text.
    Text,
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// One of fixed values.
    Choice,
    /// A media file: URL, `data:` URI or local path.
    Media(MediaKind),
    /// Anything else, as JSON.
    Json,
}

/// The kind of a schema's values.
pub fn kind(schema: &Schema) -> FieldKind {
    if let Some(spec) = schema.media {
        return FieldKind::Media(spec.kind);
    }
    if schema.choices.is_some() {
        return FieldKind::Choice;
    }
    let types = schema.types.without_null();
    if types == Types::STRING {
        FieldKind::Text
    } else if types == Types::INTEGER {
        FieldKind::Integer
    } else if types == Types::NUMBER || types == Types::NUMBER.with(Types::INTEGER) {
        FieldKind::Number
    } else if types == Types::BOOLEAN {
        FieldKind::Boolean
    } else {
        FieldKind::Json
    }
}

/// One field of a model's output.
#[derive(Debug)]
pub struct OutputField {
    /// The wire name.
    pub name: &'static str,
    /// The schema's description, if any.
    pub description: Option<&'static str>,
    /// Whether it holds a list.
    pub list: bool,
}

/// A rule that involves several fields, from the model's overlay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CrossRule {
    /// The number of items (arrays) plus the values (integers) of `fields` must not exceed `max`.
    MaxTotal {
        /// Wire names of the fields added up.
        fields: &'static [&'static str],
        /// The largest allowed total.
        max: i64,
        /// The message reported when the total is larger.
        message: &'static str,
    },
    /// A count written in the prompt should match the count field (a warning).
    PromptCount {
        /// Wire name of the prompt field.
        prompt: &'static str,
        /// Wire name of the count field.
        count: &'static str,
        /// The message reported on a mismatch.
        message: &'static str,
    },
}
