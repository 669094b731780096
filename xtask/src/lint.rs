//! `cargo xtask lint`: every check the generator makes, plus warnings about schema smells.
//!
//! Errors come from `runcomfy_codegen::load`, so lint and the build never disagree. Warnings
//! are read from the schemas as the generator sees them (overlay patches applied), so a smell
//! fixed by an overlay is not reported; they name the file and the JSON pointer.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use runcomfy_codegen::catalog::{self, SourceModel};
use runcomfy_codegen::ir::{Catalog, EnumRepr};
use runcomfy_codegen::naming;
use serde_json::{Map, Value};

/// The kinds of warning, each with a stable code (`warning[empty-description]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WarningKind {
    /// A `description` that is empty: the generated docs have nothing to say.
    EmptyDescription,
    /// A `type` outside JSON Schema (`float`, `int`, ...), accepted by the generator.
    NonStandardType,
    /// A `format` the generator does not know: the value is plain text.
    UnknownFormat,
    /// A number written as a string (`"minimum": "0"`, `"enum": ["1"]` of an integer).
    NumberAsString,
    /// A title or description not in English.
    LocalizedText,
    /// An output schema unlike the one most models share.
    UncommonOutput,
    /// Enum values whose Rust names collided, so the generator appended a suffix.
    DisambiguatedEnum,
    /// A required field with a default, which never applies.
    RequiredWithDefault,
    /// No display name: `runcomfy models` shows the bare id.
    NoDisplayName,
}

impl WarningKind {
    /// Every kind.
    pub const ALL: [WarningKind; 9] = [
        WarningKind::EmptyDescription,
        WarningKind::NonStandardType,
        WarningKind::UnknownFormat,
        WarningKind::NumberAsString,
        WarningKind::LocalizedText,
        WarningKind::UncommonOutput,
        WarningKind::DisambiguatedEnum,
        WarningKind::RequiredWithDefault,
        WarningKind::NoDisplayName,
    ];

    /// The code printed in `warning[...]`.
    pub fn code(self) -> &'static str {
        match self {
            WarningKind::EmptyDescription => "empty-description",
            WarningKind::NonStandardType => "non-standard-type",
            WarningKind::UnknownFormat => "unknown-format",
            WarningKind::NumberAsString => "number-as-string",
            WarningKind::LocalizedText => "localized-text",
            WarningKind::UncommonOutput => "uncommon-output",
            WarningKind::DisambiguatedEnum => "disambiguated-enum",
            WarningKind::RequiredWithDefault => "required-with-default",
            WarningKind::NoDisplayName => "no-display-name",
        }
    }
}

/// One warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Which kind.
    pub kind: WarningKind,
    /// The file.
    pub path: PathBuf,
    /// JSON pointer into the file.
    pub pointer: String,
    /// What and how to fix it.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(
            f,
            "warning[{}]: {}: at {pointer}: {}",
            self.kind.code(),
            self.path.display(),
            self.message
        )
    }
}

/// Everything lint found.
#[derive(Debug, Clone, Default)]
pub struct LintReport {
    /// The generator's errors, each as it prints them.
    pub errors: Vec<String>,
    /// Warnings, in model id and schema order.
    pub warnings: Vec<Warning>,
}

/// Lints a catalog folder.
pub fn lint(schemas: &Path) -> LintReport {
    let mut report = LintReport::default();
    let catalog = match runcomfy_codegen::load(schemas) {
        Ok(catalog) => Some(catalog),
        Err(errors) => {
            report.errors = errors.0.iter().map(|e| format!("error: {e}")).collect();
            None
        }
    };
    // The loader reports unreadable folders; warnings need the sources it read.
    let Ok(sources) = catalog::read_catalog(schemas) else {
        return report;
    };
    for src in &sources {
        let mut lint = ModelLint {
            src,
            warnings: &mut report.warnings,
        };
        lint.input();
        lint.output();
        lint.display_name();
        if let Some(catalog) = &catalog {
            lint.enums(catalog);
        }
    }
    uncommon_outputs(&sources, &mut report.warnings);
    report
}

/// The command. Returns the exit code: 1 on errors, or on warnings with `deny_warnings`.
pub fn run(schemas: &Path, deny_warnings: bool) -> u8 {
    let report = lint(schemas);
    for warning in &report.warnings {
        println!("{warning}");
    }
    for error in &report.errors {
        eprintln!("{error}");
    }
    println!(
        "{} error(s), {} warning(s)",
        report.errors.len(),
        report.warnings.len()
    );
    let failed = !report.errors.is_empty() || (deny_warnings && !report.warnings.is_empty());
    u8::from(failed)
}

const STANDARD_TYPES: &[&str] = &[
    "string", "integer", "number", "boolean", "array", "object", "null",
];

const KNOWN_FORMATS: &[&str] = &[
    "uri",
    "url",
    "image_uri",
    "video_uri",
    "audio_uri",
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
    "uri-reference",
];

struct ModelLint<'a> {
    src: &'a SourceModel,
    warnings: &'a mut Vec<Warning>,
}

impl ModelLint<'_> {
    fn warn(&mut self, kind: WarningKind, path: &Path, pointer: &str, message: String) {
        self.warnings.push(Warning {
            kind,
            path: path.to_owned(),
            pointer: pointer.to_owned(),
            message,
        });
    }

    fn input(&mut self) {
        let path = self.src.input_path.clone();
        let schema = self.src.input.clone();
        self.schema(&path, &schema, "", true);
    }

    fn output(&mut self) {
        let path = self.src.output_path.clone();
        let schema = self.src.output.clone();
        self.schema(&path, &schema, output_base(&path), false);
    }

    fn display_name(&mut self) {
        if self.src.overlay.display_name.is_some() {
            return;
        }
        let title = self
            .src
            .input
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("");
        let generic = title.trim().is_empty()
            || title.eq_ignore_ascii_case("input schema")
            || title.eq_ignore_ascii_case("input");
        if generic {
            let path = self
                .src
                .overlay_path
                .clone()
                .unwrap_or_else(|| self.src.input_path.with_file_name("overlay.json"));
            let message = format!(
                "no display name: `runcomfy models` shows the bare id `{}`; set `display_name` in overlay.json",
                self.src.id
            );
            self.warn(WarningKind::NoDisplayName, &path, "/display_name", message);
        }
    }

    /// One schema node. `input` says whether overlay field docs can stand in for descriptions.
    fn schema(&mut self, path: &Path, node: &Value, pointer: &str, input: bool) {
        let Some(map) = node.as_object() else {
            return;
        };
        for key in ["title", "description"] {
            if let Some(text) = map.get(key).and_then(Value::as_str)
                && is_localized(text)
            {
                let message = format!(
                    "{key} {text:?} is not in English, and the generated docs show it: translate it with an overlay `patch`"
                );
                self.warn(
                    WarningKind::LocalizedText,
                    path,
                    &format!("{pointer}/{key}"),
                    message,
                );
            }
        }
        self.types(path, map, pointer);
        self.numbers(path, map, pointer);
        if let Some(properties) = map.get("properties").and_then(Value::as_object) {
            let required: BTreeSet<&str> = map
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for (name, property) in properties {
                let at = format!("{pointer}/properties/{}", token(name));
                self.property(path, name, property, &at, input && pointer.is_empty());
                if required.contains(name.as_str())
                    && let Some(default) = property.get("default").filter(|d| !d.is_null())
                {
                    let message = format!(
                        "`{name}` is required and has a default ({default}): the default never applies, as callers must send the field; drop `required` or the default with an overlay `patch`"
                    );
                    self.warn(
                        WarningKind::RequiredWithDefault,
                        path,
                        &format!("{at}/default"),
                        message,
                    );
                }
                self.schema(path, property, &at, input);
            }
        }
        if let Some(items) = map.get("items") {
            self.schema(path, items, &format!("{pointer}/items"), input);
        }
    }

    fn property(&mut self, path: &Path, name: &str, property: &Value, at: &str, top: bool) {
        let Some(description) = property.get("description").and_then(Value::as_str) else {
            return;
        };
        let has_docs = top
            && self
                .src
                .overlay
                .fields
                .get(name)
                .is_some_and(|f| f.docs.is_some());
        if description.trim().is_empty() && !has_docs {
            let message = format!(
                "`{name}` has an empty description; describe it with `fields.{name}.docs` in overlay.json"
            );
            self.warn(
                WarningKind::EmptyDescription,
                path,
                &format!("{at}/description"),
                message,
            );
        }
    }

    fn types(&mut self, path: &Path, map: &Map<String, Value>, pointer: &str) {
        let names: Vec<(String, &str)> = match map.get("type") {
            Some(Value::String(t)) => vec![(format!("{pointer}/type"), t.as_str())],
            Some(Value::Array(types)) => types
                .iter()
                .enumerate()
                .filter_map(|(i, t)| t.as_str().map(|t| (format!("{pointer}/type/{i}"), t)))
                .collect(),
            _ => Vec::new(),
        };
        for (at, name) in names {
            if !STANDARD_TYPES.contains(&name) {
                let standard = match name.to_ascii_lowercase().as_str() {
                    "float" | "double" | "decimal" => "number",
                    "int" | "long" => "integer",
                    "str" | "text" => "string",
                    "bool" => "boolean",
                    "list" => "array",
                    "dict" => "object",
                    _ => "one of string, integer, number, boolean, array, object",
                };
                let message = format!(
                    "type `{name}` is not JSON Schema; the generator reads it as {standard}: patch it to `{standard}`"
                );
                self.warn(WarningKind::NonStandardType, path, &at, message);
            }
        }
        if let Some(format) = map.get("format").and_then(Value::as_str)
            && !KNOWN_FORMATS.contains(&format)
        {
            let message = format!(
                "format `{format}` is unknown: the value is treated as plain text (media fields use image_uri, video_uri or audio_uri)"
            );
            self.warn(
                WarningKind::UnknownFormat,
                path,
                &format!("{pointer}/format"),
                message,
            );
        }
    }

    fn numbers(&mut self, path: &Path, map: &Map<String, Value>, pointer: &str) {
        let numeric = matches!(
            map.get("type").and_then(Value::as_str),
            Some("integer" | "number" | "int" | "float" | "double" | "long")
        );
        let mut strings: Vec<(String, String)> = Vec::new();
        for key in [
            "minimum",
            "maximum",
            "minLength",
            "maxLength",
            "minItems",
            "maxItems",
        ] {
            if let Some(Value::String(s)) = map.get(key) {
                strings.push((format!("{pointer}/{key}"), s.clone()));
            }
        }
        if numeric {
            if let Some(Value::String(s)) = map.get("default") {
                strings.push((format!("{pointer}/default"), s.clone()));
            }
            if let Some(values) = map.get("enum").and_then(Value::as_array) {
                for (i, value) in values.iter().enumerate() {
                    if let Value::String(s) = value {
                        strings.push((format!("{pointer}/enum/{i}"), s.clone()));
                    }
                }
            }
        }
        if let Some(rules) = map.get("validations").and_then(Value::as_array) {
            for (i, rule) in rules.iter().enumerate() {
                if let Some(Value::String(s)) = rule.get("validation_value") {
                    strings.push((
                        format!("{pointer}/validations/{i}/validation_value"),
                        s.clone(),
                    ));
                }
            }
        }
        for (at, text) in strings {
            let message =
                format!("the number {text:?} is written as a string; patch it to a JSON number");
            self.warn(WarningKind::NumberAsString, path, &at, message);
        }
    }

    fn enums(&mut self, catalog: &Catalog) {
        let Some(model) = catalog.models.iter().find(|m| m.id == self.src.id) else {
            return;
        };
        let path = self.src.input_path.clone();
        for e in &model.enums {
            let named = self.src.overlay.fields.get(&e.field).map(|f| &f.variants);
            for (i, variant) in e.variants.iter().enumerate() {
                if named.is_some_and(|n| n.contains_key(&variant.wire)) {
                    continue;
                }
                let natural = match e.repr {
                    EnumRepr::String => naming::variant_ident(&variant.wire, i),
                    EnumRepr::Integer => {
                        naming::integer_variant_ident(variant.wire.parse().unwrap_or_default())
                    }
                };
                if variant.name != natural {
                    let pointer = enum_pointer(&self.src.input, &e.field, i).unwrap_or_default();
                    let message = format!(
                        "enum value {:?} of `{}` would be `{}::{natural}`, which another value took, so it is `{}::{}`; name it in overlay.json `fields.{}.variants`",
                        variant.wire, e.field, e.name, e.name, variant.name, e.field
                    );
                    self.warn(WarningKind::DisambiguatedEnum, &path, &pointer, message);
                }
            }
        }
    }
}

/// Pointers name the file as written: the docs wrap the output schema in `{"output": ...}`.
fn output_base(path: &Path) -> &'static str {
    let wrapped = fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| {
            v.as_object()
                .map(|m| m.len() == 1 && m.contains_key("output"))
        })
        .unwrap_or(false);
    if wrapped { "/output" } else { "" }
}

/// Models whose output schema is not the most common one.
fn uncommon_outputs(sources: &[SourceModel], warnings: &mut Vec<Warning>) {
    let mut groups: Vec<(&Value, Vec<&SourceModel>)> = Vec::new();
    for src in sources {
        match groups.iter_mut().find(|(schema, _)| **schema == src.output) {
            Some((_, members)) => members.push(src),
            None => groups.push((&src.output, vec![src])),
        }
    }
    // Ties go to the group seen first, i.e. with the smallest model id.
    let Some(common) = groups
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| a.1.len().cmp(&b.1.len()).then(j.cmp(i)))
        .map(|(i, _)| i)
    else {
        return;
    };
    let (_, members) = &groups[common];
    let example = members.first().map(|m| m.id.as_str()).unwrap_or_default();
    let shared = members.len();
    for (i, (_, others)) in groups.iter().enumerate() {
        if i == common {
            continue;
        }
        for src in others {
            warnings.push(Warning {
                kind: WarningKind::UncommonOutput,
                path: src.output_path.clone(),
                pointer: output_base(&src.output_path).into(),
                message: format!(
                    "the output schema differs from the one {shared} of {} model(s) share (as `{example}` has), so it gets its own output type; check that the difference is real",
                    sources.len()
                ),
            });
        }
    }
}

/// The pointer of the `index`th value of the enum of the first property called `field`.
fn enum_pointer(schema: &Value, field: &str, index: usize) -> Option<String> {
    let map = schema.as_object()?;
    if let Some(properties) = map.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let at = format!("/properties/{}", token(name));
            if name == field && property.get("enum").is_some() {
                return Some(format!("{at}/enum/{index}"));
            }
            if let Some(inner) = enum_pointer(property, field, index) {
                return Some(format!("{at}{inner}"));
            }
        }
    }
    let inner = enum_pointer(map.get("items")?, field, index)?;
    Some(format!("/items{inner}"))
}

fn token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Function words of the languages RunComfy's docs are translated into, which English text
/// does not use; two of them (or a non-ASCII letter) mark a text as not English.
const FOREIGN_WORDS: &[&str] = &[
    "plusieurs",
    "une",
    "des",
    "les",
    "avec",
    "pour",
    "dans",
    "sont",
    "seule",
    "el",
    "los",
    "las",
    "una",
    "del",
    "para",
    "con",
    "varias",
    "imagen",
    "il",
    "della",
    "delle",
    "degli",
    "singola",
    "singolo",
    "immagine",
    "und",
    "der",
    "das",
    "mit",
    "eine",
    "nicht",
    "oder",
    "ist",
    "bild",
];

/// Whether a title or description looks localized: a non-ASCII letter (`é`, `画`), or two
/// function words of another language (`varias URLs de imagen`). Typography (`–`, `≤`) is fine.
pub fn is_localized(text: &str) -> bool {
    if text.chars().any(|c| c.is_alphabetic() && !c.is_ascii()) {
        return true;
    }
    let hits = text
        .split(|c: char| !(c.is_ascii_alphabetic() || c == '\''))
        .filter(|w| !w.is_empty())
        .filter(|w| {
            let w = w.to_ascii_lowercase();
            FOREIGN_WORDS.contains(&w.as_str())
                || ["d'", "l'", "qu'", "dell'"]
                    .iter()
                    .any(|p| w.starts_with(p) && w.len() > p.len())
        })
        .count();
    hits >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localized_text_is_recognized() {
        for text in [
            "URL de una sola imagen",
            "varias URLs de imagen",
            "plusieurs URLs d'images",
            "URL immagine singola",
            "単一画像 URL",
            "Schéma d'entrée",
        ] {
            assert!(is_localized(text), "{text}");
        }
        for text in [
            "Single image URL",
            "Upload 1~10 images, must be jpeg or png",
            "Recommended: images ≤ 50 MB – or less",
            "The aspect ratio of the image to generate.",
        ] {
            assert!(!is_localized(text), "{text}");
        }
    }
}
