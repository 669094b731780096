//! Counting the values of a JSON text without building them: a reply's bytes are capped, but
//! read as a tree each value costs tens of bytes however short its text (`0,` is two), so a
//! reply is counted before it is read.

use std::cell::Cell;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// Whether `json` holds more than `limit` values (objects, arrays, keys and scalars), reading
/// no further than the value past the limit. Text that is not JSON is not counted (`false`):
/// the reader proper reports it.
pub(crate) fn more_values_than(json: &[u8], limit: usize) -> bool {
    let left = Cell::new(Some(limit));
    let mut reader = serde_json::Deserializer::from_slice(json);
    // An error is either the limit or text that is not JSON; `left` says which.
    let _ = reader.deserialize_any(Counter { left: &left });
    left.get().is_none()
}

/// Takes one value from the budget of each one it visits, inside arrays and objects too.
#[derive(Clone, Copy)]
struct Counter<'a> {
    /// `None` once a value past the limit was seen.
    left: &'a Cell<Option<usize>>,
}

impl Counter<'_> {
    fn take<E: de::Error>(self) -> Result<(), E> {
        let left = self.left.get().and_then(|left| left.checked_sub(1));
        self.left.set(left);
        match left {
            Some(_) => Ok(()),
            None => Err(E::custom("too many values")),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Counter<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Counter<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.take()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.take()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.take()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.take()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.take()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.take()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.take()?;
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.take()?;
        while map.next_key_seed(self)?.is_some() {
            map.next_value_seed(self)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_value_at_any_depth() {
        // The object, 3 keys, the array, its 3 numbers, the string and `null`: 10.
        let json = br#"{"a": [1, 2.5, -3], "b": "x", "c": null}"#;
        assert!(!more_values_than(json, 11));
        assert!(!more_values_than(json, 10));
        assert!(more_values_than(json, 9));
        assert!(more_values_than(b"[true, false]", 2));
    }

    #[test]
    fn text_that_is_not_json_is_left_to_the_reader() {
        assert!(!more_values_than(b"[1, 2", 100));
        assert!(!more_values_than(b"<html>", 100));
        // Broken past the limit: still too many; broken at it: not.
        assert!(more_values_than(b"[1, 2, 3, 4 oops", 2));
        assert!(!more_values_than(b"[1, oops", 2));
    }
}
