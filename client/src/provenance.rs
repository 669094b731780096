//! Where a file came from: a small JSON record beside a job's files ([`RECORD_FILE`]) with the
//! model, the request id, the input as sent (each media file as its name, size and SHA-256,
//! and where it was read from), the timings, the estimate and the cost, and each output file
//! with its source URL, size and SHA-256.
//!
//! A record is also an input: [`input_from_record`] turns it back into the input it was,
//! reading each media file from where the record says it came from, and refusing one whose
//! bytes are no longer those that were sent (its SHA-256 differs). So a rerun sends the same
//! body, or nothing.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::api::download::DownloadedFile;
use crate::error::{Error, JobError, SHOWN_CHARS, printable};
use crate::media::Media;
use crate::model::ModelInfo;
use crate::place::{Placed, place_new};
use crate::price::Usd;
use crate::schema::{Format, Schema};
use runcomfy_vocab::pointer::Path as JsonPath;

/// The record's file name, beside the job's files.
pub const RECORD_FILE: &str = "runcomfy-record.json";

/// The version of the record's format ([`Record::runcomfy_record`]).
pub const RECORD_VERSION: u32 = 1;

/// This runcomfy's version, as records keep it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What made a job's files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The format's version; its presence tells a record from an input.
    pub runcomfy_record: u32,
    /// The model id.
    pub model: String,
    /// The server the job was sent to: the API's base URL, or `mock` (a simulator in the
    /// command itself: nothing was billed). None in records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The version of runcomfy that wrote the record ([`VERSION`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runcomfy_version: Option<String>,
    /// The request id the API gave.
    pub request_id: Option<String>,
    /// The input as sent, each media file and secret as [`body_summary`] has it; `null` in a
    /// record `result` wrote for a job this machine did not submit.
    pub input: Value,
    /// The estimate before the submit ([`crate::estimate::Estimate::to_json`]).
    #[serde(default)]
    pub estimate: Option<Value>,
    /// What the job cost, as the server said.
    #[serde(default)]
    pub cost_usd: Option<Usd>,
    /// What the server said the job cost when that could not be read as US dollars (another
    /// currency, a negative, an amount too large), as it wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_unread: Option<String>,
    /// When things happened.
    #[serde(default)]
    pub timings: Timings,
    /// The output files.
    #[serde(default)]
    pub files: Vec<RecordFile>,
    /// The job's output as the server gave it: its file URLs, and any other value (a seed, a
    /// caption, text under a file-like name that named no file); none before the job ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Why the job ended without outputs (it failed, or was cancelled), as the server said;
    /// none while it may still run, and once it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// When things happened, as RFC 3339 text (UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timings {
    /// When the submit was accepted (this machine's clock).
    pub submitted: Option<String>,
    /// When the job was first seen running (this machine's clock); none when it was never
    /// seen running (it ended between two polls).
    pub started: Option<String>,
    /// When the server says the job finished (its clock).
    pub finished: Option<String>,
    /// The server's `finished_at` when it is no RFC 3339 time this runcomfy can read (`soon`,
    /// epoch seconds), as it wrote it: `finished` is then none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_unread: Option<String>,
    /// When this machine learned it had finished.
    pub noticed: Option<String>,
}

impl Timings {
    /// The timings of `job`, which this machine first saw running at `started` and saw end at
    /// `noticed`: its submit time as the job has it, and its end by the server's clock.
    pub fn ended<M: crate::model::Model>(
        job: &crate::api::job::Job<M>,
        started: Option<SystemTime>,
        noticed: SystemTime,
    ) -> Timings {
        let said = job.server_times().1;
        // Written alike (UTC, to the millisecond) however the server wrote a time it can read.
        let finished = said
            .as_deref()
            .and_then(crate::http::dates::parse_rfc3339)
            .map(|t| timestamp(t.at));
        Timings {
            submitted: job.submitted_at().map(timestamp),
            started: started.map(timestamp),
            finished_unread: match finished {
                Some(_) => None,
                None => said.map(|text| printable(&text, SHOWN_CHARS).into_owned()),
            },
            finished,
            noticed: Some(timestamp(noticed)),
        }
    }
}

/// One output file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFile {
    /// Its name, in the record's folder.
    pub name: String,
    /// The output field it came from.
    pub field: String,
    /// Its position in the field, for lists.
    pub index: Option<usize>,
    /// The URL it was downloaded from (server text).
    pub url: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
}

impl RecordFile {
    /// The record of a downloaded file.
    pub fn of(file: &DownloadedFile) -> RecordFile {
        RecordFile {
            name: file
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            field: file.field.clone(),
            index: file.index,
            url: file.url.clone(),
            bytes: file.bytes,
            sha256: file.sha256.clone(),
        }
    }
}

/// Why a record cannot be written or read back into an input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// A file could not be read or written.
    #[error("{}: {failure}", printable(&path.display().to_string(), SHOWN_CHARS))]
    Io {
        /// The file.
        path: PathBuf,
        /// Why (said by the error's text, so not its `source()`).
        failure: std::io::Error,
    },
    /// The record is not one (or of another version).
    #[error("not a runcomfy record: {}", printable(.0, SHOWN_CHARS))]
    NotARecord(String),
    /// The record holds no input: `result` wrote it for a job this machine did not submit.
    #[error(
        "the record holds no input: it was written by `result` for a job not submitted from this machine"
    )]
    NoInput,
    /// The record is of another model.
    #[error(
        "the record is of model {}, not {expected}",
        printable(found, SHOWN_CHARS)
    )]
    OtherModel {
        /// The model asked for.
        expected: String,
        /// The record's.
        found: String,
    },
    /// A media file of the record cannot be had as it was sent.
    // A record may be someone else's: its text is escaped for the terminal.
    #[error(
        "{}: {}",
        printable(field, SHOWN_CHARS),
        printable(reason, 4 * SHOWN_CHARS)
    )]
    Media {
        /// The field (and position).
        field: String,
        /// Why.
        reason: String,
    },
    /// A secret the record does not keep, which no flag gives again.
    #[error(
        "{} is a secret ({}), which records do not keep: give it again (its flag, or --input)",
        printable(.0, SHOWN_CHARS),
        runcomfy_vocab::format::Format::Password
    )]
    Secret(String),
}

/// A record's `error` for a job that ended with `err`: `failed: ...` with the server's error,
/// `cancelled`, or what went wrong; the same words whichever command saw the end.
pub fn ended_error(err: &Error) -> String {
    match err {
        Error::JobFailed { error, .. } => failed_error(error),
        Error::Cancelled { .. } => CANCELLED_ERROR.to_owned(),
        other => other.to_string(),
    }
}

/// A record's `error` for a job that failed with the server's `error`.
pub fn failed_error(error: &JobError) -> String {
    format!("failed: {error}")
}

/// A record's `error` for a job that was cancelled.
pub const CANCELLED_ERROR: &str = "cancelled";

/// An instant as RFC 3339 text, to the millisecond, UTC.
pub fn timestamp(at: SystemTime) -> String {
    crate::http::dates::format_rfc3339(at)
        .unwrap_or_else(|| format!("{:.3}", jiff::Timestamp::UNIX_EPOCH))
}

impl Record {
    /// The record of a job of `model` sent to `server` with `input` (as [`body_summary`] has
    /// it), written by this runcomfy; the rest is set as the job goes.
    pub fn new(model: impl Into<String>, server: impl Into<String>, input: Value) -> Record {
        Record {
            runcomfy_record: RECORD_VERSION,
            model: model.into(),
            server: Some(server.into()),
            runcomfy_version: Some(VERSION.to_owned()),
            request_id: None,
            input,
            estimate: None,
            cost_usd: None,
            cost_unread: None,
            timings: Timings::default(),
            files: Vec::new(),
            output: None,
            error: None,
        }
    }

    /// Writes the record into `dir` as [`RECORD_FILE`], through a temporary file and a
    /// rename, replacing the one there; returns its path. For a batch line's folder, which
    /// holds one job's files.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, RecordError> {
        let path = dir.join(RECORD_FILE);
        self.write_with(dir, |temp| {
            std::fs::rename(temp, &path).map(|()| path.clone())
        })
    }

    /// Writes the record over the file at `path` (a record found with [`find_record`]),
    /// through a temporary file beside it and a rename.
    pub fn replace(&self, path: &Path) -> Result<PathBuf, RecordError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        self.write_with(dir, |temp| {
            std::fs::rename(temp, path).map(|()| path.to_owned())
        })
    }

    /// Writes the record into `dir` beside any there, as [`RECORD_FILE`] or, when that is
    /// taken, `runcomfy-record-{n}.json`: a second run into one folder keeps the first's
    /// record, as it keeps its files. Returns its path.
    pub fn write_new(&self, dir: &Path) -> Result<PathBuf, RecordError> {
        let (stem, ext) = RECORD_FILE
            .rsplit_once('.')
            .unwrap_or((RECORD_FILE, "json"));
        self.write_with(dir, |temp| match place_new(temp, dir, stem, ext, None)? {
            Placed::Linked(path) | Placed::Existing(path) => {
                let _ = std::fs::remove_file(temp);
                Ok(path)
            }
            Placed::Renamed(path) => Ok(path),
        })
    }

    /// Writes the record to a temporary file in `dir` and has `place` move it.
    fn write_with(
        &self,
        dir: &Path,
        place: impl FnOnce(&Path) -> std::io::Result<PathBuf>,
    ) -> Result<PathBuf, RecordError> {
        let io = |source| RecordError::Io {
            path: dir.join(RECORD_FILE),
            failure: source,
        };
        // Escaped as `--json` prints: a record is read with `cat` too, and its URLs and the
        // output are the server's text.
        let text = crate::printable::escaped_json(self, true).map_err(|e| io(e.into()))?;
        let temp = dir.join(format!(".{RECORD_FILE}.{}.tmp", std::process::id()));
        let placed = std::fs::write(&temp, &text).and_then(|()| place(&temp));
        if placed.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        placed.map_err(io)
    }

    /// Reads a record from JSON; `None` when the value is not one (an ordinary input).
    pub fn from_json(value: &Value) -> Option<Result<Record, RecordError>> {
        let version = value.get("runcomfy_record")?;
        if version.as_u64() != Some(u64::from(RECORD_VERSION)) {
            return Some(Err(RecordError::NotARecord(format!(
                "version {version}, this runcomfy reads {RECORD_VERSION}"
            ))));
        }
        Some(
            serde_json::from_value(value.clone())
                .map_err(|err| RecordError::NotARecord(err.to_string())),
        )
    }
}

/// The record in `dir` of the job `request_id` on `server` (the API's base URL, or `mock`, as
/// records say it; read from `runcomfy-record*.json`, in name order), and its path: the one a
/// run left when its download was interrupted, for `result --out` to complete. Files that are
/// not records, or are another job's, are passed over: they are not this job's to judge. A
/// job of the same id on another server is another job (QA repro46 D12: two simulators' jobs
/// were joined in one record).
pub fn find_record(dir: &Path, request_id: &str, server: &str) -> Option<(PathBuf, Record)> {
    let (stem, ext) = RECORD_FILE
        .rsplit_once('.')
        .unwrap_or((RECORD_FILE, "json"));
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(stem) && n.ends_with(&format!(".{ext}")))
        })
        .collect();
    paths.sort();
    paths.into_iter().find_map(|path| {
        let text = std::fs::read_to_string(&path).ok()?;
        let value = crate::input::parse_json(&text).ok()?;
        let record = Record::from_json(&value)?.ok()?;
        // One that does not say its server cannot be told apart: it is taken.
        let this_job = record.request_id.as_deref() == Some(request_id)
            && record.server.as_deref().is_none_or(|s| s == server);
        this_job.then_some((path, record))
    })
}

/// What a record, a dry run or a batch report keeps of a secret's value.
fn secret_kept() -> Value {
    json!({"secret": "not recorded"})
}

/// How deep into an input secrets are looked for: deeper than any catalog's nesting.
const DEEPEST_SECRET: usize = 64;

/// Replaces each secret of `input` (a value whose schema says `format: password`), at any
/// depth (a field, a property of an object, a list's item, a union shape's property), by
/// `{"secret": "not recorded"}`. A value any alternative may take as a password is one.
pub fn hide_secrets(model: &ModelInfo, input: &mut Map<String, Value>) {
    let root = crate::unchecked::listed(model).input;
    for (key, value) in input.iter_mut() {
        hide_within(value, &children(&[root], key), DEEPEST_SECRET);
    }
}

/// [`hide_secrets`] within one value, which `schemas` (and what they apply) describe.
fn hide_within(value: &mut Value, schemas: &[&'static Schema], depth: usize) {
    let schemas = all_that_may_apply(schemas);
    if schemas.iter().any(|s| s.format == Some(Format::Password)) {
        *value = secret_kept();
        return;
    }
    let Some(depth) = depth.checked_sub(1) else {
        return;
    };
    match value {
        Value::Object(object) => {
            for (key, item) in object.iter_mut() {
                hide_within(item, &children(&schemas, key), depth);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let at: Vec<&'static Schema> =
                    schemas.iter().filter_map(|s| s.item_at(i)).collect();
                hide_within(item, &at, depth);
            }
        }
        _ => {}
    }
}

/// The schemas that may apply to property `key` of an object of `schemas`: its property's,
/// patterns' and, for a name it does not list, `additionalProperties`.
fn children(schemas: &[&'static Schema], key: &str) -> Vec<&'static Schema> {
    schemas
        .iter()
        .flat_map(|s| {
            let patterns = s
                .pattern_properties
                .iter()
                .filter(|p| p.pattern.is_match(key) != Some(false))
                .map(|p| p.schema);
            let additional = s
                .additional_properties
                .filter(|_| s.property(key).is_none());
            s.property(key)
                .into_iter()
                .chain(patterns)
                .chain(additional)
        })
        .collect()
}

/// `schemas` and every schema that may apply with them: what each applies in place and, as
/// any may be the one that passes, its branches, each once.
fn all_that_may_apply(schemas: &[&'static Schema]) -> Vec<&'static Schema> {
    crate::field::once_each(
        schemas
            .iter()
            .flat_map(|s| s.in_place().into_iter().chain(s.branches())),
    )
}

/// Where `value` holds a secret a record did not keep, at any depth.
fn secret_left(value: &Value, at: &JsonPath) -> Option<String> {
    if *value == secret_kept() {
        return Some(at.as_str().to_owned());
    }
    match value {
        Value::Object(object) => object
            .iter()
            .find_map(|(key, item)| secret_left(item, &at.key(key))),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| secret_left(item, &at.index(i))),
        _ => None,
    }
}

/// The request body as people read it: `body` (what is sent) with each `data:` URI in it, at
/// any depth (a media field's, a file in a branch of a union, one written inline), replaced by
/// `{"name", "size", "sha256", "source"}`: its bytes' size and SHA-256, and, from `input` (what
/// it was made from, at the same place), the local file's name and absolute path; and each
/// secret (`format: password`, an API key of the user's) as not recorded. URLs stay as they
/// are: they are sent as they are.
pub fn body_summary(model: &ModelInfo, input: &Map<String, Value>, body: &Value) -> Value {
    let mut out = body.clone();
    let Some(object) = out.as_object_mut() else {
        return out;
    };
    hide_secrets(model, object);
    for (field, value) in object.iter_mut() {
        summarize_within(value, input.get(field));
    }
    out
}

/// [`summarize`] on every string within `value`, each with what `given` holds at its place.
fn summarize_within(value: &mut Value, given: Option<&Value>) {
    match value {
        Value::String(_) => summarize(value, given.and_then(Value::as_str)),
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                summarize_within(item, given.and_then(|g| g.get(i)));
            }
        }
        Value::Object(object) => {
            for (key, item) in object.iter_mut() {
                summarize_within(item, given.and_then(|g| g.get(key)));
            }
        }
        _ => {}
    }
}

/// Replaces a `data:` URI by its summary; `source` is what the user gave for it.
fn summarize(value: &mut Value, source: Option<&str>) {
    // Looked at in place: a `data:` URI is megabytes, not to be copied to be recognised.
    let is_data = crate::media::has_data_scheme;
    let Some(uri) = value.as_str().filter(|text| is_data(text)) else {
        return;
    };
    let Some((size, sha256)) = crate::media::data_uri_digest(uri) else {
        return;
    };
    // A path as given, or as a `file:` URL names it.
    let local = match source.filter(|text| !is_data(text)).map(Media::parse) {
        Some(Media::Path(path)) => Some(path),
        _ => None,
    };
    let name = local
        .as_deref()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "(inline data: URI)".to_owned());
    let path = local.map(|path| {
        std::fs::canonicalize(&path)
            .unwrap_or(path)
            .display()
            .to_string()
    });
    *value = json!({"name": name, "size": size, "sha256": sha256, "source": path});
}

/// The input a record was made from: its `input`, with each media summary replaced by the
/// path it was read from, once the file there is checked to be the same bytes (size and
/// SHA-256). A file that is gone or changed, or one that was given inline, is an error: the
/// rerun would not send the same body.
pub fn input_from_record(
    model: &ModelInfo,
    record: &Record,
) -> Result<Map<String, Value>, RecordError> {
    if record.model != model.id {
        return Err(RecordError::OtherModel {
            expected: model.id.to_owned(),
            found: record.model.clone(),
        });
    }
    let mut input = match record.input.clone() {
        Value::Object(input) => input,
        Value::Null => return Err(RecordError::NoInput),
        _ => return Err(RecordError::NotARecord("its input is not an object".into())),
    };
    let root = JsonPath::root();
    if let Some(secret) = input
        .iter()
        .find_map(|(field, value)| secret_left(value, &root.key(field)))
    {
        return Err(RecordError::Secret(secret));
    }
    let unchecked = crate::unchecked::is_unchecked(model);
    for (field, value) in input.iter_mut() {
        each_summary(value, &root.key(field), &mut |summary, at| {
            if unchecked {
                // Sent as written, it reads no file: a file the record keeps as its hash alone
                // (from a checked run, or a data: URI) cannot be sent again from it.
                return Err(RecordError::Media {
                    field: at.as_str().to_owned(),
                    reason: "the record keeps this file only as its name, size and sha256, and \
                             an unchecked input reads no file: give its value (an https URL or \
                             a data: URI) in --input, or rerun without --unchecked"
                        .to_owned(),
                });
            }
            restore(summary, at.as_str())
        })?;
    }
    Ok(input)
}

/// Calls `found` on every media summary ([`summarize`]'s object) within `value`, which is at
/// `at`, in order, until it fails.
fn each_summary(
    value: &mut Value,
    at: &JsonPath,
    found: &mut impl FnMut(&mut Value, &JsonPath) -> Result<(), RecordError>,
) -> Result<(), RecordError> {
    match value {
        Value::Object(object) if is_summary(object) => found(value, at),
        Value::Object(object) => object
            .iter_mut()
            .try_for_each(|(key, item)| each_summary(item, &at.key(key), found)),
        Value::Array(items) => items
            .iter_mut()
            .enumerate()
            .try_for_each(|(i, item)| each_summary(item, &at.index(i), found)),
        _ => Ok(()),
    }
}

/// Whether `object` is what [`summarize`] makes of a file: its name, size, sha256 and source.
fn is_summary(object: &Map<String, Value>) -> bool {
    const KEYS: [&str; 4] = ["name", "size", "sha256", "source"];
    object.len() == KEYS.len() && KEYS.iter().all(|key| object.contains_key(*key))
}

/// Replaces a media summary by the path of a file with the same bytes.
fn restore(value: &mut Value, at: &str) -> Result<(), RecordError> {
    let Value::Object(summary) = value else {
        return Ok(());
    };
    let media = |reason: String| RecordError::Media {
        field: at.to_owned(),
        reason,
    };
    let want = summary
        .get("sha256")
        .and_then(Value::as_str)
        .ok_or_else(|| media("the record gives no sha256".into()))?
        .to_owned();
    let Some(source) = summary.get("source").and_then(Value::as_str) else {
        return Err(media(
            "it was sent inline (a data: URI), and the record keeps only its hash".into(),
        ));
    };
    let path = PathBuf::from(source);
    let unread = |err: std::io::Error| media(format!("cannot read {source}: {err}"));
    // A regular file only (a FIFO or a device named by an edited record would never end),
    // and of the size sent before it is read through.
    let (file, size) = crate::media::open(&path).map_err(unread)?;
    if let Some(sent) = summary.get("size").and_then(Value::as_u64)
        && sent != size
    {
        return Err(media(format!(
            "{source} has changed since it was sent ({size} bytes, the record says {sent})"
        )));
    }
    let (_, found) = crate::digest::sha256_of(file).map_err(unread)?;
    if found != want {
        return Err(media(format!(
            "{source} has changed since it was sent (sha256 {found}, the record says {want})"
        )));
    }
    *value = Value::String(source.to_owned());
    Ok(())
}

/// SHA-256 of a file, lower-case hex, read a piece at a time.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    crate::digest::sha256_of(std::fs::File::open(path)?).map(|(_, hex)| hex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::find;

    type TestResult<T> = Result<T, Box<dyn std::error::Error>>;

    /// The body `input` makes, and the summary of it a record keeps.
    fn sent(model: &'static ModelInfo, input: Value) -> TestResult<(Value, Value)> {
        let Value::Object(input) = input else {
            return Err("not an object".into());
        };
        let body: Value = serde_json::from_slice(
            &model
                .decode(&Value::Object(input.clone()))?
                .encode(1 << 20)?,
        )?;
        let summary = body_summary(model, &input, &body);
        Ok((body, summary))
    }

    #[test]
    fn a_record_gives_back_the_input_it_was_made_from() -> Result<(), Box<dyn std::error::Error>> {
        let model = find("bytedance/seedream-4-0/edit").ok_or("no model")?;
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("cat.png");
        std::fs::write(&file, crate::media::tests_support::PIXEL_PNG)?;
        let input =
            json!({"prompt": "p", "images": [file.to_string_lossy(), "https://cdn.example/b.png"]});
        let (body, summary) = sent(model, input)?;
        let first = &summary["images"][0];
        assert_eq!(first["name"], "cat.png");
        assert_eq!(first["size"], crate::media::tests_support::PIXEL_PNG.len());
        assert_eq!(first["sha256"].as_str(), Some(sha256_file(&file)?.as_str()));
        assert_eq!(summary["images"][1], "https://cdn.example/b.png");
        let record = Record {
            request_id: Some("r".into()),
            ..Record::new(model.id, "http://127.0.0.1:1", summary)
        };
        let back = input_from_record(model, &record)?;
        let again: Value =
            serde_json::from_slice(&model.decode(&Value::Object(back))?.encode(1 << 20)?)?;
        assert_eq!(again, body, "the same body");
        // A changed file is refused, naming it.
        std::fs::write(&file, b"not the same")?;
        let err = input_from_record(model, &record).err().ok_or("accepted")?;
        assert!(err.to_string().contains("images[0]"), "{err}");
        assert!(err.to_string().contains("bytes, the record says"), "{err}");
        Ok(())
    }

    /// A record edited to name what is no regular file is refused at once, not read forever.
    #[cfg(unix)]
    #[test]
    fn a_record_naming_a_device_or_a_fifo_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        let model = find("bytedance/seedream-4-0/edit").ok_or("no model")?;
        let dir = tempfile::tempdir()?;
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status()?;
        assert!(made.success());
        for source in ["/dev/zero".into(), fifo.display().to_string()] {
            let summary = json!({"prompt": "p", "images": [
                {"name": "a.png", "size": 1, "sha256": "00", "source": source}
            ]});
            let record = Record::new(model.id, "mock", summary);
            let err = input_from_record(model, &record).err().ok_or("accepted")?;
            assert!(err.to_string().contains("not a regular file"), "{err}");
        }
        Ok(())
    }

    /// A file given as a `file:` URL is recorded as the path it names, so it can be sent
    /// again; a `data:` URI in any case is kept as its digest, not whole.
    #[test]
    fn file_urls_are_recorded_as_paths_and_data_uris_in_any_case_as_digests()
    -> Result<(), Box<dyn std::error::Error>> {
        let model = find("bytedance/seedream-4-0/edit").ok_or("no model")?;
        let dir = tempfile::tempdir()?;
        let file = std::fs::canonicalize(dir.path())?.join("cat.png");
        std::fs::write(&file, crate::media::tests_support::PIXEL_PNG)?;
        let inline = crate::media::data_uri(crate::media::tests_support::PIXEL_PNG);
        let shouted = format!("DATA:{}", &inline["data:".len()..]);
        let url = url::Url::from_file_path(&file).map_err(|()| "no file URL")?;
        for given in [url.to_string(), format!("file:{}", file.display())] {
            let (_, summary) = sent(model, json!({"prompt": "p", "images": [given, shouted]}))?;
            assert_eq!(summary["images"][0]["source"], file.display().to_string());
            assert_eq!(summary["images"][1]["name"], "(inline data: URI)");
            let record = Record::new(model.id, "mock", summary);
            let err = input_from_record(model, &record).err().ok_or("accepted")?;
            // The file is found again; only the inline one cannot be.
            assert!(err.to_string().contains("images[1]"), "{err}");
        }
        Ok(())
    }

    /// A record is read with `cat`: a server's text in it cannot drive the terminal, and it
    /// reads back the same.
    #[test]
    fn a_record_holds_the_servers_text_escaped() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let hostile = "https://cdn.example/\u{9b}2J\u{202e}gnp.exe";
        let record = Record {
            request_id: Some("r".into()),
            output: Some(json!({"images": [hostile]})),
            error: Some(hostile.into()),
            ..Record::new("m/x", "http://127.0.0.1:1", json!({"prompt": "p"}))
        };
        let path = record.write(dir.path())?;
        let text = std::fs::read_to_string(&path)?;
        assert!(text.contains(r"\u009b2J\u202egnp.exe"), "{text}");
        assert!(
            !text.contains('\u{9b}') && !text.contains('\u{202e}'),
            "{text}"
        );
        let back = find_record(dir.path(), "r", "http://127.0.0.1:1")
            .ok_or("not read back")?
            .1;
        assert!(find_record(dir.path(), "r", "http://127.0.0.1:2").is_none());
        assert_eq!(back.error.as_deref(), Some(hostile));
        Ok(())
    }
}
