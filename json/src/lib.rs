//! JSON text people write, read strictly, by everything that reads it: the catalog's files
//! (schemas, overlays, the files `xtask import` reads) and a user's input (`--input`, batch
//! lines, records).
//!
//! serde_json reads JSON as the standard allows; people's files need two things more. Editors
//! on Windows write a byte order mark first, which is skipped; and a key given twice in one
//! object is an error, where a parser silently keeps the last (which one was meant?).

use std::fmt;

use serde::Deserializer;
use serde::de::{MapAccess, Visitor};

/// The text without a leading byte order mark.
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Reads JSON text: a leading byte order mark is skipped, and a key given twice in one object
/// is an error naming it, with its line and column.
pub fn parse(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    read(&mut serde_json::Deserializer::from_str(without_bom(text)))
}

/// [`parse`] of bytes: JSON a server sent, where a key given twice is as ambiguous (which did
/// it mean?) and must not be read as the last.
pub fn parse_slice(bytes: &[u8]) -> Result<serde_json::Value, serde_json::Error> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    read(&mut serde_json::Deserializer::from_slice(bytes))
}

fn read<'de, R: serde_json::de::Read<'de>>(
    deserializer: &mut serde_json::Deserializer<R>,
) -> Result<serde_json::Value, serde_json::Error> {
    let value = deserializer.deserialize_any(OnceKeyed)?;
    deserializer.end()?;
    Ok(value)
}

/// Builds a JSON value as `serde_json` does, refusing a key given twice in one object.
struct OnceKeyed;

impl<'de> serde::de::DeserializeSeed<'de> for OnceKeyed {
    type Value = serde_json::Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for OnceKeyed {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        serde_json::Number::from_f64(v)
            .map(serde_json::Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(OnceKeyed)? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key {key:?} is given twice in one object"
                )));
            }
            let value = map.next_value_seed(OnceKeyed)?;
            object.insert(key, value);
        }
        Ok(serde_json::Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_serde_json_reads_but_for_keys_given_twice() {
        let text =
            r#"{"a": [1, -2, 3.0, 1e300, 18446744073709551615, null, true, "x"], "b": {"c": {}}}"#;
        for text in [text.to_owned(), format!("\u{feff}{text}")] {
            let expected: serde_json::Value =
                serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap_or_default();
            assert_eq!(parse(&text).ok(), Some(expected), "{text}");
        }
        let twice = parse(r#"{"a": {"b": 1, "b": 2}}"#)
            .err()
            .map(|e| e.to_string());
        assert!(
            twice
                .as_deref()
                .is_some_and(|e| e.contains("\"b\" is given twice") && e.contains("column")),
            "{twice:?}"
        );
        assert!(parse("{} {}").is_err(), "trailing text");
        assert_eq!(
            parse_slice(text.as_bytes()).ok(),
            serde_json::from_str(text).ok()
        );
        assert!(parse_slice(br#"{"a": 1, "a": 2}"#).is_err());
    }
}
