//! The generated Rust API: models, input structs, their fields, setters and accessors, enums,
//! unions and output types, walked from each model's input struct. Each field's schema is
//! handed to `schema.rs` on the way.

use std::collections::BTreeSet;

use runcomfy_vocab::keyword::Keyword;
use runcomfy_vocab::pointer::escape;

use super::{Impact, ModelDiff, OUTPUT, OVERLAY, UPSTREAM, schema};
use crate::ir::{
    Enum, EnumRepr, Field, Items, Model, OutputField, OutputKind, OutputType, RustType, SchemaId,
    Struct, Sub, Union,
};

/// The model's names and docs.
pub(super) fn model(d: &mut ModelDiff<'_>) {
    let (o, n) = (d.old, d.new);
    let (oi, ni) = (&o.input_struct().name, &n.input_struct().name);
    if o.type_name != n.type_name {
        d.push(
            OVERLAY,
            "/type_name",
            Impact::Breaking,
            format!(
                "model type renamed `{}` → `{}` (and its input type, `{oi}` → `{ni}`)",
                o.type_name, n.type_name
            ),
        );
    } else if oi != ni {
        d.input(
            "",
            Impact::Breaking,
            format!("input type renamed `{oi}` → `{ni}`"),
        );
    }
    if o.display_name != n.display_name {
        d.push(
            OVERLAY,
            "/display_name",
            Impact::Notable,
            format!("display name {:?} → {:?}", o.display_name, n.display_name),
        );
    }
    if o.docs != n.docs {
        d.push(
            OVERLAY,
            "/docs",
            Impact::Notable,
            "model documentation changed",
        );
    }
}

/// What `INFO` says of the model beside its types: the price, what it is per, the fields that
/// count it, the output kind, the categories. They are values read at run time (estimates,
/// `--max-spend`, `describe`, what `run` saves), not types: the output types come from
/// `output.json` alone, so a new output kind compiles and validates as before. Notable, never
/// silent: a price three times higher is what a user most needs to hear of.
pub(super) fn info(d: &mut ModelDiff<'_>) {
    let (o, n) = (&d.old.upstream, &d.new.upstream);
    let usd = |nanos: Option<u64>| match nanos {
        // Billionths of a dollar, as the catalog's dollars: a double holds them to the digit.
        Some(nanos) => format!("${}", nanos as f64 / 1e9),
        None => "not known".to_owned(),
    };
    let word = |name: Option<&'static str>| name.unwrap_or("not known").to_owned();
    let mut facts = Vec::new();
    // What changed, from what to what, and what that changes for users.
    let mut changed = |at: &'static str, what: &str, old: String, new: String, so: &str| {
        facts.push((at, format!("{what} changed from {old} to {new}{so}")));
    };
    if o.price.nanos != n.price.nanos {
        changed(
            "/base_price_usd",
            "price",
            usd(o.price.nanos),
            usd(n.price.nanos),
            ": estimates and `--max-spend` budgets change",
        );
    }
    if o.price.unit != n.price.unit {
        changed(
            "/price_unit",
            "price unit",
            word(o.price.unit.map(|u| u.name())),
            word(n.price.unit.map(|u| u.name())),
            ": estimates count other units",
        );
    }
    if o.price.pricing != n.price.pricing {
        changed(
            "/pricing",
            "pricing",
            word(o.price.pricing.map(|p| p.name())),
            word(n.price.pricing.map(|p| p.name())),
            ": whether an estimate is made can change",
        );
    }
    if o.output_kind != n.output_kind {
        changed(
            "/output_kind",
            "output kind",
            word(o.output_kind.map(|k| k.name())),
            word(n.output_kind.map(|k| k.name())),
            ": `INFO` and what lists the model by kind change (the output types do not)",
        );
    }
    if o.categories != n.categories {
        changed(
            "/categories",
            "categories",
            format!("[{}]", o.categories.join(", ")),
            format!("[{}]", n.categories.join(", ")),
            "",
        );
    }
    if o.price.note != n.price.note {
        facts.push(("/pricing_note", "price note changed".to_owned()));
    }
    for (at, what) in facts {
        d.push(UPSTREAM, at, Impact::Notable, what);
    }
    // Whether `output.json` exists; its fields, if any changed, are `output`'s to tell.
    if o.output_published != n.output_published {
        let what = if n.output_published {
            "`output.json` added: the outputs are the model's own, not those RunComfy's docs show for every model"
        } else {
            "`output.json` removed: the outputs are those RunComfy's docs show for every model"
        };
        d.push(OUTPUT, "", Impact::Notable, what);
    }
    price_units(d);
}

/// The input fields that give a job's units (by their names, or the overlay's `price_units`).
fn price_units(d: &mut ModelDiff<'_>) {
    let (o, n) = (d.old, d.new);
    let unit = |m: &Model, wire: &str| {
        m.price_units
            .iter()
            .find(|(w, _)| w == wire)
            .map(|(_, u)| *u)
    };
    let mut wires: Vec<&str> = o.price_units.iter().map(|(w, _)| w.as_str()).collect();
    for (w, _) in &n.price_units {
        if !wires.contains(&w.as_str()) {
            wires.push(w);
        }
    }
    for wire in wires {
        let (before, after) = (unit(o, wire), unit(n, wire));
        let what = match (before, after) {
            (None, Some(b)) => format!("`{wire}` now counts the price's {}", b.plural()),
            (Some(a), None) => format!("`{wire}` no longer counts the price's {}", a.plural()),
            (Some(a), Some(b)) if a != b => format!(
                "`{wire}` counts the price's {} where it counted {}",
                b.plural(),
                a.plural()
            ),
            _ => continue,
        };
        let side = if after.is_some() { n } else { o };
        let at = format!("/{}/{}", Keyword::Properties.name(), escape(wire));
        let at = format!("{}{at}", side.node(side.root).pointer);
        d.input(
            at,
            Impact::Notable,
            format!("{what}: estimates and `--max-spend` budgets change"),
        );
    }
}

/// The input struct, and through its fields everything below it.
pub(super) fn input(d: &mut ModelDiff<'_>) {
    let (o, n) = (d.old, d.new);
    structure(d, o.input_struct(), n.input_struct(), None);
}

/// Where a type is used: the place's pointer, and the schema written there on each side. A
/// type written out at several places is one Rust type, whose own schema is its first use's:
/// a change is told where the use is, not where the type was first written.
#[derive(Clone, Copy)]
struct Use<'p> {
    at: &'p str,
    old: Option<SchemaId>,
    new: Option<SchemaId>,
}

impl Use<'_> {
    /// The schema of each side's nodes a step in: its list's items, the `X` of `[X, null]`, a
    /// property.
    fn step(
        &self,
        (old, new): (&Model, &Model),
        mut next: impl FnMut(&Model, SchemaId) -> Option<SchemaId>,
    ) -> (Option<SchemaId>, Option<SchemaId>) {
        (
            self.old.and_then(|id| next(old, id)),
            self.new.and_then(|id| next(new, id)),
        )
    }
}

/// The schema of property `wire` where node `id` writes it: its own `properties`, else its
/// `allOf` members'.
fn property(model: &Model, id: SchemaId, wire: &str) -> Option<SchemaId> {
    let node = model.node(id);
    let own = node.properties.iter().find(|(name, _)| name == wire);
    match own {
        Some((_, sub)) => sub.node(),
        None => node
            .all_of
            .iter()
            .filter_map(|sub| sub.node())
            .find_map(|member| property(model, member, wire)),
    }
}

/// The items' schema of list node `id`.
fn items(model: &Model, id: SchemaId) -> Option<SchemaId> {
    match model.node(id).items {
        Items::Each(sub) => sub.node(),
        _ => None,
    }
}

/// The `X` of a node `[X, {"type": "null"}]`, else the node.
fn through_null(model: &Model, id: SchemaId) -> Option<SchemaId> {
    let alternatives = model.node(id).alternatives();
    match crate::ir::non_null_alternatives(&model.schemas, alternatives).as_slice() {
        [one] if alternatives.len() == 2 => one.node(),
        _ => Some(id),
    }
}

/// Where a field is declared: its struct's `properties`.
fn field_at(model: &Model, s: &Struct, wire: &str) -> String {
    format!(
        "{}/{}/{}",
        model.node(s.schema).pointer,
        Keyword::Properties.name(),
        escape(wire)
    )
}

/// The struct `os` became `ns`, the input's (`used` is `None`) or one used below it.
fn structure(d: &mut ModelDiff<'_>, os: &Struct, ns: &Struct, used: Option<Use<'_>>) {
    let (old, new) = (d.old, d.new);
    // The struct's own keywords (`additionalProperties`, `minProperties`, ...); its properties
    // are its fields, below.
    let (old_node, new_node) = match used {
        Some(Use {
            old: Some(o),
            new: Some(n),
            ..
        }) => (o, n),
        _ => (os.schema, ns.schema),
    };
    if let Some(used) = used
        && os.name != ns.name
    {
        d.input(
            used.at,
            Impact::Breaking,
            format!("nested type renamed `{}` → `{}`", os.name, ns.name),
        );
    }
    schema::node(d, old_node, new_node);
    // Each field where this use writes it, else where the struct was first written.
    let written = |wire: &str| match used {
        Some(used) => used.step((old, new), |m, id| property(m, id, wire)),
        None => (None, None),
    };
    let old_at = |wire: &str| match written(wire).0 {
        Some(id) => old.node(id).pointer.clone(),
        None => field_at(old, os, wire),
    };
    let new_at = |wire: &str| match written(wire).1 {
        Some(id) => new.node(id).pointer.clone(),
        None => field_at(new, ns, wire),
    };
    for pair in paired(&os.fields, &ns.fields, |a, b| a.wire == b.wire) {
        match pair {
            Paired::Kept(of, nf) => {
                let (o, n) = written(&nf.wire);
                let used = Use {
                    at: &new_at(&nf.wire),
                    old: o.or(of.schema.node()),
                    new: n.or(nf.schema.node()),
                };
                field(d, (os, ns), (of, nf), used);
            }
            Paired::Removed(of) => d.input(
                old_at(&of.wire),
                Impact::Breaking,
                format!(
                    "field `{}` removed (`{}.{}` is gone)",
                    of.wire, os.name, of.ident
                ),
            ),
            Paired::Added(nf) if nf.required => d.input(
                new_at(&nf.wire),
                Impact::Breaking,
                format!(
                    "new required field `{}`: `{}::new` takes one more argument",
                    nf.wire, ns.name
                ),
            ),
            Paired::Added(nf) => d.input(
                new_at(&nf.wire),
                Impact::Additive,
                format!(
                    "new optional field `{}` (the struct is #[non_exhaustive]; set it with `{}`)",
                    nf.wire, nf.setter
                ),
            ),
        }
    }
    arguments(d, os, ns);
    extra(d, os, ns);
}

/// `new` takes the required fields in schema order: the same fields in another order compile
/// (when their types agree) and mean something else.
fn arguments(d: &mut ModelDiff<'_>, os: &Struct, ns: &Struct) {
    let required_in = |s: &Struct, other: &Struct| -> Vec<String> {
        s.fields
            .iter()
            .filter(|f| f.required && other.fields.iter().any(|g| g.wire == f.wire && g.required))
            .map(|f| f.wire.clone())
            .collect()
    };
    let (before, after) = (required_in(os, ns), required_in(ns, os));
    if before != after {
        d.input(
            d.new.node(ns.schema).pointer.clone(),
            Impact::Breaking,
            format!(
                "`{}::new` takes its arguments in another order: ({}) → ({})",
                ns.name,
                before.join(", "),
                after.join(", ")
            ),
        );
    }
}

/// The map keeping properties the schema does not name, on a struct that allows them.
fn extra(d: &mut ModelDiff<'_>, os: &Struct, ns: &Struct) {
    let at = |model: &Model, s: &Struct| {
        format!(
            "{}/{}",
            model.node(s.schema).pointer,
            Keyword::AdditionalProperties.name()
        )
    };
    match (&os.extra, &ns.extra) {
        (None, Some(b)) => d.input(
            at(d.new, ns),
            Impact::Additive,
            format!(
                "`{}` gains `{b}`, the properties the schema does not name (the struct is #[non_exhaustive])",
                ns.name
            ),
        ),
        (Some(a), None) => d.input(
            at(d.old, os),
            Impact::Breaking,
            format!("`{}.{a}` is gone: the struct is closed", os.name),
        ),
        (Some(a), Some(b)) if a != b => d.input(
            at(d.new, ns),
            Impact::Breaking,
            format!("`{}.{a}` renamed `{b}`", os.name),
        ),
        _ => {}
    }
}

fn is_nullable(ty: &RustType) -> bool {
    matches!(ty, RustType::Nullable(_))
}

fn strip(ty: &RustType) -> &RustType {
    match ty {
        RustType::Nullable(inner) => inner,
        other => other,
    }
}

/// Field `of` became `nf`, written at `used`.
fn field(
    d: &mut ModelDiff<'_>,
    (os, ns): (&Struct, &Struct),
    (of, nf): (&Field, &Field),
    used: Use<'_>,
) {
    let at = used.at.to_owned();
    if of.ident != nf.ident {
        d.input(
            at.clone(),
            Impact::Breaking,
            format!(
                "Rust field renamed `{}.{}` → `{}.{}`",
                os.name, of.ident, ns.name, nf.ident
            ),
        );
    }
    presence(d, &at, &ns.name, of, nf);
    accessor(d, &at, (os, ns), of, nf);
    nullability(d, &at, nf, is_nullable(&of.ty));
    let (o, n) = used.step((d.old, d.new), through_null);
    ty(
        d,
        strip(&of.ty),
        strip(&nf.ty),
        Use {
            at: &at,
            old: o,
            new: n,
        },
    );
    let schema = |written: Option<SchemaId>, own: Sub| written.map_or(own, Sub::Node);
    schema::sub(
        d,
        schema(used.old, of.schema),
        schema(used.new, nf.schema),
        &at,
    );
}

/// Required or optional: whether `new` takes the field, and its setter.
fn presence(d: &mut ModelDiff<'_>, at: &str, name: &str, of: &Field, nf: &Field) {
    let wire = &nf.wire;
    match (of.required, nf.required) {
        (false, true) => d.input(
            at.to_owned(),
            Impact::Breaking,
            format!(
                "`{wire}` is now required: `{name}::new` takes it, its type is no longer an `Option`, and `{}` is gone",
                of.setter
            ),
        ),
        (true, false) => d.input(
            at.to_owned(),
            Impact::Breaking,
            format!(
                "`{wire}` is now optional: its type becomes an `Option` and `{name}::new` no longer takes it (set it with `{}`)",
                nf.setter
            ),
        ),
        (false, false) if of.setter != nf.setter => d.input(
            at.to_owned(),
            Impact::Breaking,
            format!("setter renamed `{}` → `{}`", of.setter, nf.setter),
        ),
        _ => {}
    }
}

/// The accessor returning the field's default, which comes and goes with the default.
fn accessor(d: &mut ModelDiff<'_>, at: &str, (os, ns): (&Struct, &Struct), of: &Field, nf: &Field) {
    let wire = &nf.wire;
    let default_at = || format!("{at}/{}", Keyword::Default.name());
    match (&of.accessor, &nf.accessor) {
        (None, Some(b)) => d.input(
            default_at(),
            Impact::Additive,
            format!(
                "new accessor `{}::{b}()`: `{wire}` as it takes effect, its default when unset",
                ns.name
            ),
        ),
        (Some(a), None) => d.input(
            default_at(),
            Impact::Breaking,
            format!(
                "the accessor `{}::{a}()` that returned `{wire}`'s default is gone",
                os.name
            ),
        ),
        (Some(a), Some(b)) if a != b => d.input(
            at.to_owned(),
            Impact::Breaking,
            format!("accessor renamed `{a}()` → `{b}()`"),
        ),
        _ => {}
    }
}

/// A field that starts or stops accepting null wraps one `Option` more or less.
fn nullability(d: &mut ModelDiff<'_>, at: &str, nf: &Field, was_nullable: bool) {
    let nullable = is_nullable(&nf.ty);
    if was_nullable == nullable {
        return;
    }
    let now = if nullable { "now" } else { "no longer" };
    let (before, after) = match (nf.required, nullable) {
        (true, true) => ("T", "Option<T>"),
        (true, false) => ("Option<T>", "T"),
        (false, true) => ("Option<T>", "Option<Option<T>>"),
        (false, false) => ("Option<Option<T>>", "Option<T>"),
    };
    d.input(
        format!("{at}/{}", Keyword::Type.name()),
        Impact::Breaking,
        format!(
            "`{}` {now} accepts null: its type changes from `{before}` to `{after}`",
            nf.wire
        ),
    );
}

/// Compares two Rust types at one place, into the items, structs, enums and unions they name.
fn ty(d: &mut ModelDiff<'_>, ot: &RustType, nt: &RustType, used: Use<'_>) {
    let (old, new) = (d.old, d.new);
    let at = used.at;
    match (ot, nt) {
        (RustType::Vec(a), RustType::Vec(b)) => {
            let (o, n) = used.step((old, new), items);
            let at = match n {
                Some(id) => new.node(id).pointer.clone(),
                None => format!("{at}/{}", Keyword::Items.name()),
            };
            ty(
                d,
                a,
                b,
                Use {
                    at: &at,
                    old: o,
                    new: n,
                },
            );
        }
        (RustType::Nullable(a), RustType::Nullable(b)) => {
            let (o, n) = used.step((d.old, d.new), through_null);
            ty(d, a, b, Use { at, old: o, new: n });
        }
        (RustType::Struct(i), RustType::Struct(j)) => {
            structure(d, &old.structs[*i], &new.structs[*j], Some(used));
        }
        (RustType::Enum(i), RustType::Enum(j)) => {
            enumeration(d, &old.enums[*i], &new.enums[*j], at)
        }
        (RustType::Union(i), RustType::Union(j)) => union(d, &old.unions[*i], &new.unions[*j], at),
        (a, b) if a == b => {}
        _ => d.input(
            format!("{at}/{}", Keyword::Type.name()),
            Impact::Breaking,
            format!(
                "type changed from {} to {}",
                describe(old, ot),
                describe(new, nt)
            ),
        ),
    }
}

fn enumeration(d: &mut ModelDiff<'_>, oe: &Enum, ne: &Enum, at: &str) {
    let at = format!("{at}/{}", Keyword::Enum.name());
    if oe.name != ne.name {
        d.input(
            at.clone(),
            Impact::Breaking,
            format!("enum type renamed `{}` → `{}`", oe.name, ne.name),
        );
    }
    if oe.repr != ne.repr {
        let repr = |r: EnumRepr| match r {
            EnumRepr::String => "strings",
            EnumRepr::Integer => "integers",
        };
        d.input(
            at.clone(),
            Impact::Breaking,
            format!(
                "enum `{}` values changed from {} to {}",
                ne.name,
                repr(oe.repr),
                repr(ne.repr)
            ),
        );
    }
    for pair in paired(&oe.variants, &ne.variants, |a, b| a.wire == b.wire) {
        match pair {
            Paired::Removed(ov) => {
                // Its Rust name may live on for another value (an overlay naming the new
                // wire value so): then it is not gone, it sends something else.
                let what = match ne.variants.iter().find(|nv| nv.name == ov.name) {
                    Some(nv) => format!(
                        "value {:?} removed (inputs with it no longer validate, and `{}::{}` now sends {:?})",
                        ov.wire, ne.name, nv.name, nv.wire
                    ),
                    None => format!(
                        "value {:?} removed (`{}::{}` is gone, and inputs with it no longer validate)",
                        ov.wire, oe.name, ov.name
                    ),
                };
                d.input(at.clone(), Impact::Breaking, what);
            }
            Paired::Kept(ov, nv) => {
                if nv.name != ov.name {
                    d.input(
                        at.clone(),
                        Impact::Breaking,
                        format!(
                            "value {:?} renamed in Rust: `{}::{}` → `{}::{}`",
                            ov.wire, oe.name, ov.name, ne.name, nv.name
                        ),
                    );
                }
            }
            Paired::Added(nv) => d.input(
                at.clone(),
                Impact::Additive,
                format!(
                    "value {:?} added as `{}::{}` (generated enums are #[non_exhaustive])",
                    nv.wire, ne.name, nv.name
                ),
            ),
        }
    }
    aliases(d, oe, ne, &at);
}

/// Aliases are input: `FromStr`, the CLI and `normalize_choices` take them. One removed, or
/// naming another value than it did, refuses or changes an input that worked (QA repro36 M3:
/// told as notable); one added takes more. An alias of a value removed is told by the value.
fn aliases(d: &mut ModelDiff<'_>, oe: &Enum, ne: &Enum, at: &str) {
    // What `FromStr` reads `text` as: the first choice whose wire value or alias it is.
    fn chosen<'a>(e: &'a Enum, text: &str) -> Option<&'a str> {
        e.variants
            .iter()
            .find(|v| v.wire == text || v.alias.as_deref() == Some(text))
            .map(|v| v.wire.as_str())
    }
    let texts: BTreeSet<&str> = [oe, ne]
        .into_iter()
        .flat_map(|e| e.variants.iter().filter_map(|v| v.alias.as_deref()))
        .collect();
    for text in texts {
        let (was, now) = (chosen(oe, text), chosen(ne, text));
        let (impact, what) = match (was, now) {
            (Some(was), _) if chosen(ne, was) != Some(was) => continue,
            (Some(was), None) => (
                Impact::Breaking,
                format!("alias {text:?} of {was:?} removed: `FromStr` and the CLI refuse it"),
            ),
            (Some(was), Some(now)) if was != now => (
                Impact::Breaking,
                format!(
                    "alias {text:?} now names {now:?}, not {was:?}: the same input picks another value"
                ),
            ),
            (None, Some(now)) => (
                Impact::Additive,
                format!("alias {text:?} added for {now:?}"),
            ),
            _ => continue,
        };
        d.input(at.to_owned(), impact, what);
    }
}

/// Unions are exhaustive: their variants are the JSON types a value can have.
fn union(d: &mut ModelDiff<'_>, ou: &Union, nu: &Union, at: &str) {
    if ou.name != nu.name {
        d.input(
            at.to_owned(),
            Impact::Breaking,
            format!("union type renamed `{}` → `{}`", ou.name, nu.name),
        );
    }
    for pair in paired(&ou.variants, &nu.variants, |a, b| {
        a.json == b.json && a.tag == b.tag
    }) {
        match pair {
            Paired::Removed(ov) => d.input(
                at.to_owned(),
                Impact::Breaking,
                format!("`{}::{}` ({}) is gone", ou.name, ov.name, ov.json),
            ),
            Paired::Kept(ov, nv) => {
                if nv.name != ov.name {
                    d.input(
                        at.to_owned(),
                        Impact::Breaking,
                        format!(
                            "union variant renamed `{}::{}` → `{}::{}`",
                            ou.name, ov.name, nu.name, nv.name
                        ),
                    );
                }
                // The alternative's own schema is not tracked: the shape's, where first written.
                let used = Use {
                    at,
                    old: None,
                    new: None,
                };
                ty(d, &ov.ty, &nv.ty, used);
            }
            Paired::Added(nv) => d.input(
                at.to_owned(),
                Impact::Breaking,
                format!(
                    "`{}::{}` ({}) added: exhaustive `match`es on `{}` no longer compile",
                    nu.name, nv.name, nv.json, nu.name
                ),
            ),
        }
    }
}

/// Output types: `#[non_exhaustive]`, every field optional, read leniently.
pub(super) fn output(d: &mut ModelDiff<'_>, oo: &OutputType, no: &OutputType) {
    if oo.name != no.name {
        d.push(
            OUTPUT,
            "/output",
            Impact::Breaking,
            format!("output type renamed `{}` → `{}`", oo.name, no.name),
        );
    }
    for pair in paired(&oo.fields, &no.fields, |a, b| a.wire == b.wire) {
        match pair {
            Paired::Kept(of, nf) => output_field(d, of, nf),
            Paired::Removed(of) => d.push(
                OUTPUT,
                output_at(&of.wire),
                Impact::Breaking,
                format!(
                    "output field `{}` removed (`{}.{}` is gone)",
                    of.wire, oo.name, of.ident
                ),
            ),
            Paired::Added(nf) => d.push(
                OUTPUT,
                output_at(&nf.wire),
                Impact::Additive,
                format!(
                    "new output field `{}` (the output type is #[non_exhaustive])",
                    nf.wire
                ),
            ),
        }
    }
    if oo.extra_ident != no.extra_ident {
        d.push(
            OUTPUT,
            "/output",
            Impact::Breaking,
            format!(
                "`{}.{}` (properties the schema does not list) renamed `{}`",
                oo.name, oo.extra_ident, no.extra_ident
            ),
        );
    }
}

/// An item of an old list and of a new one, paired by what identifies it.
enum Paired<'a, T> {
    /// In both.
    Kept(&'a T, &'a T),
    /// Only in the old list.
    Removed(&'a T),
    /// Only in the new list.
    Added(&'a T),
}

/// Pairs `old` and `new` by `same`: each old item, kept or removed, in old order; then each
/// added one, in new order.
fn paired<'a, T>(
    old: &'a [T],
    new: &'a [T],
    same: impl Fn(&T, &T) -> bool + Copy + 'a,
) -> impl Iterator<Item = Paired<'a, T>> {
    let kept_or_removed = old
        .iter()
        .map(move |o| match new.iter().find(|n| same(o, n)) {
            Some(n) => Paired::Kept(o, n),
            None => Paired::Removed(o),
        });
    let added = new
        .iter()
        .filter(move |n| !old.iter().any(|o| same(o, n)))
        .map(Paired::Added);
    kept_or_removed.chain(added)
}

/// Where an output field is declared in `output.json`.
fn output_at(wire: &str) -> String {
    format!("/output/properties/{}", escape(wire))
}

/// An output field in both: its kind, its Rust name, its docs.
fn output_field(d: &mut ModelDiff<'_>, of: &OutputField, nf: &OutputField) {
    let at = output_at(&of.wire);
    if nf.ty != of.ty {
        d.push(
            OUTPUT,
            format!("{at}/type"),
            Impact::Breaking,
            format!(
                "output field `{}` changed from {} to {}",
                of.wire,
                output_kind(of.ty),
                output_kind(nf.ty)
            ),
        );
    }
    if nf.ident != of.ident {
        d.push(
            OUTPUT,
            at.clone(),
            Impact::Breaking,
            format!(
                "output field renamed in Rust `{}` → `{}`",
                of.ident, nf.ident
            ),
        );
    }
    if nf.docs != of.docs {
        d.push(
            OUTPUT,
            at,
            Impact::Notable,
            format!("documentation of output field `{}` changed", of.wire),
        );
    }
}

fn output_kind(kind: OutputKind) -> &'static str {
    match kind {
        OutputKind::String => "a string",
        OutputKind::StringList => "a list of strings",
        OutputKind::Integer => "an integer",
        OutputKind::Number => "a number",
        OutputKind::Boolean => "a boolean",
        OutputKind::Json => "JSON",
    }
}

/// A Rust type in words, for messages.
fn describe(model: &Model, ty: &RustType) -> String {
    match ty {
        RustType::String => "a string".into(),
        RustType::Integer => "an integer".into(),
        RustType::Number => "a number".into(),
        RustType::Boolean => "a boolean".into(),
        RustType::Media => "a media file".into(),
        RustType::Json => "free JSON".into(),
        RustType::JsonObject => "a JSON object".into(),
        RustType::Vec(item) => format!("a list of {}", describe(model, item)),
        RustType::Nullable(inner) => format!("{} or null", describe(model, inner)),
        RustType::Struct(i) => format!("the object `{}`", model.structs[*i].name),
        RustType::Enum(i) => format!("the enum `{}`", model.enums[*i].name),
        RustType::Union(i) => format!("the union `{}`", model.unions[*i].name),
    }
}
