//! One model: its names and docs, its input's schema and types, its overlay rules.

use runcomfy_vocab::keyword::compile_pattern;
use runcomfy_vocab::pointer::{Pointer, escape};
use serde_json::Value;

use super::schema::Reader;
use super::typing::Typer;
use super::{Ctx, is_type_ident, push_doc};
use crate::error::WarningKind;
use crate::ir::*;
use crate::naming;

/// Lowers the model of `ctx`; `None` when its input cannot be read at all (the errors say why).
pub(super) fn lower(ctx: &mut Ctx<'_>) -> Option<Model> {
    let src = ctx.src;
    let segments: Vec<&str> = src.id.split('/').collect();
    let module_path = segments.iter().map(|s| naming::module_ident(s)).collect();
    let type_name = type_name(ctx, &segments);
    let input_name = format!("{type_name}Input");
    check_overlay_fields(ctx);
    let upstream = upstream(ctx);
    let display_name = display_name(ctx);
    let mut docs = Vec::new();
    if let Some(d) = src.input.get("description").and_then(Value::as_str) {
        push_doc(&mut docs, d);
    }
    if let Some(d) = &src.overlay.docs {
        push_doc(&mut docs, d);
    }
    let (nodes, root) = input_schema(ctx)?;
    let taken = naming::RESERVED_TYPE_NAMES
        .iter()
        .map(|name| (*name).to_owned())
        .chain([type_name.clone()])
        .collect();
    let mut typer = Typer::new(ctx, nodes, taken);
    let input = typer.input(root, input_name);
    let Typer {
        nodes,
        structs,
        enums,
        unions,
        ..
    } = typer;
    let rules = rules(ctx, &structs[input], &enums);
    let price_units = price_units(ctx, &structs[input], &enums);
    Some(Model {
        id: src.id.clone(),
        module_path,
        type_name,
        display_name,
        docs,
        upstream,
        schemas: nodes,
        root,
        input,
        structs,
        enums,
        unions,
        output: 0,
        rules,
        price_units,
        input_schema: pretty(&src.input),
        output_schema: pretty(&src.output),
    })
}

/// The model's Rust type: the overlay's `type_name`, or one made from the id's segments.
fn type_name(ctx: &mut Ctx<'_>, segments: &[&str]) -> String {
    match &ctx.src.overlay.type_name {
        Some(name)
            if is_type_ident(name) && !naming::RESERVED_TYPE_NAMES.contains(&name.as_str()) =>
        {
            name.clone()
        }
        Some(name) => {
            let problem = if is_type_ident(name) {
                format!("`{name}` is a name the generated code uses; choose another")
            } else {
                format!(
                    "`{name}` is not a Rust type name (ASCII, starting with an upper-case letter)"
                )
            };
            ctx.overlay_err("/type_name", problem);
            naming::model_type_ident(segments)
        }
        None => naming::model_type_ident(segments),
    }
}

/// Overlay `fields` entries must name properties of the input.
fn check_overlay_fields(ctx: &mut Ctx<'_>) {
    let src = ctx.src;
    for name in src.overlay.fields.keys() {
        let known = src
            .input
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| p.contains_key(name));
        if !known {
            ctx.overlay_err(
                &format!("/fields/{}", escape(name)),
                format!("field `{name}` is not a property of input.json"),
            );
        }
    }
}

/// Whether an input schema's title names no model: empty, `Input`, `Input schema`, or the class
/// name a schema generator (Pydantic, an OpenAPI tool) wrote, one word ending in what it holds
/// (`TextToImageInput`, `GenerateRequest`, `FluxParams`).
fn is_generic_title(title: &str) -> bool {
    let title = title.trim();
    let class_name = !title.is_empty()
        && title.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && [
            "input",
            "request",
            "params",
            "parameters",
            "schema",
            "args",
            "arguments",
            "body",
        ]
        .iter()
        .any(|end| title.to_ascii_lowercase().ends_with(end));
    title.is_empty() || title.eq_ignore_ascii_case("input schema") || class_name
}

/// The name `runcomfy models` shows: the overlay's, RunComfy's, or the input's title unless
/// it is a generic one; else the id, with a warning.
fn display_name(ctx: &mut Ctx<'_>) -> String {
    let src = ctx.src;
    src.overlay
        .display_name
        .clone()
        .or_else(|| src.upstream.display_name.clone())
        .or_else(|| {
            let title = src.input.get("title").and_then(Value::as_str)?;
            (!is_generic_title(title)).then(|| title.to_owned())
        })
        .unwrap_or_else(|| {
            let path = ctx.overlay_path();
            ctx.warn_in(
                path,
                WarningKind::NoDisplayName,
                "/display_name",
                format!("no display name: `runcomfy models` shows the bare id `{}`; set `display_name` in overlay.json", src.id),
            );
            src.id.clone()
        })
}

/// The input's schema nodes and the root's id; `None` when the root is not an object schema.
fn input_schema(ctx: &mut Ctx<'_>) -> Option<(Vec<SchemaNode>, SchemaId)> {
    let src = ctx.src;
    let mut reader = Reader::new(ctx, &src.input);
    let root = reader.read(&Pointer::root());
    reader.report_unused_unchecked();
    let mut nodes = std::mem::take(&mut reader.nodes);
    let Sub::Node(root) = root else {
        ctx.input_err("", "the input schema must be an object schema", None);
        return None;
    };
    if !nodes[root].allowed().allows(JsonType::Object) {
        ctx.input_err(
            "/type",
            "the input schema must allow an object (`\"type\": \"object\"`)",
            None,
        );
        return None;
    }
    if in_place_loop(ctx, &nodes) || in_place_fan_out(ctx, &nodes) {
        return None;
    }
    absorb_all_of(&mut nodes, root);
    let (mut nodes, root) = prune(nodes, root);
    let root = nest_apart(&mut nodes, root);
    close_input(ctx, &mut nodes, root);
    append_overlay_docs(ctx, &mut nodes, root);
    Some((nodes, root))
}

/// Refuses a schema that applies itself to the same value through `allOf`, `$ref`, `anyOf`,
/// `oneOf`, `not`, `if`/`then`/`else` or `dependentSchemas` without first stepping into a
/// property or an item (`{"allOf": [{"$ref": "#"}]}`): validating it would never end.
fn in_place_loop(ctx: &mut Ctx<'_>, nodes: &[SchemaNode]) -> bool {
    // Depth-first, each node once: 0 unseen, 1 on the path, 2 done.
    let mut state = vec![0u8; nodes.len()];
    for start in 0..nodes.len() {
        if state[start] != 0 {
            continue;
        }
        let mut path: Vec<(SchemaId, Vec<SchemaId>)> = vec![(start, in_place_nodes(&nodes[start]))];
        state[start] = 1;
        while let Some((id, next)) = path.last_mut() {
            let id = *id;
            match next.pop() {
                Some(to) if state[to] == 1 => {
                    ctx.input_err(
                        &nodes[id].pointer,
                        format!(
                            "this schema applies `#{}` to the same value, which applies it back without stepping into a property or an item: validating would never end",
                            nodes[to].pointer
                        ),
                        None,
                    );
                    return true;
                }
                Some(to) if state[to] == 0 => {
                    state[to] = 1;
                    path.push((to, in_place_nodes(&nodes[to])));
                }
                Some(_) => {}
                None => {
                    state[id] = 2;
                    path.pop();
                }
            }
        }
    }
    false
}

/// The nodes `node` applies in place (`true` and `false` are no node).
fn in_place_nodes(node: &SchemaNode) -> Vec<SchemaId> {
    node.in_place().into_iter().filter_map(Sub::node).collect()
}

/// How many schemas may apply to one value through one schema: validating checks each (every
/// alternative of an `anyOf`, to say why none passed). A flat `oneOf` of thousands of
/// `const`s is well within it; alternatives that multiply are soon past it.
const MOST_IN_PLACE: u64 = 100_000;

/// Refuses a schema whose alternatives lead to alternatives until more than [`MOST_IN_PLACE`]
/// schemas apply to one value (six `$ref`s to the next of twelve definitions are 6^12): each
/// value would take hours to validate. Runs after [`in_place_loop`], so what applies in place
/// has no loop.
fn in_place_fan_out(ctx: &mut Ctx<'_>, nodes: &[SchemaNode]) -> bool {
    // Each node's count once its children's are known: a post-order walk, each node once.
    let mut count: Vec<Option<u64>> = vec![None; nodes.len()];
    for start in 0..nodes.len() {
        let mut stack = vec![(start, false)];
        while let Some((id, children_done)) = stack.pop() {
            if count[id].is_some() {
                continue;
            }
            let children = in_place_nodes(&nodes[id]);
            if children_done {
                let total = children
                    .iter()
                    .map(|child| count[*child].unwrap_or(0))
                    .fold(1u64, u64::saturating_add);
                if total > MOST_IN_PLACE {
                    // Many alternatives side by side, or alternatives that lead to others.
                    let why = match children.len() as u64 {
                        n if n >= MOST_IN_PLACE => format!("it has {n} alternatives"),
                        _ => "alternatives that lead to alternatives multiply".to_owned(),
                    };
                    ctx.input_err(
                        &nodes[id].pointer,
                        format!(
                            "this schema applies more than {MOST_IN_PLACE} schemas to the same \
                             value, each checked: validating one value would take too long \
                             ({why})"
                        ),
                        None,
                    );
                    return true;
                }
                count[id] = Some(total);
            } else {
                stack.push((id, true));
                stack.extend(children.into_iter().map(|child| (child, false)));
            }
        }
    }
    false
}

/// An input whose properties come through `allOf` (a root `$ref`, which from 2019-09 on is an
/// `allOf` member, or a composition of objects) has them all as fields: every property,
/// pattern of names and required name its members list (and theirs, in turn) is written into
/// the root, where it was not already. The members keep checking what they say, so a member's own
/// `additionalProperties` still refuses the others' properties, as JSON Schema has it; a member
/// that said nothing more is taken out (its own members in its place). A root with its own
/// `additionalProperties` is left as it is: that keyword judges the root's own properties only.
fn absorb_all_of(nodes: &mut [SchemaNode], root: SchemaId) {
    if nodes[root].additional_properties.is_some() {
        return;
    }
    // Depth first, in schema order, each member once.
    let mut seen = vec![root];
    let mut stack: Vec<Sub> = nodes[root].all_of.iter().rev().copied().collect();
    while let Some(sub) = stack.pop() {
        let Sub::Node(member) = sub else {
            continue;
        };
        if seen.contains(&member) {
            continue;
        }
        seen.push(member);
        let member = nodes[member].clone();
        stack.extend(member.all_of.iter().rev());
        let root = &mut nodes[root];
        for (name, schema) in member.properties {
            if !root.properties.iter().any(|(known, _)| *known == name) {
                root.properties.push((name, schema));
            }
        }
        // Names its patterns take are the input's too (kept beside the fields).
        for (pattern, schema) in member.pattern_properties {
            if !root
                .pattern_properties
                .iter()
                .any(|(known, _)| *known == pattern)
            {
                root.pattern_properties.push((pattern, schema));
            }
        }
        for name in member.required {
            if !root.required.contains(&name) {
                root.required.push(name);
            }
        }
        if root.description.is_none() {
            root.description = member.description;
        }
        if root.title.is_none() {
            root.title = member.title;
        }
    }
    let mut taken = vec![root];
    let mut i = 0;
    while let Some(&sub) = nodes[root].all_of.get(i) {
        match sub {
            Sub::Node(member)
                if !taken.contains(&member) && absorbable(&nodes[member], &nodes[root]) =>
            {
                taken.push(member);
                let member = nodes[member].clone();
                let root = &mut nodes[root];
                root.all_of.splice(i..=i, member.all_of);
                if member.types.is_some() {
                    root.types = Some(root.types.unwrap_or(Types::OBJECT).and(Types::OBJECT));
                }
            }
            _ => i += 1,
        }
    }
}

/// The input is closed ([`close_input`]), but where it nests in itself (`{"$ref": "#"}` under a
/// property: a tree of nodes) it is an object like any other, which JSON Schema leaves open.
/// Such a root is kept, open, for those references (renamed `NESTED_INPUT`), and the input
/// is a copy of it, which is closed; returns the input's id.
fn nest_apart(nodes: &mut Vec<SchemaNode>, root: SchemaId) -> SchemaId {
    let nested = nodes.iter_mut().any(|node| {
        node.subs_mut()
            .into_iter()
            .any(|sub| *sub == Sub::Node(root))
    });
    if !nested {
        return root;
    }
    let input = nodes[root].clone();
    let taken: Vec<&str> = nodes.iter().map(|node| node.name.as_str()).collect();
    let mut name = "NESTED_INPUT".to_owned();
    let mut n = 1;
    while taken.contains(&name.as_str()) {
        n += 1;
        name = format!("NESTED_INPUT_{n}");
    }
    nodes[root].name = name;
    nodes.push(input);
    nodes.len() - 1
}

/// Drops the nodes nothing reaches from the root any more (the members [`absorb_all_of`] took
/// in, when nothing else refers to them), keeping the others in their order.
fn prune(mut nodes: Vec<SchemaNode>, root: SchemaId) -> (Vec<SchemaNode>, SchemaId) {
    let mut reached = vec![false; nodes.len()];
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut reached[id], true) {
            continue;
        }
        for sub in nodes[id].subs_mut() {
            if let Sub::Node(next) = *sub {
                stack.push(next);
            }
        }
    }
    if reached.iter().all(|&r| r) {
        return (nodes, root);
    }
    // Each kept node's new id: the number of kept nodes before it.
    let new_id: Vec<SchemaId> = reached
        .iter()
        .scan(0, |kept, &r| {
            let id = *kept;
            *kept += usize::from(r);
            Some(id)
        })
        .collect();
    let mut id = 0;
    nodes.retain(|_| {
        id += 1;
        reached[id - 1]
    });
    for node in &mut nodes {
        for sub in node.subs_mut() {
            if let Sub::Node(old) = *sub {
                *sub = Sub::Node(new_id[old]);
            }
        }
    }
    (nodes, new_id[root])
}

/// Whether `member` says nothing but properties, required names, `type: object`, annotations
/// and `allOf` members, each of its properties defined by `root` as it defines it.
fn absorbable(member: &SchemaNode, root: &SchemaNode) -> bool {
    let said_more = !SchemaNode {
        types: member.types.filter(|&types| types != Types::OBJECT),
        properties: Vec::new(),
        required: Vec::new(),
        all_of: Vec::new(),
        ..member.clone()
    }
    .is_empty_schema();
    let agrees = member.properties.iter().all(|(name, schema)| {
        root.properties
            .iter()
            .all(|(known, own)| known != name || own == schema)
    });
    !said_more && agrees
}

/// The input refuses properties it does not name unless its schema allows them: a typo in a
/// paid request must not pass silently. A closed input must have every `required` name as a
/// property (or a name its `patternProperties` take), or no request could be valid.
///
/// Where a branch of the input (`anyOf`, `oneOf`, `if`/`then`/`else`, `dependentSchemas`, an
/// `allOf` member that stayed one) names properties of its own, it is closed over those too,
/// as `unevaluatedProperties: false` says: a property a passing branch names is taken. A
/// union of object shapes at the root (`oneOf` of variants) is a live model, not one that
/// refuses every variant's properties.
fn close_input(ctx: &mut Ctx<'_>, nodes: &mut [SchemaNode], root: SchemaId) {
    let branches_name_properties = names_properties_in_place(nodes, root);
    let root = &mut nodes[root];
    // `unevaluatedProperties` says itself which names the input takes, those its subschemas
    // evaluate among them: `additionalProperties: false` would refuse those.
    if root.additional_properties.is_none() && root.unevaluated_properties.is_none() {
        if branches_name_properties {
            root.unevaluated_properties = Some(Sub::Never);
        } else {
            root.additional_properties = Some(Sub::Never);
        }
    }
    if matches!(root.additional_properties, Some(Sub::Never)) {
        let patterns: Vec<regress::Regex> = root
            .pattern_properties
            .iter()
            .filter_map(|(source, _)| compile_pattern(source).ok())
            .collect();
        for (i, name) in root.required.iter().enumerate() {
            if !root.properties.iter().any(|(p, _)| p == name)
                && !patterns.iter().any(|p| p.find(name).is_some())
            {
                ctx.input_err(
                    &format!("/required/{i}"),
                    format!("`required` names `{name}`, which is not a property"),
                    Some("add the property, or remove the name with an overlay `patch` (`{\"patch\": {\"required\": [...]}}`)"),
                );
            }
        }
    }
}

/// Whether a schema `root` applies to the same value (not `not`, whose passing evaluates
/// nothing) names properties `root` does not, or takes others (`additionalProperties`, ...):
/// what `unevaluatedProperties` would count as evaluated beyond the root's own.
fn names_properties_in_place(nodes: &[SchemaNode], root: SchemaId) -> bool {
    let own = &nodes[root].properties;
    let branches = |node: &SchemaNode| -> Vec<SchemaId> {
        let mut subs = node.all_of.clone();
        subs.extend(node.branches());
        subs.into_iter().filter_map(Sub::node).collect()
    };
    // In-place loops were refused before (`in_place_loop`); `seen` only spares shared nodes.
    let mut seen = vec![root];
    let mut stack = branches(&nodes[root]);
    while let Some(id) = stack.pop() {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let node = &nodes[id];
        let names_others = node
            .properties
            .iter()
            .any(|(name, _)| !own.iter().any(|(known, _)| known == name));
        if names_others
            || !node.pattern_properties.is_empty()
            || node.additional_properties.is_some()
            || node.unevaluated_properties.is_some()
        {
            return true;
        }
        stack.extend(branches(node));
    }
    false
}

/// What RunComfy says of the model, read from `upstream.json`; the overlay's output kind wins.
fn upstream(ctx: &mut Ctx<'_>) -> Upstream {
    let output_kind = match crate::catalog::output_kind(&ctx.src.overlay, &ctx.src.upstream) {
        Ok(kind) => kind,
        Err(kind) => {
            let path = match ctx.src.overlay.output_kind {
                Some(_) => ctx.src.overlay_path.clone(),
                None => ctx.src.upstream_path.clone(),
            };
            ctx.errors.push(crate::error::Error::schema(
                path.unwrap_or_default(),
                "/output_kind",
                format!("unknown output kind `{kind}`: expected image, video or audio"),
            ));
            None
        }
    };
    let price = price(ctx);
    Upstream {
        output_kind,
        categories: ctx.src.upstream.categories.clone(),
        price,
        output_published: ctx.src.output_published,
    }
}

/// The price `upstream.json` gives: each word checked, the rate in billionths of a dollar.
fn price(ctx: &mut Ctx<'_>) -> Price {
    let file = ctx.src.upstream.clone();
    let path = ctx.src.upstream_path.clone().unwrap_or_default();
    let mut problem = |pointer: &str, text: String| {
        ctx.errors
            .push(crate::error::Error::schema(path.clone(), pointer, text));
    };
    let nanos = file.base_price_usd.and_then(|usd| {
        let nanos = usd * 1e9;
        if usd.is_finite() && usd >= 0.0 && nanos <= u64::MAX as f64 {
            Some(nanos.round() as u64)
        } else {
            problem(
                "/base_price_usd",
                format!("`{usd}` is not a price in US dollars"),
            );
            None
        }
    });
    let unit = file.price_unit.as_deref().and_then(|word| {
        let unit = PriceUnit::parse(word);
        if unit.is_none() {
            problem(
                "/price_unit",
                format!("unknown price unit `{word}`: expected second or output"),
            );
        }
        unit
    });
    // RunComfy's word, as the API gives it: one this version does not know (`tiered`) is
    // other pricing, with no estimate, as the client reads it from the API (QA repro48 F2: it
    // refused the whole catalog, and upstream.json is not ours to edit).
    let pricing = file.pricing.as_deref().map(Pricing::read);
    if let Some(word) = file
        .pricing
        .as_deref()
        .filter(|word| Pricing::parse(word).is_none())
    {
        ctx.warn_in(
            path,
            WarningKind::UnknownPricing,
            "/pricing",
            format!(
                "pricing `{word}` is none this version knows (fixed, base): it is read as \
                 other pricing, which has no estimate (so `--max-cost` refuses the model)"
            ),
        );
    }
    Price {
        nanos,
        unit,
        pricing,
        note: file.pricing_note.filter(|n| !n.trim().is_empty()),
    }
}

/// The input fields that give a job's price units: those the overlay names (`price_units`),
/// and those the vocabulary's rule finds by name unless the overlay names a field for the
/// same unit or says `none`. Only numbers, integers and choices of them (or of numbers
/// written as text, `"5"`) can count; at most one field counts outputs.
fn price_units(ctx: &mut Ctx<'_>, input: &Struct, enums: &[Enum]) -> Vec<(String, PriceUnit)> {
    use runcomfy_vocab::price::UnitsOverlay;
    let mut named: Vec<(String, UnitsOverlay)> = Vec::new();
    for (name, field) in &ctx.src.overlay.fields.clone() {
        let Some(word) = &field.price_units else {
            continue;
        };
        let at = format!("/fields/{}/price_units", escape(name));
        match UnitsOverlay::parse(word) {
            Some(units) => named.push((name.clone(), units)),
            None => ctx.overlay_err(
                &at,
                format!(
                    "`{word}` is not a price unit: expected one of {}",
                    UnitsOverlay::WORDS.join(", ")
                ),
            ),
        }
    }
    let overlay_units: Vec<PriceUnit> = named
        .iter()
        .filter_map(|(_, u)| match u {
            UnitsOverlay::Unit(unit) => Some(*unit),
            UnitsOverlay::None => None,
        })
        .collect();
    let mut units = Vec::new();
    for field in &input.fields {
        let overlay = named
            .iter()
            .find(|(n, _)| *n == field.wire)
            .map(|(_, u)| *u);
        let unit = match overlay {
            Some(UnitsOverlay::Unit(unit)) => {
                if !measurable(&field.ty, enums) {
                    ctx.overlay_err(
                        &format!("/fields/{}/price_units", escape(&field.wire)),
                        format!(
                            "`{}` is not a number, so it cannot count {}",
                            field.wire,
                            unit.plural()
                        ),
                    );
                    continue;
                }
                unit
            }
            Some(UnitsOverlay::None) => continue,
            None => match PriceUnit::of_field(&field.wire) {
                Some(unit) if !overlay_units.contains(&unit) && measurable(&field.ty, enums) => {
                    unit
                }
                _ => continue,
            },
        };
        units.push((field.wire.clone(), unit));
    }
    let outputs: Vec<&str> = units
        .iter()
        .filter(|(_, u)| *u == PriceUnit::Output)
        .map(|(n, _)| n.as_str())
        .collect();
    if outputs.len() > 1 {
        let list = outputs.join("`, `");
        ctx.overlay_err(
            "/fields",
            format!("several fields could count the outputs for the price (`{list}`): name the one in the overlay (`\"price_units\": \"output\"`) and the others `none`"),
        );
        units.retain(|(_, u)| *u != PriceUnit::Output);
    }
    units
}

/// Whether a field's value can be a number of units: a number, an integer, or a choice of
/// them (string choices may be numbers written as text).
fn measurable(ty: &RustType, enums: &[Enum]) -> bool {
    match strip(ty) {
        RustType::Integer | RustType::Number => true,
        RustType::Enum(i) => {
            enums[*i].repr == EnumRepr::Integer
                || enums[*i]
                    .variants
                    .iter()
                    .any(|v| v.wire.trim().parse::<f64>().is_ok())
        }
        RustType::Union(_) | RustType::Json => true,
        _ => false,
    }
}

/// The schema as pretty JSON text, for a raw string in the generated code: characters that
/// reorder text (which rustc denies in literals) are written as JSON escapes, which read back
/// as the same JSON.
fn pretty(value: &Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    let reorders = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if !text.contains(reorders) {
        return text;
    }
    text.chars()
        .map(|c| {
            if reorders(c) {
                format!("\\u{:04x}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The overlay's field `docs` go after the field's description.
fn append_overlay_docs(ctx: &Ctx<'_>, nodes: &mut [SchemaNode], root: SchemaId) {
    let properties = nodes[root].properties.clone();
    for (wire, sub) in properties {
        let Some(extra) = ctx
            .src
            .overlay
            .fields
            .get(&wire)
            .and_then(|f| f.docs.clone())
        else {
            continue;
        };
        if let Sub::Node(id) = sub {
            let node = &mut nodes[id];
            node.description = Some(match node.description.take() {
                Some(d) => format!("{d}\n\n{extra}"),
                None => extra,
            });
        }
    }
}

/// The overlay's rules across fields that fit the input's fields; each that does not is
/// reported.
fn rules(ctx: &mut Ctx<'_>, input: &Struct, enums: &[Enum]) -> Vec<CrossRule> {
    let mut rules = Vec::new();
    for (i, rule) in ctx.src.overlay.rules.clone().into_iter().enumerate() {
        let at = format!("/rules/{i}");
        let find = |name: &str| input.fields.iter().find(|f| f.wire == name);
        let fit = match &rule {
            CrossRule::MaxTotal { fields, .. } => fields_fit(ctx, &at, fields, input, |field| {
                (!countable(&field.ty, enums)).then(|| {
                    format!(
                        "`{}` is neither an array nor an integer, so it cannot be counted",
                        field.wire
                    )
                })
            }),
            CrossRule::PromptCount { prompt, count, .. } => match (find(prompt), find(count)) {
                (Some(p), Some(c)) => {
                    if !matches!(strip(&p.ty), RustType::String) {
                        ctx.overlay_err(&at, format!("`{prompt}` is not a text field"));
                        false
                    } else if !is_integer(&c.ty, enums) {
                        ctx.overlay_err(&at, format!("`{count}` is not an integer field"));
                        false
                    } else {
                        true
                    }
                }
                _ => {
                    ctx.overlay_err(
                        &at,
                        format!(
                            "`{prompt}` or `{count}` is not an input field ({} rule)",
                            rule.kind().name()
                        ),
                    );
                    false
                }
            },
            // A required field, or one whose default is something, is always given: the
            // rule would never fire, and its message would mislead.
            CrossRule::AtLeastOne { fields, .. } => fields_fit(ctx, &at, fields, input, |field| {
                always_given(field)
                    .map(|why| format!("`{}` {why}, so the rule always holds", field.wire))
            }),
            // A field that is always given would leave the others never givable: the rule
            // would be a refusal of them, better said by dropping them.
            CrossRule::AtMostOne { fields, .. } if fields.len() < 2 => {
                ctx.overlay_err(&at, "names fewer than two fields".to_owned());
                false
            }
            CrossRule::AtMostOne { fields, .. } => fields_fit(ctx, &at, fields, input, |field| {
                always_given(field)
                    .map(|why| format!("`{}` {why}, so no other field could be given", field.wire))
            }),
        };
        if fit {
            rules.push(rule);
        }
    }
    rules
}

/// Whether every field a rule names (at least one) is an input field that `unfit` finds
/// nothing wrong with; each problem is reported at `at`.
fn fields_fit(
    ctx: &mut Ctx<'_>,
    at: &str,
    fields: &[String],
    input: &Struct,
    unfit: impl Fn(&Field) -> Option<String>,
) -> bool {
    if fields.is_empty() {
        ctx.overlay_err(at, "names no field".to_owned());
        return false;
    }
    let mut fit = true;
    for name in fields {
        let problem = match input.fields.iter().find(|f| f.wire == *name) {
            Some(field) => unfit(field),
            None => Some(format!("`{name}` is not an input field")),
        };
        if let Some(problem) = problem {
            fit = false;
            ctx.overlay_err(at, problem);
        }
    }
    fit
}

/// Why a field is always given, as `at_least_one` and `at_most_one` count fields, if it is.
fn always_given(field: &Field) -> Option<&'static str> {
    if field.required {
        Some("is required")
    } else if field.default.as_ref().is_some_and(is_something) {
        Some("has a default")
    } else {
        None
    }
}

/// A default that gives its field (not `null`, `[]` or `""`), as `at_least_one` and
/// `at_most_one` count them.
fn is_something(default: &serde_json::Value) -> bool {
    match default {
        serde_json::Value::Null => false,
        serde_json::Value::Array(items) => !items.is_empty(),
        serde_json::Value::String(text) => !text.is_empty(),
        _ => true,
    }
}

fn strip(ty: &RustType) -> &RustType {
    match ty {
        RustType::Nullable(inner) => inner,
        other => other,
    }
}

fn is_integer(ty: &RustType, enums: &[Enum]) -> bool {
    match strip(ty) {
        RustType::Integer => true,
        RustType::Enum(i) => enums[*i].repr == EnumRepr::Integer,
        _ => false,
    }
}

fn countable(ty: &RustType, enums: &[Enum]) -> bool {
    matches!(strip(ty), RustType::Vec(_)) || is_integer(ty, enums)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_are_no_display_names() {
        for generic in [
            "",
            " ",
            "Input",
            "input schema",
            "TextToImageInput",
            "GenerateRequest",
        ] {
            assert!(is_generic_title(generic), "{generic:?}");
        }
        for name in [
            "FLUX.2 Flash",
            "Seedream 4.0 Edit",
            "Kling",
            "Wan Input Studio",
        ] {
            assert!(!is_generic_title(name), "{name:?}");
        }
    }
}
