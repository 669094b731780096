//! The runtime catalog: what every generated model looks like, as data.
//!
//! The generator emits one [`ModelInfo`] per model; the CLI builds its per-model flags from it
//! and the simulator validates request bodies through it, so neither needs per-model code.

use crate::validate::{MediaRule, ValidationReport};

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
    /// The Rust path of the generated input type, for messages and docs.
    pub rust_input: &'static str,
    /// The input fields, in schema order.
    pub fields: &'static [FieldInfo],
    /// The fields of the output object, in schema order.
    pub output_fields: &'static [FieldInfo],
    /// Rules that involve several fields.
    pub cross_rules: &'static [CrossRule],
    /// The input JSON Schema as the catalog has it (after the overlay's fixes), as JSON text.
    pub input_schema: &'static str,
    /// The output JSON Schema (the `output` object), as JSON text.
    pub output_schema: &'static str,
    /// Deserializes a JSON body into the typed input and validates it.
    pub validate_json: fn(&serde_json::Value) -> Result<ValidationReport, DecodeError>,
}

/// Deserializes a JSON body into the input type `I` and validates it; the generator points
/// every [`ModelInfo::validate_json`] here.
pub fn validate_json<I: crate::Input>(
    value: &serde_json::Value,
) -> Result<ValidationReport, DecodeError> {
    let input: I = serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        DecodeError {
            // `.` is the body itself (a missing field, not an object).
            path: if path == "." { String::new() } else { path },
            message: err.into_inner().to_string(),
        }
    })?;
    Ok(input.validate())
}

/// A JSON body does not fit a model's input type (a missing field, a value of the wrong type,
/// an unknown field or choice).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct DecodeError {
    /// Path of the offending field (`image_size`, `images[2]`); empty for the body itself.
    pub path: String,
    /// What the decoder said.
    pub message: String,
}

impl ModelInfo {
    /// Looks a field up by its wire name.
    pub fn field(&self, name: &str) -> Option<&'static FieldInfo> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Replaces each choice a JSON input names by a value or alias the user types (`"16:9"`,
    /// `"Fast"`) with its wire value, so hand-written inputs (the CLI's `--input`, batch
    /// lines) take what the flags take. Anything else is left for validation to report.
    pub fn normalize_choices(&self, input: &mut serde_json::Map<String, serde_json::Value>) {
        for (key, value) in input.iter_mut() {
            let Some(field) = self.field(key).filter(|f| !f.choices.is_empty()) else {
                continue;
            };
            let fix = |v: &mut serde_json::Value| {
                if let serde_json::Value::String(text) = v
                    && let Some(choice) = field.find_choice(text)
                    && let Ok(wire) = serde_json::from_str(choice.wire)
                {
                    *v = wire;
                }
            };
            match value {
                serde_json::Value::Array(items) if field.array => items.iter_mut().for_each(fix),
                other => fix(other),
            }
        }
    }
}

/// One input or output field.
#[derive(Debug)]
pub struct FieldInfo {
    /// The wire name (the JSON property).
    pub name: &'static str,
    /// The Rust field name in the generated struct.
    pub rust_name: &'static str,
    /// The schema's title, if any.
    pub title: Option<&'static str>,
    /// The schema's description (plus overlay docs), if any.
    pub description: Option<&'static str>,
    /// What kind of value the field holds.
    pub kind: FieldKind,
    /// Whether the field holds a list of `kind` values.
    pub array: bool,
    /// Whether the field must be present.
    pub required: bool,
    /// Whether JSON `null` is accepted.
    pub nullable: bool,
    /// The default, as JSON text.
    pub default: Option<&'static str>,
    /// The allowed values, for enums.
    pub choices: &'static [Choice],
    /// Lower bound of a number (inclusive).
    pub minimum: Option<f64>,
    /// Upper bound of a number (inclusive).
    pub maximum: Option<f64>,
    /// Bounds on the length of a string, in Unicode scalar values.
    pub min_length: Option<u64>,
    /// See `min_length`.
    pub max_length: Option<u64>,
    /// Bounds on the number of items of an array.
    pub min_items: Option<u64>,
    /// See `min_items`.
    pub max_items: Option<u64>,
    /// Checks on media fields (the schema's `validations` extension plus accepted formats).
    pub media: Option<&'static MediaSpec>,
}

impl FieldInfo {
    /// The default value parsed from its JSON text.
    pub fn default_value(&self) -> Option<serde_json::Value> {
        self.default
            .and_then(|text| serde_json::from_str(text).ok())
    }

    /// The choice a user means by `raw`: its value or alias, exactly, else ignoring ASCII case.
    pub fn find_choice(&self, raw: &str) -> Option<&'static Choice> {
        let raw = raw.trim();
        self.choices
            .iter()
            .find(|c| c.value == raw || c.alias == Some(raw))
            .or_else(|| {
                self.choices.iter().find(|c| {
                    c.value.eq_ignore_ascii_case(raw)
                        || c.alias.is_some_and(|a| a.eq_ignore_ascii_case(raw))
                })
            })
    }
}

/// The kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text.
    String,
    /// A URL (`format: uri`).
    Uri,
    /// A media input (image, video or audio): URL, `data:` URI, local file or bytes.
    Media(MediaKind),
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// One of a fixed set of strings.
    StringChoice,
    /// One of a fixed set of whole numbers.
    IntegerChoice,
    /// A nested object, or anything else passed through as JSON.
    Json,
}

/// Which kind of media a media field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `format: image_uri`.
    Image,
    /// `format: video_uri`.
    Video,
    /// `format: audio_uri`.
    Audio,
}

impl MediaKind {
    /// The schema `format` this kind comes from.
    pub fn format(self) -> &'static str {
        match self {
            MediaKind::Image => "image_uri",
            MediaKind::Video => "video_uri",
            MediaKind::Audio => "audio_uri",
        }
    }
}

/// One allowed value of an enum field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The value on the wire, as JSON text (`"fast"`, `3`).
    pub wire: &'static str,
    /// The value as a user types it (`fast`, `3`).
    pub value: &'static str,
    /// The Rust variant name.
    pub variant: &'static str,
    /// A short alias the CLI accepts, when one is obvious (`16:9` for `2560:1440 (16:9)`).
    pub alias: Option<&'static str>,
}

/// What a media field accepts.
#[derive(Debug)]
pub struct MediaSpec {
    /// Image, video or audio.
    pub kind: MediaKind,
    /// Formats accepted, checked from the magic bytes; empty means any.
    pub formats: &'static [MediaFormat],
    /// The schema's `validations` rules, applied to each item.
    pub rules: &'static [MediaRule],
}

/// A file format recognised from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaFormat {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
    /// GIF.
    Gif,
    /// BMP.
    Bmp,
    /// TIFF.
    Tiff,
    /// HEIF/HEIC/AVIF.
    Heif,
}

impl MediaFormat {
    /// The lowercase name used in overlays and messages (`jpeg`, `png`).
    pub fn name(self) -> &'static str {
        match self {
            MediaFormat::Jpeg => "jpeg",
            MediaFormat::Png => "png",
            MediaFormat::Webp => "webp",
            MediaFormat::Gif => "gif",
            MediaFormat::Bmp => "bmp",
            MediaFormat::Tiff => "tiff",
            MediaFormat::Heif => "heif",
        }
    }

    /// The MIME type of the format.
    pub fn mime(self) -> &'static str {
        match self {
            MediaFormat::Jpeg => "image/jpeg",
            MediaFormat::Png => "image/png",
            MediaFormat::Webp => "image/webp",
            MediaFormat::Gif => "image/gif",
            MediaFormat::Bmp => "image/bmp",
            MediaFormat::Tiff => "image/tiff",
            MediaFormat::Heif => "image/heif",
        }
    }
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
