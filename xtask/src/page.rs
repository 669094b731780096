//! Reading a RunComfy API doc page saved as text, in any language: the model id and the
//! input and output schemas as the page prints them.
//!
//! The id comes from the `/v1/models/<id>` URLs of the curl examples (or, failing those, a
//! line holding just the id). Schemas are the JSON objects embedded in the prose: the input
//! schema is the one with `properties`, the output schema the one wrapped as `{"output": ...}`.
//! Pages saved from a browser may run JSON and prose together on one line, so objects are
//! found by parsing from each `{`, not by lines.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// A page that cannot be imported; each names the page and, where there is one, the position.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The page could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The page.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Neither a `/v1/models/<id>` URL nor a line holding just an id.
    #[error("{}: no model id found (expected a `/v1/models/<id>` URL or a line holding just the id)", path.display())]
    NoModelId {
        /// The page.
        path: PathBuf,
    },
    /// The page's only `/v1/models/<id>` URL names no model id a catalog folder can be.
    #[error(
        "{}:{line}:{column}: `{}` is not a model id (an API path of 2 to 5 segments of letters, \
         digits, `.`, `-` and `_`, none starting with `.`)",
        path.display(),
        runcomfy::error::printable(id, runcomfy::error::SHOWN_CHARS)
    )]
    BadModelId {
        /// The page.
        path: PathBuf,
        /// 1-based line of the id.
        line: usize,
        /// 1-based column of the id.
        column: usize,
        /// What the URL holds.
        id: String,
    },
    /// The page names two different models.
    #[error("{}:{line}:{column}: the page names two models: `{first}`, then `{second}`", path.display())]
    ConflictingIds {
        /// The page.
        path: PathBuf,
        /// 1-based line of the second id.
        line: usize,
        /// 1-based column of the second id.
        column: usize,
        /// The id found first.
        first: String,
        /// The other id.
        second: String,
    },
    /// A schema is there but is not valid JSON (a truncated or damaged page).
    #[error("{}:{line}:{column}: the {what} is not valid JSON: {message}", path.display())]
    InvalidJson {
        /// The page.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error (characters).
        column: usize,
        /// `input schema` or `output schema`.
        what: &'static str,
        /// What the JSON parser said.
        message: String,
    },
    /// No JSON object with `properties`.
    #[error("{}: no input schema found (a JSON object with \"properties\")", path.display())]
    NoInputSchema {
        /// The page.
        path: PathBuf,
    },
    /// Two different schemas of one kind: which one is the model's?
    #[error("{}:{line}:{column}: a second {what}, not the same as the first: which one is the model's?", path.display())]
    ConflictingSchemas {
        /// The page.
        path: PathBuf,
        /// 1-based line of the second.
        line: usize,
        /// 1-based column of the second.
        column: usize,
        /// `input schema` or `output schema`.
        what: &'static str,
    },
    /// No JSON object `{"output": {...}}`.
    #[error("{}: no output schema found (a JSON object {{\"output\": {{...}}}})", path.display())]
    NoOutputSchema {
        /// The page.
        path: PathBuf,
    },
}

/// What a doc page says about its model, as printed (not yet normalized).
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The page file.
    pub path: PathBuf,
    /// The model id.
    pub id: String,
    /// The input schema.
    pub input: Value,
    /// The output schema, with the docs' `{"output": ...}` wrapper.
    pub output: Value,
}

/// Reads and parses one page file.
pub fn read_page(path: &Path) -> Result<Page, PageError> {
    let text = fs::read_to_string(path).map_err(|source| PageError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_page(path, &text)
}

/// Parses the text of a page; `path` is only used in errors.
pub fn parse_page(path: &Path, text: &str) -> Result<Page, PageError> {
    let id = model_id(path, text)?;
    let scan = scan_objects(text);
    // The first of each kind; another one that differs is refused, not passed over (QA
    // repro36 L6: the first won, silently).
    let first = |role: Role| -> Result<Option<Value>, PageError> {
        let mut of_role = scan
            .found
            .iter()
            .filter(|(_, v)| role_of_value(v) == Some(role));
        let Some((_, first)) = of_role.next() else {
            return Ok(None);
        };
        if let Some((at, _)) = of_role.find(|(_, v)| v != first) {
            let (line, column) = line_column(text, *at + 1);
            return Err(PageError::ConflictingSchemas {
                path: path.to_owned(),
                line,
                column,
                what: role.name(),
            });
        }
        Ok(Some(first.clone()))
    };
    let input = first(Role::Input)?;
    let output = first(Role::Output)?;
    let failure = |role: Role| {
        scan.failed.iter().find(|f| f.role == Some(role)).map(|f| {
            let (line, column) = line_column(text, f.at);
            PageError::InvalidJson {
                path: path.to_owned(),
                line,
                column,
                what: role.name(),
                message: f.message.clone(),
            }
        })
    };
    let input = match input {
        Some(v) => v,
        None => {
            return Err(failure(Role::Input).unwrap_or(PageError::NoInputSchema {
                path: path.to_owned(),
            }));
        }
    };
    let output = match output {
        Some(v) => v,
        None => {
            return Err(failure(Role::Output).unwrap_or(PageError::NoOutputSchema {
                path: path.to_owned(),
            }));
        }
    };
    Ok(Page {
        path: path.to_owned(),
        id,
        input,
        output,
    })
}

/// The model id: from the API URLs, else from a line that is exactly an id.
fn model_id(path: &Path, text: &str) -> Result<String, PageError> {
    const MARKER: &str = "/v1/models/";
    let mut from_urls: Vec<(String, usize)> = Vec::new();
    // The first URL's text that is no id, said when no URL holds one (QA repro36 L4: a page
    // with `/v1/models/../../x` was "no model id found").
    let mut refused: Option<(String, usize)> = None;
    let mut search = 0;
    while let Some(found) = text[search..].find(MARKER) {
        let start = search + found + MARKER.len();
        let rest = &text[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | '?' | '#' | '`'))
            .unwrap_or(rest.len());
        let candidate = rest[..end].trim_end_matches(['/', '.', ',', ';', ')', ':']);
        if is_model_id(candidate) {
            from_urls.push((candidate.to_owned(), start));
        } else if refused.is_none() && !candidate.is_empty() {
            refused = Some((candidate.to_owned(), start));
        }
        search = start;
    }
    let candidates = if from_urls.is_empty() {
        let mut offset = 0;
        let mut lines = Vec::new();
        for line in text.split_inclusive('\n') {
            let trimmed = line.trim();
            if trimmed.contains('/') && is_model_id(trimmed) {
                let lead = line.len() - line.trim_start().len();
                lines.push((trimmed.to_owned(), offset + lead));
            }
            offset += line.len();
        }
        lines
    } else {
        from_urls
    };
    let Some((first, _)) = candidates.first() else {
        return Err(match refused {
            Some((id, at)) => {
                let (line, column) = line_column(text, at + 1);
                PageError::BadModelId {
                    path: path.to_owned(),
                    line,
                    column,
                    id,
                }
            }
            None => PageError::NoModelId {
                path: path.to_owned(),
            },
        });
    };
    if let Some((second, at)) = candidates.iter().find(|(id, _)| id != first) {
        let (line, column) = line_column(text, *at + 1);
        return Err(PageError::ConflictingIds {
            path: path.to_owned(),
            line,
            column,
            first: first.clone(),
            second: second.clone(),
        });
    }
    Ok(first.clone())
}

fn is_model_id(text: &str) -> bool {
    runcomfy_codegen::catalog::check_model_id(text, Path::new(text)).is_ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Input,
    Output,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Input => "input schema",
            Role::Output => "output schema",
        }
    }
}

/// What an object of the page is: an input schema (it has `properties`), an output schema
/// (`{"output": SCHEMA}`), or neither. A result reply shown as an example
/// (`{"request_id", "status", "output": {"images": [...]}}`) has an `output` too, but no
/// schema under it.
fn role_of_value(value: &Value) -> Option<Role> {
    let map = value.as_object()?;
    if map.get("output").is_some_and(is_schema) {
        Some(Role::Output)
    } else if map.get("properties").is_some_and(Value::is_object) {
        Some(Role::Input)
    } else {
        None
    }
}

/// Whether a value reads as a JSON Schema object: `{}` (anything), a `type` that names JSON
/// types, `properties`, or a `$ref` or combination to one.
fn is_schema(value: &Value) -> bool {
    const TYPES: &[&str] = &[
        "object", "array", "string", "number", "integer", "boolean", "null",
    ];
    let Some(map) = value.as_object() else {
        return false;
    };
    let names_types = match map.get("type") {
        Some(Value::String(name)) => TYPES.contains(&name.as_str()),
        Some(Value::Array(names)) => {
            !names.is_empty()
                && names
                    .iter()
                    .all(|n| n.as_str().is_some_and(|n| TYPES.contains(&n)))
        }
        _ => false,
    };
    map.is_empty()
        || names_types
        || map.get("properties").is_some_and(Value::is_object)
        || map.get("$ref").is_some_and(Value::is_string)
        || ["allOf", "anyOf", "oneOf"]
            .iter()
            .any(|k| map.get(*k).is_some_and(Value::is_array))
}

/// Keys a JSON Schema object starts with, so that a schema broken early is still recognized.
const SCHEMA_KEYS: &[&str] = &[
    "\"type\"",
    "\"title\"",
    "\"required\"",
    "\"properties\"",
    "\"$schema\"",
    "\"description\"",
];

/// What a broken object was meant to be, from the text read before the parser gave up.
fn role_of_text(text: &str) -> Option<Role> {
    let body = text.strip_prefix('{').unwrap_or(text).trim_start();
    if body.starts_with("\"output\"") {
        Some(Role::Output)
    } else if text.contains("\"properties\"") || SCHEMA_KEYS.iter().any(|k| body.starts_with(k)) {
        Some(Role::Input)
    } else {
        None
    }
}

struct Failed {
    /// Byte offset of the error in the page.
    at: usize,
    message: String,
    role: Option<Role>,
}

struct Scan {
    /// Objects parsed, with their start offsets.
    found: Vec<(usize, Value)>,
    failed: Vec<Failed>,
}

/// How far past a parse error the text is read to tell what the broken object was meant to be.
const LOOK_PAST: usize = 64;

/// Parses a JSON value from every `{` not inside an object already parsed; a failed parse
/// resumes after the error, so the inner objects of a broken schema are not taken for schemas.
fn scan_objects(text: &str) -> Scan {
    let mut scan = Scan {
        found: Vec::new(),
        failed: Vec::new(),
    };
    let mut from = 0;
    while let Some(found) = text[from..].find('{') {
        let start = from + found;
        let sub = &text[start..];
        let mut stream = serde_json::Deserializer::from_str(sub).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => {
                let end = stream.byte_offset().max(1);
                // Read again as the catalog's files are: a key given twice is an error, where
                // serde_json keeps the last and an edit to the first is lost.
                match runcomfy_json::parse(&sub[..end]) {
                    Ok(_) => scan.found.push((start, value)),
                    Err(err) => scan.failed.push(Failed {
                        at: start + byte_offset(sub, err.line(), err.column()),
                        message: runcomfy_codegen::error::json_message(&err),
                        role: role_of_value(&value),
                    }),
                }
                from = start + end;
            }
            Some(Err(err)) => {
                let at = start + byte_offset(sub, err.line(), err.column());
                let mut message = runcomfy_codegen::error::json_message(&err);
                // serde_json's column ends at the character it stopped on.
                let stopped_on = text[..ceil_char(text, at)].chars().next_back();
                if stopped_on.is_some_and(|c| c.is_whitespace() && !c.is_ascii()) {
                    message.push_str(
                        " (a space that is no ASCII space, as a copy from a browser gives a \
                         no-break space: replace it with a plain one)",
                    );
                }
                // A little past the error too: a schema broken at its first key (by such a
                // space) shows what it is only there.
                let seen = ceil_char(text, at.saturating_add(LOOK_PAST));
                scan.failed.push(Failed {
                    at,
                    message,
                    role: role_of_text(&text[start..seen]),
                });
                from = ceil_char(text, at.max(start + 1));
            }
            None => break,
        }
    }
    scan
}

/// The byte offset of serde_json's (line, column) in `text`; its column counts bytes.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let mut line_start = 0;
    for _ in 1..line {
        match text[line_start..].find('\n') {
            Some(n) => line_start += n + 1,
            None => break,
        }
    }
    (line_start + column).min(text.len())
}

fn ceil_char(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// The 1-based line and column (in characters, as editors count) of the character that ends
/// at byte `at`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let at = ceil_char(text, at);
    let before = &text[..at];
    let line = 1 + before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    let column = text[line_start..at].chars().count().max(1);
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Page, PageError> {
        parse_page(Path::new("p.txt"), text)
    }

    #[test]
    fn finds_objects_run_together_with_prose() {
        let page = parse(
            "curl --url https://x/v1/models/a/b \\\n{\"properties\":{}}{\"output\":{}}Footer",
        )
        .unwrap();
        assert_eq!(page.id, "a/b");
        assert_eq!(page.input, serde_json::json!({"properties": {}}));
        assert_eq!(page.output, serde_json::json!({"output": {}}));
    }

    #[test]
    fn a_result_shown_as_an_example_is_not_the_output_schema() {
        let page = parse(
            "/v1/models/a/b\n{\"properties\":{}}\nGet results:\n\
             {\"request_id\": \"r\", \"status\": \"succeeded\", \"output\": {\"images\": [\"https://x/1.png\"]}}\n\
             Output schema:\n{\"output\": {\"type\": \"object\", \"properties\": {\"images\": {\"type\": \"array\"}}}}",
        )
        .unwrap();
        assert_eq!(page.output["output"]["type"], "object", "{}", page.output);
    }

    #[test]
    fn a_schema_broken_at_its_first_key_is_reported_where() {
        let err = parse("/v1/models/a/b\n{\n\u{a0}\u{a0}\"type\": \"object\", \"properties\": {}}")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("p.txt:3:1: the input schema is not valid JSON"),
            "{err}"
        );
        assert!(err.contains("no-break space"), "{err}");
    }

    #[test]
    fn a_key_given_twice_in_a_schema_is_reported_where() {
        let err = parse("/v1/models/a/b\n{\"properties\": {\"seed\": {\"minimum\": 0},\n \"seed\": {}}}\n{\"output\": {}}")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("p.txt:3:7: the input schema is not valid JSON")
                && err.contains("\"seed\" is given twice"),
            "{err}"
        );
    }

    #[test]
    fn id_from_a_line_when_no_url() {
        let page = parse("Title\n  acme/x-1  \n{\"properties\":{}}\n{\"output\":{}}").unwrap();
        assert_eq!(page.id, "acme/x-1");
    }

    #[test]
    fn conflicting_ids_are_reported_where_the_second_is() {
        let err = parse("/v1/models/a/b\n/v1/models/a/c")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "p.txt:2:12: the page names two models: `a/b`, then `a/c`"
        );
    }

    #[test]
    fn positions_count_characters() {
        let err = parse("/v1/models/a/b\nスキーマ {\"properties\": {\"x\": 1,}}")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("p.txt:2:29: the input schema is not valid JSON: trailing comma"),
            "{err}"
        );
    }
}
