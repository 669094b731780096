//! `overlay.json`: maintainer refinements of a model that survive re-importing its schema.
//!
//! The format is documented in `schemas/README.md`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::ir::CrossRule;

/// The contents of a model's `overlay.json`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    /// A human name for the model (docs, `runcomfy models`).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Extra documentation for the model.
    #[serde(default)]
    pub docs: Option<String>,
    /// The Rust name of the model marker type; the input type is this plus `Input`.
    #[serde(default)]
    pub type_name: Option<String>,
    /// What the model returns (`image`, `video`, `audio`), when RunComfy's catalog does not say.
    #[serde(default)]
    pub output_kind: Option<String>,
    /// The Rust name of the output type (shared by every model with the same output schema).
    #[serde(default)]
    pub output_type: Option<String>,
    /// Per-field refinements, by wire name.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldOverlay>,
    /// Rules across several fields.
    #[serde(default)]
    pub rules: Vec<CrossRule>,
    /// An RFC 7396 JSON merge patch applied to `input.json` before anything else: fixes of
    /// upstream defects.
    #[serde(default)]
    pub patch: Option<serde_json::Value>,
    /// The same for `output.json`.
    #[serde(default)]
    pub output_patch: Option<serde_json::Value>,
    /// JSON pointers (into the patched `input.json`) of keywords the generator refuses that
    /// this model accepts anyway, unchecked; `cargo xtask lint` warns about each.
    #[serde(default)]
    pub unchecked: Vec<String>,
}

/// Refinements of one field.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldOverlay {
    /// Extra documentation, appended to the schema's.
    #[serde(default)]
    pub docs: Option<String>,
    /// The Rust name of the field's enum or nested struct.
    #[serde(default)]
    pub type_name: Option<String>,
    /// Rust variant names by wire value (`"2560:1440 (16:9)": "Landscape16x9"`).
    #[serde(default)]
    pub variants: BTreeMap<String, String>,
    /// Short aliases the CLI accepts, by wire value (`"2560:1440 (16:9)": "16:9"`).
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// Media formats accepted, checked from the magic bytes (`["jpeg", "png"]`).
    #[serde(default)]
    pub formats: Vec<String>,
    /// What the field counts for the price: `output`, `second`, or `none` (see
    /// `runcomfy_vocab::price`); overrides the rule on field names.
    #[serde(default)]
    pub price_units: Option<String>,
}

/// The JSON pointer of the first place in an overlay where the format has an object (the
/// overlay, a field's refinements, a rule) but the file has something else. serde reads an
/// array as a struct's fields in order, so `"mode": []` would be an empty refinement and
/// `"mode": ["text"]` its docs: checked before the overlay is read.
pub(crate) fn misplaced_non_object(overlay: &Value) -> Option<String> {
    let Value::Object(top) = overlay else {
        return Some(String::new());
    };
    let fields = top.get("fields").and_then(Value::as_object).into_iter();
    let fields = fields.flatten().map(|(name, value)| {
        let name = runcomfy_vocab::pointer::escape(name);
        (format!("/fields/{name}"), value)
    });
    let rules = top.get("rules").and_then(Value::as_array).into_iter();
    let rules = rules
        .flatten()
        .enumerate()
        .map(|(i, value)| (format!("/rules/{i}"), value));
    fields
        .chain(rules)
        .find(|(_, value)| !value.is_object())
        .map(|(pointer, _)| pointer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arrays_where_the_format_has_objects_are_found() {
        assert_eq!(misplaced_non_object(&json!([])).as_deref(), Some(""));
        assert_eq!(
            misplaced_non_object(&json!({"fields": {"a/b": {}, "mode": ["text"]}})).as_deref(),
            Some("/fields/mode")
        );
        assert_eq!(
            misplaced_non_object(&json!({"rules": [["max_total", ["a"], 1, "m"]]})).as_deref(),
            Some("/rules/0")
        );
        assert_eq!(
            misplaced_non_object(&json!({"fields": {"a/b": {"docs": "x"}}, "rules": []})),
            None
        );
    }

    #[test]
    fn each_rule_kind_is_read_under_its_vocabulary_name() -> Result<(), serde_json::Error> {
        use runcomfy_vocab::cross::CrossRuleKind;
        for kind in CrossRuleKind::ALL {
            let mut rule = json!({"rule": kind.name(), "message": "m"});
            match kind {
                CrossRuleKind::MaxTotal => {
                    rule["fields"] = json!(["a", "b"]);
                    rule["max"] = json!(1);
                }
                CrossRuleKind::PromptCount => {
                    rule["prompt"] = json!("a");
                    rule["count"] = json!("b");
                }
                _ => rule["fields"] = json!(["a", "b"]),
            }
            let rule: CrossRule = serde_json::from_value(rule)?;
            assert_eq!(rule.kind(), *kind);
        }
        Ok(())
    }
}
