//! A model's fields as the CLI, `describe` and the simulator read them: each input [`Field`]
//! with the [`FieldKind`] of value it takes and its choices, and each [`OutputField`].
//!
//! Plain readings of the schema statics, below [`ModelInfo`](crate::catalog::ModelInfo), whose
//! `fields()` they are; re-exported by `catalog`.

use runcomfy_vocab::pointer::Path;

use crate::media::Files;
use crate::number::Number;
use crate::schema::{Choice, Items, Json, JsonType, MediaKind, MediaSpec, Schema, Types};

/// One input field: a property of the input object.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The wire name (the JSON property).
    pub name: &'static str,
    /// Its schema, as the input object's `properties` has it.
    pub schema: &'static Schema,
    /// Whether it must be present.
    pub required: bool,
    /// The input object it is a property of, whose `allOf` members (a `$ref` is one) may
    /// say more of it.
    pub input: &'static Schema,
}

impl Field {
    /// The title, if any of its [`schemas`](Self::schemas) has one (its own first).
    pub fn title(&self) -> Option<&'static str> {
        self.schemas().iter().find_map(|s| s.title)
    }

    /// The description (with the overlay's docs), if any of its schemas has one (its own
    /// first).
    pub fn description(&self) -> Option<&'static str> {
        self.schemas().iter().find_map(|s| s.description)
    }

    /// The first default of its schemas (its own first) that the field takes. A `null` default
    /// of a field that cannot be null is none: catalogs write `"default": null` to say there is
    /// no default.
    pub fn default(&self) -> Option<&'static Json> {
        self.schemas()
            .iter()
            .filter_map(|s| s.default)
            .find(|d| self.takes(&d.to_value()))
    }

    /// Whether only a branch of the input names the field (`oneOf` of object shapes, an
    /// `if`'s `then`): it is one of the input's where that branch passes.
    pub fn in_branch(&self) -> bool {
        self.input
            .in_place()
            .iter()
            .all(|m| m.property(self.name).is_none())
    }

    /// Every schema a value of the field must pass, whatever else it holds: its own, the same
    /// property's in each `allOf` member of the input, and what their `allOf`s bring, each
    /// once, its own first.
    pub fn schemas(&self) -> Vec<&'static Schema> {
        let members = self.input.in_place();
        let properties = members.iter().filter_map(|m| m.property(self.name));
        once_each(
            std::iter::once(self.schema)
                .chain(properties)
                .flat_map(Schema::in_place),
        )
    }

    /// Each definition of a field only branches name (a tagged union's `mode`, one a shape).
    fn branch_definitions(&self) -> Vec<&'static Schema> {
        if !self.in_branch() {
            return Vec::new();
        }
        let branches = self.input.branches();
        branches
            .iter()
            .filter_map(|b| b.property(self.name))
            .collect()
    }

    /// Whether JSON `null` is a valid value: the validator's answer, so a field with no `type`
    /// whose `anyOf` takes no `null` is not said to take one.
    pub fn nullable(&self) -> bool {
        self.takes(&serde_json::Value::Null)
    }

    /// Whether `value` passes every one of the field's [`schemas`](Self::schemas).
    pub fn takes(&self, value: &serde_json::Value) -> bool {
        passes_all(&self.schemas(), value)
    }

    /// The schemas a value other than `null` must pass: its [`schemas`](Self::schemas), and
    /// through `anyOf: [X, {"type": "null"}]` (or `oneOf`) `X` and what its `allOf` brings.
    pub fn own_schemas(&self) -> Vec<&'static Schema> {
        through_null(&self.schemas())
    }

    /// The schemas one value must pass: for a list, every item's (the `items` of its
    /// [`own_schemas`](Self::own_schemas)); else its [`schemas`](Self::schemas).
    fn value_checks(&self) -> Vec<&'static Schema> {
        if !self.is_list() {
            return self.schemas();
        }
        let items = self
            .own_schemas()
            .into_iter()
            .filter_map(|s| s.item_schema());
        once_each(items.flat_map(Schema::in_place))
    }

    /// What one value other than `null` must pass: for a list, every item's schemas (the
    /// `items` of its [`own_schemas`](Self::own_schemas)), else its own; each through
    /// `[X, {"type": "null"}]` to `X`.
    pub fn value_schemas(&self) -> Vec<&'static Schema> {
        if self.is_list() {
            through_null(&self.value_checks())
        } else {
            self.own_schemas()
        }
    }

    /// Whether one value (an item, for a list) passes every schema it must.
    pub fn takes_value(&self, value: &serde_json::Value) -> bool {
        passes_all(&self.value_checks(), value)
    }

    /// What the field's [`own_schemas`](Self::own_schemas) say of a value, in one schema: the
    /// types they all admit, each bound the tightest of theirs. Its kind, bounds and media are
    /// the field's. An upper bound, for help and `describe`: the validator checks each schema
    /// as written. A field only branches name, each their own way, is what any of them says.
    pub fn own_schema(&self) -> Schema {
        let definitions = self.branch_definitions();
        if definitions.len() > 1 {
            return either(&definitions);
        }
        facts(&self.own_schemas())
    }

    /// Whether the field holds a list: an array of one kind of item.
    pub fn is_list(&self) -> bool {
        let own = self.own_schema();
        own.types.without_null() == Types::ARRAY && matches!(own.items, Items::Each(_) | Items::Any)
    }

    /// Whether the field holds a list whose items each have their place (a tuple: `prefixItems`,
    /// or draft 7's array `items`), such as `[width, height]`.
    pub fn is_tuple(&self) -> bool {
        let own = self.own_schema();
        own.types.without_null() == Types::ARRAY && matches!(own.items, Items::Tuple { .. })
    }

    /// The kind of each placed item of a [tuple](Self::is_tuple), in order; none for another
    /// field.
    pub fn tuple_kinds(&self) -> Vec<FieldKind> {
        match self.own_schema().items {
            Items::Tuple { prefix, .. } if self.is_tuple() => {
                prefix.iter().map(|item| kind(&facts(&[item]))).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The kind of the items a [tuple](Self::is_tuple) takes after its placed ones (JSON for
    /// any); `None` when it takes none, or for another field.
    pub fn tuple_rest(&self) -> Option<FieldKind> {
        match self.own_schema().items {
            Items::Tuple { rest: None, .. } if self.is_tuple() => Some(FieldKind::Json),
            Items::Tuple {
                rest: Some(rest), ..
            } if self.is_tuple() && !rest.is_never() => Some(kind(&facts(&[rest]))),
            _ => None,
        }
    }

    /// Whether some value of JSON type `json` may pass as one value of the field (an item, for
    /// a list), by types alone: each schema's `type`, through its `anyOf`/`oneOf` alternatives.
    /// An upper bound (its other keywords may still refuse every such value).
    pub fn admits(&self, json: JsonType) -> bool {
        self.value_checks().iter().all(|s| admits(s, json))
    }

    /// [`admits`](Self::admits) for a list's item at `position` (a tuple's place).
    pub fn admits_item(&self, position: usize, json: JsonType) -> bool {
        self.item_checks(position).iter().all(|s| admits(s, json))
    }

    /// Whether `value` can be a list's item at `position`: it passes what each of the field's
    /// [`own_schemas`](Self::own_schemas) says of the items there (a tuple's schema for that
    /// position, or for the items after them; a list's for every item).
    pub fn takes_item(&self, position: usize, value: &serde_json::Value) -> bool {
        passes_all(&self.item_checks(position), value)
    }

    /// What the field's [`own_schemas`](Self::own_schemas) say of a list's item at `position`.
    fn item_checks(&self, position: usize) -> Vec<&'static Schema> {
        self.own_schemas()
            .into_iter()
            .filter_map(|s| s.item_at(position))
            .collect()
    }

    /// What one value says, in one schema as [`own_schema`](Self::own_schema) has it: the
    /// items' for a list, else the field's own.
    pub fn value_schema(&self) -> Schema {
        if self.is_list() {
            facts(&self.value_schemas())
        } else {
            self.own_schema()
        }
    }

    /// Whether no value but `null`, if that, can pass: types no value has at once, two
    /// different constants or kinds of file, or bounds that cross (`minLength` 12 with
    /// `maxLength` 10).
    pub fn never_valid(&self) -> bool {
        let own = self.own_schema();
        let types = own.types.without_null();
        if types.is_empty() {
            return true;
        }
        let value = self.value_schema();
        let crossed =
            |low: Option<f64>, high: Option<f64>| low.zip(high).is_some_and(|(l, h)| l > h);
        let number = |n: Option<Number>| n.map(Number::as_f64);
        let count = |n: Option<u64>| n.map(|n| n as f64);
        let numbers = Types::NUMBER.with(Types::INTEGER);
        let item_types = value.types.without_null();
        let numeric = !item_types.is_empty() && numbers.and(item_types) == item_types;
        let (mut low, mut high) = (number(value.minimum), number(value.maximum));
        if item_types == Types::INTEGER {
            // The integers above an exclusive minimum and below an exclusive maximum.
            let above = number(value.exclusive_minimum).map(|n| n.floor() + 1.0);
            let below = number(value.exclusive_maximum).map(|n| n.ceil() - 1.0);
            low = low.into_iter().chain(above).reduce(f64::max);
            high = high.into_iter().chain(below).reduce(f64::min);
        }
        (numeric && crossed(low, high))
            || (item_types == Types::STRING
                && crossed(count(value.min_length), count(value.max_length)))
            || (types == Types::ARRAY && crossed(count(own.min_items), count(own.max_items)))
    }

    /// What one value of the field is (one item, for a list): a choice where each shape that
    /// names it gives it fixed values (a tagged union's tag).
    pub fn kind(&self) -> FieldKind {
        if !self.shape_values().is_empty() {
            return FieldKind::Choice;
        }
        kind(&self.value_schema())
    }

    /// The allowed values, for a field (or list) of choices: those of its `enum` that every
    /// schema of a value takes; for a field shapes define each their own way, the values they
    /// each fix (`"mode": {"const": "text"}` in one, `"image"` in another).
    pub fn choices(&self) -> Vec<Choice> {
        let shapes = self.shape_values();
        if !shapes.is_empty() {
            return shapes;
        }
        let checks = self.value_checks();
        let listed = if self.is_list() {
            self.value_schema().choices
        } else {
            self.own_schema().choices
        };
        listed
            .into_iter()
            .flatten()
            .filter(|c| passes_all(&checks, &c.value.to_value()))
            .copied()
            .collect()
    }

    /// The choices of the alternatives of a field that is one of several things (fal's
    /// `image_size`: one of some words, or an object), for help: each alternative's `enum`, in
    /// order, each once; none when the field's own [`choices`](Self::choices) say it all.
    pub fn alternative_choices(&self) -> Vec<Choice> {
        if !self.choices().is_empty() {
            return Vec::new();
        }
        let mut out: Vec<Choice> = Vec::new();
        let alternatives = self
            .own_schemas()
            .into_iter()
            .flat_map(|s| s.any_of.iter().chain(s.one_of).copied());
        for alternative in alternatives {
            let listed = alternative
                .in_place()
                .into_iter()
                .find_map(|s| s.choices)
                .unwrap_or_default();
            for choice in listed {
                let value = choice.value.to_value();
                if !out.iter().any(|c| c.value.to_value() == value) {
                    out.push(*choice);
                }
            }
        }
        out
    }

    /// For a field (or a list's item) that is one of several object shapes a tag tells apart
    /// (a discriminated union), the tag and each shape's value of it, in order: for help. The
    /// tag is a property every shape requires and fixes to a text of its own.
    pub fn shape_tags(&self) -> Option<(&'static str, Vec<&'static str>)> {
        let shapes: Vec<Vec<&'static Schema>> = self
            .value_schemas()
            .into_iter()
            .flat_map(|s| s.any_of.iter().chain(s.one_of).copied())
            .map(Schema::in_place)
            .filter(|shape| {
                shape
                    .iter()
                    .all(|s| s.admitted_types().allows(JsonType::Object))
                    && shape.iter().any(|s| s.types == Types::OBJECT)
            })
            .collect();
        if shapes.len() < 2 {
            return None;
        }
        let fixed = |shape: &[&'static Schema], name: &str| -> Option<&'static str> {
            if !shape.iter().any(|s| s.requires(name)) {
                return None;
            }
            // What every definition of the property says, through its `$ref`s, in one.
            let definitions: Vec<&'static Schema> =
                shape.iter().filter_map(|s| s.property(name)).collect();
            let own = facts(&definitions);
            match (own.constant, own.choices) {
                (Some(Json::String(text)), _) => Some(*text),
                (None, Some([one])) => match one.value {
                    Json::String(text) => Some(text),
                    _ => None,
                },
                _ => None,
            }
        };
        let names = shapes[0]
            .iter()
            .flat_map(|s| s.properties.iter().map(|p| p.name));
        for name in names {
            let values: Option<Vec<&'static str>> =
                shapes.iter().map(|shape| fixed(shape, name)).collect();
            if let Some(values) = values
                && values
                    .iter()
                    .enumerate()
                    .all(|(i, v)| !values[..i].contains(v))
            {
                return Some((name, values));
            }
        }
        None
    }

    /// For a field several branches define, each fixing its values (`const`, `enum`), all of
    /// them, each once; else none.
    fn shape_values(&self) -> Vec<Choice> {
        let definitions = self.branch_definitions();
        if definitions.len() < 2 {
            return Vec::new();
        }
        let mut out: Vec<Choice> = Vec::new();
        for definition in definitions {
            let own = facts(&[definition]);
            let fixed: Vec<Choice> = match (own.constant, own.choices) {
                (Some(value), _) => vec![Choice::new(*value)],
                (None, Some(choices)) => choices.to_vec(),
                (None, None) => return Vec::new(),
            };
            for choice in fixed {
                let value = choice.value.to_value();
                if !out.iter().any(|c| c.value.to_value() == value) {
                    out.push(choice);
                }
            }
        }
        out
    }

    /// The choice a user means by `raw`: its value or alias, exactly, else ignoring ASCII case,
    /// among the [`choices`](Self::choices) a value takes.
    pub fn find_choice(&self, raw: &str) -> Option<Choice> {
        find_choice(&self.choices(), raw)
    }

    /// Every choice a user may mean by `raw`, the likeliest first: exactly its value or
    /// alias, then ignoring ASCII case.
    pub fn matching_choices(&self, raw: &str) -> Vec<Choice> {
        matching(&self.choices(), raw)
    }

    /// The media spec, for a media field or a list of media.
    pub fn media(&self) -> Option<&'static MediaSpec> {
        self.value_schema().media
    }
}

/// Whether some value of JSON type `json` may pass `schema` by types alone: its `type`, and
/// through its `anyOf`/`oneOf` alternatives, deep enough for any catalog's nesting (past it,
/// types say yes). An upper bound: its other keywords may still refuse every such value.
fn admits(schema: &Schema, json: JsonType) -> bool {
    fn within(schema: &Schema, json: JsonType, depth: u8) -> bool {
        schema.admitted_types().allows(json)
            && (depth == 0
                || [schema.any_of, schema.one_of].iter().all(|alternatives| {
                    alternatives.is_empty()
                        || alternatives.iter().any(|a| within(a, json, depth - 1))
                }))
    }
    within(schema, json, 8)
}

/// The schemas in order, each once (the same node may be reached twice).
pub(crate) fn once_each(schemas: impl Iterator<Item = &'static Schema>) -> Vec<&'static Schema> {
    let mut out: Vec<&'static Schema> = Vec::new();
    for schema in schemas {
        if !out.iter().any(|s| std::ptr::eq(*s, schema)) {
            out.push(schema);
        }
    }
    out
}

/// Whether `value` passes every one of `schemas`.
fn passes_all(schemas: &[&'static Schema], value: &serde_json::Value) -> bool {
    schemas
        .iter()
        .all(|s| crate::validate::value(s, value, &Path::root(), Files::Wire).is_valid())
}

/// `schemas` and, for each whose `anyOf` (or `oneOf`) is `[X, {"type": "null"}]`, `X` and what
/// its `allOf` brings, each once.
fn through_null(schemas: &[&'static Schema]) -> Vec<&'static Schema> {
    let mut out: Vec<&'static Schema> = Vec::new();
    let mut stack: Vec<&'static Schema> = schemas.iter().rev().copied().collect();
    while let Some(schema) = stack.pop() {
        if out.iter().any(|s| std::ptr::eq(*s, schema)) {
            continue;
        }
        out.push(schema);
        // A value other than null passes `[X, {"type": "null"}]` only by passing X.
        if let Some(one) = Schema::lone_non_null(alternatives(schema)) {
            stack.extend(one.in_place().into_iter().rev());
        }
    }
    out
}

/// `schemas` met in one: the types they all admit, the first choices, format, media, pattern
/// and items any of them has, and each bound the tightest.
fn facts(schemas: &[&'static Schema]) -> Schema {
    let mut out = Schema::ANY;
    for schema in through_null(schemas) {
        meet(&mut out, schema);
    }
    out
}

/// What a value is when it passes one of `schemas` (branches that each define the field): the
/// types any of them admits, and the media and format they all say alike; the first's words.
fn either(schemas: &[&'static Schema]) -> Schema {
    let each: Vec<Schema> = schemas.iter().map(|s| facts(&[s])).collect();
    let first = each.first();
    Schema {
        types: each
            .iter()
            .fold(Types::NONE, |types, s| types.with(s.types)),
        media: first.and_then(|f| f.media).filter(|media| {
            each.iter()
                .all(|s| s.media.is_some_and(|m| std::ptr::eq(m, *media)))
        }),
        format: first
            .and_then(|f| f.format)
            .filter(|format| each.iter().all(|s| s.format == Some(*format))),
        title: each.iter().find_map(|s| s.title),
        description: each.iter().find_map(|s| s.description),
        ..Schema::ANY
    }
}

/// Narrows `out` by what `schema` says.
fn meet(out: &mut Schema, schema: &'static Schema) {
    fn tighter<T: PartialOrd + Copy>(a: Option<T>, b: Option<T>, keep_larger: bool) -> Option<T> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if (a < b) == keep_larger { b } else { a }),
            (a, b) => a.or(b),
        }
    }
    out.types = out.types.meet(schema.admitted_types());
    // No value is two constants.
    if let Some((a, b)) = out.constant.zip(schema.constant)
        && a.to_value() != b.to_value()
    {
        out.types = Types::NONE;
    }
    out.choices = out.choices.or(schema.choices);
    out.constant = out.constant.or(schema.constant);
    out.minimum = tighter(out.minimum, schema.minimum, true);
    out.maximum = tighter(out.maximum, schema.maximum, false);
    out.exclusive_minimum = tighter(out.exclusive_minimum, schema.exclusive_minimum, true);
    out.exclusive_maximum = tighter(out.exclusive_maximum, schema.exclusive_maximum, false);
    out.multiple_of = out.multiple_of.or(schema.multiple_of);
    out.min_length = tighter(out.min_length, schema.min_length, true);
    out.max_length = tighter(out.max_length, schema.max_length, false);
    out.pattern = out.pattern.or(schema.pattern);
    out.format = out.format.or(schema.format);
    out.media = out.media.or(schema.media);
    if matches!(out.items, Items::Any) {
        out.items = schema.items;
    }
    out.min_items = tighter(out.min_items, schema.min_items, true);
    out.max_items = tighter(out.max_items, schema.max_items, false);
    out.unique_items |= schema.unique_items;
    if out.properties.is_empty() {
        out.properties = schema.properties;
    }
    if out.required.is_empty() {
        out.required = schema.required;
    }
    out.additional_properties = out.additional_properties.or(schema.additional_properties);
    out.title = out.title.or(schema.title);
    out.description = out.description.or(schema.description);
    out.default = out.default.or(schema.default);
}

/// A schema's `anyOf`, else its `oneOf`.
fn alternatives(schema: &'static Schema) -> &'static [&'static Schema] {
    if schema.any_of.is_empty() {
        schema.one_of
    } else {
        schema.any_of
    }
}

/// The choice of `choices` a user means by `raw`: the first of [`matching`].
pub(crate) fn find_choice(choices: &[Choice], raw: &str) -> Option<Choice> {
    matching(choices, raw).into_iter().next()
}

/// The choices of `choices` whose value or alias is `raw` (trimmed): exactly first, then
/// ignoring ASCII case, each once.
fn matching(choices: &[Choice], raw: &str) -> Vec<Choice> {
    let raw = raw.trim();
    let exact = choices
        .iter()
        .filter(|c| c.text() == raw || c.alias == Some(raw));
    let loose = choices.iter().filter(|c| {
        c.text().eq_ignore_ascii_case(raw) || c.alias.is_some_and(|a| a.eq_ignore_ascii_case(raw))
    });
    let mut out: Vec<Choice> = Vec::new();
    for choice in exact.chain(loose) {
        if !out
            .iter()
            .any(|c| c.value.to_value() == choice.value.to_value())
        {
            out.push(*choice);
        }
    }
    out
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
    /// Whether its text names the job's files (a string, or a list of strings): every
    /// non-empty string there is a file to fetch, as the model's typed output reads it.
    pub files: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Number;
    use crate::schema::Property;

    static SEED: Schema = Schema {
        types: Types::INTEGER,
        minimum: Some(Number::from_i64(0)),
        ..Schema::ANY
    };
    static NULL: Schema = Schema {
        types: Types::NULL,
        ..Schema::ANY
    };
    static TEXT: Schema = Schema {
        types: Types::STRING,
        ..Schema::ANY
    };
    static NULLABLE_SEED: Schema = Schema {
        any_of: &[&SEED, &NULL],
        ..Schema::ANY
    };
    static ONLY_SEED: Schema = Schema {
        all_of: &[&SEED],
        ..Schema::ANY
    };
    static EITHER: Schema = Schema {
        one_of: &[&SEED, &TEXT],
        ..Schema::ANY
    };

    static SEED_NO_DEFAULT: Schema = Schema {
        types: Types::INTEGER,
        default: Some(&Json::Null),
        ..Schema::ANY
    };
    static NULLABLE_NULL_DEFAULT: Schema = Schema {
        any_of: &[&SEED, &NULL],
        default: Some(&Json::Null),
        ..Schema::ANY
    };

    static SIZES: Schema = Schema {
        types: Types::STRING,
        choices: Some(&[
            Choice::new(Json::String("a")),
            Choice::new(Json::String("b")),
        ]),
        ..Schema::ANY
    };
    // `{"$ref": "#/definitions/sizes"}`, then `{"allOf": [that], "default": "a"}`.
    static SIZES_REF: Schema = Schema {
        all_of: &[&SIZES],
        ..Schema::ANY
    };
    static SIZE: Schema = Schema {
        all_of: &[&SIZES_REF],
        default: Some(&Json::String("a")),
        ..Schema::ANY
    };

    fn field(schema: &'static Schema) -> Field {
        Field {
            name: "f",
            schema,
            required: false,
            input: &Schema::ANY,
        }
    }

    #[test]
    fn a_nullable_or_lone_branch_says_what_the_field_is() {
        let nullable = field(&NULLABLE_SEED);
        assert_eq!(nullable.own_schema().types, Types::INTEGER);
        assert_eq!(nullable.own_schema().minimum, Some(Number::from_i64(0)));
        assert_eq!(nullable.kind(), FieldKind::Integer);
        assert!(nullable.nullable());
        let only = field(&ONLY_SEED);
        assert_eq!(only.kind(), FieldKind::Integer);
        assert!(!only.nullable());
        // Two real alternatives: JSON, as before.
        let either = field(&EITHER);
        assert!(either.own_schema().types.is_any());
        assert_eq!(either.kind(), FieldKind::Json);
        // Its choices two `allOf`s down.
        let size = field(&SIZE);
        assert!(matches!(size.own_schema().default, Some(Json::String("a"))));
        assert_eq!(size.kind(), FieldKind::Choice);
        assert!(size.find_choice("b").is_some());
        // No `type` of its own, yet its alternatives take no `null`.
        assert!(!either.nullable());
        assert!(field(&Schema::ANY).nullable());
    }

    // `{"$ref": "#/$defs/in", "properties": {"w": {"maximum": 4096, "allOf": [DIM, {"multipleOf": 64}]}}}`,
    // `in` saying `w` is an integer of at least 256.
    static DIM: Schema = Schema {
        types: Types::INTEGER.with(Types::NULL),
        minimum: Some(Number::from_i64(64)),
        maximum: Some(Number::from_i64(2048)),
        ..Schema::ANY
    };
    static STEP: Schema = Schema {
        multiple_of: Some(Number::from_i64(64)),
        ..Schema::ANY
    };
    static W: Schema = Schema {
        maximum: Some(Number::from_i64(4096)),
        all_of: &[&DIM, &STEP],
        ..Schema::ANY
    };
    static W_IN: Schema = Schema {
        types: Types::INTEGER,
        minimum: Some(Number::from_i64(256)),
        ..Schema::ANY
    };
    static IN: Schema = Schema {
        properties: &[Property {
            name: "w",
            schema: &W_IN,
        }],
        ..Schema::ANY
    };
    static INPUT: Schema = Schema {
        properties: &[Property {
            name: "w",
            schema: &W,
        }],
        all_of: &[&IN],
        ..Schema::ANY
    };

    #[test]
    fn a_field_is_what_all_its_schemas_say() {
        let w = Field {
            name: "w",
            schema: &W,
            required: false,
            input: &INPUT,
        };
        assert_eq!(w.schemas().len(), 4);
        let own = w.own_schema();
        assert_eq!(w.kind(), FieldKind::Integer);
        // `in` says no null, though `DIM` takes one.
        assert!(!w.nullable());
        assert_eq!(own.minimum, Some(Number::from_i64(256)));
        assert_eq!(own.maximum, Some(Number::from_i64(2048)));
        assert_eq!(own.multiple_of, Some(Number::from_i64(64)));
        // What the input's own property says is all there is without the input.
        let alone = Field { input: &W, ..w };
        assert!(alone.nullable());
        assert_eq!(alone.own_schema().minimum, Some(Number::from_i64(64)));
    }

    // `{"properties": {"e": {"enum": ["a", "b", 5], "default": "a", "maxLength": 4,
    // "minLength": 2}}, "allOf": [{"properties": {"e": {"type": "string", "default": "b"}}}]}`:
    // only "b" of the choices is text, and its lengths cross.
    static E: Schema = Schema {
        choices: Some(&[
            Choice::new(Json::String("a")),
            Choice::new(Json::String("b")),
            Choice::new(Json::int(5)),
        ]),
        default: Some(&Json::String("a")),
        ..Schema::ANY
    };
    static E_TEXT: Schema = Schema {
        types: Types::STRING,
        max_length: Some(1),
        default: Some(&Json::String("b")),
        ..Schema::ANY
    };
    static E_MEMBER: Schema = Schema {
        properties: &[Property {
            name: "e",
            schema: &E_TEXT,
        }],
        ..Schema::ANY
    };
    static E_INPUT: Schema = Schema {
        properties: &[Property {
            name: "e",
            schema: &E,
        }],
        all_of: &[&E_MEMBER],
        ..Schema::ANY
    };
    static LONG: Schema = Schema {
        types: Types::STRING,
        min_length: Some(2),
        ..Schema::ANY
    };

    #[test]
    fn choices_and_defaults_are_those_every_schema_takes() {
        let e = Field {
            name: "e",
            schema: &E,
            required: false,
            input: &E_INPUT,
        };
        let choices: Vec<String> = e.choices().iter().map(|c| c.text()).collect();
        assert_eq!(choices, ["a", "b"]);
        // "a" is the field's own default, and every schema takes it.
        assert!(matches!(e.default(), Some(Json::String("a"))));
        assert!(!e.never_valid());
        // A member asking for 2 characters at least, where another allows 1 at most.
        static CROSSED: Schema = Schema {
            all_of: &[&E_TEXT, &LONG],
            ..Schema::ANY
        };
        assert!(field(&CROSSED).never_valid());
        assert!(field(&CROSSED).default().is_none());
    }

    #[test]
    fn a_null_default_is_one_only_where_null_is_a_value() {
        assert!(field(&SEED_NO_DEFAULT).default().is_none());
        assert!(matches!(
            field(&NULLABLE_NULL_DEFAULT).default(),
            Some(Json::Null)
        ));
    }
}
