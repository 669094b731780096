//! `runcomfy models` and `runcomfy describe MODEL`: the runtime catalog, for people and as JSON.

use runcomfy::catalog::{CrossRule, Field, FieldKind, ModelInfo};
use runcomfy::vocab::cross::CrossRuleKind;
use serde_json::{Value, json};

use crate::fields::{self, FieldFlag};
use crate::output;

/// `models`: one line per model, or the catalog as JSON.
pub fn models(json: bool) {
    let catalog = runcomfy::catalog();
    if json {
        let list: Vec<Value> = catalog
            .iter()
            .map(|m| {
                json!({
                    "id": m.id,
                    "display_name": m.display_name,
                    "docs": m.docs,
                    "fields": m.fields().map(|f| f.name).collect::<Vec<_>>(),
                    "required": m.fields().filter(|f| f.required).map(|f| f.name).collect::<Vec<_>>(),
                })
            })
            .collect();
        output::json(&Value::Array(list));
        return;
    }
    let id_width = catalog.iter().map(|m| m.id.len()).max().unwrap_or(0);
    let name_width = catalog
        .iter()
        .map(|m| m.display_name.chars().count())
        .max()
        .unwrap_or(0);
    for model in catalog {
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
            "{:id_width$}  {:name_width$}  {}",
            model.id,
            model.display_name,
            summary.join(", ")
        ));
    }
    crate::progress::eprintln_safe("(* required, [] list; `runcomfy describe MODEL` for details)");
}

/// `describe MODEL`.
pub fn describe(model: &'static ModelInfo, json: bool) {
    let flags = fields::flags(model);
    if json {
        output::json(&describe_json(model, &flags));
        return;
    }
    let mut out = Vec::new();
    out.push(format!("{}  ({})", model.id, model.display_name));
    if let Some(docs) = model.docs {
        out.push(docs.to_owned());
    }
    out.push(String::new());
    out.push("Fields:".into());
    for flag in &flags {
        describe_field(&mut out, flag);
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
        out.push(format!("Output: {}", names.join(", ")));
    }
    out.push(String::new());
    out.push(format!("Run it: runcomfy run {} --help", model.id));
    output::line(&out.join("\n"));
}

fn describe_field(out: &mut Vec<String>, flag: &FieldFlag) {
    let field = &flag.field;
    out.push(format!("  {}  (--{})", field.name, flag.long));
    out.push(format!("      {}", fields::type_line(field)));
    let about: Vec<&str> = [
        field.title().filter(|t| *t != field.name),
        field.description(),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .filter(|s| !s.is_empty())
    .collect();
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
            out.push(format!("        {}", fields::choice_text(choice)));
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
            json!({
                "name": f.name,
                "flag": format!("--{}", flag.long),
                "title": f.title(),
                "description": f.description(),
                "kind": kind_name(f),
                "array": f.is_list(),
                "required": f.required,
                "nullable": f.nullable(),
                "default": f.default().map(|d| d.to_value()),
                "choices": f.choices().iter().map(|c| json!({
                    "value": c.value.to_value(),
                    "alias": c.alias,
                })).collect::<Vec<_>>(),
                "minimum": value.minimum,
                "maximum": value.maximum,
                "min_length": value.min_length,
                "max_length": value.max_length,
                "min_items": f.schema.min_items,
                "max_items": f.schema.max_items,
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
        })
        .collect();
    json!({
        "id": model.id,
        "display_name": model.display_name,
        "docs": model.docs,
        "fields": fields,
        "cross_rules": rules,
        "output_fields": model.outputs.iter().map(|f| json!({"name": f.name, "array": f.list})).collect::<Vec<_>>(),
        "input_schema": serde_json::from_str::<Value>(model.input_schema).unwrap_or(Value::Null),
    })
}
