//! A model's fields as the CLI, `describe` and the simulator read them: each input [`Field`]
//! with the [`FieldKind`] of value it takes and its choices, and each [`OutputField`].
//!
//! Plain readings of the schema statics, below [`ModelInfo`](crate::catalog::ModelInfo), whose
//! `fields()` they are; re-exported by `catalog`.

use runcomfy_vocab::pointer::Path;

use crate::media::Files;
use crate::schema::{Choice, Items, Json, MediaKind, MediaSpec, Schema, Types};

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

    /// The default, if the schema has one. A `null` default of a field that cannot be null is
    /// none: catalogs write `"default": null` to say there is no default.
    pub fn default(&self) -> Option<&'static Json> {
        self.schema
            .default
            .filter(|d| !matches!(d, Json::Null) || self.nullable())
    }

    /// Whether JSON `null` is a valid value: the validator's answer, so a field with no `type`
    /// whose `anyOf` takes no `null` is not said to take one.
    pub fn nullable(&self) -> bool {
        let null = serde_json::Value::Null;
        crate::validate::value(self.schema, &null, &Path::root(), Files::Wire).is_valid()
    }

    /// The schema that says what a value is: the field's, or for a field with no `type` of its
    /// own, the one alternative of `[X, {"type": "null"}]` (`anyOf`, `oneOf`) or a lone
    /// `allOf` entry, and so on down. Its kind, bounds and media are the field's.
    pub fn own_schema(&self) -> &'static Schema {
        let mut schema = self.schema;
        // Through a chain of them: `{"allOf": [{"$ref": ...}]}` is two (the `$ref` is one).
        for _ in 0..8 {
            if !schema.types.is_any() || schema.media.is_some() || schema.choices.is_some() {
                break;
            }
            schema = match (schema.all_of, Schema::lone_non_null(alternatives(schema))) {
                ([], Some(one)) => one,
                ([one], None) if alternatives(schema).is_empty() => one,
                _ => break,
            };
        }
        schema
    }

    /// Whether the field holds a list: an array of one kind of item.
    pub fn is_list(&self) -> bool {
        let own = self.own_schema();
        own.types.without_null() == Types::ARRAY && matches!(own.items, Items::Each(_) | Items::Any)
    }

    /// The schema of one value: the item's for a list, else the field's own.
    pub fn value_schema(&self) -> &'static Schema {
        let own = self.own_schema();
        match (self.is_list(), own.items) {
            (true, Items::Each(item)) => item,
            _ => own,
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

/// A schema's `anyOf`, else its `oneOf`.
fn alternatives(schema: &'static Schema) -> &'static [&'static Schema] {
    if schema.any_of.is_empty() {
        schema.one_of
    } else {
        schema.any_of
    }
}

pub(crate) fn find_choice(schema: &Schema, raw: &str) -> Option<&'static Choice> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Number;

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
        }
    }

    #[test]
    fn a_nullable_or_lone_branch_says_what_the_field_is() {
        let nullable = field(&NULLABLE_SEED);
        assert!(std::ptr::eq(nullable.own_schema(), &SEED));
        assert_eq!(nullable.kind(), FieldKind::Integer);
        assert!(nullable.nullable());
        let only = field(&ONLY_SEED);
        assert_eq!(only.kind(), FieldKind::Integer);
        assert!(!only.nullable());
        // Two real alternatives: JSON, as before.
        let either = field(&EITHER);
        assert!(std::ptr::eq(either.own_schema(), &EITHER));
        assert_eq!(either.kind(), FieldKind::Json);
        // Its choices two `allOf`s down.
        let size = field(&SIZE);
        assert!(std::ptr::eq(size.own_schema(), &SIZES));
        assert_eq!(size.kind(), FieldKind::Choice);
        assert!(size.find_choice("b").is_some());
        // No `type` of its own, yet its alternatives take no `null`.
        assert!(!either.nullable());
        assert!(field(&Schema::ANY).nullable());
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
