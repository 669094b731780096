//! Media fields: RunComfy's `format`s (`image_uri`, and `image_uris` on an array, with or
//! without `items`), its `validations` rules, and the formats an overlay accepts.

use runcomfy_vocab::media::{MediaFormat, MediaFormatName, MediaKind};
use runcomfy_vocab::pointer::Pointer;
use runcomfy_vocab::rule::{self, Rule};
use serde_json::Value;

use super::schema::Reader;
use crate::ir::{Items, MediaRule, MediaSpec, SchemaId, SchemaNode, Sub};

/// What a schema object says about media.
#[derive(Default)]
pub(crate) struct MediaDecl<'a> {
    /// A media `format`.
    pub(crate) format: Option<MediaFormatName>,
    /// `validations`, and where they are.
    pub(crate) validations: Option<(&'a Value, Pointer)>,
}

/// Gives node `id` (or its items, for a list) its media spec.
pub(crate) fn apply(r: &mut Reader<'_, '_>, id: SchemaId, decl: MediaDecl<'_>) {
    let pointer = r.nodes[id].pointer.clone();
    let field = root_field(&pointer);
    let formats = overlay_formats(r, field.as_deref());
    if decl.format.is_none() && decl.validations.is_none() {
        if let Some(formats) = formats {
            apply_formats_only(r, id, field.as_deref().unwrap_or_default(), formats);
        }
        return;
    }
    let rules = match &decl.validations {
        Some((value, at)) => parse_rules(r, value, at),
        None => Vec::new(),
    };
    let node = &r.nodes[id];
    let is_array = node
        .types
        .is_some_and(|t| t.without_null() == runcomfy_vocab::json_type::Types::ARRAY);
    let at = match &decl.validations {
        Some((_, at)) => at.as_str().to_owned(),
        None => pointer.clone(),
    };
    // A list's items may say the kind its rules are of (`items: {format: image_uri}`).
    let items_kind = match node.items {
        Items::Each(Sub::Node(item)) if is_array => r.nodes[item].media.as_ref().map(|m| m.kind),
        _ => None,
    };
    let (kind, list) = match (decl.format, items_kind) {
        (Some(name), _) => (name.kind, name.list),
        (None, Some(kind)) => (kind, true),
        // `validations` make a media field whose format the catalog left out: its kind is
        // told by its name, a guess the lint says (QA repro48 F1: a text field became an
        // image one, unsaid).
        (None, None) => {
            let name = field.as_deref().unwrap_or(&node.name).to_owned();
            let kind = MediaKind::guess_from_name(&name);
            r.ctx.warn(
                crate::error::WarningKind::GuessedMedia,
                &at,
                format!(
                    "`validations` make `{name}` a media field, but it has no media `format`: \
                     it is read as {kind} files (by its name); say which with an overlay \
                     `patch` giving `format` ({}, or the list's `{}`), or drop the rules",
                    kind.format(),
                    kind.list_format()
                ),
            );
            (kind, is_array)
        }
    };
    let spec = MediaSpec {
        kind,
        formats: Vec::new(),
        rules,
    };
    check_measurable(r, &at, &spec);
    let Some(target) = string_node(r, id, list, kind, &pointer) else {
        return;
    };
    if !attach(r, target, spec, &pointer) {
        return;
    }
    if let Some(formats) = formats {
        set_formats(r, target, formats);
    }
}

/// An overlay's `formats` for a field the schema declares no media on: they go to its
/// media node, if it has one from elsewhere.
fn apply_formats_only(
    r: &mut Reader<'_, '_>,
    id: SchemaId,
    field: &str,
    formats: Vec<MediaFormat>,
) {
    match media_node(r, id) {
        Some(target) => set_formats(r, target, formats),
        None => r.ctx.overlay_err(
            &format!("/fields/{}/formats", runcomfy_vocab::pointer::escape(field)),
            format!("`formats` given for `{field}`, which is not a media field"),
        ),
    }
}

/// Refuses rules that cannot be measured on the spec's kind (dimensions of audio).
fn check_measurable(r: &mut Reader<'_, '_>, at: &str, spec: &MediaSpec) {
    for rule in &spec.rules {
        if !rule.rule.measure().applies_to(spec.kind) {
            r.ctx.input_err(
                at,
                format!(
                    "`{}` cannot be measured on {}: only images and videos have dimensions",
                    rule.rule,
                    spec.kind.a_file()
                ),
                Some("remove the rule with an overlay `patch`"),
            );
        }
    }
}

/// The string node that holds each file: `id`, or its items for a `list` (made when it has
/// none); `None` (the problem reported) when the schema cannot hold a file there.
fn string_node(
    r: &mut Reader<'_, '_>,
    id: SchemaId,
    list: bool,
    kind: MediaKind,
    pointer: &str,
) -> Option<SchemaId> {
    let target = if list {
        if !r.nodes[id]
            .allowed()
            .allows(runcomfy_vocab::json_type::JsonType::Array)
        {
            r.ctx.input_err(
                pointer,
                format!("format `{}` belongs on an array", kind.list_format()),
                None,
            );
            return None;
        }
        match r.nodes[id].items.clone() {
            Items::Any | Items::Each(Sub::Any) => {
                let item = item_node(r, id);
                r.nodes[id].items = Items::Each(Sub::Node(item));
                item
            }
            Items::Each(Sub::Node(item)) => item,
            Items::Each(Sub::Never) | Items::Tuple { .. } => {
                r.ctx.input_err(
                    pointer,
                    "a media list needs one schema for every item",
                    None,
                );
                return None;
            }
        }
    } else {
        id
    };
    if !r.nodes[target]
        .allowed()
        .allows(runcomfy_vocab::json_type::JsonType::String)
    {
        r.ctx.input_err(
            &r.nodes[target].pointer.clone(),
            format!(
                "a media file is a string, but this schema allows no string ({})",
                kind.format()
            ),
            Some("fix the type with an overlay `patch`"),
        );
        return None;
    }
    Some(target)
}

/// Puts `spec` on `target`, merging its rules into a spec already there of the same kind;
/// `false` (the problem reported) when the kinds differ.
fn attach(r: &mut Reader<'_, '_>, target: SchemaId, spec: MediaSpec, pointer: &str) -> bool {
    let slot = &mut r.nodes[target].media;
    match slot {
        Some(existing) if existing.kind != spec.kind => {
            let problem = format!(
                "the list takes {} but its items take {}",
                spec.kind.a_file(),
                existing.kind.a_file()
            );
            r.ctx.input_err(pointer, problem, None);
            return false;
        }
        Some(existing) => existing.rules.extend(spec.rules),
        None => *slot = Some(spec),
    }
    true
}

/// The item node a media list without `items` gets: a string, a file of the list's kind.
fn item_node(r: &mut Reader<'_, '_>, list: SchemaId) -> SchemaId {
    let pointer = format!("{}/items", r.nodes[list].pointer);
    let name = format!("{}_ITEMS", r.nodes[list].name);
    r.nodes.push(SchemaNode {
        name,
        pointer,
        types: Some(runcomfy_vocab::json_type::Types::STRING),
        ..SchemaNode::default()
    });
    r.nodes.len() - 1
}

/// The node holding the media spec of node `id`: itself, or its items.
fn media_node(r: &Reader<'_, '_>, id: SchemaId) -> Option<SchemaId> {
    if r.nodes[id].media.is_some() {
        return Some(id);
    }
    match r.nodes[id].items {
        Items::Each(Sub::Node(item)) if r.nodes[item].media.is_some() => Some(item),
        _ => None,
    }
}

fn set_formats(r: &mut Reader<'_, '_>, target: SchemaId, formats: Vec<MediaFormat>) {
    let kind = r.nodes[target].media.as_ref().map(|m| m.kind);
    if let Some(kind) = kind {
        for format in &formats {
            // What the client accepts in the field: an MP4 of sound alone in an audio field.
            if !format.may_hold(kind) {
                r.ctx.overlay_err(
                    "/fields",
                    format!("format `{format}` is not {}", kind.a_file()),
                );
            }
        }
    }
    if let Some(media) = &mut r.nodes[target].media {
        media.formats = formats;
    }
}

/// `/properties/<name>` of the input: a field the overlay's `fields` can name.
pub(crate) fn root_field(pointer: &str) -> Option<String> {
    let rest = pointer.strip_prefix("/properties/")?;
    (!rest.contains('/')).then(|| runcomfy_vocab::pointer::unescape(rest))?
}

fn overlay_formats(r: &mut Reader<'_, '_>, field: Option<&str>) -> Option<Vec<MediaFormat>> {
    let field = field?;
    let names = r.ctx.src.overlay.fields.get(field)?.formats.clone();
    if names.is_empty() {
        return None;
    }
    let mut formats = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match MediaFormat::parse(name) {
            Some(format) => formats.push(format),
            None => {
                let known: Vec<&str> = MediaFormat::ALL.iter().map(|f| f.name()).collect();
                r.ctx.overlay_err(
                    &format!(
                        "/fields/{}/formats/{i}",
                        runcomfy_vocab::pointer::escape(field)
                    ),
                    format!("unknown format `{name}`; known: {}", known.join(", ")),
                );
            }
        }
    }
    Some(formats)
}

fn parse_rules(r: &mut Reader<'_, '_>, value: &Value, at: &Pointer) -> Vec<MediaRule> {
    let Some(items) = value.as_array() else {
        r.ctx
            .input_err(at.as_str(), "`validations` must be an array of rules", None);
        return Vec::new();
    };
    let mut rules = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = at.index(i);
        let name = item.get(rule::RULE_KEY).and_then(Value::as_str);
        let limit = item.get(rule::VALUE_KEY).and_then(|v| {
            v.as_f64().or_else(|| {
                let n = v.as_str()?.trim().parse().ok()?;
                r.number_as_string(&at.join(rule::VALUE_KEY), v.as_str().unwrap_or_default());
                Some(n)
            })
        });
        let message = item.get(rule::ERROR_KEY).and_then(Value::as_str);
        let (Some(name), Some(limit), Some(message)) = (name, limit, message) else {
            r.ctx.input_err(
                at.as_str(),
                format!(
                    "a validation needs `{}` (string), `{}` (number) and `{}` (string)",
                    rule::RULE_KEY,
                    rule::VALUE_KEY,
                    rule::ERROR_KEY
                ),
                None,
            );
            continue;
        };
        match Rule::parse(name) {
            Some(rule) if rule.satisfiable(limit) => rules.push(MediaRule {
                rule,
                limit,
                message: message.to_owned(),
            }),
            Some(rule) => r.ctx.input_err(
                at.join(rule::VALUE_KEY).as_str(),
                format!("`{rule} {limit}` can never hold"),
                Some("fix the limit with an overlay `patch`"),
            ),
            None => r.ctx.input_err(
                at.join(rule::RULE_KEY).as_str(),
                format!(
                    "unknown validation_rule `{name}`; known rules: {}",
                    Rule::known()
                ),
                Some("teach the rule to runcomfy-vocab (`rule.rs`), or remove it with an overlay `patch`"),
            ),
        }
    }
    rules
}
