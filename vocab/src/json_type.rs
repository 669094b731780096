//! The JSON types a schema's `type` names, and sets of them.

use std::fmt;

/// One of JSON Schema's seven types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JsonType {
    /// `null`.
    Null,
    /// `boolean`.
    Boolean,
    /// `object`.
    Object,
    /// `array`.
    Array,
    /// `number`: any number, integers included.
    Number,
    /// `integer`: a number with no fractional part (`1.0` is one).
    Integer,
    /// `string`.
    String,
}

impl JsonType {
    /// Every type, in the order of this enum.
    pub const ALL: [JsonType; 7] = [
        JsonType::Null,
        JsonType::Boolean,
        JsonType::Object,
        JsonType::Array,
        JsonType::Number,
        JsonType::Integer,
        JsonType::String,
    ];

    /// The name `type` uses.
    pub const fn name(self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Boolean => "boolean",
            JsonType::Object => "object",
            JsonType::Array => "array",
            JsonType::Number => "number",
            JsonType::Integer => "integer",
            JsonType::String => "string",
        }
    }

    /// The type a `type` name stands for. Besides JSON Schema's names, RunComfy's catalog
    /// writes `float` for `number` (its API serves it), and older catalog files used a few
    /// programming-language spellings (`int`, `str`, `bool`, ...); they mean the same types.
    pub fn parse(name: &str) -> Option<JsonType> {
        if let Some(ty) = JsonType::ALL.iter().find(|t| t.name() == name) {
            return Some(*ty);
        }
        Some(match name.to_ascii_lowercase().as_str() {
            "float" | "double" | "decimal" => JsonType::Number,
            "int" | "long" => JsonType::Integer,
            "str" | "text" => JsonType::String,
            "bool" => JsonType::Boolean,
            "list" => JsonType::Array,
            "dict" => JsonType::Object,
            _ => return None,
        })
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of JSON types: what a schema's `type` allows. `integer` is a subset of `number`, so a
/// set with `number` holds every integer too.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Types(u8);

impl Types {
    /// No type: nothing is valid.
    pub const NONE: Types = Types(0);
    /// Every type: a schema without `type`.
    pub const ANY: Types = Types(0x7f);
    /// `null`.
    pub const NULL: Types = Types::of(JsonType::Null);
    /// `boolean`.
    pub const BOOLEAN: Types = Types::of(JsonType::Boolean);
    /// `object`.
    pub const OBJECT: Types = Types::of(JsonType::Object);
    /// `array`.
    pub const ARRAY: Types = Types::of(JsonType::Array);
    /// `number`.
    pub const NUMBER: Types = Types::of(JsonType::Number);
    /// `integer`.
    pub const INTEGER: Types = Types::of(JsonType::Integer);
    /// `string`.
    pub const STRING: Types = Types::of(JsonType::String);

    /// The set of one type.
    pub const fn of(ty: JsonType) -> Types {
        Types(ty.bit())
    }

    /// This set plus `other`.
    pub const fn with(self, other: Types) -> Types {
        Types(self.0 | other.0)
    }

    /// The types in both sets.
    pub const fn and(self, other: Types) -> Types {
        Types(self.0 & other.0)
    }

    /// The types a value passing both sets may have: those in both, and `integer` where one
    /// names it and the other `number` (which holds the integers).
    pub const fn meet(self, other: Types) -> Types {
        let both = self.and(other);
        if !both.allows(JsonType::Integer)
            && self.allows(JsonType::Integer)
            && other.allows(JsonType::Integer)
        {
            both.with(Types::INTEGER)
        } else {
            both
        }
    }

    /// This set without `null`.
    pub const fn without_null(self) -> Types {
        Types(self.0 & !JsonType::Null.bit())
    }

    /// Whether the set names `ty` itself (not counting `integer` inside `number`).
    pub const fn names(self, ty: JsonType) -> bool {
        self.0 & ty.bit() != 0
    }

    /// Whether a value of type `ty` is allowed. An integer is allowed by `number` too; a
    /// number with a fractional part is not an `integer`, so pass [`JsonType::Number`] for it.
    pub const fn allows(self, ty: JsonType) -> bool {
        match ty {
            JsonType::Integer => self.names(JsonType::Integer) || self.names(JsonType::Number),
            _ => self.names(ty),
        }
    }

    /// Whether every type is allowed.
    pub const fn is_any(self) -> bool {
        self.0 == Types::ANY.0
    }

    /// Whether no type is allowed.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The types named, in [`JsonType::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = JsonType> {
        JsonType::ALL.into_iter().filter(move |t| self.names(*t))
    }

    /// The types as a sentence says them, each with its article and `null` last and bare:
    /// `a string`, `an integer, a string or null`.
    pub fn phrase(self) -> String {
        let mut names: Vec<String> = self
            .iter()
            .filter(|&ty| ty != JsonType::Null)
            .map(|ty| {
                let name = ty.name();
                let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                format!("{article} {name}")
            })
            .collect();
        if self.names(JsonType::Null) {
            names.push("null".to_owned());
        }
        match names.split_last() {
            None => "nothing".to_owned(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        }
    }
}

impl fmt::Debug for Types {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for Types {
    /// `string`, `string or null`, `integer, string or null`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(JsonType::name).collect();
        match names.split_last() {
            None => f.write_str("nothing"),
            Some((last, [])) => f.write_str(last),
            Some((last, rest)) => write!(f, "{} or {last}", rest.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(JsonType::parse("integer"), Some(JsonType::Integer));
        assert_eq!(JsonType::parse("float"), Some(JsonType::Number));
        assert_eq!(JsonType::parse("Float"), Some(JsonType::Number));
        assert_eq!(JsonType::parse("any"), None);
    }

    #[test]
    fn integers_are_numbers() {
        assert!(Types::NUMBER.allows(JsonType::Integer));
        assert!(!Types::INTEGER.allows(JsonType::Number));
        assert!(Types::ANY.allows(JsonType::Null));
        let set = Types::STRING.with(Types::NULL);
        assert_eq!(set.to_string(), "null or string");
        assert!(!set.is_any());
        assert_eq!(Types::NONE.to_string(), "nothing");
        // What both `number` and `integer` admit is the integers.
        assert_eq!(Types::NUMBER.meet(Types::INTEGER), Types::INTEGER);
        assert_eq!(Types::NUMBER.meet(Types::ANY), Types::NUMBER);
        assert_eq!(Types::STRING.meet(Types::INTEGER), Types::NONE);
        assert_eq!(Types::NUMBER.and(Types::INTEGER), Types::NONE);
    }

    #[test]
    fn phrases_name_each_type_with_its_article_and_null_last() {
        assert_eq!(
            Types::NULL.with(Types::INTEGER).phrase(),
            "an integer or null"
        );
        assert_eq!(
            Types::STRING
                .with(Types::INTEGER)
                .with(Types::NULL)
                .phrase(),
            "an integer, a string or null"
        );
        assert_eq!(Types::NULL.phrase(), "null");
        assert_eq!(Types::OBJECT.phrase(), "an object");
    }
}
