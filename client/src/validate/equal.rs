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
