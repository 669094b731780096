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
use runcomfy::Number;
use runcomfy::catalog::{CrossRule, Field, FieldKind, ModelInfo};
use runcomfy::schema::{Choice, Json, JsonType};
use runcomfy::validate::Instance as _;
use runcomfy::vocab::cross::CrossRuleKind;
use serde_json::{Map, Value};

/// Flag names of the `run MODEL` options and the global ones (a test checks the command has
/// no other); a field with one of these names gets `--field-NAME`.
pub const RESERVED: &[&str] = &[
    "input",
    "out",
    "downloads",
    "no-wait",
    "timeout",
    "preflight",
    "dry-run",
    "max-cost",
    "unchecked",
    "json",
    "help",
    "mock",
    "base-url",
    "poll-secs",
    "token-file",
    "allow-output-host",
    "verbose",
    "quiet",
    "version",
];

/// The flag of one input field.
#[derive(Debug, Clone)]
pub struct FieldFlag {
    /// The field.
    pub field: Field,
    /// The long flag, without the dashes (`image-size`).
    pub long: String,
    /// For a field named in another script, the same flag in ASCII (`--gao-qing` for
    /// `--高清`).
    pub alias: Option<String>,
}

/// The flags of a model's fields, in schema order, with unique names.
pub fn flags(model: &ModelInfo) -> Vec<FieldFlag> {
    let fields: Vec<Field> = model.fields().collect();
    let ascii = |name: &str| {
        model
            .ascii_names
            .iter()
            .find(|(wire, _)| *wire == name)
            .map(|(_, ascii)| *ascii)
    };
    let longs = longs(fields.iter().map(|f| (f.name, ascii(f.name))));
    fields
        .into_iter()
        .zip(longs)
        .map(|(field, (long, alias))| FieldFlag { field, long, alias })
        .collect()
}

/// The long flags of fields named `names` (each with its ASCII name, when it is not ASCII):
/// kebab-case, `field-` before a reserved one, and numbered when two names meet in kebab-case
/// (`a_b`, `aB`). A name of symbols alone is its ASCII name (`🎨`: `--art`); one in another
/// script keeps its flag and has the ASCII one as an alias, unless another flag has it.
fn longs<'a>(
    names: impl Iterator<Item = (&'a str, Option<&'a str>)>,
) -> Vec<(String, Option<String>)> {
    let mut used: HashSet<String> = RESERVED.iter().map(|s| (*s).to_owned()).collect();
    let names: Vec<(&str, Option<&str>)> = names.collect();
    // Every flag's own name first: an alias never takes a name a later field's flag is.
    for (name, _) in &names {
        used.insert(name.to_kebab_case());
    }
    let mut taken: HashSet<String> = RESERVED.iter().map(|s| (*s).to_owned()).collect();
    let mut out = Vec::new();
    for (name, ascii) in names {
        let own = name.to_kebab_case();
        let ascii = ascii.map(str::to_kebab_case).filter(|a| !a.is_empty());
        // A name of symbols alone is its ASCII name, numbered after any field's own.
        let symbols = own.is_empty() && ascii.is_some();
        let (mut long, alias) = match ascii {
            Some(ascii) if own.is_empty() => (ascii, None),
            ascii => (own, ascii),
        };
        if long.is_empty() || RESERVED.contains(&long.as_str()) {
            long = format!("field-{long}");
        }
        let base = long.clone();
        let mut n = 2;
        while taken.contains(&long) || (symbols && used.contains(&long)) {
            long = format!("{base}-{n}");
            n += 1;
        }
        taken.insert(long.clone());
        let alias = alias.filter(|a| *a != long && !used.contains(a) && taken.insert(a.clone()));
        out.push((long, alias));
    }
    out
}

impl FieldFlag {
    /// The clap id of its argument: its flag, apart from the run options' ids (a field named
    /// `input` or `out` would otherwise share theirs).
    fn id(&self) -> String {
        format!("field:{}", self.long)
    }
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
    let field = &flag.field;
    let kind = field.kind();
    let mut choices: Vec<PossibleValue> = field
        .choices()
        .iter()
        .map(|c| match c.alias {
            // The alias is what people type (`16:9`); the wire value is its help.
            Some(alias) => PossibleValue::new(alias).help(c.text()),
            None => PossibleValue::new(c.text()),
        })
        .collect();
    if kind == FieldKind::Boolean {
        choices = vec![PossibleValue::new("true"), PossibleValue::new("false")];
    }
    let mut arg = Arg::new(flag.id())
        .long(flag.long.clone())
        .visible_aliases(flag.alias.clone())
        .value_name(value_name(kind))
        .value_parser(RawValue { choices })
        .help(short_help(field))
        .long_help(long_help(field))
        .help_heading("Model inputs");
    arg = if field.is_list() || field.is_tuple() {
        arg.action(ArgAction::Append)
    } else {
        arg.action(ArgAction::Set)
    };
    if kind == FieldKind::Boolean && !field.is_list() {
        // `--flag` alone means true; `--flag false` too is accepted.
        arg = arg
            .num_args(0..=1)
            .default_missing_value("true")
            .require_equals(false);
    }
    if matches!(kind, FieldKind::Media(_)) {
        arg = arg.value_hint(clap::ValueHint::FilePath);
    }
    if matches!(
        kind,
        FieldKind::Integer | FieldKind::Number | FieldKind::Choice | FieldKind::Json
    ) {
        // `--seed -1` is a value, not a flag.
        arg = arg.allow_negative_numbers(true);
    }
    arg
}

fn value_name(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "TEXT",
        FieldKind::Media(_) => "PATH|URL",
        FieldKind::Integer => "INT",
        FieldKind::Number => "NUMBER",
        FieldKind::Boolean => "BOOL",
        FieldKind::Choice => "CHOICE",
        FieldKind::Json => "JSON",
    }
}

/// The title, unless it only repeats the field's name (`Negative Prompt` for
/// `negative_prompt`).
fn title(field: &Field) -> Option<&'static str> {
    let words = |text: &str| -> String {
        text.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    field
        .title()
        .filter(|t| words(t.trim_end_matches('.')) != words(field.name))
}

/// The title (unless it only repeats the name) and the description (unless it only repeats
/// the title), trimmed, for help and `describe`.
pub fn about(field: &Field) -> (Option<&'static str>, Option<&'static str>) {
    let title = title(field).map(str::trim).filter(|t| !t.is_empty());
    let same = |a: &str, b: &str| a.trim_end_matches('.') == b.trim_end_matches('.');
    let description = field
        .description()
        .map(str::trim)
        .filter(|d| !d.is_empty() && !title.is_some_and(|t| same(t, d)));
    (title, description)
}

/// One line: the title (or description), whether required, and the default.
fn short_help(field: &Field) -> String {
    let mut text = title(field)
        .or(field.description())
        .unwrap_or(field.name)
        .trim()
        .trim_end_matches('.')
        .to_owned();
    if field.required {
        text.push_str(" (required)");
    }
    if field.is_list() {
        text.push_str(" (repeat for more)");
    } else if field.is_tuple() {
        text.push_str(" (repeat for each item, in order)");
    }
    if let Some(default) = default_flag_text(field) {
        text.push_str(&format!(" [{}: {default}]", default_label(field)));
    }
    text
}

/// What a field's schema default is to a user: the default, or for a required field (which
/// must be given, so the default never applies) an example.
pub fn default_label(field: &Field) -> &'static str {
    if field.required { "example" } else { "default" }
}

/// The default as a flag takes it: a choice's alias when it has one.
fn default_flag_text(field: &Field) -> Option<String> {
    let default = field.default()?.to_value();
    let alias = field
        .choices()
        .iter()
        .find(|c| c.value.to_value() == default)
        .and_then(|c| c.alias);
    match alias {
        Some(alias) => Some(alias.to_owned()),
        None => default_text(field),
    }
}

/// The title, description, type, bounds, media rules and default.
fn long_help(field: &Field) -> String {
    let mut lines = Vec::new();
    let (title, description) = about(field);
    let title = title.map(|t| format!("{}.", t.trim_end_matches('.')));
    let head: Vec<&str> = title.as_deref().into_iter().chain(description).collect();
    if !head.is_empty() {
        lines.push(head.join(" "));
    }
    // For choices the possible values clap lists say it all, unless there is more to say.
    let is_choice = field.kind() == FieldKind::Choice;
    if !is_choice
        || field.is_list()
        || field.required
        || field.nullable()
        || !bounds(field).is_empty()
    {
        lines.push(type_line(field));
    }
    if let Some(media) = field.media() {
        for rule in media.rules {
            lines.push(format!(
                "Rule {} {}: {}",
                rule.rule, rule.limit, rule.message
            ));
        }
    }
    if let Some(default) = default_flag_text(field) {
        lines.push(format!("[{}: {default}]", default_label(field)));
    }
    lines.join("\n")
}

/// `Text, required, at most 600 characters`, ...
pub fn type_line(field: &Field) -> String {
    if field.never_valid() {
        // `false`, types no value has at once, crossed bounds: a flag for it can only fail.
        return if field.nullable() {
            "Only null: no other value passes its schemas".to_owned()
        } else {
            "Never valid: no value passes its schemas".to_owned()
        };
    }
    let mut parts = vec![kind_text(field)];
    if field.required {
        parts.push("required".into());
    }
    if field.in_branch() {
        // A `oneOf` of object shapes: the conditions say when it is taken.
        parts.push("taken where a branch of the input names it (see Conditions)".into());
    }
    if field.nullable() {
        // Its flag's `null` is text (see `from_text`): null goes through `--input`.
        let text = matches!(field.kind(), FieldKind::Text) && !field.is_list();
        parts.push(
            if text {
                "may be null (by --input)"
            } else {
                "may be null"
            }
            .into(),
        );
    }
    parts.extend(bounds(field));
    let mut line = parts.join(", ");
    if let Some(first) = line.get(..1) {
        line = first.to_uppercase() + &line[1..];
    }
    line
}

fn kind_text(field: &Field) -> String {
    let one = match field.kind() {
        FieldKind::Text => {
            let mut formats = Vec::new();
            for format in field.value_schemas().iter().filter_map(|s| s.format) {
                if !formats.contains(&format) {
                    formats.push(format);
                }
            }
            let said: Vec<&str> = formats.iter().map(|f| f.describe()).collect();
            match said.as_slice() {
                [] => "text".to_owned(),
                said => format!("text: {}", said.join(" and ")),
            }
        }
        FieldKind::Media(kind) => {
            let formats: Vec<&str> = field
                .media()
                .map(|m| m.formats.iter().map(|f| f.name()).collect())
                .unwrap_or_default();
            // A local file goes inline, a third larger, in a request of capped size (the Model
            // API has no upload): said for every kind, as every kind is refused past it.
            let local = format!(
                "local path under {} MiB",
                runcomfy::media::MAX_INLINE_FILE_BYTES >> 20
            );
            if formats.is_empty() {
                format!("{kind} ({local} or https URL)")
            } else {
                format!("{kind} ({local} or https URL; {})", formats.join(" or "))
            }
        }
        kind
        @ (FieldKind::Integer | FieldKind::Number | FieldKind::Boolean | FieldKind::Choice) => {
            kind_word(kind).to_owned()
        }
        FieldKind::Json if field.is_tuple() => {
            let items: Vec<&str> = field.tuple_kinds().into_iter().map(kind_word).collect();
            let rest = field
                .tuple_rest()
                .map(|kind| format!(", then any number more of: {}", kind_word(kind)))
                .unwrap_or_default();
            format!("list of {}, in that order{rest}", items.join(", "))
        }
        FieldKind::Json if let Some((tag, values)) = field.shape_tags() => {
            // A discriminated union: its shapes by their tag.
            let values: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
            format!("JSON: an object whose `{tag}` is {}", values.join(" or "))
        }
        FieldKind::Json => match field.alternative_choices().as_slice() {
            [] => "JSON".to_owned(),
            // One of some words, or something else (fal's `image_size`: or an object).
            choices => {
                let words: Vec<String> = choices.iter().map(choice_text).collect();
                format!("one of {}, or JSON", words.join(", "))
            }
        },
    };
    if field.is_list() {
        format!("list of: {one}")
    } else {
        one
    }
}

/// A kind in a word or two, where no more is known of the value (a tuple's item).
fn kind_word(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "text",
        FieldKind::Media(kind) => kind.name(),
        FieldKind::Integer => "integer",
        FieldKind::Number => "number",
        FieldKind::Boolean => "true or false",
        FieldKind::Choice => "choice",
        FieldKind::Json => "JSON",
    }
}

/// A lower and an upper bound in words, each number said by `said` (with its unit): `1 to 8`,
/// `at least 1 character`, `at most 4 items`, `exactly 2 items`.
pub fn span<T: std::fmt::Display + PartialEq>(
    min: Option<T>,
    max: Option<T>,
    said: impl Fn(&T) -> String,
) -> Option<String> {
    Some(match (min, max) {
        (Some(min), Some(max)) if min == max => format!("exactly {}", said(&min)),
        (Some(min), Some(max)) => format!("{min} to {}", said(&max)),
        (Some(min), None) => format!("at least {}", said(&min)),
        (None, Some(max)) => format!("at most {}", said(&max)),
        (None, None) => return None,
    })
}

/// `1 item`, `2 items`.
pub fn counted(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The bounds of a field in words (a list's own, then its items'), each of a type a value may
/// have; every `multipleOf` and `pattern` its schemas give.
pub fn bounds(field: &Field) -> Vec<String> {
    let value = field.value_schema();
    let types = value.types;
    let mut out = Vec::new();
    if let Some(constant) = value.constant {
        out.push(format!("always {constant}"));
    }
    if types.allows(JsonType::Number) || types.allows(JsonType::Integer) {
        out.extend(span(value.minimum, value.maximum, ToString::to_string));
        if let Some(n) = value.exclusive_minimum {
            out.push(format!("greater than {n}"));
        }
        if let Some(n) = value.exclusive_maximum {
            out.push(format!("less than {n}"));
        }
        out.extend(
            multiples(field)
                .iter()
                .map(|n| format!("a multiple of {n}")),
        );
    }
    if types.allows(JsonType::String) {
        out.extend(span(value.min_length, value.max_length, |n| {
            counted(*n, "character", "characters")
        }));
        out.extend(patterns(field).iter().map(|p| format!("matching {p}")));
    }
    let own = field.own_schema();
    if own.types.allows(JsonType::Array) {
        out.extend(span(own.min_items, own.max_items, |n| {
            counted(*n, "item", "items")
        }));
        if own.unique_items {
            out.push("items unique".to_owned());
        }
    }
    out
}

/// Every `multipleOf` a value of the field must be, each once.
pub fn multiples(field: &Field) -> Vec<Number> {
    let mut out = Vec::new();
    for n in field.value_schemas().iter().filter_map(|s| s.multiple_of) {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// Every `pattern` a value of the field must match, each once.
pub fn patterns(field: &Field) -> Vec<&'static str> {
    let mut out = Vec::new();
    for pattern in field.value_schemas().iter().filter_map(|s| s.pattern) {
        if !out.contains(&pattern.source) {
            out.push(pattern.source);
        }
    }
    out
}

/// The default as a user would type it; none for empty text where it would be an example
/// (a required field's), which shows nothing.
pub fn default_text(field: &Field) -> Option<String> {
    Some(match field.default()? {
        Json::String("") if field.required => return None,
        // Empty text, or text with spaces at its ends, is shown as JSON, or it would read as
        // no value at all (or as a shorter one).
        Json::String(text) if text.is_empty() || text.trim() != *text => {
            serde_json::Value::from(*text).to_string()
        }
        Json::String(text) => (*text).to_owned(),
        other => other.to_string(),
    })
}

/// `2560:1440 (16:9)` with its alias, for listings.
pub fn choice_text(choice: &Choice) -> String {
    match choice.alias {
        Some(alias) => format!("{} (alias {alias})", choice.text()),
        None => choice.text(),
    }
}

/// The input the flags given make, keyed by property name.
pub fn from_matches(flags: &[FieldFlag], matches: &ArgMatches) -> Map<String, Value> {
    let mut out = Map::new();
    for flag in flags {
        let field = &flag.field;
        let Ok(Some(values)) = matches.try_get_many::<String>(&flag.id()) else {
            continue;
        };
        let raws: Vec<&String> = values.collect();
        let value = if field.is_list() {
            match raws.as_slice() {
                // A list that may be null is null by `--flag null`, not `[null]`.
                [one] if one.trim() == "null" && field.nullable() => Value::Null,
                // The whole list as one JSON array (`--loras '[{...}, {...}]'`), where an item
                // cannot be an array.
                [one] if let Some(list) = whole_list(field, one) => list,
                raws => Value::Array(raws.iter().map(|raw| from_text(field, raw)).collect()),
            }
        } else if field.is_tuple() {
            match raws.as_slice() {
                [one] if one.trim() == "null" && field.nullable() => Value::Null,
                // The whole tuple as one JSON array (`--resolution '[512, 512]'`), where its
                // first item cannot be one.
                [one] if let Some(list) = whole_tuple(field, one) => list,
                raws => Value::Array(
                    raws.iter()
                        .enumerate()
                        .map(|(position, raw)| tuple_item(field, position, raw))
                        .collect(),
                ),
            }
        } else {
            match raws.last() {
                Some(raw) => from_text(field, raw),
                None => continue,
            }
        };
        out.insert(field.name.to_owned(), value);
    }
    out
}

/// A list flag's one value as the whole list: a JSON array that no item could be (any text is a
/// text item; for media, a file of that name is one).
fn whole_list(field: &Field, raw: &str) -> Option<Value> {
    match field.kind() {
        FieldKind::Text => return None,
        FieldKind::Media(_) if std::path::Path::new(raw).exists() => return None,
        _ => {}
    }
    let list = serde_json::from_str::<Value>(raw).ok()?;
    (list.is_array() && !field.takes_value(&list)).then_some(list)
}

/// A tuple flag's one value as the whole tuple: a JSON array its first item cannot be. Valid
/// neither way, an array whose own first element the first place has no room for is that
/// place's item, when the place holds arrays (`--pair '["a", {"k": "x"}]'` for a pair whose
/// first item is itself a list: what is wrong is inside it, and validation says so there).
fn whole_tuple(field: &Field, raw: &str) -> Option<Value> {
    let list = serde_json::from_str::<Value>(raw).ok()?;
    let Value::Array(items) = &list else {
        return None;
    };
    if field.takes_item(0, &list) {
        return None;
    }
    let first_misplaced = items
        .first()
        .and_then(|first| first.view().json_type())
        .is_some_and(|ty| !field.admits_item(0, ty));
    let an_item =
        first_misplaced && field.admits_item(0, JsonType::Array) && !field.takes_value(&list);
    (!an_item).then_some(list)
}

/// A tuple's item at `position` from its flag's text: its JSON reading where the schemas of that
/// place take it (`512`, `true`, `{...}`), or where that place has room for an object or array
/// as it is (valid or not: validation says what is wrong), else the text itself.
fn tuple_item(field: &Field, position: usize, raw: &str) -> Value {
    let text = Value::String(raw.to_owned());
    match serde_json::from_str::<Value>(raw) {
        Ok(json)
            if field.takes_item(position, &json)
                || structured(&json).is_some_and(|ty| field.admits_item(position, ty))
                || !field.takes_item(position, &text) =>
        {
            json
        }
        _ => text,
    }
}

/// The JSON type of an object or an array: what a flag's text is meant as wherever there is
/// room for one, never its text.
fn structured(json: &Value) -> Option<JsonType> {
    match json {
        Value::Object(_) => Some(JsonType::Object),
        Value::Array(_) => Some(JsonType::Array),
        _ => None,
    }
}

/// The other readings of each flag given whose text reads more than one way (not a list's),
/// after the one [`from_matches`] took: where the whole input is invalid as first read, one of
/// them may be what was meant (`--mode b --v 5`, where shape `b` takes `v` as text).
pub fn other_readings(flags: &[FieldFlag], matches: &ArgMatches) -> Vec<(String, Vec<Value>)> {
    let mut out = Vec::new();
    for flag in flags
        .iter()
        .filter(|f| !f.field.is_list() && !f.field.is_tuple())
    {
        let field = &flag.field;
        let Ok(Some(mut values)) = matches.try_get_many::<String>(&flag.id()) else {
            continue;
        };
        let Some(raw) = values.next_back() else {
            continue;
        };
        let kind = field.kind();
        if matches!(kind, FieldKind::Text | FieldKind::Media(_)) {
            continue;
        }
        let readings = readings(field, kind, raw);
        let taken = pick(field, &readings);
        let others: Vec<Value> = readings
            .into_iter()
            .filter(|v| Some(v) != taken.as_ref())
            .collect();
        if !others.is_empty() {
            out.push((field.name.to_owned(), others));
        }
    }
    out
}

/// For an `input` found invalid, gives a flag one of its [`other_readings`] that makes it
/// `valid`, trying one flag at a time in order, and says whether one did; else leaves it as
/// it is, for validation to report.
pub fn settle(
    input: &mut Map<String, Value>,
    others: &[(String, Vec<Value>)],
    valid: impl Fn(&Map<String, Value>) -> bool,
) -> bool {
    for (name, readings) in others {
        let first = input.get(name).cloned();
        for reading in readings {
            input.insert(name.clone(), reading.clone());
            if valid(input) {
                return true;
            }
        }
        if let Some(first) = first {
            input.insert(name.clone(), first);
        }
    }
    false
}

/// Reads a flag's text as the field's JSON value (one item, for a list): the first of its
/// readings that a value of the field takes (`--steps 5` is the text "5" where the schemas
/// want text), else the first, so validation reports it with the others. Text that reads as
/// nothing else stays a string.
pub fn from_text(field: &Field, raw: &str) -> Value {
    let text = || Value::String(raw.to_owned());
    let kind = field.kind();
    match kind {
        // Any text is text: `null` too.
        FieldKind::Text => return text(),
        // A path or a URL; `null` where a value may be null (`null` is no file to read).
        FieldKind::Media(_) if raw.trim() == "null" && field.takes_value(&Value::Null) => {
            return Value::Null;
        }
        FieldKind::Media(_) => return text(),
        _ => {}
    }
    pick(field, &readings(field, kind, raw)).unwrap_or_else(text)
}

/// Of a flag's readings, the first a value of the field takes, else the first of a type it
/// takes (`--duration 21` to a field of text choices is the text "21", which is then said
/// not to be a choice, not to be no text: QA repro41 L3), else the first.
fn pick(field: &Field, readings: &[Value]) -> Option<Value> {
    readings
        .iter()
        .find(|value| field.takes_value(value))
        .or_else(|| {
            readings.iter().find(|value| {
                value
                    .view()
                    .json_type()
                    .is_some_and(|json| field.admits(json))
            })
        })
        .or(readings.first())
        .cloned()
}

/// What `raw` may mean, the field's kind's reading first, text last, each once.
fn readings(field: &Field, kind: FieldKind, raw: &str) -> Vec<Value> {
    let trimmed = raw.trim();
    let boolean = match trimmed.to_ascii_lowercase().as_str() {
        // As its help says, and as `--input` takes it (QA repro41 L2: `yes` and `1` were
        // taken here, refused there).
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => None,
    };
    let mut out: Vec<Value> = Vec::new();
    if trimmed == "null" {
        out.push(Value::Null);
    }
    match kind {
        FieldKind::Integer | FieldKind::Number => out.extend(number(trimmed)),
        FieldKind::Boolean => out.extend(boolean),
        FieldKind::Choice => {
            let choices = field.matching_choices(trimmed);
            out.extend(choices.iter().map(|c| c.value.to_value()));
        }
        FieldKind::Json | FieldKind::Text | FieldKind::Media(_) => {}
    }
    // JSON's own spelling of a value; text like `+5` or `05` is no number but text.
    let json = serde_json::from_str::<Value>(raw).ok();
    // An object or array where the field has a place for one is what was meant, valid or not
    // (validation says what is wrong with it): never its text, sent as a prompt to a union that
    // takes text too.
    let meant = json
        .as_ref()
        .and_then(structured)
        .is_some_and(|json| field.admits(json));
    out.extend(json);
    if !meant {
        out.push(Value::String(raw.to_owned()));
    }
    let mut unique: Vec<Value> = Vec::new();
    for value in out {
        if !unique.contains(&value) {
            unique.push(value);
        }
    }
    unique
}

fn number(text: &str) -> Option<Value> {
    if let Ok(int) = text.parse::<i64>() {
        return Some(Value::from(int));
    }
    // A seed of 64 bits is sent exactly, not rounded to a float.
    if let Ok(int) = text.parse::<u64>() {
        return Some(Value::from(int));
    }
    let float: f64 = text.parse().ok()?;
    serde_json::Number::from_f64(float).map(Value::Number)
}

/// A cross-field rule in words: the condition, the rule's name, its message.
pub fn cross_rule_text(rule: &CrossRule) -> (String, &'static str, &'static str) {
    match rule {
        CrossRule::MaxTotal {
            fields,
            max,
            message,
        } => (
            format!("{} <= {max} (error)", fields.join(" + ")),
            CrossRuleKind::MaxTotal.name(),
            message,
        ),
        CrossRule::PromptCount {
            prompt,
            count,
            message,
        } => (
            format!("the count stated in {prompt} = {count} (warning)"),
            CrossRuleKind::PromptCount.name(),
            message,
        ),
        CrossRule::AtLeastOne { fields, message } => (
            format!("at least one of {} (error)", fields.join(", ")),
            CrossRuleKind::AtLeastOne.name(),
            message,
        ),
        CrossRule::AtMostOne { fields, message } => (
            format!("at most one of {} (error)", fields.join(", ")),
            CrossRuleKind::AtMostOne.name(),
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
    fn an_empty_default_is_shown_as_quotes_and_an_empty_example_not_at_all() {
        let fields: Vec<Field> = model("acestep-ai/ace-step/audio-inpaint")
            .fields()
            .collect();
        let field = |name: &str| fields.iter().find(|f| f.name == name);
        assert_eq!(
            field("lyrics").and_then(default_text).as_deref(),
            Some("\"\"")
        );
        assert!(field("tags").is_some_and(|f| f.required));
        assert_eq!(field("tags").map(default_text), Some(None));
    }

    #[test]
    fn help_says_each_thing_once_and_shows_spaces_in_defaults() {
        use runcomfy::schema::{Schema, Types};
        static ECHOED: Schema = Schema {
            types: Types::STRING,
            title: Some("Negative Prompt"),
            description: Some("Negative Prompt."),
            default: Some(&Json::String(" ")),
            ..Schema::ANY
        };
        static TITLED: Schema = Schema {
            types: Types::STRING,
            title: Some("Style"),
            description: Some("How it looks"),
            ..Schema::ANY
        };
        let field = |name: &'static str, schema: &'static Schema| Field {
            name,
            schema,
            required: false,
            input: &Schema::ANY,
        };
        let echoed = field("negative_prompt", &ECHOED);
        // The title repeats the name; the description is kept once.
        assert_eq!(about(&echoed), (None, Some("Negative Prompt.")));
        assert_eq!(default_text(&echoed).as_deref(), Some("\" \""));
        let titled = field("look", &TITLED);
        assert_eq!(about(&titled), (Some("Style"), Some("How it looks")));
        assert!(long_help(&titled).starts_with("Style. How it looks\n"));
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
    fn fields_named_as_run_options_get_their_own_flags() {
        let names = [
            "input",
            "out",
            "dry_run",
            "json",
            "a_b",
            "aB",
            "",
            "field_input",
        ];
        assert_eq!(
            longs(names.into_iter().map(|name| (name, None)))
                .into_iter()
                .map(|(long, _)| long)
                .collect::<Vec<_>>(),
            [
                "field-input",
                "field-out",
                "field-dry-run",
                "field-json",
                "a-b",
                "a-b-2",
                "field-",
                "field-input-2"
            ]
        );
    }

    /// A field named in another script has its ASCII name as an alias, and one named by
    /// symbols alone is its ASCII name (QA repro30 L1: `--field-`, `--field--2`, and no way
    /// to type `--高清` without an input method). An alias never takes another field's flag.
    #[test]
    fn fields_named_in_other_scripts_have_ascii_flags() {
        let names = [
            ("größe", Some("grosse")),
            ("高清", Some("gao_qing")),
            ("🎨", Some("art")),
            ("🎨🎨", Some("art_art")),
            ("❄", Some("field_5")),
            ("цвет", Some("tsvet")),
            ("tsvet", None),
            ("🔥", Some("prompt")),
            ("prompt", None),
        ];
        let alias = |long: &str, alias: Option<&str>| (long.to_owned(), alias.map(str::to_owned));
        assert_eq!(
            longs(names.into_iter()),
            [
                alias("größe", Some("grosse")),
                alias("高清", Some("gao-qing")),
                alias("art", None),
                alias("art-art", None),
                alias("field-5", None),
                alias("цвет", None),
                alias("tsvet", None),
                alias("prompt-2", None),
                alias("prompt", None),
            ]
        );
    }

    #[test]
    fn null_is_null_to_a_field_that_takes_it_and_text_to_a_text_field() {
        use runcomfy::schema::{Schema, Types};
        static INT_OR_NULL: Schema = Schema {
            types: Types::INTEGER.with(Types::NULL),
            ..Schema::ANY
        };
        static TEXT_OR_NULL: Schema = Schema {
            types: Types::STRING.with(Types::NULL),
            ..Schema::ANY
        };
        let field = |schema| Field {
            name: "f",
            schema,
            required: false,
            input: &Schema::ANY,
        };
        assert_eq!(from_text(&field(&INT_OR_NULL), "null"), Value::Null);
        assert_eq!(from_text(&field(&INT_OR_NULL), "-3"), Value::from(-3));
        assert_eq!(
            from_text(&field(&TEXT_OR_NULL), "null"),
            Value::from("null")
        );
        // Help says so where it differs (QA repro28 #7).
        assert!(type_line(&field(&TEXT_OR_NULL)).ends_with("may be null (by --input)"));
        assert!(type_line(&field(&INT_OR_NULL)).ends_with("may be null"));
    }

    #[test]
    fn a_field_only_a_branch_names_says_so() {
        use runcomfy::schema::{Property, Schema, Types};
        static PROMPT: Schema = Schema {
            types: Types::STRING,
            ..Schema::ANY
        };
        static SHAPE: Schema = Schema {
            properties: &[Property {
                name: "prompt",
                schema: &PROMPT,
            }],
            ..Schema::ANY
        };
        static INPUT: Schema = Schema {
            one_of: &[&SHAPE, &Schema::NEVER],
            ..Schema::ANY
        };
        let field = Field {
            name: "prompt",
            schema: &PROMPT,
            required: false,
            input: &INPUT,
        };
        assert_eq!(
            type_line(&field),
            "Text, taken where a branch of the input names it (see Conditions)"
        );
    }

    /// A flag's text is read as what the field's schemas take: `--steps 5` is the text "5"
    /// where a member says text, `--v 1.5` is text for an integer-or-text.
    #[test]
    fn flag_text_becomes_the_reading_the_schemas_take() {
        use runcomfy::schema::{Property, Schema, Types};
        static STEPS: Schema = Schema {
            choices: Some(&[
                Choice::new(Json::String("auto")),
                Choice::new(Json::int(5)),
                Choice::new(Json::String("5")),
            ]),
            ..Schema::ANY
        };
        static TEXT: Schema = Schema {
            types: Types::STRING,
            ..Schema::ANY
        };
        static MEMBER: Schema = Schema {
            properties: &[Property {
                name: "steps",
                schema: &TEXT,
            }],
            ..Schema::ANY
        };
        static INPUT: Schema = Schema {
            properties: &[Property {
                name: "steps",
                schema: &STEPS,
            }],
            all_of: &[&MEMBER],
            ..Schema::ANY
        };
        let steps = Field {
            name: "steps",
            schema: &STEPS,
            required: false,
            input: &INPUT,
        };
        assert_eq!(from_text(&steps, "5"), Value::from("5"));
        let alone = Field {
            input: &Schema::ANY,
            ..steps
        };
        assert_eq!(from_text(&alone, "5"), Value::from(5));
        static INT_OR_TEXT: Schema = Schema {
            types: Types::INTEGER.with(Types::STRING),
            ..Schema::ANY
        };
        let v = Field {
            name: "v",
            schema: &INT_OR_TEXT,
            required: false,
            input: &Schema::ANY,
        };
        assert_eq!(from_text(&v, "1.5"), Value::from("1.5"));
        assert_eq!(from_text(&v, "7"), Value::from(7));
        // JSON's spelling of a number only; a 64-bit one exactly.
        assert_eq!(from_text(&v, "+5"), Value::from("+5"));
        assert_eq!(from_text(&v, "05"), Value::from("05"));
        static INT: Schema = Schema {
            types: Types::INTEGER,
            ..Schema::ANY
        };
        let big = Field { schema: &INT, ..v };
        assert_eq!(
            from_text(&big, "12345678901234567890"),
            Value::from(12_345_678_901_234_567_890_u64)
        );
    }

    /// A tuple's place that is a union of text and a list takes a flag's JSON array as the
    /// list, valid or not, as a plain field does: never as text sent to the model (QA repro31
    /// H2: `--pair '["a",2]'` went out as the text `["a",2]`).
    #[test]
    fn a_tuple_place_with_room_for_a_list_reads_an_array_as_one() {
        use runcomfy::schema::{Items, Schema, Types};
        static TEXT: Schema = Schema {
            types: Types::STRING,
            ..Schema::ANY
        };
        static TEXTS: Schema = Schema {
            types: Types::ARRAY,
            items: Items::Each(&TEXT),
            ..Schema::ANY
        };
        static TEXT_OR_TEXTS: Schema = Schema {
            one_of: &[&TEXT, &TEXTS],
            ..Schema::ANY
        };
        static PAIR: Schema = Schema {
            types: Types::ARRAY,
            items: Items::Tuple {
                prefix: &[&TEXT, &TEXT_OR_TEXTS],
                rest: Some(&Schema::NEVER),
            },
            ..Schema::ANY
        };
        let pair = Field {
            name: "pair",
            schema: &PAIR,
            required: false,
            input: &Schema::ANY,
        };
        assert_eq!(
            tuple_item(&pair, 1, r#"["a", 2]"#),
            serde_json::json!(["a", 2])
        );
        assert_eq!(tuple_item(&pair, 1, r#"["a"]"#), serde_json::json!(["a"]));
        assert_eq!(tuple_item(&pair, 1, "a"), Value::from("a"));
        // The first place takes text only: an array there is text.
        assert_eq!(
            tuple_item(&pair, 0, r#"["a", 2]"#),
            Value::from(r#"["a", 2]"#)
        );
    }

    /// A tuple whose first item is a list: one flag's array is that item, also with a mistake
    /// inside it, when its own first element could not start the tuple (QA repro32 L4: it was
    /// read as the whole tuple, and the user told of the wrong problem); an array that could
    /// is the whole tuple, valid or not.
    #[test]
    fn an_array_for_a_tuple_whose_first_item_is_a_list() {
        use runcomfy::schema::{Items, Schema, Types};
        static TEXT: Schema = Schema {
            types: Types::STRING,
            ..Schema::ANY
        };
        static INT: Schema = Schema {
            types: Types::INTEGER,
            ..Schema::ANY
        };
        static INNER: Schema = Schema {
            types: Types::ARRAY,
            items: Items::Tuple {
                prefix: &[&TEXT, &INT],
                rest: Some(&Schema::NEVER),
            },
            ..Schema::ANY
        };
        static OUTER: Schema = Schema {
            types: Types::ARRAY,
            items: Items::Tuple {
                prefix: &[&INNER, &TEXT],
                rest: Some(&Schema::NEVER),
            },
            ..Schema::ANY
        };
        let t = Field {
            name: "t",
            schema: &OUTER,
            required: false,
            input: &Schema::ANY,
        };
        let whole = |raw: &str| whole_tuple(&t, raw);
        // The inner pair, right or wrong inside: the first item.
        assert_eq!(whole(r#"["a", 1]"#), None);
        assert_eq!(whole(r#"["a", "x"]"#), None);
        // The whole tuple, right or wrong.
        assert_eq!(
            whole(r#"[["a", 1], "b"]"#),
            Some(serde_json::json!([["a", 1], "b"]))
        );
        assert_eq!(
            whole(r#"[["a", "x"], "b"]"#),
            Some(serde_json::json!([["a", "x"], "b"]))
        );
    }

    /// A tuple (`prefixItems`) is given once per item, each read as its place takes it, or
    /// whole as one JSON array (QA repro28 #11).
    #[test]
    fn a_tuple_flag_is_repeated_once_per_item_in_order() -> Result<(), clap::Error> {
        use runcomfy::schema::{Items, Schema, Types};
        static SIDE: Schema = Schema {
            types: Types::INTEGER,
            minimum: Some(runcomfy::Number::from_i64(64)),
            ..Schema::ANY
        };
        static LABEL: Schema = Schema {
            types: Types::STRING,
            ..Schema::ANY
        };
        static SIZE: Schema = Schema {
            types: Types::ARRAY,
            items: Items::Tuple {
                prefix: &[&SIDE, &SIDE, &LABEL],
                rest: Some(&Schema::NEVER),
            },
            ..Schema::ANY
        };
        static INPUT: Schema = Schema {
            properties: &[runcomfy::schema::Property {
                name: "size",
                schema: &SIZE,
            }],
            ..Schema::ANY
        };
        let flag = FieldFlag {
            field: Field {
                name: "size",
                schema: &SIZE,
                required: false,
                input: &INPUT,
            },
            long: "size".to_owned(),
            alias: None,
        };
        let given = |args: &[&str]| -> Result<Value, clap::Error> {
            let command = clap::Command::new("run").arg(arg(&flag));
            let matches =
                command.try_get_matches_from(std::iter::once("run").chain(args.iter().copied()))?;
            Ok(from_matches(std::slice::from_ref(&flag), &matches)["size"].clone())
        };
        assert!(flag.field.is_tuple() && !flag.field.is_list());
        assert_eq!(
            given(&["--size", "512", "--size", "768", "--size", "42"])?,
            serde_json::json!([512, 768, "42"])
        );
        assert_eq!(
            given(&["--size", "[512, 768]"])?,
            serde_json::json!([512, 768])
        );
        // One item is a tuple of one, for validation to find short.
        assert_eq!(given(&["--size", "512"])?, serde_json::json!([512]));
        assert_eq!(
            type_line(&flag.field),
            "List of integer, integer, text, in that order"
        );
        // An open tail is said too (QA repro30 M5).
        static OPEN: Schema = Schema {
            types: Types::ARRAY,
            items: Items::Tuple {
                prefix: &[&LABEL],
                rest: Some(&SIDE),
            },
            ..Schema::ANY
        };
        let open = Field {
            schema: &OPEN,
            input: &Schema::ANY,
            ..flag.field
        };
        assert!(
            type_line(&open)
                .starts_with("List of text, in that order, then any number more of: integer"),
            "{}",
            type_line(&open)
        );
        assert!(short_help(&flag.field).ends_with("(repeat for each item, in order)"));
        Ok(())
    }

    /// A union of text and a list of parts (the LLM content shape): a list that fails its
    /// parts is the list, for validation to refuse, never the text of it (QA repro30 H1).
    #[test]
    fn json_a_union_has_a_place_for_is_never_read_as_its_text() {
        use runcomfy::schema::{Items, Property, Schema, Types};
        static TEXT: Schema = Schema {
            types: Types::STRING,
            ..Schema::ANY
        };
        static PART: Schema = Schema {
            types: Types::OBJECT,
            required: &["type", "text"],
            properties: &[Property {
                name: "text",
                schema: &TEXT,
            }],
            ..Schema::ANY
        };
        static PARTS: Schema = Schema {
            types: Types::ARRAY,
            items: Items::Each(&PART),
            ..Schema::ANY
        };
        static CONTENT: Schema = Schema {
            any_of: &[&TEXT, &PARTS],
            ..Schema::ANY
        };
        static INPUT: Schema = Schema {
            properties: &[Property {
                name: "content",
                schema: &CONTENT,
            }],
            ..Schema::ANY
        };
        let content = Field {
            name: "content",
            schema: &CONTENT,
            required: true,
            input: &INPUT,
        };
        let bad = r#"[{"type": "text"}]"#;
        assert_eq!(
            from_text(&content, bad),
            serde_json::json!([{"type": "text"}])
        );
        let good = r#"[{"type": "text", "text": "hi"}]"#;
        assert_eq!(
            from_text(&content, good),
            serde_json::json!([{"type": "text", "text": "hi"}])
        );
        // No object has a place here: text that reads as one is text.
        assert_eq!(
            from_text(&content, r#"{"a": 1}"#),
            Value::from(r#"{"a": 1}"#)
        );
        assert_eq!(from_text(&content, "a fox"), Value::from("a fox"));
        // Nor does settling the whole input offer the text of it.
        assert!(
            readings(&content, FieldKind::Json, bad)
                .iter()
                .all(|v| !v.is_string())
        );
    }

    /// A discriminated union's help names its shapes by their tag (QA repro30 L3).
    #[test]
    fn a_union_of_tagged_shapes_is_said_by_its_tags() {
        use runcomfy::schema::{Property, Schema, Types};
        static BOX_TAG: Schema = Schema {
            types: Types::STRING,
            constant: Some(&Json::String("box")),
            ..Schema::ANY
        };
        static CIRCLE_TAG: Schema = Schema {
            choices: Some(&[Choice::new(Json::String("circle"))]),
            ..Schema::ANY
        };
        static BOX: Schema = Schema {
            types: Types::OBJECT,
            required: &["type"],
            properties: &[Property {
                name: "type",
                schema: &BOX_TAG,
            }],
            ..Schema::ANY
        };
        static CIRCLE: Schema = Schema {
            types: Types::OBJECT,
            required: &["type"],
            properties: &[Property {
                name: "type",
                schema: &CIRCLE_TAG,
            }],
            ..Schema::ANY
        };
        static MASK: Schema = Schema {
            one_of: &[&BOX, &CIRCLE],
            ..Schema::ANY
        };
        static INPUT: Schema = Schema {
            properties: &[Property {
                name: "mask",
                schema: &MASK,
            }],
            ..Schema::ANY
        };
        let mask = Field {
            name: "mask",
            schema: &MASK,
            required: false,
            input: &INPUT,
        };
        assert_eq!(
            type_line(&mask),
            r#"JSON: an object whose `type` is "box" or "circle""#
        );
    }

    #[test]
    fn a_flag_takes_the_reading_the_whole_input_is_valid_with() {
        // Shape "b" takes `v` as text: `--v 5` was read as the number first.
        let valid = |input: &Map<String, Value>| {
            input.get("mode") != Some(&Value::from("b"))
                || input.get("v") == Some(&Value::from("5"))
        };
        let mut input = Map::new();
        input.insert("mode".into(), Value::from("b"));
        input.insert("v".into(), Value::from(5));
        let others = [("v".to_owned(), vec![Value::from("5")])];
        assert!(settle(&mut input, &others, valid));
        assert_eq!(input.get("v"), Some(&Value::from("5")));
        // No reading makes it valid: the first stays, for validation to report.
        input.insert("mode".into(), Value::from("b"));
        input.insert("v".into(), Value::from(6));
        let others = [("v".to_owned(), vec![Value::from("6")])];
        assert!(!settle(&mut input, &others, valid));
        assert_eq!(input.get("v"), Some(&Value::from(6)));
    }

    #[test]
    fn aliases_and_numbers_become_wire_values() {
        let m = model("bytedance/seedream-4-0/sequential");
        let size = m.field("image_size").unwrap();
        assert_eq!(from_text(&size, "16:9"), Value::from("2560:1440 (16:9)"));
        assert_eq!(
            from_text(&size, "2560:1440 (16:9)"),
            Value::from("2560:1440 (16:9)")
        );
        assert_eq!(from_text(&size, "16:10"), Value::from("16:10"));
        let count = m.field("sequential_image_generation_options").unwrap();
        assert_eq!(from_text(&count, "4"), Value::from(4));
        assert_eq!(from_text(&count, "16"), Value::from(16));
        assert_eq!(from_text(&count, "four"), Value::from("four"));
        let seed = m.field("seed").unwrap();
        assert_eq!(from_text(&seed, "42"), Value::from(42));
        assert_eq!(from_text(&seed, "4.2"), Value::from(4.2));
        assert_eq!(from_text(&seed, "abc"), Value::from("abc"));
    }

    /// A value no reading makes valid is read as the field's type takes it, so validation
    /// says what is wrong with it (QA repro41 L3: "21" to text choices was the number 21,
    /// "must be a string"); a boolean is `true` or `false`, as help says and `--input` takes
    /// (L2: `yes` and `1` were true here, refused there).
    #[test]
    fn a_value_no_reading_makes_valid_is_read_as_the_fields_type() -> Result<(), &'static str> {
        let m = model("blackforestlabs/flux-3/text-to-video");
        let duration = m.field("duration").ok_or("no duration field")?;
        assert_eq!(from_text(&duration, "5"), Value::from("5"));
        assert_eq!(from_text(&duration, "21"), Value::from("21"));
        let audio = m.field("generate_audio").ok_or("no generate_audio field")?;
        assert_eq!(from_text(&audio, "TRUE"), Value::from(true));
        assert_eq!(from_text(&audio, "false"), Value::from(false));
        for other in ["yes", "1", "on"] {
            assert!(!from_text(&audio, other).is_boolean(), "{other}");
        }
        Ok(())
    }
}
