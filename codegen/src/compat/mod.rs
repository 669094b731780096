//! What a catalog change does to the users of the generated crate: every difference between
//! two catalogs, classified for semver (`cargo xtask diff` prints them and suggests a bump).
//!
//! Both catalogs are loaded IR, so overlays are applied and names resolved exactly as the
//! emitter sees them. The rules sit next to the emitter because they follow from the code it
//! writes and from what its `validate()` checks:
//!
//! - The Rust API (`api.rs`). Input structs are `#[non_exhaustive]`, built with
//!   `new(required...)` and one `with_*` setter per optional field: a new optional field is
//!   additive, a new required field (or the required ones in another order) changes `new`.
//!   Required fields are `T`, optional ones `Option<T>`, and a nullable value wraps one more
//!   `Option`, so required ↔ optional and nullable ↔ not change types. An optional field with
//!   a usable default has an accessor, which comes and goes with the default. Choice enums are
//!   `#[non_exhaustive]`, so a new choice is additive; unions of JSON types are matched
//!   exhaustively, so a new variant breaks. Output structs are `#[non_exhaustive]` with every
//!   field optional. Whatever is renamed or gone breaks.
//! - Validation (`schema.rs`), keyword by keyword. `validate()` checks every keyword before a
//!   request is sent: a new or tightened constraint rejects input that passed (breaking), a
//!   removed or loosened one accepts more (additive). Which way a bound tightens is
//!   [`Bound`]'s: [`Rule::bound`](runcomfy_vocab::rule::Rule::bound) for `validations` rules,
//!   and for keywords the side values stay on (above `minimum`, below `maxItems`). Inside a
//!   `oneOf`, accepting more can make a value match two members, so it breaks too.
//! - A choice's alias is input (`FromStr` and the CLI take it): one removed, or naming another
//!   value, breaks; one added is additive.
//! - Docs, defaults and messages change nothing that compiles or validates: notable. So do the facts `INFO` holds as values (`api::info`): the price, its unit and
//!   the fields that count it, the output kind, the categories. Estimates, `--max-spend` and
//!   what the CLI lists read them at run time, so they are told, but no code or input breaks.
//!
//! A change the Rust API already tells (an enum's variants, a struct's fields) is not told again
//! by its keyword; one that is both (a nullable field: a new type, and a looser `type`) is told
//! by each. Each change points where it was made: into the new catalog's `input.json`,
//! `overlay.json` or `output.json`, the old one's for removals.

mod api;
mod schema;

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::rc::Rc;

use runcomfy_vocab::rule::Bound;
use serde_json::Value;

use crate::ir::{Catalog, Model, SchemaId};

/// How a change affects users of the generated API, from mildest to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Impact {
    /// Compiles and validates as before, but reads or behaves differently: docs, defaults,
    /// messages, prices and the other facts `INFO` holds.
    Notable,
    /// Compiles and validates as before, and more is possible: a model, an optional field, a
    /// looser bound.
    Additive,
    /// Some code that compiled, or some input that validated, no longer does.
    Breaking,
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Impact::Notable => "notable",
            Impact::Additive => "additive",
            Impact::Breaking => "BREAKING",
        })
    }
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The model id.
    pub model: String,
    /// The file it is about: of the new catalog, of the old one for removals.
    pub file: &'static str,
    /// JSON pointer into that file.
    pub pointer: String,
    /// How it affects users.
    pub impact: Impact,
    /// What changed, and for breaking changes why it breaks.
    pub what: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(
            f,
            "{:<8} {}#{pointer}: {}",
            self.impact.to_string(),
            self.file,
            self.what
        )
    }
}

/// The worst impact among changes; `None` when there are none.
pub fn worst(changes: &[Change]) -> Option<Impact> {
    changes.iter().map(|c| c.impact).max()
}

// The model's files, as the catalog names them.
use crate::catalog::{
    INPUT_FILE as INPUT, OUTPUT_FILE as OUTPUT, OVERLAY_FILE as OVERLAY, UPSTREAM_FILE as UPSTREAM,
};

/// Every change from `old` to `new`, by model id, in schema order within a model.
pub fn diff_catalogs(old: &Catalog, new: &Catalog) -> Vec<Change> {
    let ids: BTreeSet<&str> = old
        .models
        .iter()
        .chain(&new.models)
        .map(|m| m.id.as_str())
        .collect();
    let mut changes = Vec::new();
    for id in ids {
        let before = old.models.iter().find(|m| m.id == id);
        let after = new.models.iter().find(|m| m.id == id);
        match (before, after) {
            (Some(o), Some(n)) => {
                let mut d = ModelDiff::new(o, n);
                api::model(&mut d);
                api::info(&mut d);
                api::input(&mut d);
                schema::rules(&mut d);
                api::output(&mut d, &old.outputs[o.output], &new.outputs[n.output]);
                changes.append(&mut d.changes);
            }
            (Some(o), None) => changes.push(Change {
                model: id.to_owned(),
                file: INPUT,
                pointer: String::new(),
                impact: Impact::Breaking,
                what: format!(
                    "model removed: `models::{}::{}` and its input type are gone",
                    o.module_path.join("::"),
                    o.type_name
                ),
            }),
            (None, Some(n)) => changes.push(Change {
                model: id.to_owned(),
                file: INPUT,
                pointer: String::new(),
                impact: Impact::Additive,
                what: format!(
                    "new model `models::{}::{}` ({})",
                    n.module_path.join("::"),
                    n.type_name,
                    n.display_name
                ),
            }),
            (None, None) => {}
        }
    }
    changes
}

/// Two versions of one model being compared, and the changes found so far.
struct ModelDiff<'a> {
    old: &'a Model,
    new: &'a Model,
    /// The input schemas as JSON, to point at keywords where they are written.
    old_doc: Rc<Value>,
    new_doc: Rc<Value>,
    /// Schema node pairs already compared (shared `$ref`s, recursion).
    seen: HashSet<(SchemaId, SchemaId)>,
    /// Inside a `oneOf` member, a `not` or an `if`, where accepting more can reject values
    /// too: why, innermost last.
    turned: Vec<&'static str>,
    changes: Vec<Change>,
}

/// Which side of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Old,
    New,
}

impl<'a> ModelDiff<'a> {
    fn new(old: &'a Model, new: &'a Model) -> Self {
        let doc = |m: &Model| Rc::new(serde_json::from_str(&m.input_schema).unwrap_or(Value::Null));
        Self {
            old,
            new,
            old_doc: doc(old),
            new_doc: doc(new),
            seen: HashSet::new(),
            turned: Vec::new(),
            changes: Vec::new(),
        }
    }

    /// Records a change.
    fn push(
        &mut self,
        file: &'static str,
        pointer: impl Into<String>,
        impact: Impact,
        what: impl Into<String>,
    ) {
        let mut what = what.into();
        let mut impact = impact;
        if let Some(why) = self.turned.last()
            && impact == Impact::Additive
        {
            impact = Impact::Breaking;
            what.push_str(why);
        }
        let change = Change {
            model: self.new.id.clone(),
            file,
            pointer: pointer.into(),
            impact,
            what,
        };
        // A schema several places reach (one `$ref`d from two fields) changed once, where it
        // is written: told once.
        if !self.changes.contains(&change) {
            self.changes.push(change);
        }
    }

    /// Records a change of `input.json`.
    fn input(&mut self, pointer: impl Into<String>, impact: Impact, what: impl Into<String>) {
        self.push(INPUT, pointer, impact, what);
    }

    /// The first of `candidates` that names a value in that side's `input.json`, else the
    /// first: a keyword can be written on a list or on its items.
    fn locate(&self, side: Side, candidates: &[String]) -> String {
        let doc = match side {
            Side::Old => &self.old_doc,
            Side::New => &self.new_doc,
        };
        locate(doc, candidates)
    }
}

/// The first of `candidates` that names a value in `doc`, else the first.
fn locate(doc: &Value, candidates: &[String]) -> String {
    candidates
        .iter()
        .find(|p| doc.pointer(p).is_some())
        .or(candidates.first())
        .cloned()
        .unwrap_or_default()
}

/// Whether moving a bound from `old` to `new` rejects values that passed: raising a lower
/// bound ([`Bound::Above`]) or lowering an upper one ([`Bound::Below`]).
fn tightened(bound: Bound, old: f64, new: f64) -> bool {
    match bound {
        Bound::Above => new > old,
        Bound::Below => new < old,
    }
}

/// A number as catalogs write it (`10`, `0.33`).
fn num(n: f64) -> String {
    format!("{n}")
}

#[cfg(test)]
mod tests {
    use runcomfy_vocab::rule::Rule;

    use super::*;

    #[test]
    fn a_rule_tightens_toward_its_bound() {
        // `file_size_mb< 10` → `< 5` accepts fewer files; `width_pixels> 14` → `> 64` too.
        assert!(tightened(Rule::FileSizeMbBelow.bound(), 10.0, 5.0));
        assert!(!tightened(Rule::FileSizeMbBelow.bound(), 10.0, 20.0));
        assert!(tightened(Rule::WidthAbove.bound(), 14.0, 64.0));
        assert!(!tightened(Rule::WidthAbove.bound(), 14.0, 8.0));
        for rule in Rule::ALL {
            assert!(!tightened(rule.bound(), 3.0, 3.0), "{rule}");
        }
    }

    #[test]
    fn the_worst_change_decides() {
        let change = |impact| Change {
            model: "acme/x".into(),
            file: INPUT,
            pointer: String::new(),
            impact,
            what: String::new(),
        };
        assert_eq!(worst(&[]), None);
        let changes = [
            change(Impact::Notable),
            change(Impact::Breaking),
            change(Impact::Additive),
        ];
        assert_eq!(worst(&changes), Some(Impact::Breaking));
        assert_eq!(
            change(Impact::Breaking).to_string(),
            "BREAKING input.json#/: "
        );
    }
}
