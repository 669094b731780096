//! Defaults: read as the type their field says, and checked against its own keywords.
//!
//! A default is an annotation (it is never sent), so one that does not fit its field is a
//! warning, not an error: the field then gets no accessor returning it.

use runcomfy_vocab::json_type::Types;
use runcomfy_vocab::keyword::compile_pattern;
use serde_json::Value;

use crate::ir::{Items, SchemaNode, Sub};

/// How deep into a default's objects, lists and alternatives it is checked: a recursive schema
/// would otherwise be followed for as long as the default is deep.
const DEEPEST: usize = 32;

/// The default of `node`, read loosely as the node's type (catalogs write `"0.5"` for a number,
/// `5.0` for an integer, `"true"`), then checked against the node and what it applies (its
/// properties, items and alternatives, from `nodes`): `Err` says why it does not fit.
pub(crate) fn read(
    nodes: &[SchemaNode],
    node: &SchemaNode,
    value: &Value,
) -> Result<Value, String> {
    let types = node.allowed();
    let value = coerce(types, value);
    fits(nodes, node, &value, DEEPEST)?;
    Ok(value)
}

/// Whether `value` passes the keywords of `node` this check knows, and those of the schemas it
/// applies. A keyword it does not know (`pattern`, `format`, `not`, ...) passes: a warning
/// must not be wrong.
fn fits(
    nodes: &[SchemaNode],
    node: &SchemaNode,
    value: &Value,
    depth: usize,
) -> Result<(), String> {
    check(node, value)?;
    let Some(depth) = depth.checked_sub(1) else {
        return Ok(());
    };
    let sub_fits = |sub: &Sub, value: &Value| match sub {
        Sub::Any => Ok(()),
        Sub::Never => Err(format!("{value} is allowed nowhere")),
        Sub::Node(id) => fits(nodes, &nodes[*id], value, depth),
    };
    for member in &node.all_of {
        sub_fits(member, value)?;
    }
    for alternatives in [&node.any_of, &node.one_of] {
        if !alternatives.is_empty() && !alternatives.iter().any(|a| sub_fits(a, value).is_ok()) {
            return Err(format!("default {value} fits none of the alternatives"));
        }
    }
    if let Value::Object(object) = value {
        if let Some(missing) = node.required.iter().find(|r| !object.contains_key(*r)) {
            return Err(format!("default lacks the required `{missing}`"));
        }
        for (name, item) in object {
            match node.properties.iter().find(|(p, _)| p == name) {
                Some((_, sub)) => {
                    sub_fits(sub, item).map_err(|problem| format!("its `{name}`: {problem}"))?
                }
                None if node.pattern_properties.is_empty() => {
                    if let Some(sub) = &node.additional_properties {
                        sub_fits(sub, item)
                            .map_err(|problem| format!("its `{name}`: {problem}"))?;
                    }
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Items::Each(sub)) = (value, &node.items) {
        for (i, item) in items.iter().enumerate() {
            sub_fits(sub, item).map_err(|problem| format!("its item {i}: {problem}"))?;
        }
    }
    Ok(())
}

fn coerce(types: Types, value: &Value) -> Value {
    let text = value.as_str().map(str::trim);
    let only = |ty: Types| types.without_null() == ty;
    let coerced = if only(Types::INTEGER) {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15 && !value.is_i64() && !value.is_u64())
            .map(|f| Value::from(f as i64))
            .or_else(|| text.and_then(|t| t.parse::<i64>().ok()).map(Value::from))
    } else if only(Types::NUMBER) {
        text.and_then(|t| t.parse::<f64>().ok())
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
    } else if only(Types::BOOLEAN) {
        text.and_then(|t| t.parse().ok()).map(Value::Bool)
    } else {
        None
    };
    coerced.unwrap_or_else(|| value.clone())
}

fn check(node: &SchemaNode, value: &Value) -> Result<(), String> {
    let ty = crate::ir::type_of(value);
    if !node.allowed().allows(ty) {
        return Err(format!("default {value} is not {}", node.allowed()));
    }
    if let Some(choices) = &node.choices
        && !choices.iter().any(|c| same(c, value))
    {
        return Err(format!("default {value} is not one of the enum's values"));
    }
    if let Some(constant) = &node.constant
        && !same(constant, value)
    {
        return Err(format!("default {value} is not the `const` {constant}"));
    }
    if let Some(n) = value.as_f64() {
        let bound =
            |b: &Option<serde_json::Number>| b.as_ref().and_then(serde_json::Number::as_f64);
        if bound(&node.minimum).is_some_and(|low| n < low)
            || bound(&node.maximum).is_some_and(|high| n > high)
            || bound(&node.exclusive_minimum).is_some_and(|low| n <= low)
            || bound(&node.exclusive_maximum).is_some_and(|high| n >= high)
        {
            return Err(format!("default {value} is outside its bounds"));
        }
        if let Some(step) = bound(&node.multiple_of).filter(|step| *step > 0.0) {
            let times = n / step;
            if (times - times.round()).abs() > 1e-9 * times.abs().max(1.0) {
                return Err(format!("default {value} is not a multiple of {step}"));
            }
        }
    }
    if let Some(s) = value.as_str() {
        let len = s.chars().count() as u64;
        if node.min_length.is_some_and(|m| len < m) || node.max_length.is_some_and(|m| len > m) {
            return Err(format!(
                "default is {len} characters long, outside minLength/maxLength"
            ));
        }
        // A pattern the reader let through compiles; one that does not is its error, not this.
        let pattern = node
            .pattern
            .as_deref()
            .and_then(|p| compile_pattern(p).ok());
        if pattern.is_some_and(|p| p.find(s).is_none()) {
            return Err(format!("default {value} does not match the pattern"));
        }
        if let Some(format) = node.format.filter(|f| f.media().is_none() && !f.check(s)) {
            return Err(format!("default {value} is not {}", format.describe()));
        }
    }
    if let Some(items) = value.as_array() {
        let len = items.len() as u64;
        if node.min_items.is_some_and(|m| len < m) || node.max_items.is_some_and(|m| len > m) {
            return Err(format!(
                "default has {len} items, outside minItems/maxItems"
            ));
        }
        let repeated = |i: usize| items[..i].iter().any(|earlier| same(earlier, &items[i]));
        if node.unique_items && (0..items.len()).any(repeated) {
            return Err(format!("default {value} repeats an item (uniqueItems)"));
        }
    }
    Ok(())
}

/// JSON equality with numbers by value (`1 == 1.0`).
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(types: Types) -> SchemaNode {
        SchemaNode {
            types: Some(types),
            ..SchemaNode::default()
        }
    }

    #[test]
    fn loose_defaults_are_read_as_their_type() {
        assert_eq!(
            read(&[], &node(Types::NUMBER), &Value::from("0.5")),
            Ok(Value::from(0.5))
        );
        assert_eq!(
            read(&[], &node(Types::INTEGER), &Value::from(5.0)),
            Ok(Value::from(5))
        );
        assert_eq!(
            read(&[], &node(Types::BOOLEAN), &Value::from("true")),
            Ok(Value::Bool(true))
        );
        assert!(read(&[], &node(Types::INTEGER), &Value::from("five")).is_err());
        let mut bounded = node(Types::INTEGER);
        bounded.maximum = Some(3.into());
        assert!(read(&[], &bounded, &Value::from(4)).is_err());
    }

    /// A default is checked against `pattern`, `format`, `multipleOf`, exclusive bounds and
    /// `uniqueItems` too (QA repro31 L5: each let an invalid default be shown and returned).
    #[test]
    fn more_keywords_check_a_default() {
        let text = |edit: fn(&mut SchemaNode)| {
            let mut n = node(Types::STRING);
            edit(&mut n);
            n
        };
        let upper = text(|n| n.pattern = Some("^[a-z]+$".to_owned()));
        assert!(read(&[], &upper, &Value::from("abc")).is_ok());
        assert!(read(&[], &upper, &Value::from("ABC")).is_err());
        let date = text(|n| n.format = runcomfy_vocab::format::Format::parse("date-time"));
        assert!(read(&[], &date, &Value::from("2025-01-31T12:00:00Z")).is_ok());
        assert!(read(&[], &date, &Value::from("yesterday")).is_err());
        let mut step = node(Types::NUMBER);
        step.multiple_of = serde_json::Number::from_f64(0.01);
        step.exclusive_minimum = Some(0.into());
        assert!(read(&[], &step, &Value::from(0.07)).is_ok());
        assert!(read(&[], &step, &Value::from(0.075)).is_err());
        assert!(read(&[], &step, &Value::from(0)).is_err());
        let mut set = node(Types::ARRAY);
        set.unique_items = true;
        assert!(read(&[], &set, &serde_json::json!([1, 2])).is_ok());
        assert!(read(&[], &set, &serde_json::json!([1, 1.0])).is_err());
    }

    /// A union's default is checked against its shapes: one that fits none was taken as it
    /// was, as the union node itself allows any JSON (QA repro30 L5).
    #[test]
    fn a_default_fits_one_of_its_alternatives() {
        let tag = |text: &str| SchemaNode {
            constant: Some(Value::from(text)),
            ..SchemaNode::default()
        };
        let shape = |tag: usize| SchemaNode {
            types: Some(Types::OBJECT),
            properties: vec![("t".to_owned(), Sub::Node(tag))],
            required: vec!["t".to_owned()],
            ..SchemaNode::default()
        };
        let union = SchemaNode {
            one_of: vec![Sub::Node(1), Sub::Node(2)],
            ..SchemaNode::default()
        };
        let nodes = [union.clone(), shape(3), shape(4), tag("a"), tag("b")];
        let read = |value: Value| read(&nodes, &union, &value);
        assert!(read(serde_json::json!({"t": "b"})).is_ok());
        assert!(read(serde_json::json!({"t": "c"})).is_err());
        assert!(read(serde_json::json!({})).is_err());
        assert!(read(Value::from("zzz")).is_err());
    }
}
