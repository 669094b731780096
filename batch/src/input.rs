//! Reading and checking the input file: one job per line, every line validated before anything
//! is sent, every problem reported with its line number.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use runcomfy::catalog::ModelInfo;
use runcomfy::download::safe_file_name;
use runcomfy::error::SHOWN_CHARS;
use runcomfy::{Problem, ValidationReport};
use serde_json::{Map, Value};

use crate::error::BatchError;

/// Names in the output folder that a line's folder must not take.
const RESERVED: [&str; 6] = [
    crate::report::REPORT_FILE,
    crate::gallery::GALLERY_FILE,
    crate::journal::FILE_NAME,
    "journal.sqlite-wal",
    "journal.sqlite-shm",
    "journal.sqlite-journal",
];

/// One valid line: a job to run.
#[derive(Debug, Clone)]
pub struct Line {
    /// Its line number in the input file (from 1).
    pub number: u64,
    /// The user's key, if the line has one.
    pub key: Option<String>,
    /// The model.
    pub model: &'static ModelInfo,
    /// The input, as written.
    pub input: Value,
    /// The folder its files go to, relative to the output folder.
    pub dir: String,
    /// What validation warns of (the input is sent as it is), one line each.
    pub warnings: Vec<String>,
}

impl Line {
    /// Its warnings, each named by the line as [`InvalidLine`] names its problems.
    pub fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        let key = match &self.key {
            Some(key) => format!(" (key {key:?})"),
            None => String::new(),
        };
        self.warnings
            .iter()
            .map(move |warning| format!("line {}{key}: warning: {warning}", self.number))
    }
}

/// A line that cannot be run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidLine {
    /// Its line number in the input file (from 1).
    pub number: u64,
    /// The user's key, when it could be read.
    pub key: Option<String>,
    /// Its model, when the line names one of the catalog.
    pub model: Option<&'static str>,
    /// Every problem found, in words.
    pub problems: Vec<String>,
    /// The errors its input's schema found, as `run --json` lists an input's problems (each
    /// also among [`problems`](Self::problems), in words); none for a line refused before
    /// its input was checked.
    pub found: Vec<runcomfy::Problem>,
    /// Its input as written, when the line has one (boxed: a line's result stays small).
    pub input: Option<Box<Value>>,
}

impl fmt::Display for InvalidLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.number)?;
        if let Some(key) = &self.key {
            write!(f, " (key {key:?})")?;
        }
        f.write_str(": ")?;
        f.write_str(&self.problems.join("; "))
    }
}

/// The input file, read and checked.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The valid lines, in file order.
    pub lines: Vec<Line>,
    /// The invalid lines, in file order.
    pub invalid: Vec<InvalidLine>,
    /// SHA-256 of the file's bytes, in hex.
    pub sha256: String,
    /// Whether the lines' models run [`unchecked`](runcomfy::unchecked): their inputs sent as
    /// written.
    pub unchecked: bool,
}

/// The most of an input file a batch reads (`/dev/zero` is no batch; QA repro53 N2: a 1 GiB
/// cap held a gigabyte first): more than any batch of lines holds in practice, their local
/// files named by path.
const MAX_FILE_BYTES: u64 = 256 << 20;

/// SHA-256 of a file, in hex, and its bytes.
pub fn hash_file(path: &Path) -> Result<(String, Vec<u8>), BatchError> {
    let bytes = std::fs::File::open(path)
        .and_then(|file| runcomfy::input::read_at_most(file, MAX_FILE_BYTES))
        .map_err(|source| BatchError::ReadInput {
            path: path.to_owned(),
            source,
        })?;
    let (_, sha256) =
        runcomfy::digest::sha256_of(&bytes[..]).map_err(|source| BatchError::ReadInput {
            path: path.to_owned(),
            source,
        })?;
    Ok((sha256, bytes))
}

/// Reads and checks every line of `path`; `default_model` is used by lines without `model`;
/// with `unchecked`, each line's model runs [`unchecked`](runcomfy::unchecked) ([`model`]).
///
/// Blank lines are ignored. Problems are collected, never stopping at the first.
pub fn read(path: &Path, default_model: Option<&str>, unchecked: bool) -> Result<Plan, BatchError> {
    let (sha256, bytes) = hash_file(path)?;
    let plan = parse(&bytes, default_model, unchecked, sha256, path.parent());
    if plan.lines.is_empty() && plan.invalid.is_empty() {
        return Err(BatchError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(plan)
}

/// Whether `dir` can be a line's folder: one name inside the output folder, as [`parse`] makes
/// them, and not a file the batch writes. A journal's folders are checked with it, so an
/// edited journal cannot send a line's files elsewhere; one written before a leading `-` got
/// its `_` (`-x`) is still taken, so that batch carries on.
pub fn is_line_dir(dir: &str) -> bool {
    let safe = safe_file_name(dir);
    let made = safe == dir || (dir.starts_with('-') && safe.strip_prefix('_') == Some(dir));
    !dir.is_empty() && made && !RESERVED.contains(&dir.to_lowercase().as_str())
}

/// Checks the lines of a file's bytes; `folder` is the file's, where a media path not found
/// from the working folder is looked for, to say so ([`beside_file`]).
pub fn parse(
    bytes: &[u8],
    default_model: Option<&str>,
    unchecked: bool,
    sha256: String,
    folder: Option<&Path>,
) -> Plan {
    let raw: Vec<(u64, &[u8])> = bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, line)| (i as u64 + 1, line.strip_suffix(b"\r").unwrap_or(line)))
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .collect();
    let width = raw.last().map_or(1, |(n, _)| n.to_string().len()).max(1);
    let mut lines = Vec::new();
    let mut invalid = Vec::new();
    // Folder names taken so far (lowercase: some file systems ignore case), by line, with
    // the key that made each.
    let mut dirs: HashMap<String, (u64, Option<String>)> = HashMap::new();
    for (number, text) in raw {
        let mut checked = check_line(number, text, (default_model, unchecked), folder);
        let key = match &checked {
            Ok(line) => line.key.clone(),
            Err(bad) => bad.key.clone(),
        };
        let dir = match &checked {
            Ok(line) => line.dir.clone(),
            Err(_) => key.as_deref().map(safe_file_name).unwrap_or_default(),
        };
        let dir = if dir.is_empty() {
            format!("line-{number:0width$}")
        } else {
            dir
        };
        let folded = dir.to_lowercase();
        let clash = if let Some((first, first_key)) = dirs.get(&folded) {
            Some(match (&key, first_key) {
                (Some(key), Some(other)) if key.to_lowercase() != other.to_lowercase() => {
                    format!(
                        "its key {key:?} makes the output folder {dir:?}, as line {first}'s key \
                         {other:?} does (a folder name keeps ASCII letters, digits, `-`, `_` and \
                         `.`, at most 100 characters, and gets a leading `_` where Windows keeps \
                         the name for a device, as `CON`): give one of them another key"
                    )
                }
                (None, _) => format!(
                    "its output folder {dir:?} (a line with no key is named by its number) is \
                     already line {first}'s: give it a key"
                ),
                (Some(key), Some(other)) if key != other => format!(
                    "its key {key:?} and line {first}'s {other:?} differ only in case, and \
                     make one output folder on a disk that ignores case: give one of them \
                     another key"
                ),
                _ => format!(
                    "its output folder {dir:?} is already line {first}'s (keys must be unique)"
                ),
            })
        } else if RESERVED.contains(&folded.as_str()) {
            Some(format!(
                "its output folder {dir:?} would replace a file the batch writes"
            ))
        } else {
            dirs.insert(folded, (number, key));
            None
        };
        if let Some(clash) = clash {
            checked = match checked {
                Ok(line) => Err(InvalidLine {
                    number,
                    key: line.key,
                    model: Some(line.model.id),
                    problems: vec![clash],
                    found: Vec::new(),
                    input: Some(Box::new(line.input)),
                }),
                Err(mut bad) => {
                    bad.problems.push(clash);
                    Err(bad)
                }
            };
        }
        match checked {
            Ok(mut line) => {
                line.dir = dir;
                lines.push(line);
            }
            Err(bad) => invalid.push(bad),
        }
    }
    Plan {
        lines,
        invalid,
        sha256,
        unchecked,
    }
}

/// Checks one line; its `dir` is left empty unless it has a key.
fn check_line(
    number: u64,
    text: &[u8],
    models: (Option<&str>, bool),
    folder: Option<&Path>,
) -> Result<Line, InvalidLine> {
    let bad = |key: Option<String>, model: Option<&'static ModelInfo>, problems| InvalidLine {
        number,
        key,
        model: model.map(|m| m.id),
        problems,
        found: Vec::new(),
        input: None,
    };
    let mut object = parse_object(text).map_err(|problem| bad(None, None, vec![problem]))?;
    let mut problems = Vec::new();
    let key = take_key(&mut object, &mut problems);
    let model = take_model(&mut object, models, &mut problems);
    let mut warnings = Vec::new();
    let input = take_input(&mut object, model, &mut problems, &mut warnings);
    for name in object.keys() {
        problems.push(format!(
            "unknown field {name:?} (a line has \"model\", \"input\" and \"key\")"
        ));
    }
    let mut found = Vec::new();
    let mut sent = None;
    if let (Some(model), Some(input)) = (model, &input) {
        let checked = input_problems(model, input, folder);
        problems.extend(checked.errors);
        warnings.extend(checked.warnings);
        found = checked.found;
        sent = checked.sent;
    }
    match (model, input) {
        (Some(model), Some(input)) if problems.is_empty() => Ok(Line {
            number,
            dir: key.as_deref().map(safe_file_name).unwrap_or_default(),
            key,
            model,
            input: sent.unwrap_or(Value::Object(input)),
            warnings,
        }),
        (model, input) => Err(InvalidLine {
            found,
            input: input.map(|input| Box::new(Value::Object(input))),
            ..bad(key, model, problems)
        }),
    }
}

/// The line as a JSON object, or why it is not one.
fn parse_object(text: &[u8]) -> Result<Map<String, Value>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "not UTF-8 text".to_owned())?;
    let value = runcomfy::input::parse_json(text).map_err(|err| json_problem(&err))?;
    match value {
        Value::Object(object) => Ok(object),
        _ => Err(r#"expected an object {"model": ..., "input": {...}, "key": ...}"#.to_owned()),
    }
}

/// A line's JSON error, its place said as a column: the line is the file's line, where serde's
/// "at line 1" contradicted the line's number (QA repro52 F5).
fn json_problem(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let place = format!(" at line {} column {}", err.line(), err.column());
    match text.strip_suffix(&place) {
        Some(what) if err.line() == 1 => format!("invalid JSON at column {}: {what}", err.column()),
        _ => format!("invalid JSON: {text}"),
    }
}

/// The line's `"key"`, if it has a usable one.
fn take_key(object: &mut Map<String, Value>, problems: &mut Vec<String>) -> Option<String> {
    match object.remove("key") {
        None | Some(Value::Null) => None,
        Some(Value::String(key)) if key.trim().is_empty() => {
            problems.push("\"key\" is empty".to_owned());
            None
        }
        Some(Value::String(key)) => Some(key),
        Some(other) => {
            problems.push(format!("\"key\" must be a string, not {}", kind(&other)));
            None
        }
    }
}

/// The line's model: its `"model"`, else `default_model`, run unchecked or not.
fn take_model(
    object: &mut Map<String, Value>,
    (default_model, unchecked): (Option<&str>, bool),
    problems: &mut Vec<String>,
) -> Option<&'static ModelInfo> {
    let id = match object.remove("model") {
        Some(Value::String(id)) => id,
        None | Some(Value::Null) => match default_model {
            Some(id) => id.to_owned(),
            None => {
                problems.push("no \"model\" (give one on the line or with --model)".to_owned());
                return None;
            }
        },
        Some(other) => {
            problems.push(format!("\"model\" must be a string, not {}", kind(&other)));
            return None;
        }
    };
    model(&id, unchecked).map_err(|why| problems.push(why)).ok()
}

/// The line's `"input"` object, its choices normalized for `model` (a choice spelled loosely
/// is a warning).
fn take_input(
    object: &mut Map<String, Value>,
    model: Option<&'static ModelInfo>,
    problems: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Option<Map<String, Value>> {
    match object.remove("input") {
        Some(Value::Object(mut input)) => {
            // Choices as `runcomfy run` takes them (`"16:9"`), sent as their wire values.
            if let Some(model) = model {
                let loose = model.normalize_choices(&mut input);
                warnings.extend(loose.problems().iter().map(problem_line));
            }
            Some(input)
        }
        Some(other) => {
            problems.push(format!("\"input\" must be an object, not {}", kind(&other)));
            None
        }
        None => {
            problems.push("no \"input\" object".to_owned());
            None
        }
    }
}

/// A problem of a line's input, as the line's problems are said (`input.size: ...`).
fn problem_line(problem: &Problem) -> String {
    if problem.path.is_empty() {
        format!("input: {} ({})", problem.message, problem.rule)
    } else if problem.pointer.is_empty() {
        // A rule across fields names them (`a | b`), a path to no one place.
        format!("input: {problem}")
    } else if problem.path.starts_with('[') {
        // A key that is not plain is written `["odd key"]`.
        format!("input{problem}")
    } else {
        format!("input.{problem}")
    }
}

/// What `model`'s validation finds in an input.
#[derive(Default)]
struct Checked {
    /// Its errors, one line each.
    errors: Vec<String>,
    /// Its warnings, one line each.
    warnings: Vec<String>,
    /// The schema's errors as problems.
    found: Vec<runcomfy::Problem>,
    /// A valid input as it is to be sent: its local media paths absolute.
    sent: Option<Value>,
}

/// What `model`'s validation finds in `input`.
fn input_problems(
    model: &'static ModelInfo,
    input: &Map<String, Value>,
    folder: Option<&Path>,
) -> Checked {
    let input = Value::Object(input.clone());
    match model.decode(&input) {
        // The body is made as the submit makes it, so a line too large to send (its local
        // files inlined) is found before any line is paid for.
        Ok(decoded) => match decoded.encode(runcomfy::client::DEFAULT_MAX_BODY_BYTES) {
            Ok(body) => Checked {
                warnings: runcomfy::validate::said(decoded.warnings())
                    .iter()
                    .map(problem_line)
                    .collect(),
                sent: serde_json::from_slice(&body).ok().map(|body| {
                    let mut input = input.clone();
                    runcomfy::media::absolute_paths(&mut input, &body);
                    input
                }),
                ..Checked::default()
            },
            Err(err) => Checked {
                errors: vec![format!("input: {err}")],
                ..Checked::default()
            },
        },
        Err(err) => {
            let found: Vec<runcomfy::Problem> = err
                .report
                .said()
                .into_iter()
                .filter(|p| p.severity == runcomfy::Severity::Error)
                .collect();
            let mut errors: Vec<String> = found.iter().map(problem_line).collect();
            errors.extend(folder.and_then(|folder| beside_file(folder, &input, &err.report)));
            Checked {
                errors,
                found,
                ..Checked::default()
            }
        }
    }
}

/// When local media paths of `input`, read from a file in `folder`, were not found from the
/// working folder (where relative paths are read from) but are in `folder`: says so, with the
/// paths to write instead. A batch file or an `--input @file` kept beside its images is the
/// usual way to meet it.
pub fn beside_file(folder: &Path, input: &Value, report: &ValidationReport) -> Option<String> {
    if folder.as_os_str().is_empty() || folder == Path::new(".") {
        return None;
    }
    let found: Vec<String> = report
        .errors()
        .filter(|problem| problem.rule == "file")
        .filter_map(|problem| input.pointer(&problem.pointer)?.as_str())
        .map(Path::new)
        .filter(|path| path.is_relative() && !path.exists() && folder.join(path).exists())
        .map(|path| format!("{:?}", folder.join(path).display().to_string()))
        .collect();
    let shown = |text: &str| runcomfy::error::printable(text, SHOWN_CHARS).into_owned();
    (!found.is_empty()).then(|| {
        format!(
            "media paths are read from the working folder, not from {}: write {}",
            shown(&folder.display().to_string()),
            shown(&found.join(", "))
        )
    })
}

/// The model `id` names: the catalog's, or with `unchecked`, that id run without its schema
/// ([`runcomfy::unchecked::unchecked`]); else why there is none.
pub fn model(id: &str, unchecked: bool) -> Result<&'static ModelInfo, String> {
    if unchecked {
        return runcomfy::unchecked::unchecked(id).map_err(|err| err.to_string());
    }
    runcomfy::catalog::find(id).ok_or_else(|| {
        let said = unknown_model(id);
        match runcomfy::unchecked::check_id(id) {
            Ok(()) if !runcomfy::catalog::is_near(id) => {
                format!("{said}; --unchecked runs a model the catalog does not have yet")
            }
            _ => said,
        }
    })
}

/// Why `id` names no model, for an error message: the closest ids, else the `runcomfy models`
/// search that finds the models it is part of.
pub fn unknown_model(id: &str) -> String {
    let shown = runcomfy::error::printable(id, runcomfy::error::SHOWN_CHARS);
    // Ids are lower case; one typed otherwise still names its family, as the catalog spells it.
    let family = format!("{}/", id.trim_end_matches('/')).to_ascii_lowercase();
    let members: Vec<&str> = runcomfy::catalog()
        .iter()
        .map(|m| m.id)
        .filter(|m| m.to_ascii_lowercase().starts_with(&family))
        .collect();
    match members.as_slice() {
        [first, _, ..] => {
            let family = first.get(..family.len() - 1).unwrap_or(first);
            return format!(
                "`{shown}` is a family of {} models, not one: `runcomfy models {family}` lists \
                 them",
                members.len()
            );
        }
        // The start of one model's id (`flux-2/flash` for `flux-2/flash/text-to-image`).
        [only] => return format!("unknown model `{shown}`; did you mean `{only}`?"),
        [] => {}
    }
    let holding = runcomfy::catalog::search(&[id]).len();
    match runcomfy::catalog::closest(id).as_slice() {
        [] if holding > 0 && !id.trim().is_empty() => format!(
            "unknown model `{shown}`: an id is a whole path; `runcomfy models {shown}` lists the \
             {holding} whose id or name holds it"
        ),
        [] => format!("unknown model `{shown}` (`runcomfy models WORDS` searches the catalog)"),
        close => format!(
            "unknown model `{shown}`; did you mean {}?",
            close
                .iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The prompt of an input, for the gallery: its `text` or `prompt` field.
pub fn prompt_of(input: &Map<String, Value>) -> Option<&str> {
    ["text", "prompt"]
        .iter()
        .find_map(|name| input.get(*name).and_then(Value::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = "bytedance/seedream-4-0/sequential";

    fn plan(text: &str) -> Plan {
        parse(text.as_bytes(), None, false, String::new(), None)
    }

    #[test]
    fn valid_lines_get_folders() {
        let text = format!(
            "{{\"model\":\"{MODEL}\",\"input\":{{\"text\":\"Generate 3 images of a cat.\"}}}}\n\n\
             {{\"model\":\"{MODEL}\",\"input\":{{\"text\":\"Generate 3 images of a dog.\"}},\"key\":\"dog/1\"}}\n"
        );
        let plan = plan(&text);
        assert!(plan.invalid.is_empty(), "{:?}", plan.invalid);
        assert_eq!(plan.lines.len(), 2);
        assert_eq!(plan.lines[0].dir, "line-1");
        assert_eq!(plan.lines[1].number, 3);
        assert_eq!(plan.lines[1].dir, "dog_1");
    }

    #[test]
    fn a_rule_across_fields_is_named_as_the_input_s_not_as_its_first_field_s() {
        let text =
            "{\"model\":\"wan-ai/wan-3.0/reference-to-video\",\"input\":{\"prompt\":\"a fox\"}}\n";
        let plan = plan(text);
        let problems = &plan.invalid[0].problems;
        assert!(
            problems[0].starts_with("input: reference_images | reference_videos"),
            "{problems:?}"
        );
    }

    /// A rule across fields that points at one of them (the prompt's count) is named as that
    /// field is, and a key that is not plain is not written `input.["..."]`.
    #[test]
    fn one_place_is_named_as_a_path_into_the_input() {
        let text = format!(
            "{{\"model\":\"{MODEL}\",\"input\":{{\"text\":\"Generate 5 images.\",\"sequential_image_generation_options\":2}}}}\n\
             {{\"model\":\"{MODEL}\",\"input\":{{\"text\":\"Generate 3 images.\",\"odd key\":1}}}}\n"
        );
        let plan = plan(&text);
        let warnings: Vec<String> = plan.lines[0].warnings().collect();
        assert!(
            warnings[0].starts_with("line 1: warning: input.text: The prompt asks"),
            "{warnings:?}"
        );
        let problems = &plan.invalid[0].problems;
        assert!(
            problems[0].starts_with("input[\"odd key\"]: is not a known field"),
            "{problems:?}"
        );
    }

    /// A choice spelled another way than its own is sent as the choice, and the line says so.
    #[test]
    fn a_choice_spelled_loosely_is_a_warning_of_its_line() {
        let text = format!(
            "{{\"model\":\"{MODEL}\",\"input\":{{\"text\":\"a fox\",\"image_size\":\"9:16\",\"sequential_image_generation\":\"AUTO\"}}}}\n"
        );
        let plan = plan(&text);
        let warnings: Vec<String> = plan.lines[0].warnings().collect();
        assert_eq!(
            warnings,
            [
                "line 1: warning: input.sequential_image_generation: \"AUTO\" is sent as the choice \"auto\" (enum)"
            ]
        );
        assert_eq!(plan.lines[0].input["sequential_image_generation"], "auto");
    }

    #[test]
    fn keys_that_clean_to_one_folder_are_told_apart_from_keys_given_twice() {
        let line = |key: &str| {
            format!(
                "{{\"model\":\"{MODEL}\",\"input\":{{\"text\":\"Generate 3 images.\"}},\"key\":\"{key}\"}}\n"
            )
        };
        let keyless =
            format!("{{\"model\":\"{MODEL}\",\"input\":{{\"text\":\"Generate 3 images.\"}}}}\n");
        let text = [
            line("fox\u{e9}"),
            line("fox\u{e8}"),
            line("fox\u{e9}"),
            line("line-5"),
            keyless,
        ]
        .concat();
        let plan = plan(&text);
        let problems: Vec<&str> = plan
            .invalid
            .iter()
            .map(|l| l.problems[0].as_str())
            .collect();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[2].contains("give it a key"), "{}", problems[2]);
        assert!(
            problems[0].contains("makes the output folder \"fox_\", as line 1's key"),
            "{}",
            problems[0]
        );
        assert!(
            problems[1].contains("keys must be unique"),
            "{}",
            problems[1]
        );
        let cased = self::plan(&[line("Case"), line("case")].concat());
        let problem = &cased.invalid[0].problems[0];
        assert!(problem.contains("differ only in case"), "{problem}");
    }

    #[test]
    fn choices_take_the_aliases_run_takes_and_are_sent_as_wire_values() {
        let text = format!(
            "{{\"model\":\"{MODEL}\",\"input\":{{\"text\":\"Generate 3 images.\",\"image_size\":\"1:1\"}}}}\n"
        );
        let plan = plan(&text);
        assert!(plan.invalid.is_empty(), "{:?}", plan.invalid);
        assert_eq!(plan.lines[0].input["image_size"], "2048:2048 (1:1)");
    }

    /// A line whose local files make a body too large to send is invalid before any line is
    /// sent, as `run` refuses it, and not a failure after the others were paid for.
    #[test]
    fn a_line_too_large_to_send_is_invalid() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let image = dir.path().join("huge.png");
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 0, 64, 0, 0, 0, 64, 8, 2, 0, 0, 0, 0, 0, 0, 0]);
        std::fs::write(&image, &png)?;
        // Sparse, and under the model's 10 MB a file: six of them are 79 MB once inlined.
        std::fs::File::options()
            .write(true)
            .open(&image)?
            .set_len(9_900_000)?;
        let edit = "bytedance/seedream-4-0/edit";
        let line = |images: &str| {
            format!(r#"{{"model":"{edit}","input":{{"prompt":"p","images":[{images}]}}}}"#)
        };
        let text = [
            line(r#""https://example.com/a.png""#),
            line(&vec![serde_json::to_string(&image)?; 6].join(",")),
        ]
        .join("\n");
        let plan = plan(&text);
        assert_eq!(plan.lines.len(), 1);
        assert_eq!(plan.invalid.len(), 1, "{:?}", plan.invalid);
        assert_eq!(plan.invalid[0].number, 2);
        // Refused from the files' sizes, each named.
        let problem = &plan.invalid[0].problems[0];
        assert!(
            problem.contains("past the 64 MiB a request may carry"),
            "{problem}"
        );
        assert!(problem.contains("images[5]: "), "{problem}");
        Ok(())
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = format!(
            "not json\n\
             {{\"model\":\"nope/x\",\"input\":{{}}}}\n\
             {{\"model\":\"{MODEL}\",\"input\":{{\"text\":3}},\"extra\":1}}\n\
             {{\"model\":\"{MODEL}\",\"input\":{{\"text\":\"Generate 3 images.\",\"image_size\":\"huge\"}},\"key\":\"a\"}}\n\
             {{\"model\":\"{MODEL}\",\"input\":{{\"text\":\"Generate 3 images.\"}},\"key\":\"A\"}}\n\
             [1]\n"
        );
        let plan = plan(&text);
        let numbers: Vec<u64> = plan.invalid.iter().map(|l| l.number).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6], "{:#?}", plan.invalid);
        assert!(plan.invalid[0].problems[0].contains("invalid JSON"));
        assert!(
            !plan.invalid[0].problems[0].contains("line 1"),
            "{:?}",
            plan.invalid[0]
        );
        assert!(plan.invalid[1].problems[0].contains("unknown model"));
        assert!(plan.invalid[2].problems.iter().any(|p| p.contains("extra")));
        assert!(plan.invalid[2].problems.iter().any(|p| p.contains("input")));
        assert!(
            plan.invalid[3].problems.iter().any(|p| p.contains("huge")),
            "{:?}",
            plan.invalid[3]
        );
        assert!(plan.invalid[4].problems[0].contains("line 4"));
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_a_key_given_twice_is_refused() {
        let text = format!(
            "\u{feff}{{\"model\":\"{MODEL}\",\"input\":{{\"text\":\"Generate 3 images.\"}}}}\n\
             {{\"model\":\"{MODEL}\",\"input\":{{\"text\":\"a\",\"text\":\"b\"}}}}\n"
        );
        let plan = plan(&text);
        assert_eq!(plan.lines.len(), 1, "{:?}", plan.invalid);
        assert_eq!(plan.invalid[0].number, 2);
        assert!(
            plan.invalid[0].problems[0].contains("\"text\" is given twice"),
            "{:?}",
            plan.invalid[0]
        );
    }

    #[test]
    fn the_default_model_fills_in() {
        let text = r#"{"input":{"text":"Generate 3 images of a cat."}}"#;
        assert_eq!(plan(text).invalid.len(), 1);
        let plan = parse(text.as_bytes(), Some(MODEL), false, String::new(), None);
        assert_eq!(plan.lines.len(), 1);
        assert_eq!(plan.lines[0].model.id, MODEL);
    }

    #[test]
    fn keys_cannot_take_reserved_names() {
        let text = format!(
            "{{\"model\":\"{MODEL}\",\"input\":{{\"text\":\"Generate 3 images.\"}},\"key\":\"report.jsonl\"}}"
        );
        assert_eq!(plan(&text).invalid.len(), 1);
        assert_eq!(safe_file_name("../../x"), "_._x");
        assert_eq!(safe_file_name("..."), "");
    }
}
