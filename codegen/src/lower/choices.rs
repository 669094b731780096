//! Choice enums: variant names (from the overlay, or readable ones made from the values) and
//! the short aliases people type.

use std::collections::{BTreeMap, BTreeSet};

use runcomfy_vocab::pointer::escape;

use super::typing::Typer;
use super::{Ctx, is_type_ident};
use crate::emit::schema_text;
use crate::error::WarningKind;
use crate::ir::{ChoicesOwner, Enum, EnumRepr, SchemaNode, Variant};
use crate::naming;
use crate::overlay::FieldOverlay;
use serde_json::Value;

/// The enum of `wires` (each once, in schema order), for the field `hint`.
pub(crate) fn build(
    typer: &mut Typer<'_, '_>,
    node: &SchemaNode,
    hint: &str,
    overlay: Option<&FieldOverlay>,
    repr: EnumRepr,
    wires: Vec<String>,
) -> Option<Enum> {
    let empty = BTreeMap::new();
    let (names, aliases) = overlay.map_or((&empty, &empty), |o| (&o.variants, &o.aliases));
    let field_at = format!("/fields/{}", escape(hint));
    for key in names.keys().chain(aliases.keys()) {
        if !wires.contains(key) {
            typer.ctx.overlay_err(
                &field_at,
                format!("`{key}` is not a value of the enum of `{hint}`"),
            );
        }
    }
    let mut taken = BTreeSet::new();
    let mut variants = Vec::new();
    let auto_aliases: Vec<Option<String>> =
        wires.iter().map(|w| naming::obvious_alias(w)).collect();
    for (i, wire) in wires.iter().enumerate() {
        let named = names.get(wire);
        let Some(natural) = variant_name(typer.ctx, named, wire, i, repr, &field_at) else {
            continue;
        };
        if named.is_some() && taken.contains(&natural) {
            typer
                .ctx
                .overlay_err(&field_at, format!("variant name `{natural}` is used twice"));
        }
        let name = naming::unique(natural.clone(), &mut taken, "Alt");
        if named.is_none() && name != natural {
            warn_disambiguated(typer.ctx, node, hint, wire, &natural, &name);
        }
        let alias = aliases
            .get(wire)
            .cloned()
            .or_else(|| auto_alias(&auto_aliases, &wires, i));
        variants.push(Variant {
            name,
            wire: wire.clone(),
            alias,
        });
    }
    check_aliases(typer.ctx, &mut variants, aliases, hint, &field_at);
    let name = match overlay.and_then(|o| o.type_name.as_deref()) {
        Some(name) => typer.checked_type_name(name, hint),
        None => naming::type_ident(hint, "Choice"),
    };
    let named = overlay.is_some_and(|o| o.type_name.is_some());
    let definition = !named && super::typing::definition_name(&node.pointer).is_some();
    let name = typer.type_name(name, "Choice", definition.then_some(hint));
    let mut docs = Vec::new();
    let title = node
        .title
        .as_ref()
        .filter(|t| !super::typing::names_type(t, &name));
    for text in [title, node.description.as_ref()].into_iter().flatten() {
        super::push_doc(&mut docs, &schema_text(text));
    }
    Some(Enum {
        name,
        owner: match super::typing::definition_name(&node.pointer) {
            Some(_) => ChoicesOwner::Definition(node.pointer.clone()),
            None => ChoicesOwner::Field(hint.to_owned()),
        },
        docs,
        repr,
        variants,
    })
}

/// The wire value of choice `value` as an enum names it: a text as is, an integer written out.
pub(crate) fn wire(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => n.as_i64().map(|n| n.to_string()),
        _ => None,
    }
}

/// The Rust name of value `wire` (the `i`th): the overlay's `named`, when it is one, or one
/// made from the value. `None` (with an error) for an overlay name that is no identifier.
fn variant_name(
    ctx: &mut Ctx<'_>,
    named: Option<&String>,
    wire: &str,
    i: usize,
    repr: EnumRepr,
    field_at: &str,
) -> Option<String> {
    match named {
        Some(name) if is_type_ident(name) => Some(name.clone()),
        Some(name) => {
            ctx.overlay_err(field_at, format!("variant name `{name}` is not a Rust identifier (ASCII, starting with an upper-case letter)"));
            None
        }
        None => Some(match repr {
            EnumRepr::String => naming::variant_ident(wire, i),
            EnumRepr::Integer => naming::integer_variant_ident(wire.parse().unwrap_or_default()),
        }),
    }
}

/// A made-up name that had to change because another value took it: the reader should
/// name the value in the overlay instead.
fn warn_disambiguated(
    ctx: &mut Ctx<'_>,
    node: &SchemaNode,
    hint: &str,
    wire: &str,
    natural: &str,
    name: &str,
) {
    let at = node.choices.as_ref().and_then(|c| {
        c.iter().position(|v| {
            v.as_str() == Some(wire) || v.as_i64().map(|n| n.to_string()).as_deref() == Some(wire)
        })
    });
    let pointer = at.map_or_else(
        || node.pointer.clone(),
        |i| format!("{}/enum/{i}", node.pointer),
    );
    ctx.warn(
        WarningKind::DisambiguatedEnum,
        &pointer,
        format!("enum value {wire:?} of `{hint}` would be `{natural}`, which another value took, so it is `{name}`; name it in overlay.json `fields.{hint}.variants`"),
    );
}

/// Each alias must name one value: an overlay's that is another value, or that another value
/// has too, is an error (one of the two values could not be chosen by it); a made-up alias
/// that an overlay's takes is dropped.
fn check_aliases(
    ctx: &mut Ctx<'_>,
    variants: &mut [Variant],
    overlay: &BTreeMap<String, String>,
    hint: &str,
    field_at: &str,
) {
    let wires: BTreeSet<&str> = variants.iter().map(|v| v.wire.as_str()).collect();
    for (wire, alias) in overlay {
        if alias != wire && wires.contains(alias.as_str()) {
            ctx.overlay_err(
                field_at,
                format!("alias `{alias}` of `{wire}` is another value of `{hint}`"),
            );
        }
    }
    let mut by_alias: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (wire, alias) in overlay {
        by_alias.entry(alias).or_default().push(wire);
    }
    for (alias, owners) in &by_alias {
        if let [first, second, ..] = owners.as_slice() {
            ctx.overlay_err(
                field_at,
                format!("alias `{alias}` is given to both `{first}` and `{second}` of `{hint}`"),
            );
        }
    }
    for variant in variants.iter_mut() {
        let made_up = !overlay.contains_key(&variant.wire);
        if made_up
            && variant
                .alias
                .as_deref()
                .is_some_and(|a| by_alias.contains_key(a))
        {
            variant.alias = None;
        }
    }
}

/// The alias value `i` gets without an overlay: the obvious one (`16:9` of `2560x1440
/// (16:9)`), unless another value would get it too or it is itself a value.
fn auto_alias(auto_aliases: &[Option<String>], wires: &[String], i: usize) -> Option<String> {
    let alias = auto_aliases[i].clone()?;
    let unique = auto_aliases
        .iter()
        .filter(|a| a.as_ref() == Some(&alias))
        .count()
        == 1;
    (unique && !wires.contains(&alias)).then_some(alias)
}
