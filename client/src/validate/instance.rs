//! How validation sees a value: as JSON, whether it is a typed input or a `serde_json::Value`.
//!
//! Every generated type implements [`Instance`], so one validator checks typed inputs and JSON
//! inputs alike, with the same messages. A typed value's view is exactly the JSON it
//! serializes to (files aside: a [`Media`] is seen as itself, so it is measured, never read
//! whole).

use serde_json::{Map, Value};

use runcomfy_vocab::json_type::JsonType;

use crate::media::Media;
use crate::number::{Integer, Number};

/// A value as JSON Schema sees it.
#[derive(Clone, Copy)]
pub enum View<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(&'a str),
    /// A media file, a string on the wire.
    Media(&'a Media),
    /// An array.
    Array(&'a dyn Array),
    /// An object.
    Object(&'a dyn Object),
}

impl View<'_> {
    /// The JSON type of the value: `integer` for a whole number, else `number`; `None` for a
    /// float that is not a JSON number (NaN, the infinities), which a typed input can hold.
    pub fn json_type(self) -> Option<JsonType> {
        Some(match self {
            View::Null => JsonType::Null,
            View::Bool(_) => JsonType::Boolean,
            View::Number(n) if !n.is_finite() => return None,
            View::Number(n) if n.is_integer() => JsonType::Integer,
            View::Number(_) => JsonType::Number,
            View::String(_) | View::Media(_) => JsonType::String,
            View::Array(_) => JsonType::Array,
            View::Object(_) => JsonType::Object,
        })
    }
}

impl std::fmt::Debug for View<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            View::Null => f.write_str("Null"),
            View::Bool(b) => f.debug_tuple("Bool").field(b).finish(),
            View::Number(n) => f.debug_tuple("Number").field(n).finish(),
            View::String(s) => f.debug_tuple("String").field(s).finish(),
            View::Media(m) => f.debug_tuple("Media").field(m).finish(),
            View::Array(items) => write!(f, "Array({} items)", items.len()),
            View::Object(object) => write!(f, "Object({} properties)", object.len()),
        }
    }
}

/// A value validation can look at.
pub trait Instance {
    /// The value as JSON.
    fn view(&self) -> View<'_>;
}

/// An array's items.
pub trait Array {
    /// How many items.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The item at `index`.
    fn item(&self, index: usize) -> Option<&dyn Instance>;
}

/// An object's properties.
pub trait Object {
    /// The properties present, in order.
    fn entries(&self) -> Vec<(&str, &dyn Instance)>;
    /// A property by name.
    fn get(&self, key: &str) -> Option<&dyn Instance> {
        find(&self.entries(), key)
    }
    /// How many properties are present.
    fn len(&self) -> usize {
        self.entries().len()
    }
    /// Whether none is present.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The value of `key` among an object's `entries`: for a caller that looks up several keys,
/// collecting them once ([`Object::get`] collects a generated struct's on every call).
pub fn find<'a>(entries: &[(&str, &'a dyn Instance)], key: &str) -> Option<&'a dyn Instance> {
    entries.iter().find_map(|(k, v)| (*k == key).then_some(*v))
}

impl Instance for Value {
    fn view(&self) -> View<'_> {
        match self {
            Value::Null => View::Null,
            Value::Bool(b) => View::Bool(*b),
            Value::Number(n) => View::Number(Number::from(n)),
            Value::String(s) => View::String(s),
            Value::Array(items) => View::Array(items),
            Value::Object(map) => View::Object(map),
        }
    }
}

impl Instance for Map<String, Value> {
    fn view(&self) -> View<'_> {
        View::Object(self)
    }
}

impl Object for Map<String, Value> {
    fn entries(&self) -> Vec<(&str, &dyn Instance)> {
        self.iter()
            .map(|(k, v)| (k.as_str(), v as &dyn Instance))
            .collect()
    }
    fn get(&self, key: &str) -> Option<&dyn Instance> {
        Map::get(self, key).map(|v| v as &dyn Instance)
    }
    fn len(&self) -> usize {
        Map::len(self)
    }
}

impl<T: Instance> Array for Vec<T> {
    fn len(&self) -> usize {
        <[T]>::len(self)
    }
    fn item(&self, index: usize) -> Option<&dyn Instance> {
        self.get(index).map(|v| v as &dyn Instance)
    }
}

impl<T: Instance> Instance for Vec<T> {
    fn view(&self) -> View<'_> {
        View::Array(self)
    }
}

/// `None` is JSON `null`: a nullable value. (An optional field that is absent is not in its
/// object's entries at all.)
impl<T: Instance> Instance for Option<T> {
    fn view(&self) -> View<'_> {
        match self {
            Some(value) => value.view(),
            None => View::Null,
        }
    }
}

impl<T: Instance + ?Sized> Instance for Box<T> {
    fn view(&self) -> View<'_> {
        (**self).view()
    }
}

impl Instance for String {
    fn view(&self) -> View<'_> {
        View::String(self)
    }
}

impl Instance for bool {
    fn view(&self) -> View<'_> {
        View::Bool(*self)
    }
}

impl Instance for Number {
    fn view(&self) -> View<'_> {
        View::Number(*self)
    }
}

impl Instance for Integer {
    fn view(&self) -> View<'_> {
        View::Number(self.number())
    }
}

impl Instance for Media {
    fn view(&self) -> View<'_> {
        View::Media(self)
    }
}

/// A field that is always present (required, or nullable and required).
pub fn field<T: Instance>(value: &T) -> Option<&dyn Instance> {
    Some(value)
}

/// An optional field: present when set.
pub fn optional<T: Instance>(value: &Option<T>) -> Option<&dyn Instance> {
    value.as_ref().map(|v| v as &dyn Instance)
}

/// The entries of a generated struct: its fields that are present ([`field`], [`optional`]),
/// then the properties its schema does not name.
pub fn entries<'a>(
    fields: impl IntoIterator<Item = (&'a str, Option<&'a dyn Instance>)>,
    extra: Option<&'a Map<String, Value>>,
) -> Vec<(&'a str, &'a dyn Instance)> {
    let mut out: Vec<(&str, &dyn Instance)> = fields
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    if let Some(extra) = extra {
        out.extend(extra.iter().map(|(k, v)| (k.as_str(), v as &dyn Instance)));
    }
    out
}
