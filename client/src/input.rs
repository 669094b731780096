//! The one way from JSON to a request body: decode into the model's typed input, validate it,
//! encode the typed value.
//!
//! The typed API starts from a typed input; the CLI, the batch engine and the simulator start
//! from JSON and call [`decode`] (through
//! [`ModelInfo::decode`](crate::model::ModelInfo::decode)), so every caller sends what the
//! typed input serializes to and reports the same problems in the same words. Decoding is
//! exact: a JSON value decodes only into a typed value that serializes back to it, so what
//! is validated is what is sent.
//!
//! The rest of the module is what generated input types use for that exactness. [`DynInput`]
//! and [`encode`] are defined in `model`, beside the [`ModelInfo`] a
//! [`DynInput`] holds, and re-exported here.

use std::fmt;
use std::marker::PhantomData;

use runcomfy_vocab::pointer::Path;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::media::Files;
use crate::model::{Input, Model, ModelInfo};
use crate::report::{Problem, ValidationError};
use crate::validate;

#[doc(inline)]
pub use crate::model::{DynInput, encode};

/// A typed input decoded from JSON and validated, with the warnings it raised.
#[derive(Debug, Clone)]
pub struct Decoded<I> {
    /// The input.
    pub input: I,
    /// Problems that do not stop it from being sent.
    pub warnings: Vec<Problem>,
}

/// Decodes a JSON input of `I`'s model and validates it: every problem at once.
///
/// A value the typed input cannot hold (a wrong type, a missing field, an unknown field, an
/// array where an object belongs) is reported by the same validator, from the JSON, at its
/// path, with every other problem of the input.
pub fn decode<I: Input>(
    json: &serde_json::Value,
    files: Files,
) -> Result<Decoded<I>, ValidationError> {
    let model = <I::Model as Model>::info();
    match serde_path_to_error::deserialize::<_, I>(json) {
        Ok(input) => {
            let warnings = validate::typed_input(model, &input, files).into_result()?;
            Ok(Decoded { input, warnings })
        }
        Err(err) => {
            let mut report = validate::input(model, json, files);
            if report.is_valid() {
                // The schema accepts what the generated type cannot hold: say so, at its path.
                let message = format!("cannot be read as the typed input: {}", err.inner());
                report.error(&decode_path(err.path()), "type", None, message);
            }
            Err(ValidationError { report })
        }
    }
}

/// Where a decoding error lies, as validation writes paths.
fn decode_path(path: &serde_path_to_error::Path) -> Path {
    use serde_path_to_error::Segment;
    path.iter()
        .fold(Path::root(), |path, segment| match segment {
            Segment::Seq { index } => path.index(*index),
            Segment::Map { key } => path.key(key),
            Segment::Enum { variant } => path.key(variant),
            Segment::Unknown => path,
        })
}

/// [`decode`] for a model chosen at run time: what every generated
/// [`ModelInfo::decode`](crate::model::ModelInfo::decode) is.
pub fn decode_dyn<I: Input>(
    model: &'static ModelInfo,
    json: &serde_json::Value,
    files: Files,
) -> Result<DynInput, ValidationError> {
    let Decoded { input, warnings } = decode::<I>(json, files)?;
    Ok(DynInput::new(model, input, warnings))
}

/// Deserializes an optional field that is not nullable: present means a value (`null` is
/// refused, not read as absent, so it is never dropped from what is sent).
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Deserializes an optional nullable field: absent is `None`, `null` is `Some(None)`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Deserializes a required nullable field: `null` is `None`, and absent is an error (serde
/// would read a missing `Option` as `None`).
pub fn required_nullable<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

/// A struct read from a JSON object's entries. [`object`] reads it from objects only: serde's
/// derive also fills a struct from an array, by position, which JSON Schema does not.
pub trait FromObject<'de>: Sized {
    /// Reads the struct from the entries of an object.
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

/// Reads JSON text a person wrote (`--input`, a batch line, a record): a leading byte order
/// mark is skipped, and a key given twice in one object is an error (see `runcomfy_json`).
pub use runcomfy_json::parse as parse_json;

/// Reads `reader` to its end, refusing more than `limit` bytes: a file that never ends
/// (`/dev/zero`) or is not what was meant is an [`std::io::ErrorKind::InvalidData`] error
/// saying so, read no further than the limit, rather than all the memory there is (QA
/// repro50 F1).
pub fn read_at_most(reader: impl std::io::Read, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("more than {limit} bytes: not an input this reads"),
        ));
    }
    Ok(bytes)
}

/// [`read_at_most`] of the file at `path`, as UTF-8 text.
pub fn read_text_at_most(path: &std::path::Path, limit: u64) -> std::io::Result<String> {
    text_of(read_at_most(std::fs::File::open(path)?, limit)?)
}

/// The bytes as UTF-8 text, or an [`std::io::ErrorKind::InvalidData`] error.
pub fn text_of(bytes: Vec<u8>) -> std::io::Result<String> {
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// Deserializes `T` from a JSON object, and from nothing else.
pub fn object<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromObject<'de>,
{
    struct ObjectVisitor<T>(PhantomData<T>);
    impl<'de, T: FromObject<'de>> Visitor<'de> for ObjectVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::from_map(map)
        }
    }
    deserializer.deserialize_map(ObjectVisitor(PhantomData))
}

/// Implements `Serialize` and `Deserialize` for a struct whose derives were made with
/// `#[serde(remote = "Self")]`, reading it from JSON objects only ([`object`]).
#[macro_export]
#[doc(hidden)]
macro_rules! object_serde {
    ($ty:ident) => {
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $ty::serialize(self, serializer)
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                $crate::input::object(deserializer)
            }
        }
        impl<'de> $crate::input::FromObject<'de> for $ty {
            fn from_map<A: ::serde::de::MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
                $ty::deserialize(::serde::de::value::MapAccessDeserializer::new(map))
            }
        }
    };
}
