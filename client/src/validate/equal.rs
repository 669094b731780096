//! JSON equality as JSON Schema defines it (`enum`, `const`, `uniqueItems`): numbers by value
//! (`1 == 1.0`), objects regardless of key order, `true` never equal to `1`.

use super::instance::View;
use crate::media::Media;
use crate::schema::Json;

/// Whether two values are equal.
pub fn views(a: View<'_>, b: View<'_>) -> bool {
    match (a, b) {
        (View::Null, View::Null) => true,
        (View::Bool(x), View::Bool(y)) => x == y,
        (View::Number(x), View::Number(y)) => x == y,
        (View::Array(x), View::Array(y)) => {
            x.len() == y.len()
                && (0..x.len()).all(|i| match (x.item(i), y.item(i)) {
                    (Some(p), Some(q)) => views(p.view(), q.view()),
                    _ => false,
                })
        }
        (View::Object(x), View::Object(y)) => {
            let entries = x.entries();
            entries.len() == y.len()
                && entries
                    .iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| views(v.view(), w.view())))
        }
        (a, b) => match (text(a), text(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// A hash that agrees with [`views`]: equal values hash alike (numbers by their value as a
/// float, which equal numbers share; objects whatever their key order), so `uniqueItems` looks
/// for a repeat among a few items, not all before it.
pub fn hash(view: View<'_>) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    match view {
        View::Null => 0u8.hash(&mut hasher),
        View::Bool(b) => (1u8, b).hash(&mut hasher),
        View::Number(n) => {
            // `-0.0` is `0`.
            let f = n.as_f64();
            (2u8, if f == 0.0 { 0 } else { f.to_bits() }).hash(&mut hasher);
        }
        View::Array(items) => {
            (3u8, items.len()).hash(&mut hasher);
            for item in (0..items.len()).filter_map(|i| items.item(i)) {
                hash(item.view()).hash(&mut hasher);
            }
        }
        View::Object(object) => {
            // Summed, so the order of the keys does not count.
            let entries = object.entries();
            let sum = entries.iter().fold(0u64, |sum, (key, value)| {
                let mut entry = DefaultHasher::new();
                (key, hash(value.view())).hash(&mut entry);
                sum.wrapping_add(entry.finish())
            });
            (4u8, entries.len(), sum).hash(&mut hasher);
        }
        other => match text(other) {
            Some(text) => (5u8, text).hash(&mut hasher),
            // A local file or bytes: equal to nothing, so any hash will do.
            None => 6u8.hash(&mut hasher),
        },
    }
    hasher.finish()
}

/// Whether a value equals a known one.
pub fn json(a: View<'_>, b: &Json) -> bool {
    match (a, b) {
        (View::Null, Json::Null) => true,
        (View::Bool(x), Json::Bool(y)) => x == *y,
        (View::Number(x), Json::Number(y)) => x == *y,
        (View::Array(x), Json::Array(items)) => {
            x.len() == items.len()
                && items
                    .iter()
                    .enumerate()
                    .all(|(i, item)| x.item(i).is_some_and(|v| json(v.view(), item)))
        }
        (View::Object(x), Json::Object(entries)) => {
            x.len() == entries.len()
                && entries
                    .iter()
                    .all(|(k, v)| x.get(k).is_some_and(|w| json(w.view(), v)))
        }
        (a, Json::String(s)) => text(a).is_some_and(|t| t == *s),
        _ => false,
    }
}

/// The text of a string, or of a media file given as text (a URL or `data:` URI).
fn text(view: View<'_>) -> Option<&str> {
    match view {
        View::String(s) => Some(s),
        View::Media(Media::Url(s) | Media::DataUri(s)) => Some(s),
        _ => None,
    }
}
