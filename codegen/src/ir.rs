//! The typed model of the catalog, between reading JSON Schema and emitting Rust.
//!
//! Two views of each model's input live here. [`SchemaNode`]s are the schema itself, keyword by
//! keyword, exactly as JSON Schema defines it; they become the `static` schemas that validation
//! reads at run time. [`Struct`]s, [`Enum`]s and [`Union`]s are the Rust types a value of it
//! decodes into. Every name, doc and default is decided by then: the emitter only lays out.

use serde::Deserialize;
use serde_json::Value;

pub use crate::features::FeatureTable;
pub use runcomfy_vocab::cross::CrossRuleKind;
pub use runcomfy_vocab::format::Format;
pub use runcomfy_vocab::json_type::{JsonType, Types};
pub use runcomfy_vocab::media::{MediaFormat, MediaKind};
pub use runcomfy_vocab::price::{PriceUnit, Pricing};
pub use runcomfy_vocab::rule::Rule;

/// The whole catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// Every model, sorted by id.
    pub models: Vec<Model>,
    /// Output types, each shared by every model with the same output schema.
    pub outputs: Vec<OutputType>,
    /// The cargo features of the models.
    pub features: FeatureTable,
    /// What was found off without stopping generation; `cargo xtask lint` shows it.
    pub warnings: Vec<crate::error::Warning>,
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
    /// What RunComfy says of the model besides its schemas.
    pub upstream: Upstream,
    /// The input's schema nodes; the root is [`Model::root`].
    pub schemas: Vec<SchemaNode>,
    /// The root node (an object).
    pub root: SchemaId,
    /// The input struct: index into [`Model::structs`].
    pub input: usize,
    /// Structs: the input, and nested objects.
    pub structs: Vec<Struct>,
    /// Choice enums.
    pub enums: Vec<Enum>,
    /// Enums of values of different JSON types.
    pub unions: Vec<Union>,
    /// Index into [`Catalog::outputs`].
    pub output: usize,
    /// Rules across fields.
    pub rules: Vec<CrossRule>,
    /// The input fields that give a job's price units (wire name and unit), in schema order.
    pub price_units: Vec<(String, PriceUnit)>,
    /// The input schema, as pretty JSON text (after overlay patches).
    pub input_schema: String,
    /// The output schema, as pretty JSON text.
    pub output_schema: String,
}

/// Facts about a model from RunComfy's catalog that are not JSON Schema.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Upstream {
    /// The kind of files the model returns.
    pub output_kind: Option<MediaKind>,
    /// RunComfy's categories.
    pub categories: Vec<String>,
    /// RunComfy's price, as far as the catalog says.
    pub price: Price,
    /// Whether RunComfy publishes the model's output schema (else its outputs are the ones
    /// the docs show for every model).
    pub output_published: bool,
}

/// A model's price from the catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Price {
    /// The rate, in billionths of a US dollar.
    pub nanos: Option<u64>,
    /// What the rate is per.
    pub unit: Option<PriceUnit>,
    /// Whether the rate is the price or a floor.
    pub pricing: Option<Pricing>,
    /// RunComfy's note on it.
    pub note: Option<String>,
}

/// An index into [`Model::schemas`].
pub type SchemaId = usize;

/// A schema in a place that holds one: a node, or `true`/`false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sub {
    /// `true` or `{}`: anything.
    Any,
    /// `false`: nothing.
    Never,
    /// A schema node.
    Node(SchemaId),
}

impl Sub {
    /// The node it is, if one (`true` and `false` are none).
    pub fn node(self) -> Option<SchemaId> {
        match self {
            Sub::Node(id) => Some(id),
            Sub::Any | Sub::Never => None,
        }
    }
}

/// One schema node, with every supported keyword.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchemaNode {
    /// The name of its `static` (`IMAGES`, `IMAGES_ITEMS`).
    pub name: String,
    /// Where it is in `input.json`, for messages.
    pub pointer: String,
    /// `type` (every type when absent).
    pub types: Option<Types>,
    /// `enum`.
    pub choices: Option<Vec<Value>>,
    /// The Rust enum of the choices, when one is generated: index into [`Model::enums`].
    pub choice_enum: Option<usize>,
    /// `const`.
    pub constant: Option<Value>,
    /// `minimum`.
    pub minimum: Option<serde_json::Number>,
    /// `maximum`.
    pub maximum: Option<serde_json::Number>,
    /// `exclusiveMinimum` (draft 4's boolean form read into it).
    pub exclusive_minimum: Option<serde_json::Number>,
    /// `exclusiveMaximum`.
    pub exclusive_maximum: Option<serde_json::Number>,
    /// `multipleOf`.
    pub multiple_of: Option<serde_json::Number>,
    /// `minLength`.
    pub min_length: Option<u64>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `pattern`.
    pub pattern: Option<String>,
    /// A text `format`.
    pub format: Option<Format>,
    /// A media file: what it accepts and the rules measured on it.
    pub media: Option<MediaSpec>,
    /// `items` and its tuple forms.
    pub items: Items,
    /// `minItems`.
    pub min_items: Option<u64>,
    /// `maxItems`.
    pub max_items: Option<u64>,
    /// `uniqueItems`.
    pub unique_items: bool,
    /// `contains`.
    pub contains: Option<Sub>,
    /// `minContains` (1 when `contains` alone).
    pub min_contains: Option<u64>,
    /// `maxContains`.
    pub max_contains: Option<u64>,
    /// `properties`, in schema order.
    pub properties: Vec<(String, Sub)>,
    /// `required`.
    pub required: Vec<String>,
    /// `additionalProperties` (`None`: any).
    pub additional_properties: Option<Sub>,
    /// `patternProperties`: the properties whose names match each pattern, in schema order.
    pub pattern_properties: Vec<(String, Sub)>,
    /// `propertyNames`.
    pub property_names: Option<Sub>,
    /// `dependencies`, `dependentRequired` and `dependentSchemas`, in schema order.
    pub dependencies: Vec<(String, Dependency)>,
    /// `minProperties`.
    pub min_properties: Option<u64>,
    /// `maxProperties`.
    pub max_properties: Option<u64>,
    /// `unevaluatedProperties`: the properties no keyword here or in a passing subschema
    /// evaluated.
    pub unevaluated_properties: Option<Sub>,
    /// `unevaluatedItems`: the items no keyword here or in a passing subschema evaluated.
    pub unevaluated_items: Option<Sub>,
    /// `allOf`, and a `$ref` beside other keywords.
    pub all_of: Vec<Sub>,
    /// `anyOf`.
    pub any_of: Vec<Sub>,
    /// `oneOf`.
    pub one_of: Vec<Sub>,
    /// `not`.
    pub not: Option<Sub>,
    /// `if`, with `then` and `else` (which mean nothing without it).
    pub condition: Option<Condition>,
    /// `title`.
    pub title: Option<String>,
    /// `description`, with the overlay's docs.
    pub description: Option<String>,
    /// `default`.
    pub default: Option<Value>,
}

/// The JSON type of a value, as JSON Schema counts it (`3.0` is an integer).
pub(crate) fn type_of(value: &Value) -> JsonType {
    match value {
        Value::Null => JsonType::Null,
        Value::Bool(_) => JsonType::Boolean,
        Value::Number(n) if n.is_i64() || n.is_u64() => JsonType::Integer,
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => JsonType::Integer,
        Value::Number(_) => JsonType::Number,
        Value::String(_) => JsonType::String,
        Value::Array(_) => JsonType::Array,
        Value::Object(_) => JsonType::Object,
    }
}

impl SchemaNode {
    /// Its alternatives: its `anyOf`, else its `oneOf`.
    pub fn alternatives(&self) -> &[Sub] {
        if self.any_of.is_empty() {
            &self.one_of
        } else {
            &self.any_of
        }
    }

    /// The types allowed (every type when `type` is absent).
    pub fn allowed(&self) -> Types {
        // A `const` or an `enum` with no `type` allows its values' types (`{"const":
        // "circle"}` and `{"enum": ["a", "b"]}` are text).
        let of_constant = || self.constant.as_ref().map(|c| Types::of(type_of(c)));
        let of_choices = || {
            let values = self.choices.as_ref().filter(|c| !c.is_empty())?;
            Some(values.iter().fold(Types::NONE, |types, value| {
                types.with(Types::of(type_of(value)))
            }))
        };
        self.types
            .or_else(of_constant)
            .or_else(of_choices)
            .unwrap_or(Types::ANY)
    }

    /// Whether the node constrains nothing beyond annotations: it is the empty schema.
    pub fn is_empty_schema(&self) -> bool {
        let annotations = SchemaNode {
            name: self.name.clone(),
            pointer: self.pointer.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            default: self.default.clone(),
            ..SchemaNode::default()
        };
        *self == annotations
    }

    /// The schemas this node applies to the same value (`allOf` and a `$ref`, `anyOf`,
    /// `oneOf`, `not`, `if`/`then`/`else`, `dependentSchemas`), not to a property or an item.
    pub fn in_place(&self) -> Vec<Sub> {
        let mut subs: Vec<Sub> = self.all_of.clone();
        subs.extend(self.branches());
        subs.extend(self.not);
        subs
    }

    /// The schemas this node applies to the same value on a condition, whose properties are
    /// the value's where the value passes them: `anyOf`, `oneOf`, `if`/`then`/`else`,
    /// `dependentSchemas`.
    pub fn branches(&self) -> Vec<Sub> {
        let mut subs: Vec<Sub> = self.any_of.clone();
        subs.extend(&self.one_of);
        if let Some(condition) = &self.condition {
            subs.push(condition.test);
            subs.extend(condition.then);
            subs.extend(condition.otherwise);
        }
        for (_, dependency) in &self.dependencies {
            if let Dependency::Schema(sub) = dependency {
                subs.push(*sub);
            }
        }
        subs
    }

    /// Every schema this node holds (`items`, `properties`, `allOf`, ...), to rewrite them.
    pub fn subs_mut(&mut self) -> Vec<&mut Sub> {
        let mut subs: Vec<&mut Sub> = Vec::new();
        match &mut self.items {
            Items::Any => {}
            Items::Each(each) => subs.push(each),
            Items::Tuple { prefix, rest } => {
                subs.extend(prefix.iter_mut());
                subs.extend(rest.as_mut());
            }
        }
        subs.extend(self.contains.as_mut());
        subs.extend(self.properties.iter_mut().map(|(_, sub)| sub));
        subs.extend(self.additional_properties.as_mut());
        subs.extend(self.pattern_properties.iter_mut().map(|(_, sub)| sub));
        subs.extend(self.property_names.as_mut());
        subs.extend(self.unevaluated_properties.as_mut());
        subs.extend(self.unevaluated_items.as_mut());
        for (_, dependency) in &mut self.dependencies {
            if let Dependency::Schema(sub) = dependency {
                subs.push(sub);
            }
        }
        subs.extend(self.all_of.iter_mut());
        subs.extend(self.any_of.iter_mut());
        subs.extend(self.one_of.iter_mut());
        subs.extend(self.not.as_mut());
        if let Some(condition) = &mut self.condition {
            subs.push(&mut condition.test);
            subs.extend(condition.then.as_mut());
            subs.extend(condition.otherwise.as_mut());
        }
        subs
    }
}

/// `if`, `then`, `else`: a value that passes `if` must pass `then`, any other `else`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Condition {
    /// `if`.
    pub test: Sub,
    /// `then` (`None`: anything).
    pub then: Option<Sub>,
    /// `else` (`None`: anything).
    pub otherwise: Option<Sub>,
}

/// What an object holding a property must also hold (`dependencies`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dependency {
    /// These properties (`dependentRequired`, or a list in `dependencies`).
    Required(Vec<String>),
    /// This schema, checked on the whole object (`dependentSchemas`, or a schema in
    /// `dependencies`).
    Schema(Sub),
}

/// How an array's items are checked.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Items {
    /// No constraint.
    #[default]
    Any,
    /// One schema for every item.
    Each(Sub),
    /// By position, then the rest (`None`: any).
    Tuple {
        /// One schema per position.
        prefix: Vec<Sub>,
        /// The items after them.
        rest: Option<Sub>,
    },
}

/// What a media field accepts and how it is checked.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaSpec {
    /// Image, video or audio.
    pub kind: MediaKind,
    /// Accepted formats (from the overlay), empty for any of the kind.
    pub formats: Vec<MediaFormat>,
    /// The `validations` rules.
    pub rules: Vec<MediaRule>,
}

/// One rule of the `validations` extension.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaRule {
    /// Which measurement and comparison.
    pub rule: Rule,
    /// `validation_value`.
    pub limit: f64,
    /// `validation_error`, reported verbatim.
    pub message: String,
}

/// The Rust type of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RustType {
    /// `String`.
    String,
    /// `runcomfy::Integer`.
    Integer,
    /// `runcomfy::Number`.
    Number,
    /// `bool`.
    Boolean,
    /// `runcomfy::Media`.
    Media,
    /// `serde_json::Value`: any JSON, checked against its schema.
    Json,
    /// `serde_json::Map<String, Value>`: any object.
    JsonObject,
    /// `Vec<T>`.
    Vec(Box<RustType>),
    /// `Option<T>` for a nullable value (`None` is `null`).
    Nullable(Box<RustType>),
    /// A struct: index into [`Model::structs`].
    Struct(usize),
    /// A choice enum: index into [`Model::enums`].
    Enum(usize),
    /// A union: index into [`Model::unions`].
    Union(usize),
}

/// A struct: the input, or a nested object.
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    /// Rust type name.
    pub name: String,
    /// Its schema node.
    pub schema: SchemaId,
    /// Documentation paragraphs.
    pub docs: Vec<String>,
    /// Fields in schema order.
    pub fields: Vec<Field>,
    /// Properties the schema does not name are refused (`additionalProperties: false`, and the
    /// input itself, with no `patternProperties`).
    pub closed: bool,
    /// The Rust name of the map keeping other properties, when not closed.
    pub extra: Option<String>,
}

/// One property of a struct.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The JSON property name, sent exactly as is.
    pub wire: String,
    /// The Rust field name.
    pub ident: String,
    /// The setter (`with_seed`).
    pub setter: String,
    /// The accessor returning the value in effect, for an optional field with a usable default.
    pub accessor: Option<String>,
    /// Its schema.
    pub schema: Sub,
    /// Documentation paragraphs.
    pub docs: Vec<String>,
    /// The value's type (a nullable value is [`RustType::Nullable`]).
    pub ty: RustType,
    /// In the schema's `required`.
    pub required: bool,
    /// The default, when it is a valid value of the field (for the accessor and the docs).
    pub default: Option<Value>,
    /// For a required field, the one text its schema allows (a `const`, an `enum` of one): a
    /// tag `new` fills in rather than asks for.
    pub fixed: Option<String>,
}

/// Where an enum's choices are written in the schema.
#[derive(Debug, Clone, PartialEq)]
pub enum ChoicesOwner {
    /// A field's own schema: its wire name.
    Field(String),
    /// A definition (`$defs`, `definitions`, OpenAPI's `components/schemas`) any field may use:
    /// its pointer.
    Definition(String),
}

/// An enum of choices (strings or integers).
#[derive(Debug, Clone, PartialEq)]
pub struct Enum {
    /// Rust type name.
    pub name: String,
    /// Whose choices they are, for its doc.
    pub owner: ChoicesOwner,
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

/// An enum of values of different JSON types (`anyOf`/`oneOf` of distinct types, a `type`
/// array): each variant holds one type; which one is told by the JSON itself, and between
/// object shapes, by their tag.
#[derive(Debug, Clone, PartialEq)]
pub struct Union {
    /// Rust type name.
    pub name: String,
    /// Documentation paragraphs.
    pub docs: Vec<String>,
    /// For a union of several object shapes, the property each requires with a constant of
    /// its own (a discriminated union's `type`): what tells them apart.
    pub tag: Option<String>,
    /// The variants, one per JSON type, or per tag value for object shapes.
    pub variants: Vec<UnionVariant>,
}

/// One variant of a [`Union`].
#[derive(Debug, Clone, PartialEq)]
pub struct UnionVariant {
    /// Rust variant name (`String`, `Integer`, or for a tagged shape, its tag's: `Circle`).
    pub name: String,
    /// The JSON type it holds.
    pub json: JsonType,
    /// Its Rust type.
    pub ty: RustType,
    /// For an object shape of a tagged union, the tag's value that picks it.
    pub tag: Option<String>,
}

/// A rule across fields, read from the overlay's `rules` and kept once lowering found its
/// fields fit ([`runcomfy_vocab::cross::CrossRuleKind`] says what each checks).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum CrossRule {
    /// The items of the array fields plus the values of the integer fields must not exceed `max`.
    MaxTotal {
        /// Wire names of the fields added up.
        fields: Vec<String>,
        /// The largest allowed total.
        max: i64,
        /// The message reported.
        message: String,
    },
    /// Warn when the prompt states a number of images different from the count field.
    PromptCount {
        /// Wire name of the prompt field.
        prompt: String,
        /// Wire name of the count field.
        count: String,
        /// The message reported.
        message: String,
    },
    /// At least one of these optional fields must be given, and not empty.
    AtLeastOne {
        /// Wire names of the fields.
        fields: Vec<String>,
        /// The message reported.
        message: String,
    },
    /// At most one of these optional fields may be given (as `at_least_one` counts them).
    AtMostOne {
        /// Wire names of the fields.
        fields: Vec<String>,
        /// The message reported.
        message: String,
    },
}

impl CrossRule {
    /// The kind of rule, whose name is the overlay's `rule`.
    pub fn kind(&self) -> CrossRuleKind {
        match self {
            CrossRule::MaxTotal { .. } => CrossRuleKind::MaxTotal,
            CrossRule::PromptCount { .. } => CrossRuleKind::PromptCount,
            CrossRule::AtLeastOne { .. } => CrossRuleKind::AtLeastOne,
            CrossRule::AtMostOne { .. } => CrossRuleKind::AtMostOne,
        }
    }
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

/// The alternatives of an `anyOf`/`oneOf` other than `{"type": "null"}` alone.
pub(crate) fn non_null_alternatives(nodes: &[SchemaNode], alternatives: &[Sub]) -> Vec<Sub> {
    let is_null = |sub: &Sub| match sub {
        Sub::Node(i) => {
            let n = &nodes[*i];
            n.types == Some(Types::NULL)
                && SchemaNode {
                    types: None,
                    ..n.clone()
                }
                .is_empty_schema()
        }
        _ => false,
    };
    alternatives
        .iter()
        .filter(|s| !is_null(s))
        .copied()
        .collect()
}

/// A field doc's link to a generated type, by its index: docs are written as fields are
/// typed, and a type may take its final name after (a definition naming a shape written out
/// before it, a shared tag's enum named by its value). Held in the doc as a marker until the
/// code is emitted, when [`Model::link_names`] writes the name in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeLink {
    /// [`Model::structs`]`[i]`.
    Struct(usize),
    /// [`Model::enums`]`[i]`.
    Enum(usize),
    /// [`Model::unions`]`[i]`.
    Union(usize),
}

/// Brackets a [`TypeLink`] in a doc: a control character, which schema text never keeps.
const LINK_MARK: char = '\u{1}';

impl TypeLink {
    /// The marker a doc holds for the type's name.
    pub fn marker(self) -> String {
        let (kind, index) = match self {
            TypeLink::Struct(i) => ('S', i),
            TypeLink::Enum(i) => ('E', i),
            TypeLink::Union(i) => ('U', i),
        };
        format!("{LINK_MARK}{kind}{index}{LINK_MARK}")
    }

    fn parse(marker: &str) -> Option<TypeLink> {
        let mut chars = marker.chars();
        let kind = chars.next()?;
        let index = chars.as_str().parse().ok()?;
        Some(match kind {
            'S' => TypeLink::Struct(index),
            'E' => TypeLink::Enum(index),
            'U' => TypeLink::Union(index),
            _ => return None,
        })
    }
}

impl Model {
    /// `doc` with each [`TypeLink`]'s marker replaced by the name the type has.
    pub fn link_names(&self, doc: &str) -> String {
        let mut out = String::with_capacity(doc.len());
        // Between marks: text, a marker, text, ...
        for (i, part) in doc.split(LINK_MARK).enumerate() {
            let name = (i % 2 == 1)
                .then(|| TypeLink::parse(part))
                .flatten()
                .and_then(|link| match link {
                    TypeLink::Struct(i) => self.structs.get(i).map(|s| &s.name),
                    TypeLink::Enum(i) => self.enums.get(i).map(|e| &e.name),
                    TypeLink::Union(i) => self.unions.get(i).map(|u| &u.name),
                });
            out.push_str(name.map_or(part, String::as_str));
        }
        out
    }

    /// A node by id.
    pub fn node(&self, id: SchemaId) -> &SchemaNode {
        &self.schemas[id]
    }

    /// The node a [`Sub`] points at, if it is one.
    pub fn sub(&self, sub: Sub) -> Option<&SchemaNode> {
        match sub {
            Sub::Node(id) => Some(&self.schemas[id]),
            Sub::Any | Sub::Never => None,
        }
    }

    /// The input struct.
    pub fn input_struct(&self) -> &Struct {
        &self.structs[self.input]
    }
}
