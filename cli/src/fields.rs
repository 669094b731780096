//! Per-model flags, built at run time from the runtime catalog, and the JSON input they make.
//!
//! Flag values are taken as text and turned into JSON here rather than by clap, so a bad value
//! is reported with every other problem of the input (exit 65) instead of stopping at the
//! first one as a usage error.

use std::collections::HashSet;
use std::ffi::OsStr;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Arg, ArgAction, ArgMatches, Command};
use heck::ToKebabCase as _;
use runcomfy::catalog::{Choice, CrossRule, FieldInfo, FieldKind, MediaKind, ModelInfo};
use runcomfy::{Severity, ValidationReport};
use serde_json::{Map, Value};

/// Flag names of the `run MODEL` options; a field with one of these names gets `--field-NAME`.
pub const RESERVED: &[&str] = &[
    "input",
    "out",
    "no-wait",
    "timeout",
    "preflight",
    "json",
    "help",
    "mock",
    "base-url",
    "token-file",
    "verbose",
    "version",
];

/// The flag of one input field.
#[derive(Debug, Clone)]
pub struct FieldFlag {
    /// The field.
    pub field: &'static FieldInfo,
    /// The long flag, without the dashes (`image-size`).
    pub long: String,
}

/// The flags of a model's fields, in schema order, with unique names.
pub fn flags(model: &ModelInfo) -> Vec<FieldFlag> {
    let mut used: HashSet<String> = RESERVED.iter().map(|s| (*s).to_owned()).collect();
    let mut out = Vec::new();
    for field in model.fields {
        let mut long = field.name.to_kebab_case();
        if long.is_empty() || used.contains(&long) {
            long = format!("field-{long}");
        }
        // Two property names can meet in kebab-case (`a_b`, `aB`): number the later ones.
        let base = long.clone();
        let mut n = 2;
        while used.contains(&long) {
            long = format!("{base}-{n}");
            n += 1;
        }
        used.insert(long.clone());
        out.push(FieldFlag { field, long });
    }
    out
}

/// Takes a flag's text as it is; the possible values only feed `--help` and completions.
#[derive(Debug, Clone)]
struct RawValue {
    choices: Vec<PossibleValue>,
}

impl TypedValueParser for RawValue {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        match value.to_str() {
            Some(text) => Ok(text.to_owned()),
            None => {
                let mut err = clap::Error::new(clap::error::ErrorKind::InvalidUtf8).with_cmd(cmd);
                if let Some(arg) = arg {
                    err.insert(
                        clap::error::ContextKind::InvalidArg,
                        clap::error::ContextValue::String(arg.to_string()),
                    );
                }
                Err(err)
            }
        }
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        if self.choices.is_empty() {
            None
        } else {
            Some(Box::new(self.choices.iter().cloned()))
        }
    }
}

/// The clap argument of a field.
pub fn arg(flag: &FieldFlag) -> Arg {
    let field = flag.field;
    let mut choices: Vec<PossibleValue> = field
        .choices
        .iter()
        .map(|c| match c.alias {
            // The alias is what people type (`16:9`); the wire value is its help.
            Some(alias) => PossibleValue::new(alias).help(c.value),
            None => PossibleValue::new(c.value),
        })
        .collect();
    if field.kind == FieldKind::Boolean {
        choices = vec![PossibleValue::new("true"), PossibleValue::new("false")];
    }
    let mut arg = Arg::new(field.name)
        .long(flag.long.clone())
        .value_name(value_name(field))
        .value_parser(RawValue { choices })
        .help(short_help(field))
        .long_help(long_help(field))
        .help_heading("Model inputs");
    arg = if field.array {
        arg.action(ArgAction::Append)
    } else {
        arg.action(ArgAction::Set)
    };
    if field.kind == FieldKind::Boolean && !field.array {
        // `--flag` alone means true; `--flag false` too is accepted.
        arg = arg
            .num_args(0..=1)
            .default_missing_value("true")
            .require_equals(false);
    }
    if matches!(field.kind, FieldKind::Media(_)) {
        arg = arg.value_hint(clap::ValueHint::FilePath);
    }
    arg
}

fn value_name(field: &FieldInfo) -> &'static str {
    match field.kind {
        FieldKind::String => "TEXT",
        FieldKind::Uri => "URL",
        FieldKind::Media(_) => "PATH|URL",
        FieldKind::Integer => "INT",
        FieldKind::Number => "NUMBER",
        FieldKind::Boolean => "BOOL",
        FieldKind::StringChoice | FieldKind::IntegerChoice => "CHOICE",
        FieldKind::Json => "JSON",
    }
}

/// One line: the title (or description), whether required, and the default.
fn short_help(field: &FieldInfo) -> String {
    let mut text = field
        .title
        .filter(|t| *t != field.name)
        .or(field.description)
        .unwrap_or(field.name)
        .trim()
        .trim_end_matches('.')
        .to_owned();
    if field.required {
        text.push_str(" (required)");
    }
    if field.array {
        text.push_str(" (repeat for more)");
    }
    if let Some(default) = default_flag_text(field) {
        text.push_str(&format!(" [{}: {default}]", default_label(field)));
    }
    text
}

/// What a field's schema default is to a user: the default, or for a required field (which
/// must be given, so the default never applies) an example.
pub fn default_label(field: &FieldInfo) -> &'static str {
    if field.required { "example" } else { "default" }
}

/// The default as a flag takes it: a choice's alias when it has one.
fn default_flag_text(field: &FieldInfo) -> Option<String> {
    let value = field.default_value()?;
    let alias = field
        .choices
        .iter()
        .find(|c| serde_json::from_str::<Value>(c.wire).is_ok_and(|wire| wire == value))
        .and_then(|c| c.alias);
    match alias {
        Some(alias) => Some(alias.to_owned()),
        None => default_text(field),
    }
}

/// The title, description, type, bounds, media rules and default.
fn long_help(field: &FieldInfo) -> String {
    let mut lines = Vec::new();
    let mut head = String::new();
    if let Some(title) = field.title.filter(|t| *t != field.name) {
        head.push_str(title.trim_end_matches('.'));
        head.push('.');
    }
    if let Some(description) = field.description.filter(|d| !d.trim().is_empty()) {
        if !head.is_empty() {
            head.push(' ');
        }
        head.push_str(description.trim());
    }
    if !head.is_empty() {
        lines.push(head);
    }
    // For choices the possible values clap lists say it all, unless there is more to say.
    let is_choice = matches!(
        field.kind,
        FieldKind::StringChoice | FieldKind::IntegerChoice
    );
    if !is_choice || field.array || field.required || field.nullable || !bounds(field).is_empty() {
        lines.push(type_line(field));
    }
    if let Some(media) = field.media {
        for rule in media.rules {
            lines.push(format!(
                "Rule {} {}: {}",
                rule.check.wire_name(),
                rule.value,
                rule.message
            ));
        }
    }
    if let Some(default) = default_flag_text(field) {
        lines.push(format!("[{}: {default}]", default_label(field)));
    }
    lines.join("\n")
}

/// `Text, required, at most 600 characters`, ...
pub fn type_line(field: &FieldInfo) -> String {
    let mut parts = vec![kind_text(field)];
    if field.required {
        parts.push("required".into());
    }
    if field.nullable {
        parts.push("may be null".into());
    }
    parts.extend(bounds(field));
    let mut line = parts.join(", ");
    if let Some(first) = line.get(..1) {
        line = first.to_uppercase() + &line[1..];
    }
    line
}

fn kind_text(field: &FieldInfo) -> String {
    let one = match field.kind {
        FieldKind::String => "text".to_owned(),
        FieldKind::Uri => "an http(s) URL".to_owned(),
        FieldKind::Media(kind) => {
            let what = match kind {
                MediaKind::Image => "image",
                MediaKind::Video => "video",
                MediaKind::Audio => "audio",
            };
            let formats: Vec<&str> = field
                .media
                .map(|m| m.formats.iter().map(|f| f.name()).collect())
                .unwrap_or_default();
            if formats.is_empty() {
                format!("{what} (local path or https URL)")
            } else {
                format!("{what} (local path or https URL; {})", formats.join(" or "))
            }
        }
        FieldKind::Integer => "integer".to_owned(),
        FieldKind::Number => "number".to_owned(),
        FieldKind::Boolean => "true or false".to_owned(),
        FieldKind::StringChoice | FieldKind::IntegerChoice => "choice".to_owned(),
        FieldKind::Json => "JSON".to_owned(),
    };
    if field.array {
        format!("list of: {one}")
    } else {
        one
    }
}

/// The bounds of a field in words.
pub fn bounds(field: &FieldInfo) -> Vec<String> {
    let mut out = Vec::new();
    match (field.minimum, field.maximum) {
        (Some(lo), Some(hi)) => out.push(format!("from {lo} to {hi}")),
        (Some(lo), None) => out.push(format!("at least {lo}")),
        (None, Some(hi)) => out.push(format!("at most {hi}")),
        (None, None) => {}
    }
    match (field.min_length, field.max_length) {
        (Some(lo), Some(hi)) => out.push(format!("{lo} to {hi} characters")),
        (Some(lo), None) => out.push(format!("at least {lo} characters")),
        (None, Some(hi)) => out.push(format!("at most {hi} characters")),
        (None, None) => {}
    }
    match (field.min_items, field.max_items) {
        (Some(lo), Some(hi)) => out.push(format!("{lo} to {hi} items")),
        (Some(lo), None) => out.push(format!("at least {lo} items")),
        (None, Some(hi)) => out.push(format!("at most {hi} items")),
        (None, None) => {}
    }
    out
}

/// The default as a user would type it.
pub fn default_text(field: &FieldInfo) -> Option<String> {
    let value = field.default_value()?;
    Some(match value {
        Value::String(text) => text,
        other => other.to_string(),
    })
}

/// `2560:1440 (16:9)` with its alias, for listings.
pub fn choice_text(choice: &Choice) -> String {
    match choice.alias {
        Some(alias) => format!("{} (alias {alias})", choice.value),
        None => choice.value.to_owned(),
    }
}

/// The input the flags given make, keyed by property name.
pub fn from_matches(flags: &[FieldFlag], matches: &ArgMatches) -> Map<String, Value> {
    let mut out = Map::new();
    for flag in flags {
        let field = flag.field;
        let Ok(Some(values)) = matches.try_get_many::<String>(field.name) else {
            continue;
        };
        let values: Vec<Value> = values.map(|raw| from_text(field, raw)).collect();
        let value = if field.array {
            Value::Array(values)
        } else {
            match values.into_iter().next_back() {
                Some(value) => value,
                None => continue,
            }
        };
        out.insert(field.name.to_owned(), value);
    }
    out
}

/// Reads a flag's text as the field's JSON value; text that does not parse stays a string, so
/// the shape check reports it with the others.
pub fn from_text(field: &FieldInfo, raw: &str) -> Value {
    let text = || Value::String(raw.to_owned());
    match field.kind {
        FieldKind::String | FieldKind::Uri | FieldKind::Media(_) => text(),
        FieldKind::Integer => raw
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| text()),
        FieldKind::Number => number(raw.trim()).unwrap_or_else(text),
        FieldKind::Boolean => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Value::Bool(true),
            "false" | "no" | "off" | "0" => Value::Bool(false),
            _ => text(),
        },
        FieldKind::StringChoice | FieldKind::IntegerChoice => match field.find_choice(raw) {
            Some(choice) => serde_json::from_str(choice.wire).unwrap_or_else(|_| text()),
            None => raw
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|_| field.kind == FieldKind::IntegerChoice)
                .map(Value::from)
                .unwrap_or_else(text),
        },
        FieldKind::Json => serde_json::from_str(raw).unwrap_or_else(|_| text()),
    }
}

fn number(text: &str) -> Option<Value> {
    if let Ok(int) = text.parse::<i64>() {
        return Some(Value::from(int));
    }
    let float: f64 = text.parse().ok()?;
    serde_json::Number::from_f64(float).map(Value::Number)
}

/// Checks the shape of an input against the catalog: unknown and missing fields, and each
/// value's type and choice. Bounds, media and cross-field rules are the validator's.
pub fn check_shape(
    model: &ModelInfo,
    input: &Map<String, Value>,
    flags: &[FieldFlag],
) -> ValidationReport {
    let mut report = ValidationReport::new();
    let names: Vec<&str> = model.fields.iter().map(|f| f.name).collect();
    for key in input.keys() {
        if model.field(key).is_none() {
            report.error(
                key.as_str(),
                "unknown",
                None,
                format!("unknown field; the fields are: {}", names.join(", ")),
            );
        }
    }
    for field in model.fields {
        let flag = flags
            .iter()
            .find(|f| f.field.name == field.name)
            .map(|f| f.long.as_str())
            .unwrap_or(field.name);
        match input.get(field.name) {
            None if field.required => report.error(
                field.name,
                "required",
                None,
                format!("is required (--{flag}, or \"{}\" in --input)", field.name),
            ),
            None => {}
            Some(Value::Null) if field.nullable => {}
            Some(Value::Null) => report.error(field.name, "type", None, "must not be null"),
            Some(value) if field.array => match value {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        check_value(&mut report, &format!("{}[{i}]", field.name), field, item);
                    }
                }
                other => report.error(
                    field.name,
                    "type",
                    Some(short(other)),
                    format!("must be a list (repeat --{flag} for more items)"),
                ),
            },
            Some(value) => check_value(&mut report, field.name, field, value),
        }
    }
    report
}

fn check_value(report: &mut ValidationReport, path: &str, field: &FieldInfo, value: &Value) {
    let problem = match field.kind {
        FieldKind::String | FieldKind::Uri | FieldKind::Media(_) => {
            (!value.is_string()).then(|| "must be a string".to_owned())
        }
        FieldKind::Integer => (!value.is_i64()).then(|| "must be a whole number".to_owned()),
        FieldKind::Number => (!value.is_number()).then(|| "must be a number".to_owned()),
        FieldKind::Boolean => (!value.is_boolean()).then(|| "must be true or false".to_owned()),
        FieldKind::StringChoice | FieldKind::IntegerChoice => {
            let known = field
                .choices
                .iter()
                .any(|c| serde_json::from_str::<Value>(c.wire).is_ok_and(|wire| wire == *value));
            (!known).then(|| {
                let list: Vec<String> = field.choices.iter().map(choice_text).collect();
                format!("must be one of: {}", list.join(", "))
            })
        }
        FieldKind::Json => None,
    };
    if let Some(message) = problem {
        report.error(path, "type", Some(short(value)), message);
    }
}

/// A value, shortened for a message.
fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        let head: String = text.chars().take(57).collect();
        format!("{head}...")
    } else {
        text
    }
}

/// Every problem of an input: the shape check, then the model's validator on what passed it
/// (so one bad value does not hide the rest).
pub fn check(
    model: &ModelInfo,
    input: &Map<String, Value>,
    flags: &[FieldFlag],
) -> ValidationReport {
    let shape = check_shape(model, input, flags);
    if shape.is_valid() {
        return runcomfy::dynamic::validate(model, &Value::Object(input.clone()));
    }
    let mut report = shape.clone();
    let bad: HashSet<&str> = shape
        .problems()
        .iter()
        .map(|p| p.path.split('[').next().unwrap_or(&p.path))
        .collect();
    let clean: Map<String, Value> = input
        .iter()
        .filter(|(k, _)| !bad.contains(k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // What the decoder says about the rest repeats the shape check (a missing field): only its
    // rule checks are new.
    if let Ok(rules) = (model.validate_json)(&Value::Object(clean)) {
        for problem in rules.problems() {
            let field = problem.path.split('[').next().unwrap_or(&problem.path);
            if !bad.contains(field) {
                report.push(problem.clone());
            }
        }
    }
    report
}

/// Counts of errors and warnings.
pub fn counts(report: &ValidationReport) -> (usize, usize) {
    let errors = report
        .problems()
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    (errors, report.problems().len() - errors)
}

/// A cross-field rule in words.
pub fn cross_rule_text(rule: &CrossRule) -> (String, &'static str, &'static str) {
    match rule {
        CrossRule::MaxTotal {
            fields,
            max,
            message,
        } => (
            format!("{} <= {max} (error)", fields.join(" + ")),
            "max_total",
            message,
        ),
        CrossRule::PromptCount {
            prompt,
            count,
            message,
        } => (
            format!("the count stated in {prompt} = {count} (warning)"),
            "prompt_count",
            message,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(id: &str) -> &'static ModelInfo {
        runcomfy::catalog::find(id).unwrap()
    }

    #[test]
    fn flags_are_kebab_case_and_unique() {
        let flags = flags(model("bytedance/seedream-4-0/sequential"));
        let names: Vec<&str> = flags.iter().map(|f| f.long.as_str()).collect();
        assert!(names.contains(&"image-size"));
        assert!(names.contains(&"sequential-image-generation-options"));
        let unique: HashSet<&&str> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn aliases_and_numbers_become_wire_values() {
        let m = model("bytedance/seedream-4-0/sequential");
        let size = m.field("image_size").unwrap();
        assert_eq!(from_text(size, "16:9"), Value::from("2560:1440 (16:9)"));
        assert_eq!(
            from_text(size, "2560:1440 (16:9)"),
            Value::from("2560:1440 (16:9)")
        );
        assert_eq!(from_text(size, "16:10"), Value::from("16:10"));
        let count = m.field("sequential_image_generation_options").unwrap();
        assert_eq!(from_text(count, "4"), Value::from(4));
        assert_eq!(from_text(count, "four"), Value::from("four"));
        let seed = m.field("seed").unwrap();
        assert_eq!(from_text(seed, "42"), Value::from(42));
        assert_eq!(from_text(seed, "4.2"), Value::from("4.2"));
    }

    #[test]
    fn every_problem_is_reported() {
        let m = model("bytedance/seedream-4-0/sequential");
        let flags = flags(m);
        let input: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "text": "x".repeat(601),
            "image_size": "16:10",
            "seed": "abc",
            "colour": "red"
        }))
        .unwrap();
        let report = check(m, &input, &flags);
        let paths: Vec<&str> = report.problems().iter().map(|p| p.path.as_str()).collect();
        assert!(paths.contains(&"text"), "{report}");
        assert!(paths.contains(&"image_size"), "{report}");
        assert!(paths.contains(&"seed"), "{report}");
        assert!(paths.contains(&"colour"), "{report}");
    }
}
