//! The catalog's schemas as data: one [`Schema`] per schema node of a model's input, generated
//! as `static`s that the typed `validate()`, the validation of JSON inputs and the runtime
//! catalog all read. Each keyword the generator supports has its field here; a keyword a
//! schema does not use keeps the value of [`Schema::ANY`]. A model's rules across fields
//! ([`CrossRule`]) are statics of the same kind.

use std::fmt;
use std::sync::OnceLock;

use runcomfy_vocab::keyword::compile_pattern;

pub use runcomfy_vocab::format::Format;
pub use runcomfy_vocab::json_type::{JsonType, Types};
pub use runcomfy_vocab::media::{MediaFormat, MediaKind};
pub use runcomfy_vocab::rule::Rule;

pub use crate::number::Number;

/// One schema node with every supported keyword.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// `type`: the JSON types allowed. [`Types::NONE`] is the `false` schema.
    pub types: Types,
    /// `enum`: the allowed values, with the Rust names of a generated choice enum.
    pub choices: Option<&'static [Choice]>,
    /// `const`: the one allowed value.
    pub constant: Option<&'static Json>,
    /// `minimum`.
    pub minimum: Option<Number>,
    /// `maximum`.
    pub maximum: Option<Number>,
    /// `exclusiveMinimum` (draft 4's boolean form is read into this).
    pub exclusive_minimum: Option<Number>,
    /// `exclusiveMaximum`.
    pub exclusive_maximum: Option<Number>,
    /// `multipleOf`.
    pub multiple_of: Option<Number>,
    /// `minLength`, in Unicode scalar values.
    pub min_length: Option<u64>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `pattern`.
    pub pattern: Option<&'static Pattern>,
    /// `format` (a text format; media formats are [`Schema::media`]).
    pub format: Option<Format>,
    /// A media file (`image_uri`, or each item of `image_uris`): what it accepts and the
    /// `validations` rules measured on it.
    pub media: Option<&'static MediaSpec>,
    /// `items`, `prefixItems`, `additionalItems`.
    pub items: Items,
    /// `minItems`.
    pub min_items: Option<u64>,
    /// `maxItems`.
    pub max_items: Option<u64>,
    /// `uniqueItems`.
    pub unique_items: bool,
    /// `contains`: some item must pass it (`minContains` of them, at most `maxContains`).
    pub contains: Option<&'static Schema>,
    /// `minContains` (1 when `contains` is alone; means nothing without it).
    pub min_contains: Option<u64>,
    /// `maxContains` (means nothing without `contains`).
    pub max_contains: Option<u64>,
    /// `properties`.
    pub properties: &'static [Property],
    /// `required`.
    pub required: &'static [&'static str],
    /// `additionalProperties`: the properties neither `properties` nor `patternProperties`
    /// names; `None` allows any.
    pub additional_properties: Option<&'static Schema>,
    /// `patternProperties`: the properties whose names match each pattern.
    pub pattern_properties: &'static [PatternProperty],
    /// `propertyNames`: every property's name must pass it.
    pub property_names: Option<&'static Schema>,
    /// `dependencies` (`dependentRequired`, `dependentSchemas`): what an object holding a
    /// property must also hold.
    pub dependencies: &'static [Dependency],
    /// `minProperties`.
    pub min_properties: Option<u64>,
    /// `maxProperties`.
    pub max_properties: Option<u64>,
    /// `unevaluatedProperties`: the properties that no keyword of this schema, nor of a
    /// subschema the value passes in place (`allOf`, `anyOf`, `oneOf`, `if`/`then`/`else`,
    /// `dependentSchemas`), evaluated must pass it.
    pub unevaluated_properties: Option<&'static Schema>,
    /// `unevaluatedItems`: the items that no keyword of this schema, nor of a subschema the
    /// value passes in place, evaluated must pass it.
    pub unevaluated_items: Option<&'static Schema>,
    /// `allOf`, `$ref` included.
    pub all_of: &'static [&'static Schema],
    /// `anyOf`.
    pub any_of: &'static [&'static Schema],
    /// `oneOf`.
    pub one_of: &'static [&'static Schema],
    /// `not`: the value must fail it.
    pub not: Option<&'static Schema>,
    /// `if`, `then`, `else`.
    pub condition: Option<Condition>,
    /// `title`.
    pub title: Option<&'static str>,
    /// `description` (with the overlay's docs).
    pub description: Option<&'static str>,
    /// `default`.
    pub default: Option<&'static Json>,
}

impl Schema {
    /// `{"type": "null"}`: the alternative of `anyOf`/`oneOf` that makes a value nullable.
    pub fn is_null_only(&self) -> bool {
        self.types == Types::NULL
            && self.choices.is_none()
            && self.constant.is_none()
            && self.all_of.is_empty()
            && self.any_of.is_empty()
            && self.one_of.is_empty()
            && self.not.is_none()
            && self.condition.is_none()
    }

    /// The JSON types a value may have and pass: `type`, narrowed by an `enum`'s or a
    /// `const`'s values and by each `allOf` member (a lone `$ref` is one). An upper bound, for
    /// messages and docs: other keywords may refuse more.
    pub fn admitted_types(&self) -> Types {
        // Deep enough for any `$ref` chain a catalog writes; recursion stops there.
        self.admitted(8)
    }

    fn admitted(&self, depth: u8) -> Types {
        let mut types = self.types;
        let values = self
            .constant
            .into_iter()
            .chain(self.choices.into_iter().flatten().map(|c| &c.value));
        let mut written = None;
        for value in values {
            let of = match value {
                Json::Null => Types::NULL,
                Json::Bool(_) => Types::BOOLEAN,
                Json::Number(_) => Types::NUMBER,
                Json::String(_) => Types::STRING,
                Json::Array(_) => Types::ARRAY,
                Json::Object(_) => Types::OBJECT,
            };
            written = Some(written.unwrap_or(Types::NONE).with(of));
        }
        if let Some(written) = written {
            types = types.meet(written);
        }
        if depth > 0 {
            for member in self.all_of {
                types = types.meet(member.admitted(depth - 1));
            }
        }
        types
    }

    /// The one alternative of `alternatives` that is not [`is_null_only`](Self::is_null_only),
    /// if there is exactly one: `X` of `[X, {"type": "null"}]`.
    pub fn lone_non_null(alternatives: &'static [&'static Schema]) -> Option<&'static Schema> {
        let mut rest = alternatives.iter().filter(|s| !s.is_null_only());
        match (rest.next(), rest.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }

    /// The empty schema: any value is valid. Generated schemas start from it
    /// (`Schema { max_length: Some(600), ..Schema::ANY }`).
    pub const ANY: Schema = Schema {
        types: Types::ANY,
        choices: None,
        constant: None,
        minimum: None,
        maximum: None,
        exclusive_minimum: None,
        exclusive_maximum: None,
        multiple_of: None,
        min_length: None,
        max_length: None,
        pattern: None,
        format: None,
        media: None,
        items: Items::Any,
        min_items: None,
        max_items: None,
        unique_items: false,
        contains: None,
        min_contains: None,
        max_contains: None,
        properties: &[],
        required: &[],
        additional_properties: None,
        pattern_properties: &[],
        property_names: None,
        dependencies: &[],
        min_properties: None,
        max_properties: None,
        unevaluated_properties: None,
        unevaluated_items: None,
        all_of: &[],
        any_of: &[],
        one_of: &[],
        not: None,
        condition: None,
        title: None,
        description: None,
        default: None,
    };

    /// The `false` schema: no value is valid.
    pub const NEVER: Schema = Schema {
        types: Types::NONE,
        ..Schema::ANY
    };

    /// The `false` schema, to point at (`additionalProperties: false`).
    pub const fn never() -> &'static Schema {
        &NEVER
    }

    /// A property's schema, by name.
    pub fn property(&self, name: &str) -> Option<&'static Schema> {
        self.properties
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.schema)
    }

    /// Whether a property is required.
    pub fn requires(&self, name: &str) -> bool {
        self.required.contains(&name)
    }

    /// This schema and every schema its `allOf` brings (a `$ref` is one), depth first, each
    /// once: the schemas a value of it must pass, whatever else it holds.
    pub fn in_place(&'static self) -> Vec<&'static Schema> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(schema) = stack.pop() {
            if seen.insert(std::ptr::from_ref(schema)) {
                out.push(schema);
                stack.extend(schema.all_of.iter().rev());
            }
        }
        out
    }

    /// The schemas it applies in place on a condition, its branches (`anyOf`, `oneOf`,
    /// `if`/`then`/`else`, `dependentSchemas`), and theirs and their `allOf`s', in schema order,
    /// each once; not `not`, whose passing evaluates nothing.
    pub fn branches(&'static self) -> Vec<&'static Schema> {
        fn subs(schema: &'static Schema, conditional: bool) -> Vec<&'static Schema> {
            let mut out: Vec<&'static Schema> = Vec::new();
            if conditional {
                out.extend(schema.all_of);
            }
            out.extend(schema.any_of);
            out.extend(schema.one_of);
            if let Some(condition) = schema.condition {
                out.push(condition.test);
                out.extend(condition.then);
                out.extend(condition.otherwise);
            }
            for dependency in schema.dependencies {
                if let Needs::Schema(sub) = dependency.needs {
                    out.push(sub);
                }
            }
            out
        }
        let mut out: Vec<&'static Schema> = Vec::new();
        // The schema's own `allOf` members hold for certain: their branches are branches.
        let mut stack: Vec<&'static Schema> = Vec::new();
        for member in self.in_place().into_iter().rev() {
            stack.extend(subs(member, false).into_iter().rev());
        }
        while let Some(schema) = stack.pop() {
            if !out.iter().any(|s| std::ptr::eq(*s, schema)) {
                out.push(schema);
                stack.extend(subs(schema, true).into_iter().rev());
            }
        }
        out
    }

    /// The properties only its [`branches`](Self::branches) name, in schema order, each name
    /// once (its first definition): a property a passing branch names is one of the object's,
    /// as `unevaluatedProperties` counts them.
    pub fn branch_properties(&'static self) -> Vec<&'static Property> {
        let members = self.in_place();
        let mut out: Vec<&'static Property> = Vec::new();
        for property in self.branches().into_iter().flat_map(|b| b.properties) {
            let own = members.iter().any(|m| m.property(property.name).is_some());
            if !own && !out.iter().any(|p| p.name == property.name) {
                out.push(property);
            }
        }
        out
    }

    /// The schema of every item, for an array of one kind of item.
    pub fn item_schema(&self) -> Option<&'static Schema> {
        match self.items {
            Items::Each(schema) => Some(schema),
            _ => None,
        }
    }

    /// The schema of the item at `position`: every item's, a tuple's for that place or for
    /// the items after them; `None` where any item goes.
    pub fn item_at(&self, position: usize) -> Option<&'static Schema> {
        match self.items {
            Items::Any => None,
            Items::Each(each) => Some(each),
            Items::Tuple { prefix, rest } => prefix.get(position).copied().or(rest),
        }
    }

    /// Whether nothing is valid (the `false` schema).
    pub fn is_never(&self) -> bool {
        self.types.is_empty()
    }

    /// The names of a schema that asks only that they be given (`{"required": ["image"]}`, as
    /// `not` holds it to say they must not be), else none. Every keyword is looked at, so a
    /// keyword added later is not overlooked.
    pub(crate) fn only_required(&self) -> Option<&'static [&'static str]> {
        let Schema {
            types,
            choices,
            constant,
            minimum,
            maximum,
            exclusive_minimum,
            exclusive_maximum,
            multiple_of,
            min_length,
            max_length,
            pattern,
            format,
            media,
            items,
            min_items,
            max_items,
            unique_items,
            contains,
            min_contains,
            max_contains,
            properties,
            required,
            additional_properties,
            pattern_properties,
            property_names,
            dependencies,
            min_properties,
            max_properties,
            unevaluated_properties,
            unevaluated_items,
            all_of,
            any_of,
            one_of,
            not,
            condition,
            title: _,
            description: _,
            default: _,
        } = self;
        let nothing_else = *types == Types::ANY
            && choices.is_none()
            && constant.is_none()
            && [
                minimum,
                maximum,
                exclusive_minimum,
                exclusive_maximum,
                multiple_of,
            ]
            .iter()
            .all(|n| n.is_none())
            && [
                min_length,
                max_length,
                min_items,
                max_items,
                min_contains,
                max_contains,
            ]
            .iter()
            .all(|n| n.is_none())
            && [min_properties, max_properties].iter().all(|n| n.is_none())
            && pattern.is_none()
            && format.is_none()
            && media.is_none()
            && matches!(items, Items::Any)
            && !unique_items
            && contains.is_none()
            && properties.is_empty()
            && additional_properties.is_none()
            && pattern_properties.is_empty()
            && property_names.is_none()
            && dependencies.is_empty()
            && unevaluated_properties.is_none()
            && unevaluated_items.is_none()
            && all_of.is_empty()
            && any_of.is_empty()
            && one_of.is_empty()
            && not.is_none()
            && condition.is_none();
        (nothing_else && !required.is_empty()).then_some(*required)
    }
}

static NEVER: Schema = Schema::NEVER;

/// How an array's items are checked.
#[derive(Debug, Clone, Copy)]
pub enum Items {
    /// Any items.
    Any,
    /// Every item against one schema.
    Each(&'static Schema),
    /// Items by position (`prefixItems`, or draft 7's array `items`), then the rest against
    /// `rest` (`None`: any).
    Tuple {
        /// One schema per position.
        prefix: &'static [&'static Schema],
        /// The items after them.
        rest: Option<&'static Schema>,
    },
}

/// A property of an object schema.
#[derive(Debug)]
pub struct Property {
    /// The JSON name.
    pub name: &'static str,
    /// Its schema.
    pub schema: &'static Schema,
}

/// A `patternProperties` entry: the properties whose names match `pattern` must pass `schema`.
#[derive(Debug)]
pub struct PatternProperty {
    /// The pattern names are matched against.
    pub pattern: &'static Pattern,
    /// The schema of the properties it matches.
    pub schema: &'static Schema,
}

/// A `dependencies` entry: what an object holding property `name` must also hold.
#[derive(Debug)]
pub struct Dependency {
    /// The property whose presence brings the need.
    pub name: &'static str,
    /// What the object then needs.
    pub needs: Needs,
}

/// What a [`Dependency`] asks of the object.
#[derive(Debug, Clone, Copy)]
pub enum Needs {
    /// These properties too (`dependentRequired`, or a list in `dependencies`).
    Properties(&'static [&'static str]),
    /// To pass this schema, as a whole (`dependentSchemas`, or a schema in `dependencies`).
    Schema(&'static Schema),
}

/// `if`, `then`, `else`: a value that passes `test` must pass `then`, any other `otherwise`.
#[derive(Debug, Clone, Copy)]
pub struct Condition {
    /// `if`.
    pub test: &'static Schema,
    /// `then` (`None`: anything).
    pub then: Option<&'static Schema>,
    /// `else` (`None`: anything).
    pub otherwise: Option<&'static Schema>,
}

/// One allowed value of an `enum`.
#[derive(Debug, Clone, Copy)]
pub struct Choice {
    /// The value.
    pub value: Json,
    /// The variant of the generated Rust enum, if the field has one.
    pub variant: Option<&'static str>,
    /// A short alias people type (`16:9` for `2560:1440 (16:9)`), when one is obvious or the
    /// overlay gives one.
    pub alias: Option<&'static str>,
}

impl Choice {
    /// A choice of this value, with no Rust variant or alias.
    pub const fn new(value: Json) -> Choice {
        Choice {
            value,
            variant: None,
            alias: None,
        }
    }

    /// The choice, as the generated enum's variant `name`.
    pub const fn variant(self, name: &'static str) -> Choice {
        Choice {
            variant: Some(name),
            ..self
        }
    }

    /// The choice, with a short alias.
    pub const fn alias(self, alias: &'static str) -> Choice {
        Choice {
            alias: Some(alias),
            ..self
        }
    }

    /// The value as a person types it: strings without quotes, anything else as JSON.
    pub fn text(&self) -> String {
        match &self.value {
            Json::String(s) => (*s).to_owned(),
            other => other.to_string(),
        }
    }
}

/// A JSON value known at compile time: `enum`, `const` and `default` values.
#[derive(Debug, Clone, Copy)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(&'static str),
    /// An array.
    Array(&'static [Json]),
    /// An object, in the schema's key order.
    Object(&'static [(&'static str, Json)]),
}

impl Json {
    /// An integer.
    pub const fn int(value: i64) -> Json {
        Json::Number(Number::from_i64(value))
    }

    /// The value as a `serde_json::Value`.
    pub fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match *self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::Number(n) => serde_json::to_value(n).unwrap_or(Value::Null),
            Json::String(s) => Value::String(s.to_owned()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// The number, for a number.
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Json::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The text, for a string.
    pub fn as_str(&self) -> Option<&'static str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Json {
    /// As compact JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_value())
    }
}

/// A `pattern`: an ECMA-262 regular expression (Unicode mode, as JSON Schema specifies), found
/// anywhere in the string unless anchored. Compiled on first use.
pub struct Pattern {
    /// The expression as the schema writes it.
    pub source: &'static str,
    compiled: OnceLock<Option<regress::Regex>>,
}

impl Pattern {
    /// A pattern from its source; the generator has checked that it compiles.
    pub const fn new(source: &'static str) -> Pattern {
        Pattern {
            source,
            compiled: OnceLock::new(),
        }
    }

    /// Whether the pattern matches somewhere in `text`; `None` if it does not compile (which the
    /// generator rules out for catalog schemas).
    pub fn is_match(&self, text: &str) -> Option<bool> {
        let regex = self
            .compiled
            .get_or_init(|| compile_pattern(self.source).ok())
            .as_ref()?;
        Some(regex.find(text).is_some())
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

/// What a media field accepts.
#[derive(Debug)]
pub struct MediaSpec {
    /// Image, video or audio.
    pub kind: MediaKind,
    /// The formats accepted, checked from the file's first bytes; empty for any of the kind.
    pub formats: &'static [MediaFormat],
    /// The `validations` rules, measured on each file.
    pub rules: &'static [MediaRule],
}

/// One rule of the `validations` extension, with its limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MediaRule {
    /// Which measurement and comparison.
    pub rule: Rule,
    /// The catalog's `validation_value`.
    pub limit: f64,
    /// The catalog's `validation_error`, reported as it is.
    pub message: &'static str,
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
    /// At least one of `fields` must be given, and not empty (`null`, `[]` and `""` are not
    /// given); a field's default counts as given.
    AtLeastOne {
        /// Wire names of the fields.
        fields: &'static [&'static str],
        /// The message reported when none is.
        message: &'static str,
    },
    /// At most one of `fields` may be given (counted as [`CrossRule::AtLeastOne`] counts them).
    AtMostOne {
        /// Wire names of the fields.
        fields: &'static [&'static str],
        /// The message reported when more are.
        message: &'static str,
    },
}
