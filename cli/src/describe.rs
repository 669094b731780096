//! `runcomfy models` and `runcomfy describe MODEL`: the runtime catalog, for people and as JSON.

use std::collections::HashMap;

use runcomfy::catalog::{CrossRule, Field, FieldKind, ModelInfo};
use runcomfy::client::LiveModel;
use runcomfy::error::{escaped_json, printable};
use runcomfy::price::Price;
use runcomfy::schema::MediaKind;
use runcomfy::vocab::cross::CrossRuleKind;
use serde_json::{Value, json};

use crate::conditions;
use crate::fields::{self, FieldFlag};
use crate::output;

/// The models the API lists today by id (`--live`), or none.
pub type LiveModels = Option<HashMap<String, LiveModel>>;

/// How many models `models --live` names that this build lacks.
const NOT_BUILT_SHOWN: usize = 8;

/// A model's price: today's (`--live`) over the catalog's, and whether it is today's.
fn price_of(model: &ModelInfo, live: &LiveModels) -> (Price, Source) {
    let live = live.as_ref().map(|l| {
        l.get(model.id)
            .map_or(Price::UNKNOWN, |listed| listed.price.clone())
    });
    shown_price(model, live)
}

/// Where a shown price comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The catalog's; `--live` was not asked.
    Catalog,
    /// The API's today.
    Today,
    /// The catalog's, as the API gave no rate (none, or one that could not be read) though
    /// `--live` asked: shown as such, not as today's.
    CatalogNotToday,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Today => "api",
            Source::Catalog | Source::CatalogNotToday => "catalog",
        }
    }
}

/// The price to show given today's (`--live`; [`Price::UNKNOWN`] when the API gave none): the
/// live one where it names a rate, its gaps filled from the catalog.
fn shown_price(model: &ModelInfo, live: Option<Price>) -> (Price, Source) {
    let catalog = &model.upstream.price;
    match live {
        None => (catalog.clone(), Source::Catalog),
        Some(live) if live.usd.is_some() => (live.or(catalog), Source::Today),
        Some(_) => (catalog.clone(), Source::CatalogNotToday),
    }
}

/// A price as a short cell: `$0.03/output`, `from $0.05/second`, `$0.03/?` (per a unit this
/// client does not know), `$0.02/output, other pricing` (priced some way it does not know),
/// `base`, `fixed` (a fixed price whose rate is not known), `-`.
fn price_cell(price: &Price) -> String {
    use runcomfy::price::Pricing;
    let rate = price.usd.map(|usd| match price.unit {
        Some(unit) => format!("{usd}/{}", unit.name()),
        None => format!("{usd}/?"),
    });
    match (rate, price.pricing) {
        (Some(rate), Some(Pricing::Base)) => format!("from {rate}"),
        (Some(rate), Some(Pricing::Fixed) | None) => rate,
        (Some(rate), Some(_)) => format!("{rate}, other pricing"),
        (None, Some(Pricing::Base)) => "base".to_owned(),
        // Not "unknown" (QA repro41 L11): `describe` says "a fixed price (rate unknown)".
        (None, Some(Pricing::Fixed)) => "fixed".to_owned(),
        (None, _) => "-".to_owned(),
    }
}

/// The price as JSON, with where it comes from and the fields that give its units.
fn price_json(model: &ModelInfo, (price, source): &(Price, Source)) -> Value {
    let mut value = price.to_json();
    value["source"] = source.name().into();
    value["unit_fields"] = model
        .price_units
        .iter()
        .map(|f| json!({"field": f.name, "unit": f.unit.name()}))
        .collect();
    value
}

/// Which models `models` lists: every word in the id or the name (any case), and the kind of
/// output.
#[derive(Debug, Default)]
pub struct ModelFilter {
    pub words: Vec<String>,
    pub kind: Option<MediaKind>,
}

impl ModelFilter {
    fn models(&self) -> Vec<&'static ModelInfo> {
        let mut found = runcomfy::catalog::search(&self.words);
        found.retain(|m| self.kind.is_none_or(|k| m.upstream.output_kind == Some(k)));
        found
    }

    /// The models the API lists (`--live`) that this build lacks and the filter lets through
    /// (by the words in their id or name, and by the kind the API gives), by id: a model the
    /// catalog did not have when this runcomfy was built runs only `--unchecked`.
    fn not_built<'a>(&self, live: &'a HashMap<String, LiveModel>) -> Vec<&'a LiveModel> {
        let words: Vec<String> = self.words.iter().map(|w| w.to_lowercase()).collect();
        let mut missing: Vec<&LiveModel> = live
            .values()
            .filter(|m| runcomfy::catalog::find(&m.id).is_none())
            .filter(|m| self.kind.is_none_or(|k| m.kind == Some(k)))
            .filter(|m| {
                let name = m.display_name.as_deref().unwrap_or_default().to_lowercase();
                let id = m.id.to_lowercase();
                words
                    .iter()
                    .all(|w| id.contains(w.as_str()) || name.contains(w.as_str()))
            })
            .collect();
        missing.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        missing
    }

    /// [`not_built`](Self::not_built) as a note for people, or none.
    fn not_built_note(missing: &[&LiveModel]) -> Option<String> {
        let shown: Vec<String> = missing
            .iter()
            .take(NOT_BUILT_SHOWN)
            .map(|m| printable(&m.id, 120).into_owned())
            .collect();
        let more = match missing.len().saturating_sub(NOT_BUILT_SHOWN) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        (!missing.is_empty()).then(|| {
            format!(
                "note: the API lists {} this build lacks (a newer runcomfy may have them; \
                 `runcomfy describe ID --live` shows one, `runcomfy run ID --unchecked --input \
                 JSON` runs it, its input unchecked): {}{more}",
                runcomfy_batch::report::count(missing.len() as u64, "model", "models"),
                shown.join(", ")
            )
        })
    }

    /// What was asked, as the no-match message says it.
    fn describe(&self) -> String {
        let mut asked = Vec::new();
        if !self.words.is_empty() {
            asked.push(format!("`{}`", printable(&self.words.join(" "), 80)));
        }
        if let Some(kind) = self.kind {
            asked.push(format!("--kind {}", kind.name()));
        }
        asked.join(" and ")
    }
}

/// `models`: one line per model the filter lets through, or those as JSON; `false` when none
/// does (said on stderr).
pub fn models(filter: &ModelFilter, json: bool, live: &LiveModels) -> bool {
    let catalog = filter.models();
    let not_built = live
        .as_ref()
        .map(|live| filter.not_built(live))
        .unwrap_or_default();
    if let Some(note) = ModelFilter::not_built_note(&not_built) {
        crate::progress::eprintln_safe(&note);
    }
    let any = !catalog.is_empty() || !not_built.is_empty();
    if !any {
        crate::progress::eprintln_safe(&format!(
            "no model matches {} (`runcomfy models` lists all {})",
            filter.describe(),
            runcomfy::catalog().len()
        ));
    }
    if json {
        let list: Vec<Value> = catalog
            .iter()
            .map(|m| {
                json!({
                    "id": m.id,
                    "display_name": m.display_name,
                    "kind": m.upstream.output_kind.map(MediaKind::name),
                    "price": price_json(m, &price_of(m, live)),
                    "docs": m.docs,
                    "fields": m.fields().map(|f| f.name).collect::<Vec<_>>(),
                    "required": m.fields().filter(|f| f.required).map(|f| f.name).collect::<Vec<_>>(),
                    "in_build": true,
                })
            })
            .chain(not_built.iter().map(|m| not_built_json(m)))
            .collect();
        output::json(&Value::Array(list));
        return any;
    }
    if catalog.is_empty() {
        return any;
    }
    let id_width = catalog.iter().map(|m| m.id.len()).max().unwrap_or(0);
    let name_width = catalog
        .iter()
        .map(|m| m.display_name.chars().count())
        .max()
        .unwrap_or(0);
    let mut not_today = false;
    let prices: Vec<String> = catalog
        .iter()
        .map(|m| {
            let (price, source) = price_of(m, live);
            let mut cell = printable(&price_cell(&price), 40).into_owned();
            if source == Source::CatalogNotToday {
                not_today = true;
                cell.push_str(" (catalog)");
            }
            cell
        })
        .collect();
    let price_width = prices.iter().map(|p| p.chars().count()).max().unwrap_or(0);
    for (model, price) in catalog.iter().zip(&prices) {
        let summary: Vec<String> = model
            .fields()
            .map(|f| {
                let mut name = f.name.to_owned();
                if f.is_list() {
                    name.push_str("[]");
                }
                if f.required {
                    name.push('*');
                }
                name
            })
            .collect();
        output::line(&format!(
            "{:id_width$}  {:name_width$}  {:price_width$}  {}",
            model.id,
            model.display_name,
            price,
            summary.join(", ")
        ));
    }
    let source = if not_today {
        "today's prices from the API; (catalog): the API gave none for that model, the catalog's is shown"
    } else if live.is_some() {
        "today's prices from the API"
    } else {
        "prices as of the catalog's import; --live asks the API"
    };
    crate::progress::eprintln_safe(&format!(
        "(* required, [] list; {source}; `runcomfy describe MODEL` for details)"
    ));
    true
}

/// A model the API lists that this build lacks, as `models --json` gives it: what the API
/// said of it, and no fields (its schema is not read here).
fn not_built_json(model: &LiveModel) -> Value {
    let mut price = model.price.to_json();
    price["source"] = Source::Today.name().into();
    json!({
        "id": model.id,
        "display_name": model.display_name,
        "kind": model.kind.map(MediaKind::name),
        "price": price,
        "in_build": false,
    })
}

/// `describe MODEL --live` of a model this build lacks: what the API says of it, with its
/// input schema as the API serves it (not read here: it is what `--unchecked` sends against).
pub fn describe_not_built(model: &LiveModel, json: bool) {
    if json {
        let mut value = not_built_json(model);
        value["input_schema"] = model
            .input_schema
            .clone()
            .map_or(Value::Null, Value::Object);
        output::json(&value);
        return;
    }
    let id = printable(&model.id, 200);
    let mut out = Vec::new();
    let name = model
        .display_name
        .as_deref()
        .map(|name| format!("{}; ", printable(name, 200)))
        .unwrap_or_default();
    out.push(format!("{id}  ({name}not in this build's catalog)"));
    if let Some(kind) = model.kind {
        out.push(format!("Makes: {}", kind.name()));
    }
    out.push(format!(
        "Price (today): {}",
        printable(&model.price.to_string(), 200)
    ));
    if let Some(note) = &model.price.note {
        out.push(format!("  {}", printable(note, 1000)));
    }
    out.push(String::new());
    match &model.input_schema {
        Some(schema) => {
            out.push(
                "Input schema, as the API serves it (this build does not check it; the server \
                 does):"
                    .into(),
            );
            let text = escaped_json(&Value::Object(schema.clone()), true).unwrap_or_default();
            out.push(String::from_utf8_lossy(&text).into_owned());
        }
        None => out.push("Input schema: the API gave none".into()),
    }
    out.push(String::new());
    out.push(format!(
        "Run it: runcomfy run {id} --unchecked --input JSON"
    ));
    output::line(&out.join("\n"));
}

/// `describe MODEL`.
pub fn describe(model: &'static ModelInfo, json: bool, live: Option<Price>) {
    let flags = fields::flags(model);
    let shown = shown_price(model, live);
    if json {
        let mut value = describe_json(model, &flags);
        value["price"] = price_json(model, &shown);
        output::json(&value);
        return;
    }
    let (price, source) = shown;
    let mut out = Vec::new();
    out.push(format!("{}  ({})", model.id, model.display_name));
    if let Some(docs) = model.docs {
        out.push(docs.to_owned());
    }
    let source = match source {
        Source::Today => "today",
        Source::Catalog => "catalog",
        Source::CatalogNotToday => "catalog; the API gave none today",
    };
    // What it returns, as `models` has it (QA repro41 L9: an audio model said only the
    // generic image and video fields).
    if let Some(kind) = model.upstream.output_kind {
        out.push(format!("Makes: {}", kind.name()));
    }
    out.push(format!(
        "Price ({source}): {}",
        printable(&price.to_string(), 200)
    ));
    if let Some(note) = &price.note {
        out.push(format!("  {}", printable(note, 1000)));
    }
    for field in model.price_units {
        out.push(format!(
            "  {} counts the {}",
            field.name,
            field.unit.plural()
        ));
    }
    out.push(String::new());
    out.push("Fields:".into());
    for flag in &flags {
        describe_field(&mut out, flag, model.id);
    }
    let conditions = conditions::of_model(model);
    if !conditions.is_empty() {
        out.push(String::new());
        out.push("Conditions:".into());
        for condition in conditions {
            out.push(format!("  {}", printable(&condition, 2000)));
        }
    }
    if !model.rules.is_empty() {
        out.push(String::new());
        out.push("Rules across fields:".into());
        for rule in model.rules {
            let (text, name, message) = fields::cross_rule_text(rule);
            out.push(format!("  {name}: {text}"));
            out.push(format!("      {message}"));
        }
    }
    if !model.outputs.is_empty() {
        out.push(String::new());
        let names: Vec<String> = model
            .outputs
            .iter()
            .map(|f| {
                if f.list {
                    format!("{}[]", f.name)
                } else {
                    f.name.to_owned()
                }
            })
            .collect();
        if model.upstream.output_published {
            out.push(format!("Output: {}", names.join(", ")));
        } else {
            // Saying the generic fields as the model's own would mislead (an audio model's
            // "image").
            // `audio`, `audios` are this build's, named as RunComfy names images and videos
            // (QA repro45 N3: said to be RunComfy's).
            let audio = match model.upstream.output_kind {
                Some(runcomfy::schema::MediaKind::Audio) => {
                    ", with audio and audios named as those docs name images and videos"
                }
                _ => "",
            };
            out.push(format!(
                "Output: not published for this model; read as {} (the output RunComfy's docs \
                 show for every model{audio}; the files are saved whatever the fields are)",
                names.join(", ")
            ));
        }
    }
    out.push(String::new());
    out.push(format!("Run it: runcomfy run {} --help", model.id));
    output::line(&out.join("\n"));
}

fn describe_field(out: &mut Vec<String>, flag: &FieldFlag, model_id: &str) {
    let field = &flag.field;
    let alias = flag
        .alias
        .as_ref()
        .map(|alias| format!(", --{alias}"))
        .unwrap_or_default();
    out.push(format!("  {}  (--{}{alias})", field.name, flag.long));
    out.push(format!("      {}", fields::type_line(field)));
    let (title, description) = fields::about(field);
    let about: Vec<&str> = title.into_iter().chain(description).collect();
    if !about.is_empty() {
        out.push(format!("      {}", about.join(" — ")));
    }
    if let Some(default) = fields::default_text(field) {
        out.push(format!("      {}: {default}", fields::default_label(field)));
    }
    let choices = field.choices();
    if choices.iter().any(|c| c.alias.is_some()) {
        out.push("      choices:".into());
        for choice in choices {
            out.push(format!("        {}", fields::choice_text(&choice)));
        }
    } else if !choices.is_empty() {
        let values: Vec<String> = choices.iter().map(|c| c.text()).collect();
        out.push(format!("      choices: {}", values.join(", ")));
    }
    if let Some(media) = field.media() {
        if !media.formats.is_empty() {
            let formats: Vec<&str> = media.formats.iter().map(|f| f.name()).collect();
            out.push(format!("      formats: {}", formats.join(", ")));
        }
        for rule in media.rules {
            out.push(format!(
                "      rule {} {}: {}",
                rule.rule, rule.limit, rule.message
            ));
        }
    }
    for condition in conditions::of_field(field, model_id) {
        out.push(format!("      {}", printable(&condition, 2000)));
    }
}

fn kind_name(field: &Field) -> &'static str {
    match field.kind() {
        FieldKind::Text => "string",
        FieldKind::Media(kind) => kind.format(),
        FieldKind::Integer => "integer",
        FieldKind::Number => "number",
        FieldKind::Boolean => "boolean",
        FieldKind::Choice => "choice",
        FieldKind::Json => "json",
    }
}

fn describe_json(model: &ModelInfo, flags: &[FieldFlag]) -> Value {
    let fields: Vec<Value> = flags
        .iter()
        .map(|flag| {
            let f = &flag.field;
            let value = f.value_schema();
            let own = f.own_schema();
            json!({
                "name": f.name,
                "flag": format!("--{}", flag.long),
                "flag_alias": flag.alias.as_ref().map(|alias| format!("--{alias}")),
                "title": f.title(),
                "description": f.description(),
                "kind": kind_name(f),
                "array": f.is_list(),
                "required": f.required,
                "in_branch": f.in_branch(),
                "never_valid": f.never_valid() && !f.nullable(),
                "nullable": f.nullable(),
                // A required field's default never applies: an example, as the text says (QA
                // repro41 L10: a reader of `default` took it to).
                "default": f.default().filter(|_| !f.required).map(|d| d.to_value()),
                "example": f.default().filter(|_| f.required).map(|d| d.to_value()),
                "choices": f.choices().iter().map(|c| json!({
                    "value": c.value.to_value(),
                    "alias": c.alias,
                })).collect::<Vec<_>>(),
                "minimum": value.minimum,
                "maximum": value.maximum,
                "exclusive_minimum": value.exclusive_minimum,
                "exclusive_maximum": value.exclusive_maximum,
                "multiples_of": fields::multiples(f),
                "min_length": value.min_length,
                "max_length": value.max_length,
                "patterns": fields::patterns(f),
                "min_items": own.min_items,
                "max_items": own.max_items,
                "unique_items": own.unique_items,
                "conditions": conditions::of_field(f, model.id),
                "media": f.media().map(|m| json!({
                    "kind": m.kind.name(),
                    "formats": m.formats.iter().map(|f| f.name()).collect::<Vec<_>>(),
                    "rules": m.rules.iter().map(|r| json!({
                        "rule": r.rule.wire(),
                        "value": r.limit,
                        "message": r.message,
                    })).collect::<Vec<_>>(),
                })),
            })
        })
        .collect();
    let rules: Vec<Value> = model
        .rules
        .iter()
        .map(|rule| match rule {
            CrossRule::MaxTotal {
                fields,
                max,
                message,
            } => json!({"rule": CrossRuleKind::MaxTotal.name(), "severity": "error", "fields": fields, "max": max, "message": message}),
            CrossRule::PromptCount {
                prompt,
                count,
                message,
            } => json!({"rule": CrossRuleKind::PromptCount.name(), "severity": "warning", "prompt": prompt, "count": count, "message": message}),
            CrossRule::AtLeastOne { fields, message } => json!({"rule": CrossRuleKind::AtLeastOne.name(), "severity": "error", "fields": fields, "message": message}),
            CrossRule::AtMostOne { fields, message } => json!({"rule": CrossRuleKind::AtMostOne.name(), "severity": "error", "fields": fields, "message": message}),
        })
        .collect();
    json!({
        "id": model.id,
        "display_name": model.display_name,
        "docs": model.docs,
        "fields": fields,
        "cross_rules": rules,
        "conditions": conditions::of_model(model),
        "output_fields": model.outputs.iter().map(|f| json!({"name": f.name, "array": f.list})).collect::<Vec<_>>(),
        "output_published": model.upstream.output_published,
        "kind": model.upstream.output_kind.map(MediaKind::name),
        "input_schema": serde_json::from_str::<Value>(model.input_schema).unwrap_or(Value::Null),
    })
}
