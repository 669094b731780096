//! What validates: two schema nodes compared keyword by keyword (into items, properties
//! that are not a struct's fields, and combinators), and the overlay's rules across fields.

use std::collections::{BTreeSet, VecDeque};
use std::rc::Rc;

use runcomfy_vocab::cross::CrossRuleKind;
use runcomfy_vocab::json_type::{JsonType, Types};
use runcomfy_vocab::keyword::Keyword;
use runcomfy_vocab::media;
use runcomfy_vocab::pointer::escape;
use runcomfy_vocab::rule::{Bound, Rule};
use serde_json::{Number, Value};

use super::{Impact, ModelDiff, OVERLAY, Side, locate, num, tightened};
use crate::ir::{CrossRule, Dependency, Items, MediaSpec, Model, SchemaId, SchemaNode, Sub};

/// Compares the schemas at one place; `at` is where it is declared (for `true`/`false`).
pub(super) fn sub(d: &mut ModelDiff<'_>, old: Sub, new: Sub, at: &str) {
    let constrains = |model: &Model, sub: Sub| match sub {
        Sub::Any => false,
        Sub::Never => true,
        Sub::Node(id) => !in_effect(model, id).node.is_empty_schema(),
    };
    match (old, new) {
        (Sub::Node(a), Sub::Node(b)) => node(d, a, b),
        (Sub::Any, Sub::Any) | (Sub::Never, Sub::Never) => {}
        (Sub::Never, _) => d.input(
            at,
            Impact::Additive,
            "the schema accepted nothing (`false`) and now accepts values",
        ),
        (_, Sub::Never) => d.input(
            at,
            Impact::Breaking,
            "the schema now accepts nothing (`false`)",
        ),
        (Sub::Any, Sub::Node(b)) if constrains(d.new, new) => {
            let at = d.new.node(b).pointer.clone();
            d.input(
                at,
                Impact::Breaking,
                "a schema now constrains values that were free: values it refuses no longer validate",
            );
        }
        (Sub::Node(a), Sub::Any) if constrains(d.old, old) => {
            let at = d.old.node(a).pointer.clone();
            d.input(
                at,
                Impact::Additive,
                "the schema's constraints are gone: any value is accepted (looser)",
            );
        }
        _ => {}
    }
}

/// Whether a node, or a schema merged into it, is a struct's: its properties are compared as
/// the struct's fields.
fn is_struct(model: &Model, ids: &[SchemaId]) -> bool {
    model.structs.iter().any(|s| ids.contains(&s.schema))
}

/// The schema in effect at a node: the node with its `allOf` members merged in (a `$ref`
/// beside other keywords is one), each where merging keyword by keyword means what the
/// members together mean. A schema moved behind a `$ref` then compares as what it was,
/// keyword by keyword, not as an `allOf` added and every keyword removed.
struct InEffect {
    node: SchemaNode,
    /// The nodes merged, the node's own first.
    ids: Vec<SchemaId>,
    /// Where each is written, in the same order.
    pointers: Vec<String>,
}

fn in_effect(model: &Model, id: SchemaId) -> InEffect {
    let mut node = model.node(id).clone();
    let mut ids = vec![id];
    let mut pointers = vec![node.pointer.clone()];
    let mut pending: VecDeque<Sub> = std::mem::take(&mut node.all_of).into();
    let mut kept = Vec::new();
    while let Some(sub) = pending.pop_front() {
        match sub {
            // `true` adds nothing; a schema met twice adds nothing the second time.
            Sub::Any => {}
            Sub::Node(m) if ids.contains(&m) => {}
            Sub::Node(m) => {
                let mut member = model.node(m).clone();
                let nested = std::mem::take(&mut member.all_of);
                match merged(&node, &member) {
                    Some(joined) => {
                        node = joined;
                        ids.push(m);
                        pointers.push(member.pointer);
                        pending.extend(nested);
                    }
                    None => kept.push(sub),
                }
            }
            Sub::Never => kept.push(sub),
        }
    }
    node.all_of = kept;
    InEffect {
        node,
        ids,
        pointers,
    }
}

/// `a` and `b` as one node a value passes when it passes both, or `None` where keywords of
/// the two would not mean the same together (two `pattern`s, `additionalProperties` beside
/// another's `properties`, an `unevaluatedProperties` that saw only `b`'s). Annotations are
/// `a`'s, else `b`'s.
fn merged(a: &SchemaNode, b: &SchemaNode) -> Option<SchemaNode> {
    /// One of the two, or both when they agree.
    fn either<T: Clone + PartialEq>(a: &Option<T>, b: &Option<T>) -> Option<Option<T>> {
        match (a, b) {
            (Some(x), Some(y)) if x != y => None,
            _ => Some(a.clone().or_else(|| b.clone())),
        }
    }
    /// A list one of the two holds, or both alike.
    fn one_list<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Option<Vec<T>> {
        match (a.is_empty(), b.is_empty()) {
            (false, false) if a != b => None,
            (true, _) => Some(b.to_vec()),
            _ => Some(a.to_vec()),
        }
    }
    /// The tighter of two bounds values stay `side` of.
    fn tighter(a: &Option<Number>, b: &Option<Number>, side: Bound) -> Option<Number> {
        match (a, b) {
            (Some(x), Some(y)) => match (x.as_f64(), y.as_f64()) {
                (Some(p), Some(q)) if tightened(side, p, q) => Some(y.clone()),
                _ => Some(x.clone()),
            },
            _ => a.clone().or_else(|| b.clone()),
        }
    }
    fn count(a: Option<u64>, b: Option<u64>, side: Bound) -> Option<u64> {
        match (a, b) {
            (Some(x), Some(y)) => Some(match side {
                Bound::Above => x.max(y),
                Bound::Below => x.min(y),
            }),
            _ => a.or(b),
        }
    }
    /// A file both check: of their one kind, in the formats both accept, under every rule.
    fn media(a: &Option<MediaSpec>, b: &Option<MediaSpec>) -> Option<Option<MediaSpec>> {
        let (Some(x), Some(y)) = (a, b) else {
            return Some(a.clone().or_else(|| b.clone()));
        };
        if x.kind != y.kind {
            return None;
        }
        let formats = match (x.formats.is_empty(), y.formats.is_empty()) {
            (true, _) => y.formats.clone(),
            (_, true) => x.formats.clone(),
            _ => x
                .formats
                .iter()
                .filter(|f| y.formats.contains(f))
                .copied()
                .collect(),
        };
        // Some formats each, none in common: nothing passes, which no format list says.
        if formats.is_empty() && !(x.formats.is_empty() && y.formats.is_empty()) {
            return None;
        }
        let mut rules = x.rules.clone();
        rules.extend(y.rules.iter().filter(|r| !x.rules.contains(r)).cloned());
        Some(Some(MediaSpec {
            kind: x.kind,
            formats,
            rules,
        }))
    }
    // `unevaluated*` in `b` saw only what `b` evaluated; in `a` it sees what `b` does too.
    if b.unevaluated_properties.is_some() || b.unevaluated_items.is_some() {
        return None;
    }
    let names_properties =
        |n: &SchemaNode| n.additional_properties.is_some() || !n.pattern_properties.is_empty();
    // `additionalProperties` is about the names its own node's `properties` and
    // `patternProperties` leave: joined with another's, it would leave fewer.
    let (properties, additional_properties, pattern_properties) =
        if names_properties(a) || names_properties(b) {
            let owns = |n: &SchemaNode| names_properties(n) || !n.properties.is_empty();
            let only = if !owns(b) {
                a
            } else if !owns(a) {
                b
            } else {
                return None;
            };
            (
                only.properties.clone(),
                only.additional_properties,
                only.pattern_properties.clone(),
            )
        } else {
            let mut properties = a.properties.clone();
            for (name, sub) in &b.properties {
                match properties.iter().find(|(n, _)| n == name) {
                    Some((_, same)) if same == sub => {}
                    Some(_) => return None,
                    None => properties.push((name.clone(), *sub)),
                }
            }
            (properties, None, Vec::new())
        };
    // `minContains`/`maxContains` count what their own node's `contains` matches.
    let has_contains = |n: &SchemaNode| {
        n.contains.is_some() || n.min_contains.is_some() || n.max_contains.is_some()
    };
    let contains_of = match (has_contains(a), has_contains(b)) {
        (true, true) => return None,
        (false, true) => b,
        _ => a,
    };
    let items = match (&a.items, &b.items) {
        (Items::Any, other) | (other, Items::Any) => other.clone(),
        (x, y) if x == y => x.clone(),
        _ => return None,
    };
    let types = match (a.types, b.types) {
        (Some(x), Some(y)) => Some(x.meet(y)),
        (x, y) => x.or(y),
    };
    // The Rust enum goes with the choices it was made of.
    let (choices, choice_enum) = match (&a.choices, &b.choices) {
        (Some(x), Some(y)) if x != y => return None,
        (Some(_), _) => (a.choices.clone(), a.choice_enum),
        (None, _) => (b.choices.clone(), b.choice_enum),
    };
    let mut required = a.required.clone();
    required.extend(
        b.required
            .iter()
            .filter(|r| !a.required.contains(r))
            .cloned(),
    );
    Some(SchemaNode {
        name: a.name.clone(),
        pointer: a.pointer.clone(),
        types,
        choices,
        choice_enum,
        constant: either(&a.constant, &b.constant)?,
        minimum: tighter(&a.minimum, &b.minimum, Bound::Above),
        maximum: tighter(&a.maximum, &b.maximum, Bound::Below),
        exclusive_minimum: tighter(&a.exclusive_minimum, &b.exclusive_minimum, Bound::Above),
        exclusive_maximum: tighter(&a.exclusive_maximum, &b.exclusive_maximum, Bound::Below),
        multiple_of: either(&a.multiple_of, &b.multiple_of)?,
        min_length: count(a.min_length, b.min_length, Bound::Above),
        max_length: count(a.max_length, b.max_length, Bound::Below),
        pattern: either(&a.pattern, &b.pattern)?,
        format: either(&a.format, &b.format)?,
        media: media(&a.media, &b.media)?,
        items,
        min_items: count(a.min_items, b.min_items, Bound::Above),
        max_items: count(a.max_items, b.max_items, Bound::Below),
        unique_items: a.unique_items || b.unique_items,
        contains: contains_of.contains,
        min_contains: contains_of.min_contains,
        max_contains: contains_of.max_contains,
        properties,
        required,
        additional_properties,
        pattern_properties,
        property_names: either(&a.property_names, &b.property_names)?,
        dependencies: one_list(&a.dependencies, &b.dependencies)?,
        min_properties: count(a.min_properties, b.min_properties, Bound::Above),
        max_properties: count(a.max_properties, b.max_properties, Bound::Below),
        unevaluated_properties: a.unevaluated_properties,
        unevaluated_items: a.unevaluated_items,
        // The caller gathers the members'.
        all_of: a.all_of.clone(),
        any_of: one_list(&a.any_of, &b.any_of)?,
        one_of: one_list(&a.one_of, &b.one_of)?,
        not: either(&a.not, &b.not)?,
        condition: either(&a.condition, &b.condition)?,
        title: a.title.clone().or_else(|| b.title.clone()),
        description: a.description.clone().or_else(|| b.description.clone()),
        default: a.default.clone().or_else(|| b.default.clone()),
    })
}

/// Compares two nodes, keyword by keyword, as they take effect ([`in_effect`]).
pub(super) fn node(d: &mut ModelDiff<'_>, a: SchemaId, b: SchemaId) {
    if !d.seen.insert((a, b)) {
        return;
    }
    let (old, new) = (d.old, d.new);
    let (old_effect, new_effect) = (in_effect(old, a), in_effect(new, b));
    let (o, n) = (&old_effect.node, &new_effect.node);
    let keys = Keys {
        o,
        n,
        old_at: (&old_effect.pointers, Rc::clone(&d.old_doc)),
        new_at: (&new_effect.pointers, Rc::clone(&d.new_doc)),
    };
    types(d, &keys);
    if o.choice_enum.is_none() || n.choice_enum.is_none() {
        choices(d, &keys);
    }
    constant(d, &keys);
    for side in [Bound::Above, Bound::Below] {
        range(d, &keys, side);
    }
    for (keyword, side, value) in BOUNDS {
        bound(d, &keys, *keyword, *side, value(o), value(n));
    }
    multiple_of(d, &keys);
    let pattern = |node: &SchemaNode| node.pattern.clone();
    added_or_removed(d, &keys, Keyword::Pattern, pattern(o), pattern(n));
    let format = |node: &SchemaNode| node.format.map(|f| f.name().to_owned());
    added_or_removed(d, &keys, Keyword::Format, format(o), format(n));
    media_spec(d, &keys);
    match (o.unique_items, n.unique_items) {
        (false, true) => d.input(
            keys.at(Side::New, Keyword::UniqueItems),
            Impact::Breaking,
            "`uniqueItems` added: lists with repeated items no longer validate",
        ),
        (true, false) => d.input(
            keys.at(Side::Old, Keyword::UniqueItems),
            Impact::Additive,
            "`uniqueItems` removed (looser)",
        ),
        _ => {}
    }
    items(d, o, n);
    // A struct's properties are its fields: `api.rs` compares them and their schemas.
    if !(is_struct(old, &old_effect.ids) && is_struct(new, &new_effect.ids)) {
        properties(d, o, n);
        required(d, &keys);
    }
    additional_properties(d, &keys);
    pattern_properties(d, &keys);
    dependencies(d, &keys);
    let contains = |node: &SchemaNode| node.contains;
    one_schema(d, &keys, Keyword::Contains, contains(o), contains(n));
    let names = |node: &SchemaNode| node.property_names;
    one_schema(d, &keys, Keyword::PropertyNames, names(o), names(n));
    let rest = |node: &SchemaNode| node.unevaluated_properties;
    one_schema(d, &keys, Keyword::UnevaluatedProperties, rest(o), rest(n));
    let rest = |node: &SchemaNode| node.unevaluated_items;
    one_schema(d, &keys, Keyword::UnevaluatedItems, rest(o), rest(n));
    combinators(d, &keys);
    conditions(d, &keys);
    annotations(d, &keys);
}

/// A bound's value, as a number to compare and as the schema writes it.
type BoundValue = fn(&SchemaNode) -> Option<(f64, String)>;

/// The keywords that bound a count (a length, items, properties), and which side of them
/// values must stay on. A number's bounds are [`range`]'s.
const BOUNDS: &[(Keyword, Bound, BoundValue)] = &[
    (Keyword::MinLength, Bound::Above, |n| count(n.min_length)),
    (Keyword::MaxLength, Bound::Below, |n| count(n.max_length)),
    (Keyword::MinItems, Bound::Above, |n| count(n.min_items)),
    (Keyword::MaxItems, Bound::Below, |n| count(n.max_items)),
    (Keyword::MinContains, Bound::Above, |n| {
        count(n.min_contains)
    }),
    (Keyword::MaxContains, Bound::Below, |n| {
        count(n.max_contains)
    }),
    (Keyword::MinProperties, Bound::Above, |n| {
        count(n.min_properties)
    }),
    (Keyword::MaxProperties, Bound::Below, |n| {
        count(n.max_properties)
    }),
];

fn number(value: &Option<Number>) -> Option<(f64, String)> {
    let n = value.as_ref()?;
    Some((n.as_f64()?, n.to_string()))
}

fn count(value: Option<u64>) -> Option<(f64, String)> {
    value.map(|n| (n as f64, n.to_string()))
}

/// The two nodes in effect, and where each side's merged schemas are written (the node's own
/// first) in its `input.json`, for pointers to their keywords.
struct Keys<'a> {
    o: &'a SchemaNode,
    n: &'a SchemaNode,
    old_at: (&'a [String], Rc<Value>),
    new_at: (&'a [String], Rc<Value>),
}

impl Keys<'_> {
    /// The pointer of `keyword` in the old or the new node: in the first of its merged
    /// schemas that writes it, else in the node's own.
    fn at(&self, side: Side, keyword: Keyword) -> String {
        let (pointers, doc) = match side {
            Side::Old => &self.old_at,
            Side::New => &self.new_at,
        };
        let candidates: Vec<String> = pointers
            .iter()
            .map(|p| format!("{p}/{}", keyword.name()))
            .collect();
        locate(doc, &candidates)
    }
}

fn types(d: &mut ModelDiff<'_>, k: &Keys<'_>) {
    let (before, after) = (k.o.allowed(), k.n.allowed());
    let set = |types: Vec<JsonType>| {
        types
            .into_iter()
            .map(Types::of)
            .fold(Types::NONE, Types::with)
    };
    let removed = set(before.iter().filter(|t| !after.allows(*t)).collect());
    let added = set(after.iter().filter(|t| !before.allows(*t)).collect());
    let what = format!("`type` changed from {before} to {after}");
    if !removed.is_empty() {
        d.input(
            k.at(Side::New, Keyword::Type),
            Impact::Breaking,
            format!("{what}: {removed} values no longer validate"),
        );
    } else if !added.is_empty() {
        d.input(
            k.at(Side::New, Keyword::Type),
            Impact::Additive,
            format!("{what}: {added} values validate now (looser)"),
        );
    }
}

/// `enum`, on a node without a Rust enum on both sides (else the enum's variants tell it).
fn choices(d: &mut ModelDiff<'_>, k: &Keys<'_>) {
    let list = |values: &[&Value]| {
        let texts: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        texts.join(", ")
    };
    match (&k.o.choices, &k.n.choices) {
        (None, Some(after)) => d.input(
            k.at(Side::New, Keyword::Enum),
            Impact::Breaking,
            format!(
                "`enum` added: only {} are accepted now",
                list(&after.iter().collect::<Vec<_>>())
            ),
        ),
        (Some(_), None) => d.input(
            k.at(Side::Old, Keyword::Enum),
            Impact::Additive,
            "`enum` removed: any value of the type is accepted (looser)",
        ),
        (Some(before), Some(after)) => {
            let removed: Vec<&Value> = before.iter().filter(|v| !after.contains(v)).collect();
            let added: Vec<&Value> = after.iter().filter(|v| !before.contains(v)).collect();
            if !removed.is_empty() {
                d.input(
                    k.at(Side::New, Keyword::Enum),
                    Impact::Breaking,
                    format!("choice(s) {} no longer accepted", list(&removed)),
                );
            }
            if !added.is_empty() {
                d.input(
                    k.at(Side::New, Keyword::Enum),
                    Impact::Additive,
                    format!("choice(s) {} now accepted", list(&added)),
                );
            }
        }
        (None, None) => {}
    }
}

fn constant(d: &mut ModelDiff<'_>, k: &Keys<'_>) {
    match (&k.o.constant, &k.n.constant) {
        (None, Some(b)) => d.input(
            k.at(Side::New, Keyword::Const),
            Impact::Breaking,
            format!("`const` {b} added: any other value no longer validates"),
        ),
        (Some(a), None) => d.input(
            k.at(Side::Old, Keyword::Const),
            Impact::Additive,
            format!("`const` {a} removed (looser)"),
        ),
        (Some(a), Some(b)) if a != b => d.input(
            k.at(Side::New, Keyword::Const),
            Impact::Breaking,
            format!("`const` changed from {a} to {b}: the old value no longer validates"),
        ),
        _ => {}
    }
}

/// A bound on a value, its length, its items or its properties: values must stay above
/// ([`Bound::Above`]) or below it.
fn bound(
    d: &mut ModelDiff<'_>,
    k: &Keys<'_>,
    keyword: Keyword,
    side: Bound,
    old: Option<(f64, String)>,
    new: Option<(f64, String)>,
) {
    let key = keyword.name();
    let beyond = match side {
        Bound::Above => "smaller",
        Bound::Below => "larger",
    };
    match (old, new) {
        (None, Some((_, b))) => d.input(
            k.at(Side::New, keyword),
            Impact::Breaking,
            format!("`{key}` {b} added: {beyond} values that validated before are rejected"),
        ),
        (Some((_, a)), None) => d.input(
            k.at(Side::Old, keyword),
            Impact::Additive,
            format!("`{key}` {a} removed (looser)"),
        ),
        (Some((x, a)), Some((y, b))) if x != y => {
            let moved = if y > x { "raised" } else { "lowered" };
            if tightened(side, x, y) {
                d.input(
                    k.at(Side::New, keyword),
                    Impact::Breaking,
                    format!(
                        "`{key}` {moved} from {a} to {b}: values in between no longer validate"
                    ),
                );
            } else {
                d.input(
                    k.at(Side::New, keyword),
                    Impact::Additive,
                    format!("`{key}` {moved} from {a} to {b} (looser)"),
                );
            }
        }
        _ => {}
    }
}

/// A number's bound as it takes effect: `minimum` and `exclusiveMinimum` (or the maxima)
/// together, the tighter deciding.
struct Limit {
    /// The bound, moved onto the integer it lets through when only integers pass.
    value: f64,
    /// Whether `value` itself is refused.
    exclusive: bool,
    /// The keyword that decides it, and its value as the schema gives it.
    keyword: Keyword,
    raw: f64,
    written: String,
}

impl Limit {
    /// Whether `self` refuses values `other` accepts, on a bound values stay `side` of.
    fn tighter_than(&self, other: &Limit, side: Bound) -> bool {
        tightened(side, other.value, self.value)
            || (self.value == other.value && self.exclusive && !other.exclusive)
    }

    fn same_as(&self, other: &Limit) -> bool {
        self.value == other.value && self.exclusive == other.exclusive
    }
}

/// The node's effective lower ([`Bound::Above`]) or upper bound on numbers, if any. Where its
/// `type` lets only integers through, `exclusiveMaximum: 101` and `maximum: 100.5` are both
/// `maximum: 100`: the same values pass.
fn limit(node: &SchemaNode, side: Bound) -> Option<Limit> {
    let (inclusive, exclusive) = match side {
        Bound::Above => (
            (Keyword::Minimum, &node.minimum),
            (Keyword::ExclusiveMinimum, &node.exclusive_minimum),
        ),
        Bound::Below => (
            (Keyword::Maximum, &node.maximum),
            (Keyword::ExclusiveMaximum, &node.exclusive_maximum),
        ),
    };
    let types = node.allowed();
    let integers = types.names(JsonType::Integer) && !types.names(JsonType::Number);
    let read = |(keyword, value_of): (Keyword, &Option<Number>), exclusive: bool| {
        let (raw, written) = number(value_of)?;
        let (value, exclusive) = match (integers, side, exclusive) {
            (false, _, _) => (raw, exclusive),
            (true, Bound::Above, false) => (raw.ceil(), false),
            (true, Bound::Above, true) => (raw.floor() + 1.0, false),
            (true, Bound::Below, false) => (raw.floor(), false),
            (true, Bound::Below, true) => (raw.ceil() - 1.0, false),
        };
        Some(Limit {
            value,
            exclusive,
            keyword,
            raw,
            written,
        })
    };
    match (read(inclusive, false), read(exclusive, true)) {
        (Some(a), Some(b)) => Some(if a.tighter_than(&b, side) { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// A number's lower or upper bound, compared as it takes effect rather than keyword by
/// keyword: `maximum: 100` → `exclusiveMaximum: 101` on an integer lets the same values pass.
fn range(d: &mut ModelDiff<'_>, k: &Keys<'_>, side: Bound) {
    let beyond = match side {
        Bound::Above => "smaller",
        Bound::Below => "larger",
    };
    let (old, new) = match (limit(k.o, side), limit(k.n, side)) {
        (None, None) => return,
        (None, Some(b)) => {
            let key = b.keyword.name();
            d.input(
                k.at(Side::New, b.keyword),
                Impact::Breaking,
                format!(
                    "`{key}` {} added: {beyond} values that validated before are rejected",
                    b.written
                ),
            );
            return;
        }
        (Some(a), None) => {
            let key = a.keyword.name();
            d.input(
                k.at(Side::Old, a.keyword),
                Impact::Additive,
                format!("`{key}` {} removed (looser)", a.written),
            );
            return;
        }
        (Some(a), Some(b)) => (a, b),
    };
    if old.keyword == new.keyword && old.written == new.written {
        return;
    }
    let (ok, nk) = (old.keyword.name(), new.keyword.name());
    let (ov, nv) = (&old.written, &new.written);
    // Whether a side writes a keyword at all, deciding or not.
    let writes = |node: &SchemaNode, keyword: Keyword| {
        [
            (Keyword::Minimum, &node.minimum),
            (Keyword::ExclusiveMinimum, &node.exclusive_minimum),
            (Keyword::Maximum, &node.maximum),
            (Keyword::ExclusiveMaximum, &node.exclusive_maximum),
        ]
        .iter()
        .any(|(k, value)| *k == keyword && value.is_some())
    };
    let moved = if old.keyword == new.keyword {
        // `1` written `1.0` moves nothing (QA repro36 L9: "lowered from 1 to 1.0").
        if new.raw == old.raw {
            format!("`{nk}` {ov} written as {nv}")
        } else {
            let moved = if new.raw > old.raw {
                "raised"
            } else {
                "lowered"
            };
            format!("`{nk}` {moved} from {ov} to {nv}")
        }
    } else {
        match (writes(k.o, new.keyword), writes(k.n, old.keyword)) {
            (false, false) => format!("`{nk}` {nv} added in place of `{ok}` {ov}"),
            (false, true) => format!("`{nk}` {nv} added beside `{ok}` {ov}"),
            (true, false) => format!("`{ok}` {ov} removed, leaving `{nk}` {nv}"),
            (true, true) => format!("`{nk}` {nv} decides where `{ok}` {ov} did"),
        }
    };
    let at = k.at(Side::New, new.keyword);
    if new.tighter_than(&old, side) {
        d.input(
            at,
            Impact::Breaking,
            format!("{moved}: values in between no longer validate"),
        );
    } else if new.same_as(&old) {
        d.input(
            at,
            Impact::Notable,
            format!("{moved}: the same values pass"),
        );
    } else {
        d.input(at, Impact::Additive, format!("{moved} (looser)"));
    }
}

fn multiple_of(d: &mut ModelDiff<'_>, k: &Keys<'_>) {
    let divides = |a: f64, b: f64| {
        let q = b / a;
        q.is_finite() && (q - q.round()).abs() < 1e-9
    };
    let at_new = k.at(Side::New, Keyword::MultipleOf);
    match (number(&k.o.multiple_of), number(&k.n.multiple_of)) {
        (None, Some((_, b))) => d.input(
            at_new,
            Impact::Breaking,
            format!("`multipleOf` {b} added: other values no longer validate"),
        ),
        (Some((_, a)), None) => d.input(
            k.at(Side::Old, Keyword::MultipleOf),
            Impact::Additive,
            format!("`multipleOf` {a} removed (looser)"),
        ),
        (Some((x, a)), Some((y, b))) if x != y => {
            if divides(y, x) {
                // Every multiple of the old step is one of the new.
                d.input(
                    at_new,
                    Impact::Additive,
                    format!("`multipleOf` changed from {a} to {b} (looser)"),
                );
            } else {
                d.input(
                    at_new,
                    Impact::Breaking,
                    format!("`multipleOf` changed from {a} to {b}: multiples of {a} that are not of {b} no longer validate"),
                );
            }
        }
        _ => {}
    }
}

/// A keyword that constrains when present and cannot be ordered (`pattern`, `format`).
fn added_or_removed(
    d: &mut ModelDiff<'_>,
    k: &Keys<'_>,
    keyword: Keyword,
    old: Option<String>,
    new: Option<String>,
) {
    let key = keyword.name();
    match (old, new) {
        (None, Some(b)) => d.input(
            k.at(Side::New, keyword),
            Impact::Breaking,
            format!("`{key}` `{b}` added: values that do not match no longer validate"),
        ),
        (Some(a), None) => d.input(
            k.at(Side::Old, keyword),
            Impact::Additive,
            format!("`{key}` `{a}` removed (looser)"),
        ),
        (Some(a), Some(b)) if a != b => d.input(
            k.at(Side::New, keyword),
            Impact::Breaking,
            format!("`{key}` changed from `{a}` to `{b}`: values matching only the old one no longer validate"),
        ),
        _ => {}
    }
}

/// Where a media keyword is written: on the node, or on the list whose items it describes.
fn media_at(d: &ModelDiff<'_>, side: Side, node: &SchemaNode, key: &str) -> String {
    let mut candidates = vec![format!("{}/{key}", node.pointer)];
    if let Some(list) = node
        .pointer
        .strip_suffix(&format!("/{}", Keyword::Items.name()))
    {
        candidates.push(format!("{list}/{key}"));
    }
    d.locate(side, &candidates)
}

/// The `properties` field a media node belongs to: overlays give its accepted formats.
fn overlay_field(node: &SchemaNode) -> Option<String> {
    let rest = node.pointer.strip_prefix("/properties/")?;
    let field = rest
        .strip_suffix(&format!("/{}", Keyword::Items.name()))
        .unwrap_or(rest);
    (!field.contains('/')).then(|| field.to_owned())
}

fn media_spec(d: &mut ModelDiff<'_>, k: &Keys<'_>) {
    let format = Keyword::Format.name();
    let (a, b) = match (&k.o.media, &k.n.media) {
        (None, None) => return,
        (None, Some(b)) => {
            let at = media_at(d, Side::New, k.n, format);
            d.input(
                at,
                Impact::Breaking,
                format!(
                    "the value must now be {}: other values no longer validate",
                    b.kind.a_file()
                ),
            );
            return;
        }
        (Some(a), None) => {
            let at = media_at(d, Side::Old, k.o, format);
            d.input(
                at,
                Impact::Additive,
                format!("the value no longer has to be {} (looser)", a.kind.a_file()),
            );
            return;
        }
        (Some(a), Some(b)) => (a, b),
    };
    if a.kind != b.kind {
        let at = media_at(d, Side::New, k.n, format);
        d.input(
            at,
            Impact::Breaking,
            format!(
                "the value must now be {}, not {}: files that passed no longer validate",
                b.kind.a_file(),
                a.kind.a_file()
            ),
        );
    }
    formats(d, k, a, b);
    media_rules(d, k, a, b);
}

/// The overlay's accepted formats, checked from the files' magic bytes.
fn formats(d: &mut ModelDiff<'_>, k: &Keys<'_>, a: &MediaSpec, b: &MediaSpec) {
    let before: BTreeSet<_> = a.formats.iter().copied().collect();
    let after: BTreeSet<_> = b.formats.iter().copied().collect();
    if before == after {
        return;
    }
    let (file, at) = match overlay_field(k.n) {
        Some(field) => (OVERLAY, format!("/fields/{field}/formats")),
        None => (super::INPUT, k.n.pointer.clone()),
    };
    let list = |set: &BTreeSet<_>| media::list(&set.iter().copied().collect::<Vec<_>>());
    if before.is_empty() {
        d.push(
            file,
            at,
            Impact::Breaking,
            format!(
                "accepted formats narrowed from any to {} (overlay `formats`)",
                list(&after)
            ),
        );
    } else if after.is_empty() {
        d.push(
            file,
            at,
            Impact::Additive,
            format!("any format accepted now, not only {}", list(&before)),
        );
    } else {
        let removed: BTreeSet<_> = before.difference(&after).copied().collect();
        let added: BTreeSet<_> = after.difference(&before).copied().collect();
        if !removed.is_empty() {
            d.push(
                file,
                at.clone(),
                Impact::Breaking,
                format!("format(s) {} no longer accepted", list(&removed)),
            );
        }
        if !added.is_empty() {
            d.push(
                file,
                at,
                Impact::Additive,
                format!("format(s) {} now accepted", list(&added)),
            );
        }
    }
}

/// The `validations` rules: for each rule, the strictest limit on each side decides.
fn media_rules(d: &mut ModelDiff<'_>, k: &Keys<'_>, a: &MediaSpec, b: &MediaSpec) {
    let key = Keyword::Validations.name();
    let at_new = media_at(d, Side::New, k.n, key);
    let at_old = media_at(d, Side::Old, k.o, key);
    let reported = d.changes.len();
    for &rule in Rule::ALL {
        let bound = rule.bound();
        let strictest = |spec: &MediaSpec| {
            spec.rules
                .iter()
                .filter(|r| r.rule == rule)
                .map(|r| r.limit)
                .reduce(|x, y| if tightened(bound, x, y) { y } else { x })
        };
        let name = format!("validation `{}`", rule.wire());
        match (strictest(a), strictest(b)) {
            (None, Some(y)) => d.input(
                at_new.clone(),
                Impact::Breaking,
                format!(
                    "{name} {} added: media that passed before can be rejected",
                    num(y)
                ),
            ),
            (Some(x), None) => d.input(
                at_old.clone(),
                Impact::Additive,
                format!("{name} {} removed (looser)", num(x)),
            ),
            (Some(x), Some(y)) if x != y => {
                if tightened(bound, x, y) {
                    d.input(
                        at_new.clone(),
                        Impact::Breaking,
                        format!("{name} tightened from {} to {}", num(x), num(y)),
                    );
                } else {
                    d.input(
                        at_new.clone(),
                        Impact::Additive,
                        format!("{name} loosened from {} to {}", num(x), num(y)),
                    );
                }
            }
            _ => {}
        }
    }
    if a.rules == b.rules || reported < d.changes.len() {
        return;
    }
    let limits = |spec: &MediaSpec| -> Vec<(Rule, u64)> {
        spec.rules
            .iter()
            .map(|r| (r.rule, r.limit.to_bits()))
            .collect()
    };
    // The same files pass: only what a failure reports changed.
    let what = if limits(a) == limits(b) {
        "validation messages changed"
    } else {
        "validation rules changed, but the strictest limit of each is the same: the same files pass, failures may report differently"
    };
    d.input(at_new, Impact::Notable, what);
}

/// `items` and its positional forms: each position is checked by its own schema, or the
/// rest's, or anything; positions are compared one by one, then the rest.
fn items(d: &mut ModelDiff<'_>, o: &SchemaNode, n: &SchemaNode) {
    fn split(items: &Items) -> (&[Sub], Sub) {
        match items {
            Items::Any => (&[], Sub::Any),
            Items::Each(sub) => (&[], *sub),
            Items::Tuple { prefix, rest } => (prefix, rest.unwrap_or(Sub::Any)),
        }
    }
    let (before, before_rest) = split(&o.items);
    let (after, after_rest) = split(&n.items);
    let at = format!("{}/{}", n.pointer, Keyword::Items.name());
    let positions = before.len().max(after.len());
    for i in 0..positions {
        let old = before.get(i).copied().unwrap_or(before_rest);
        let new = after.get(i).copied().unwrap_or(after_rest);
        sub(d, old, new, &format!("{at}/{i}"));
    }
    sub(d, before_rest, after_rest, &at);
}

/// Properties of a node that is not a struct's: each name by its own schema, or
/// `additionalProperties`', or anything.
fn properties(d: &mut ModelDiff<'_>, o: &SchemaNode, n: &SchemaNode) {
    let rest = |node: &SchemaNode| node.additional_properties.unwrap_or(Sub::Any);
    let schema = |node: &SchemaNode, name: &str| {
        node.properties
            .iter()
            .find(|(p, _)| p == name)
            .map(|(_, s)| *s)
            .unwrap_or(rest(node))
    };
    let mut names: Vec<&str> = o.properties.iter().map(|(p, _)| p.as_str()).collect();
    for (p, _) in &n.properties {
        if !names.contains(&p.as_str()) {
            names.push(p);
        }
    }
    for name in names {
        let at = format!(
            "{}/{}/{}",
            n.pointer,
            Keyword::Properties.name(),
            escape(name)
        );
        sub(d, schema(o, name), schema(n, name), &at);
    }
}

/// `required` of a node that is not a struct's (a struct's required fields are `api.rs`'s).
fn required(d: &mut ModelDiff<'_>, k: &Keys<'_>) {
    for name in k.n.required.iter().filter(|r| !k.o.required.contains(r)) {
        d.input(
            k.at(Side::New, Keyword::Required),
            Impact::Breaking,
            format!("property `{name}` is now required: objects without it no longer validate"),
        );
    }
    for name in k.o.required.iter().filter(|r| !k.n.required.contains(r)) {
        d.input(
            k.at(Side::Old, Keyword::Required),
            Impact::Additive,
            format!("property `{name}` is no longer required (looser)"),
        );
    }
}

/// `additionalProperties`: the schema of the properties the node does not name.
fn additional_properties(d: &mut ModelDiff<'_>, k: &Keys<'_>) {
    let rest = |node: &SchemaNode| node.additional_properties.unwrap_or(Sub::Any);
    let key = Keyword::AdditionalProperties.name();
    match (rest(k.o), rest(k.n)) {
        (Sub::Never, Sub::Never) => {}
        (_, Sub::Never) => d.input(
            k.at(Side::New, Keyword::AdditionalProperties),
            Impact::Breaking,
            format!("`{key}` is now `false`: properties the schema does not name no longer validate"),
        ),
        (Sub::Never, _) => d.input(
            // The input refuses other properties unless its schema says otherwise.
            k.at(
                if k.n.additional_properties.is_some() {
                    Side::New
                } else {
                    Side::Old
                },
                Keyword::AdditionalProperties,
            ),
            Impact::Additive,
            format!("`{key}` is no longer `false`: properties the schema does not name validate now (looser)"),
        ),
        (old, new) => sub(d, old, new, &k.at(Side::New, Keyword::AdditionalProperties)),
    }
}

/// `allOf` (every member must hold: a member more is stricter), `anyOf` (one must: a member
/// more is looser) and `oneOf` (exactly one must: any change to its members can break).
fn combinators(d: &mut ModelDiff<'_>, k: &Keys<'_>) {
    let lists = [
        (Keyword::AllOf, &k.o.all_of, &k.n.all_of),
        (Keyword::AnyOf, &k.o.any_of, &k.n.any_of),
        (Keyword::OneOf, &k.o.one_of, &k.n.one_of),
    ];
    for (keyword, before, after) in lists {
        let key = keyword.name();
        let at = k.at(Side::New, keyword);
        let exclusive = keyword == Keyword::OneOf;
        if exclusive {
            // `oneOf` wants exactly one member to match: a member accepting more can make a
            // value that matched one member match two.
            d.turned.push(
                " (inside a `oneOf`, where accepting more can make a value match two members)",
            );
        }
        for (i, (old, new)) in before.iter().zip(after.iter()).enumerate() {
            sub(d, *old, *new, &format!("{at}/{i}"));
        }
        if exclusive {
            d.turned.pop();
        }
        let (more, fewer) = (after.len() > before.len(), after.len() < before.len());
        if !more && !fewer {
            continue;
        }
        let what = if before.is_empty() {
            format!("`{key}` added")
        } else if after.is_empty() {
            format!("`{key}` removed")
        } else if more {
            format!("`{key}` has {} member(s) more", after.len() - before.len())
        } else {
            format!("`{key}` has {} member(s) fewer", before.len() - after.len())
        };
        // An empty list is no constraint at all.
        let stricter = match keyword {
            Keyword::AllOf => more,
            Keyword::AnyOf => before.is_empty() || (fewer && !after.is_empty()),
            _ => !after.is_empty(),
        };
        let at = if after.is_empty() {
            k.at(Side::Old, keyword)
        } else {
            at
        };
        if stricter {
            d.input(
                at,
                Impact::Breaking,
                format!("{what}: values that validated before can be rejected"),
            );
        } else {
            d.input(at, Impact::Additive, format!("{what} (looser)"));
        }
    }
}

/// A keyword holding one schema that constrains by being there (`contains`: an item must pass
/// it; `propertyNames`): added is stricter, removed looser, and a change is its schema's.
fn one_schema(
    d: &mut ModelDiff<'_>,
    k: &Keys<'_>,
    keyword: Keyword,
    old: Option<Sub>,
    new: Option<Sub>,
) {
    let key = keyword.name();
    match (old, new) {
        (None, Some(_)) => d.input(
            k.at(Side::New, keyword),
            Impact::Breaking,
            format!("`{key}` added: values that validated before can be rejected"),
        ),
        (Some(_), None) => d.input(
            k.at(Side::Old, keyword),
            Impact::Additive,
            format!("`{key}` removed (looser)"),
        ),
        (Some(old), Some(new)) => sub(d, old, new, &k.at(Side::New, keyword)),
        (None, None) => {}
    }
}

/// `patternProperties`, pattern by pattern: a pattern's schema changes as any schema does; a
/// pattern added checks the properties it matches (and may let in names `additionalProperties`
/// refused: a change either way), one removed leaves them to `additionalProperties`.
fn pattern_properties(d: &mut ModelDiff<'_>, k: &Keys<'_>) {
    let key = Keyword::PatternProperties.name();
    let at = |side: Side, pattern: &str| {
        format!(
            "{}/{}",
            k.at(side, Keyword::PatternProperties),
            escape(pattern)
        )
    };
    let rest_is_free =
        |node: &SchemaNode| matches!(node.additional_properties, None | Some(Sub::Any));
    for (pattern, old) in &k.o.pattern_properties {
        match k.n.pattern_properties.iter().find(|(p, _)| p == pattern) {
            Some((_, new)) => sub(d, *old, *new, &at(Side::New, pattern)),
            None if rest_is_free(k.n) => d.input(
                at(Side::Old, pattern),
                Impact::Additive,
                format!("`{key}` `{pattern}` removed (looser)"),
            ),
            None => d.input(
                at(Side::Old, pattern),
                Impact::Breaking,
                format!("`{key}` `{pattern}` removed: the names it matched now meet `additionalProperties`"),
            ),
        }
    }
    for (pattern, _) in &k.n.pattern_properties {
        if !k.o.pattern_properties.iter().any(|(p, _)| p == pattern) {
            d.input(
                at(Side::New, pattern),
                Impact::Breaking,
                format!("`{key}` `{pattern}` added: properties whose names match it are checked against its schema"),
            );
        }
    }
}

/// `dependencies`, property by property: a property more to require, or a schema added, is
/// stricter; fewer, or one removed, looser.
fn dependencies(d: &mut ModelDiff<'_>, k: &Keys<'_>) {
    let key = Keyword::Dependencies.name();
    // Written as `dependencies`, or as 2019-09's `dependentRequired` or `dependentSchemas`.
    let at = |d: &ModelDiff<'_>, side: Side, name: &str| {
        let candidates = [
            Keyword::Dependencies,
            Keyword::DependentRequired,
            Keyword::DependentSchemas,
        ]
        .map(|keyword| format!("{}/{}", k.at(side, keyword), escape(name)));
        d.locate(side, &candidates)
    };
    for (name, old) in &k.o.dependencies {
        let new =
            k.n.dependencies
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, dep)| dep);
        match (old, new) {
            (_, None) => d.input(
                at(d, Side::Old, name),
                Impact::Additive,
                format!("`{key}` of `{name}` removed (looser)"),
            ),
            (Dependency::Schema(old), Some(Dependency::Schema(new))) => {
                sub(d, *old, *new, &at(d, Side::New, name));
            }
            (Dependency::Required(old), Some(Dependency::Required(new))) => {
                for more in new.iter().filter(|n| !old.contains(n)) {
                    d.input(
                        at(d, Side::New, name),
                        Impact::Breaking,
                        format!("`{more}` is now required when `{name}` is given: objects without it no longer validate"),
                    );
                }
                for fewer in old.iter().filter(|n| !new.contains(n)) {
                    d.input(
                        at(d, Side::New, name),
                        Impact::Additive,
                        format!("`{fewer}` is no longer required when `{name}` is given (looser)"),
                    );
                }
            }
            (_, Some(_)) => d.input(
                at(d, Side::New, name),
                Impact::Breaking,
                format!("`{key}` of `{name}` changed between a list of names and a schema: values that validated before can be rejected"),
            ),
        }
    }
    for (name, _) in &k.n.dependencies {
        if !k.o.dependencies.iter().any(|(n, _)| n == name) {
            d.input(
                at(d, Side::New, name),
                Impact::Breaking,
                format!("`{key}` of `{name}` added: objects holding `{name}` are held to more"),
            );
        }
    }
}

/// `not` and `if`/`then`/`else`. Under `not` a schema accepting more refuses more; under `if`
/// a change either way moves values between `then` and `else`: so inside them any change can
/// break. `then` and `else` constrain as any schema does.
fn conditions(d: &mut ModelDiff<'_>, k: &Keys<'_>) {
    match (k.o.not, k.n.not) {
        (Some(old), Some(new)) => {
            d.turned
                .push(" (inside a `not`, where a schema accepting more refuses more)");
            sub(d, old, new, &k.at(Side::New, Keyword::Not));
            d.turned.pop();
        }
        // Added or removed, a `not` constrains as any schema does.
        (old, new) => one_schema(d, k, Keyword::Not, old, new),
    }
    let condition = |node: &SchemaNode| node.condition;
    match (condition(k.o), condition(k.n)) {
        (Some(old), Some(new)) => {
            d.turned
                .push(" (inside an `if`, which decides between `then` and `else`)");
            sub(d, old.test, new.test, &k.at(Side::New, Keyword::If));
            d.turned.pop();
            let branches = [
                (Keyword::Then, old.then, new.then),
                (Keyword::Else, old.otherwise, new.otherwise),
            ];
            for (keyword, old, new) in branches {
                one_schema(d, k, keyword, old, new);
            }
        }
        (None, Some(_)) => d.input(
            k.at(Side::New, Keyword::If),
            Impact::Breaking,
            "`if` added: values that validated before can be rejected",
        ),
        (Some(_), None) => d.input(
            k.at(Side::Old, Keyword::If),
            Impact::Additive,
            "`if` removed, with its `then` and `else` (looser)",
        ),
        (None, None) => {}
    }
}

fn annotations(d: &mut ModelDiff<'_>, k: &Keys<'_>) {
    for (keyword, before, after) in [
        (Keyword::Title, &k.o.title, &k.n.title),
        (Keyword::Description, &k.o.description, &k.n.description),
    ] {
        if before != after {
            let side = if after.is_none() {
                Side::Old
            } else {
                Side::New
            };
            d.input(
                k.at(side, keyword),
                Impact::Notable,
                format!(
                    "`{}` changed: the generated docs read differently",
                    keyword.name()
                ),
            );
        }
    }
    let at = |side| k.at(side, Keyword::Default);
    match (&k.o.default, &k.n.default) {
        (None, Some(b)) => d.input(
            at(Side::New),
            Impact::Notable,
            format!("now defaults to {b}"),
        ),
        (Some(a), None) => d.input(
            at(Side::Old),
            Impact::Notable,
            format!("default {a} removed"),
        ),
        (Some(a), Some(b)) if a != b => d.input(
            at(Side::New),
            Impact::Notable,
            format!("default changed from {a} to {b}: requests that leave it unset, and an accessor returning it, get the new value; it compiles as before"),
        ),
        _ => {}
    }
}

/// A counted rule as `diff` matches it: its kind and fields, its limit (a `max_total` is
/// checked, a `prompt_count` only warns), its message.
type Keyed = ((&'static str, Vec<String>), Option<i64>, String);

/// The model's counted rules (`max_total`, `prompt_count`), each with its index in the
/// overlay's `rules`, keyed so that the same rule is found in the other overlay.
fn keyed(model: &Model) -> Vec<(usize, Keyed)> {
    let rules = model.rules.iter().enumerate();
    rules
        .filter_map(|(i, r)| match r {
            CrossRule::MaxTotal {
                fields,
                max,
                message,
            } => Some((
                i,
                (
                    (CrossRuleKind::MaxTotal.name(), fields.clone()),
                    Some(*max),
                    message.clone(),
                ),
            )),
            CrossRule::PromptCount {
                prompt,
                count,
                message,
            } => Some((
                i,
                (
                    (
                        CrossRuleKind::PromptCount.name(),
                        vec![prompt.clone(), count.clone()],
                    ),
                    None,
                    message.clone(),
                ),
            )),
            CrossRule::AtLeastOne { .. } | CrossRule::AtMostOne { .. } => None,
        })
        .collect()
}

/// Where rule `i` is in its `overlay.json`.
fn rule_at(i: usize) -> String {
    format!("/rules/{i}")
}

fn rule_what(key: &(&str, Vec<String>)) -> String {
    format!("rule `{}` over {}", key.0, key.1.join(" + "))
}

/// The overlay's rules across fields.
pub(super) fn rules(d: &mut ModelDiff<'_>) {
    counted_rules(d);
    presence_rules(d);
}

/// `max_total` and `prompt_count`, matched by kind and fields.
fn counted_rules(d: &mut ModelDiff<'_>) {
    let (old, new) = (keyed(d.old), keyed(d.new));
    for (i, rule) in &old {
        let (key, max, _) = rule;
        match new.iter().find(|(_, (k, _, _))| k == key) {
            None => {
                let impact = if max.is_some() {
                    Impact::Additive
                } else {
                    Impact::Notable
                };
                d.push(
                    OVERLAY,
                    rule_at(*i),
                    impact,
                    format!("{} removed", rule_what(key)),
                );
            }
            Some((j, new_rule)) => rule_changed(d, *j, rule, new_rule),
        }
    }
    for (j, (key, max, _)) in &new {
        if old.iter().any(|(_, (k, _, _))| k == key) {
            continue;
        }
        let what = rule_what(key);
        match max {
            Some(max) => d.push(
                OVERLAY,
                rule_at(*j),
                Impact::Breaking,
                format!("new {what} (at most {max}): inputs that validated before can be rejected"),
            ),
            None => d.push(
                OVERLAY,
                rule_at(*j),
                Impact::Notable,
                format!("new {what} (a warning only)"),
            ),
        }
    }
}

/// A rule in both overlays (`j` in the new one): its limit and its message.
fn rule_changed(
    d: &mut ModelDiff<'_>,
    j: usize,
    (key, max, message): &Keyed,
    (_, new_max, new_message): &Keyed,
) {
    let what = rule_what(key);
    match (max, new_max) {
        (Some(a), Some(b)) if b < a => d.push(
            OVERLAY,
            rule_at(j),
            Impact::Breaking,
            format!("{what}: max lowered from {a} to {b}: inputs in between no longer validate"),
        ),
        (Some(a), Some(b)) if b > a => d.push(
            OVERLAY,
            rule_at(j),
            Impact::Additive,
            format!("{what}: max raised from {a} to {b} (looser)"),
        ),
        _ => {}
    }
    if message != new_message {
        d.push(
            OVERLAY,
            rule_at(j),
            Impact::Notable,
            format!("{what}: message changed"),
        );
    }
}

/// An `at_least_one` or `at_most_one` rule: which of its fields may be given, checked as an
/// error by `validate()`.
struct Presence<'m> {
    /// Its index in the overlay's `rules`.
    at: usize,
    kind: CrossRuleKind,
    /// As written, for messages.
    written: &'m [String],
    /// The fields compared: their order means nothing.
    fields: BTreeSet<&'m str>,
    message: &'m str,
}

impl Presence<'_> {
    fn what(&self) -> String {
        format!(
            "rule `{}` over {}",
            self.kind.name(),
            self.written.join(" + ")
        )
    }

    fn same(&self, other: &Presence<'_>) -> bool {
        self.kind == other.kind && self.fields == other.fields
    }

    /// Whether every input passing `rules` passes this rule too: at least one of some fields
    /// is given when at least one of fewer of them is, at most one of some fields when at
    /// most one of more of them is.
    fn implied_by(&self, rules: &[Presence<'_>]) -> bool {
        rules.iter().any(|r| {
            r.kind == self.kind
                && match self.kind {
                    CrossRuleKind::AtLeastOne => r.fields.is_subset(&self.fields),
                    _ => self.fields.is_subset(&r.fields),
                }
        })
    }
}

fn presence(model: &Model) -> Vec<Presence<'_>> {
    let rules = model.rules.iter().enumerate();
    rules
        .filter_map(|(at, rule)| {
            let (kind, fields, message) = match rule {
                CrossRule::AtLeastOne { fields, message } => {
                    (CrossRuleKind::AtLeastOne, fields, message)
                }
                CrossRule::AtMostOne { fields, message } => {
                    (CrossRuleKind::AtMostOne, fields, message)
                }
                CrossRule::MaxTotal { .. } | CrossRule::PromptCount { .. } => return None,
            };
            Some(Presence {
                at,
                kind,
                written: fields,
                fields: fields.iter().map(String::as_str).collect(),
                message,
            })
        })
        .collect()
}

/// `at_least_one` and `at_most_one`, judged as a set: `validate()` refuses an input that
/// breaks any of them, so a rule the old ones did not imply refuses inputs that passed
/// (breaking), and an old rule the new ones do not imply is gone (looser). A rule whose
/// fields changed is paired with the old one of its kind it shares a field with.
fn presence_rules(d: &mut ModelDiff<'_>) {
    let (old, new) = (presence(d.old), presence(d.new));
    let kept = |rule: &Presence<'_>, others: &[Presence<'_>]| others.iter().any(|o| o.same(rule));
    let mut paired = vec![false; new.len()];
    for o in &old {
        if let Some(j) = new.iter().position(|n| n.same(o)) {
            if o.message != new[j].message {
                let what = new[j].what();
                d.push(
                    OVERLAY,
                    rule_at(new[j].at),
                    Impact::Notable,
                    format!("{what}: message changed"),
                );
            }
            continue;
        }
        let counterpart = new.iter().enumerate().position(|(j, n)| {
            !paired[j] && !kept(n, &old) && n.kind == o.kind && !n.fields.is_disjoint(&o.fields)
        });
        let Some(j) = counterpart else {
            let (impact, why) = if o.implied_by(&new) {
                (Impact::Notable, ": the rules left refuse what it refused")
            } else {
                (Impact::Additive, " (looser)")
            };
            d.push(
                OVERLAY,
                rule_at(o.at),
                impact,
                format!("{} removed{why}", o.what()),
            );
            continue;
        };
        paired[j] = true;
        let n = &new[j];
        let (impact, why) = if !n.implied_by(&old) {
            (
                Impact::Breaking,
                ": inputs that validated before can be rejected",
            )
        } else if !o.implied_by(&new) {
            (Impact::Additive, " (looser)")
        } else {
            (Impact::Notable, ": the same inputs pass")
        };
        d.push(
            OVERLAY,
            rule_at(n.at),
            impact,
            format!("{} now over {}{why}", o.what(), n.written.join(" + ")),
        );
        if o.message != n.message {
            d.push(
                OVERLAY,
                rule_at(n.at),
                Impact::Notable,
                format!("{}: message changed", n.what()),
            );
        }
    }
    for (j, n) in new.iter().enumerate() {
        if paired[j] || kept(n, &old) {
            continue;
        }
        let (impact, why) = if n.implied_by(&old) {
            (
                Impact::Notable,
                ": the rules before refused what it refuses",
            )
        } else {
            (
                Impact::Breaking,
                ": inputs that validated before can be rejected",
            )
        };
        d.push(
            OVERLAY,
            rule_at(n.at),
            impact,
            format!("new {}{why}", n.what()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(edit: impl FnOnce(&mut SchemaNode)) -> SchemaNode {
        let mut node = SchemaNode::default();
        edit(&mut node);
        node
    }

    #[test]
    fn keywords_that_read_their_own_node_are_not_merged() {
        let named = node(|n| n.properties = vec![("a".into(), Sub::Any)]);
        let closed = node(|n| n.additional_properties = Some(Sub::Never));
        assert!(merged(&named, &closed).is_none());
        assert!(merged(&closed, &named).is_none());
        let rest = node(|n| n.unevaluated_properties = Some(Sub::Never));
        assert!(merged(&named, &rest).is_none());
        // The outer node's `unevaluatedProperties` sees what its members evaluate anyway.
        assert!(merged(&rest, &named).is_some());
        let contains = node(|n| n.contains = Some(Sub::Any));
        let at_most = node(|n| n.max_contains = Some(2));
        assert!(merged(&contains, &at_most).is_none());
        let pattern = |p: &str| node(|n| n.pattern = Some(p.into()));
        assert!(merged(&pattern("^a"), &pattern("^b")).is_none());
        assert!(merged(&pattern("^a"), &pattern("^a")).is_some());
    }

    #[test]
    fn merged_keywords_hold_as_both_did() {
        let a = node(|n| {
            n.types = Some(Types::NUMBER);
            n.maximum = Some(10.into());
            n.min_length = Some(1);
            n.required = vec!["x".into()];
            n.description = Some("outer".into());
        });
        let b = node(|n| {
            n.types = Some(Types::INTEGER.with(Types::STRING));
            n.maximum = Some(5.into());
            n.min_length = Some(3);
            n.required = vec!["x".into(), "y".into()];
            n.description = Some("inner".into());
            n.title = Some("Title".into());
        });
        let m = merged(&a, &b).expect("the two merge");
        assert_eq!(m.types, Some(Types::INTEGER));
        assert_eq!(m.maximum, Some(5.into()));
        assert_eq!(m.min_length, Some(3));
        assert_eq!(m.required, ["x", "y"]);
        assert_eq!(m.description.as_deref(), Some("outer"));
        assert_eq!(m.title.as_deref(), Some("Title"));
    }

    #[test]
    fn an_integer_bound_is_the_integer_it_lets_through() {
        let bounds = |types: Types, edit: fn(&mut SchemaNode)| {
            let n = node(|n| {
                n.types = Some(types);
                edit(n);
            });
            let at = |side| limit(&n, side).map(|l| (l.value, l.exclusive));
            (at(Bound::Above), at(Bound::Below))
        };
        let exclusive: fn(&mut SchemaNode) = |n| {
            n.exclusive_minimum = Some((-1).into());
            n.exclusive_maximum = Some(101.into());
        };
        let inclusive: fn(&mut SchemaNode) = |n| {
            n.minimum = Some(0.into());
            n.maximum = Some(100.into());
        };
        let integers = Types::INTEGER.with(Types::NULL);
        assert_eq!(bounds(integers, exclusive), bounds(integers, inclusive));
        assert_eq!(
            bounds(integers, inclusive),
            (Some((0.0, false)), Some((100.0, false)))
        );
        // Numbers with a fraction pass `number`: -0.5 and 100.5 are inside one and not the other.
        assert_eq!(
            bounds(Types::NUMBER, exclusive),
            (Some((-1.0, true)), Some((101.0, true)))
        );
        // Both written: the tighter decides.
        let both: fn(&mut SchemaNode) = |n| {
            n.maximum = Some(100.into());
            n.exclusive_maximum = Some(100.into());
        };
        assert_eq!(bounds(Types::NUMBER, both).1, Some((100.0, true)));
        assert_eq!(bounds(Types::INTEGER, both).1, Some((99.0, false)));
    }
}
