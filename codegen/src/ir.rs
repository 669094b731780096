//! The typed model of the catalog, between reading JSON Schema and emitting Rust.
//!
//! Everything the emitter needs is resolved here: Rust names, docs, types, bounds, defaults and
//! rules. The emitter makes no decisions of its own beyond layout.

use serde_json::Value;

pub use crate::features::FeatureTable;

/// The whole catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// Every model, sorted by id.
    pub models: Vec<Model>,
    /// Output types, each shared by every model with the same output schema.
    pub outputs: Vec<OutputType>,
    /// The cargo features of the models.
    pub features: FeatureTable,
}

/// One model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The model id (API path).
    pub id: String,
    /// Rust module path below `models`, one module per id segment.
    pub module_path: Vec<String>,
    /// The marker type implementing `Model`.
    pub type_name: String,
    /// A human name.
    pub display_name: String,
    /// Documentation paragraphs.
    pub docs: Vec<String>,
    /// The input struct (named `<type_name>Input`).
    pub input: Struct,
    /// Nested structs of the input, in order of appearance.
    pub structs: Vec<Struct>,
    /// Enums of the input, in order of appearance.
    pub enums: Vec<Enum>,
    /// Index into [`Catalog::outputs`].
    pub output: usize,
    /// Rules across fields.
    pub rules: Vec<CrossRule>,
    /// The input schema, as JSON text (after overlay patches).
    pub input_schema: String,
    /// The output schema, as JSON text.
    pub output_schema: String,
}

/// A struct: the input, or a nested object.
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    /// Rust type name.
    pub name: String,
    /// Documentation paragraphs.
    pub docs: Vec<String>,
    /// Fields in schema order.
    pub fields: Vec<Field>,
}

/// One property.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The JSON property name, sent exactly as is.
    pub wire: String,
    /// The Rust field name.
    pub ident: String,
    /// The schema's title, if useful.
    pub title: Option<String>,
    /// The schema's description plus overlay docs.
    pub description: Option<String>,
    /// The value type.
    pub ty: Type,
    /// In the schema's `required`.
    pub required: bool,
    /// Accepts JSON `null` (a type array with `"null"`).
    pub nullable: bool,
    /// The schema's default (never `null`).
    pub default: Option<Value>,
}

/// A value type with its constraints.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// Text.
    String {
        /// `minLength`.
        min_length: Option<u64>,
        /// `maxLength`.
        max_length: Option<u64>,
    },
    /// `format: uri`.
    Uri,
    /// `format: image_uri`, `video_uri` or `audio_uri`.
    Media(MediaSpec),
    /// `integer`.
    Integer {
        /// `minimum`.
        minimum: Option<f64>,
        /// `maximum`.
        maximum: Option<f64>,
    },
    /// `number` (or `float`).
    Number {
        /// `minimum`.
        minimum: Option<f64>,
        /// `maximum`.
        maximum: Option<f64>,
    },
    /// `boolean`.
    Boolean,
    /// An enum: index into [`Model::enums`].
    Enum(usize),
    /// An array.
    Array {
        /// The item type.
        items: Box<Type>,
        /// `minItems`.
        min_items: Option<u64>,
        /// `maxItems`.
        max_items: Option<u64>,
    },
    /// A nested object: index into [`Model::structs`].
    Struct(usize),
    /// Anything the schema leaves open, passed through as JSON.
    Json,
}

/// What a media field accepts and how it is checked.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaSpec {
    /// Image, video or audio.
    pub kind: MediaKind,
    /// Accepted formats (from the overlay), empty for any.
    pub formats: Vec<String>,
    /// The `validations` rules.
    pub rules: Vec<MediaRule>,
}

/// Which kind of media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// `image_uri`.
    Image,
    /// `video_uri`.
    Video,
    /// `audio_uri`.
    Audio,
}

/// One rule of the `validations` extension.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaRule {
    /// Which check.
    pub check: MediaCheck,
    /// `validation_value`.
    pub value: f64,
    /// `validation_error`, reported verbatim.
    pub message: String,
}

/// The `validation_rule`s the generator knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaCheck {
    /// `file_size_mb<`.
    FileSizeMbBelow,
    /// `width/height>`.
    AspectRatioAbove,
    /// `width/height<`.
    AspectRatioBelow,
    /// `width_pixels>`.
    WidthAbove,
    /// `width_pixels<`.
    WidthBelow,
    /// `height_pixels>`.
    HeightAbove,
    /// `height_pixels<`.
    HeightBelow,
}

impl MediaCheck {
    /// Every rule with its wire name.
    pub const ALL: [(MediaCheck, &'static str); 7] = [
        (MediaCheck::FileSizeMbBelow, "file_size_mb<"),
        (MediaCheck::AspectRatioAbove, "width/height>"),
        (MediaCheck::AspectRatioBelow, "width/height<"),
        (MediaCheck::WidthAbove, "width_pixels>"),
        (MediaCheck::WidthBelow, "width_pixels<"),
        (MediaCheck::HeightAbove, "height_pixels>"),
        (MediaCheck::HeightBelow, "height_pixels<"),
    ];

    /// Parses a `validation_rule`.
    pub fn from_wire(rule: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, w)| *w == rule).map(|(c, _)| *c)
    }

    /// The Rust variant of `runcomfy::validate::MediaCheck`.
    pub fn variant(self) -> &'static str {
        match self {
            MediaCheck::FileSizeMbBelow => "FileSizeMbBelow",
            MediaCheck::AspectRatioAbove => "AspectRatioAbove",
            MediaCheck::AspectRatioBelow => "AspectRatioBelow",
            MediaCheck::WidthAbove => "WidthAbove",
            MediaCheck::WidthBelow => "WidthBelow",
            MediaCheck::HeightAbove => "HeightAbove",
            MediaCheck::HeightBelow => "HeightBelow",
        }
    }
}

/// An enum of string or integer choices.
#[derive(Debug, Clone, PartialEq)]
pub struct Enum {
    /// Rust type name.
    pub name: String,
    /// The wire name of the field it belongs to.
    pub field: String,
    /// Documentation paragraphs.
    pub docs: Vec<String>,
    /// Strings or integers on the wire.
    pub repr: EnumRepr,
    /// The choices, in schema order.
    pub variants: Vec<Variant>,
}

/// What an enum's values are on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnumRepr {
    /// JSON strings.
    String,
    /// JSON integers.
    Integer,
}

/// One choice.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Rust variant name.
    pub name: String,
    /// The wire value: the string, or the integer's decimal text.
    pub wire: String,
    /// A short alias, when obvious (`16:9`).
    pub alias: Option<String>,
}

/// A rule across fields (from the overlay).
#[derive(Debug, Clone, PartialEq)]
pub enum CrossRule {
    /// Items of arrays plus values of integers must not exceed `max`.
    MaxTotal {
        /// Indexes into the input's fields.
        fields: Vec<usize>,
        /// The largest allowed total.
        max: i64,
        /// The message reported.
        message: String,
    },
    /// The prompt should state the same count as the count field (a warning).
    PromptCount {
        /// Index of the prompt field.
        prompt: usize,
        /// Index of the count field.
        count: usize,
        /// The message reported.
        message: String,
    },
}

/// An output type shared by every model with the same output schema.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputType {
    /// Rust type name.
    pub name: String,
    /// Documentation paragraphs.
    pub docs: Vec<String>,
    /// Fields in schema order.
    pub fields: Vec<OutputField>,
    /// The Rust name of the field keeping properties the schema does not list.
    pub extra_ident: String,
    /// The ids of every model of the catalog with this output, generated or not.
    pub users: Vec<String>,
}

/// One output property.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputField {
    /// JSON property name.
    pub wire: String,
    /// Rust field name.
    pub ident: String,
    /// Documentation.
    pub docs: Option<String>,
    /// The value type.
    pub ty: OutputKind,
    /// In the schema's `required`.
    pub required: bool,
}

/// Output values are read leniently: text, numbers, lists of those, or raw JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// Text (URLs included).
    String,
    /// A list of texts.
    StringList,
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// A boolean.
    Boolean,
    /// Anything else.
    Json,
}
