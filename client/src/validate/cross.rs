//! Rules across fields (an overlay's `rules`), checked on a whole input after its schema.

use runcomfy_vocab::cross::{CrossRuleKind, stated_count};
use runcomfy_vocab::pointer::Path;

use super::instance::{Instance, View, find};
use crate::media::Media;
use crate::report::ValidationReport;
use crate::schema::{CrossRule, Json, Schema};

/// Checks every rule on `input`, whose schema is `schema` (for the defaults of absent fields).
pub fn check(
    report: &mut ValidationReport,
    rules: &[CrossRule],
    schema: &'static Schema,
    input: &dyn Instance,
) {
    let View::Object(object) = input.view() else {
        return;
    };
    // Most models have no rules: their entries need not be collected.
    if rules.is_empty() {
        return;
    }
    let entries = object.entries();
    // The value of a field as it takes effect: as given, or its default.
    let value = |name: &str| -> Option<Value<'_>> {
        match find(&entries, name) {
            Some(value) => Some(Value::Given(value.view())),
            None => schema.property(name)?.default.map(Value::Default),
        }
    };
    for rule in rules {
        match rule {
            CrossRule::MaxTotal {
                fields,
                max,
                message,
            } => {
                let total: i64 = fields
                    .iter()
                    .filter_map(|name| value(name).and_then(Value::count))
                    .sum();
                if total > *max {
                    report.error(
                        &Path::named(fields.join(" + ")),
                        CrossRuleKind::MaxTotal.name(),
                        Some(format!("total {total}")),
                        *message,
                    );
                }
            }
            CrossRule::PromptCount {
                prompt,
                count,
                message,
            } => {
                let text = value(prompt).and_then(Value::text);
                let wanted = value(count).and_then(Value::count);
                if let (Some(text), Some(wanted)) = (text, wanted)
                    && let Some(stated) = stated_count(text)
                    && i64::try_from(stated).ok() != Some(wanted)
                {
                    report.warning(
                        &Path::root().key(prompt),
                        CrossRuleKind::PromptCount.name(),
                        Some(format!("prompt says {stated}, count is {wanted}")),
                        *message,
                    );
                }
            }
            CrossRule::AtLeastOne { fields, message } => {
                if !fields
                    .iter()
                    .any(|name| value(name).is_some_and(Value::gives_something))
                {
                    report.error(
                        &Path::named(fields.join(" | ")),
                        CrossRuleKind::AtLeastOne.name(),
                        Some("none given".to_owned()),
                        *message,
                    );
                }
            }
            CrossRule::AtMostOne { fields, message } => {
                let given: Vec<&str> = fields
                    .iter()
                    .copied()
                    .filter(|name| value(name).is_some_and(Value::gives_something))
                    .collect();
                if given.len() > 1 {
                    report.error(
                        &Path::named(fields.join(" | ")),
                        CrossRuleKind::AtMostOne.name(),
                        Some(format!("given: {}", given.join(", "))),
                        *message,
                    );
                }
            }
        }
    }
}

/// A field's value in effect.
enum Value<'a> {
    Given(View<'a>),
    Default(&'static Json),
}

impl<'a> Value<'a> {
    /// Items of an array, or the value of a whole number.
    fn count(self) -> Option<i64> {
        match self {
            Value::Given(View::Array(items)) => i64::try_from(items.len()).ok(),
            Value::Given(View::Number(n)) => n.as_i64(),
            Value::Default(Json::Array(items)) => i64::try_from(items.len()).ok(),
            Value::Default(Json::Number(n)) => n.as_i64(),
            _ => None,
        }
    }

    /// Given as something: not `null`, an empty list or empty text.
    fn gives_something(self) -> bool {
        match self {
            Value::Given(View::Null) | Value::Default(Json::Null) => false,
            Value::Given(View::Array(items)) => !items.is_empty(),
            Value::Default(Json::Array(items)) => !items.is_empty(),
            Value::Given(View::String(s)) => !s.is_empty(),
            // A media field given "" reads as a path with no name.
            Value::Given(View::Media(Media::Path(path))) => !path.as_os_str().is_empty(),
            Value::Default(Json::String(s)) => !s.is_empty(),
            _ => true,
        }
    }

    fn text(self) -> Option<&'a str> {
        match self {
            Value::Given(View::String(s)) => Some(s),
            Value::Default(Json::String(s)) => Some(s),
            _ => None,
        }
    }
}
