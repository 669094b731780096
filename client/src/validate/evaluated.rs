//! What `unevaluatedProperties` and `unevaluatedItems` leave to their schema: the properties
//! and items that no keyword of the schema evaluated, nor one of a subschema it applies to the
//! same value and the value passes (JSON Schema 2020-12, "unevaluated" keywords).
//!
//! `allOf` members, `then`/`else` and `dependentSchemas` count whether or not the value
//! passes them: when one fails the value is invalid anyway, and its properties are better not
//! reported a second time as unevaluated. `anyOf` and `oneOf` count only the alternatives the
//! value passes, or all of them when it passes none (invalid anyway, for the alternatives'
//! reasons: `prompt: must be a string`, not `prompt: is not allowed`); `not` never.

use super::instance::{Instance, View};
use crate::schema::{Items, Needs, Schema};

/// Whether a value passes a schema (the checker, reporting nothing).
pub(super) type Passes<'p> = dyn FnMut(&'static Schema, View<'_>) -> bool + 'p;

/// In-place subschemas deeper than this are a loop of references (`{"allOf": [{"$ref":
/// "#"}]}`), which evaluates nothing more.
const MAX_DEPTH: usize = 64;

/// Marks in `evaluated` (one flag per entry of the object, in `entries`' order) the properties
/// `schema` evaluates. `own` is false for the schema whose `unevaluatedProperties` asks: its
/// own does not count. `depth` counts the in-place subschemas above (0 to start).
pub(super) fn properties(
    schema: &'static Schema,
    view: View<'_>,
    entries: &[(&str, &dyn Instance)],
    own: bool,
    evaluated: &mut [bool],
    passes: &mut Passes<'_>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    // `additionalProperties` and a nested `unevaluatedProperties` evaluate every name.
    let every =
        schema.additional_properties.is_some() || (own && schema.unevaluated_properties.is_some());
    for ((key, _), flag) in entries.iter().zip(evaluated.iter_mut()) {
        *flag |= every
            || schema.property(key).is_some()
            || schema
                .pattern_properties
                .iter()
                .any(|p| p.pattern.is_match(key) == Some(true));
    }
    for sub in in_place(schema, view, Some(entries), passes) {
        properties(sub, view, entries, true, evaluated, passes, depth + 1);
    }
}

/// Marks in `evaluated` (one flag per item) the items `schema` evaluates: by position, all of
/// them (`items`, `additionalItems`, a nested `unevaluatedItems`), or those `contains` takes.
/// `own` and `depth` as for [`properties`].
pub(super) fn items(
    schema: &'static Schema,
    view: View<'_>,
    own: bool,
    evaluated: &mut [bool],
    passes: &mut Passes<'_>,
    depth: usize,
) {
    let View::Array(array) = view else {
        return;
    };
    if depth > MAX_DEPTH {
        return;
    }
    let positions = match schema.items {
        Items::Any => 0,
        Items::Each(_) | Items::Tuple { rest: Some(_), .. } => evaluated.len(),
        Items::Tuple { prefix, rest: None } => prefix.len(),
    };
    let positions = if own && schema.unevaluated_items.is_some() {
        evaluated.len()
    } else {
        positions
    };
    for flag in evaluated.iter_mut().take(positions) {
        *flag = true;
    }
    if let Some(contains) = schema.contains {
        for (index, flag) in evaluated.iter_mut().enumerate() {
            if !*flag
                && array
                    .item(index)
                    .is_some_and(|item| passes(contains, item.view()))
            {
                *flag = true;
            }
        }
    }
    for sub in in_place(schema, view, None, passes) {
        items(sub, view, true, evaluated, passes, depth + 1);
    }
}

/// The subschemas `schema` applies to the same value whose evaluations count (module docs).
fn in_place(
    schema: &'static Schema,
    view: View<'_>,
    entries: Option<&[(&str, &dyn Instance)]>,
    passes: &mut Passes<'_>,
) -> Vec<&'static Schema> {
    let mut subs: Vec<&'static Schema> = schema.all_of.to_vec();
    for alternatives in [schema.any_of, schema.one_of] {
        let passed: Vec<&'static Schema> = alternatives
            .iter()
            .copied()
            .filter(|s| passes(s, view))
            .collect();
        // None passing: the value is invalid anyway, for a reason of the alternatives' own.
        subs.extend(if passed.is_empty() {
            alternatives.to_vec()
        } else {
            passed
        });
    }
    if let Some(condition) = schema.condition {
        if passes(condition.test, view) {
            subs.push(condition.test);
            subs.extend(condition.then);
        } else {
            subs.extend(condition.otherwise);
        }
    }
    for dependency in schema.dependencies {
        if let Needs::Schema(needed) = dependency.needs
            && entries.is_some_and(|e| e.iter().any(|(key, _)| *key == dependency.name))
        {
            subs.push(needed);
        }
    }
    subs
}
