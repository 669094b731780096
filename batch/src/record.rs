//! Each ended line's provenance record (`runcomfy::provenance`), beside its files.

use std::path::Path;

use runcomfy::DownloadedFile;
use runcomfy::catalog::ModelInfo;
use runcomfy::dynamic::DynOutput;
use runcomfy::price::Usd;
use runcomfy::provenance::{self, Record, RecordFile, Timings};
use serde_json::{Map, Value, json};

use crate::journal::Row;

/// What a line's job gave, as its record keeps it: its output, or why it gave none.
pub(crate) struct Ended<'a> {
    pub request_id: &'a str,
    pub cost: Option<Usd>,
    /// What the server said it cost, when that could not be read as US dollars.
    pub cost_unread: Option<String>,
    pub output: Option<&'a DynOutput>,
    pub error: Option<String>,
}

/// What the record written before a line's POST says, should the run die before the answer.
const SENDING: &str = "its submit was being sent when this record was written, and no answer \
                       was recorded: the server may have accepted it";

/// A line's input as the journal keeps it, as an object.
fn input_of(row: &Row) -> Map<String, Value> {
    row.input
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// The input as the line gives it, secrets hidden: what the record written before its POST
/// keeps (the body is not encoded twice on every submit's path).
fn as_given(model: &ModelInfo, mut input: Map<String, Value>) -> Value {
    provenance::hide_secrets(model, &mut input);
    Value::Object(input)
}

/// The input as a line's record keeps it once answered: the body as sent, read back with its
/// media as name, size and SHA-256; as given when it cannot be encoded.
fn as_sent(model: &'static ModelInfo, input: Map<String, Value>) -> Value {
    let body = model
        .decode(&Value::Object(input.clone()))
        .ok()
        .and_then(|decoded| {
            decoded
                .encode(runcomfy::client::DEFAULT_MAX_BODY_BYTES)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    match body {
        Some(body) => provenance::body_summary(model, &input, &body),
        None => as_given(model, input),
    }
}

/// Whether `record` is one a line of `model` whose input is `input` leaves (before its POST or
/// after): a journal that lost its lines can tell a line's record from another input's.
pub(crate) fn is_of(
    record: &Record,
    model: &'static ModelInfo,
    input: &Map<String, Value>,
) -> bool {
    record.model == model.id
        && (record.input == as_given(model, input.clone())
            || record.input == as_sent(model, input.clone()))
}

/// The estimate as a record keeps it.
fn estimate_of(row: &Row) -> Option<Value> {
    row.basis
        .as_ref()
        .map(|basis| json!({"usd": row.estimate, "basis": basis}))
}

/// Writes the record of a line whose submit is on the wire (`outcome` none), or was answered
/// in a way that leaves it unknown whether it was taken (`outcome`, why): no request id, the
/// estimate, the time it was sent. A journal that loses its write-ahead log after a crash then
/// still finds the line was sent, and calls it `unknown` rather than pay for it again (QA
/// repro39 F1). Replaced once the request id is known; removed when the submit was not taken.
/// A failure is logged: the journal's `submitting` is the first guard.
pub(crate) fn write_unanswered(
    server: &str,
    row: &Row,
    model: &'static ModelInfo,
    dir: &Path,
    outcome: Option<&str>,
) {
    let input = input_of(row);
    // Before the POST, the input as given; once answered, as sent, as `run` records it.
    let (input, error) = match outcome {
        None => (as_given(model, input), SENDING.to_owned()),
        Some(why) => (
            as_sent(model, input),
            format!("the server may have accepted its submit: {why}"),
        ),
    };
    let record = Record {
        estimate: estimate_of(row),
        timings: Timings {
            submitted: Some(provenance::timestamp(runcomfy::clock::now())),
            ..Timings::default()
        },
        error: Some(error),
        ..Record::new(model.id, server, input)
    };
    let written = match std::fs::create_dir_all(dir) {
        Ok(()) => record.write(dir).map(drop).map_err(|err| err.to_string()),
        Err(err) => Err(err.to_string()),
    };
    if let Err(err) = written {
        tracing::warn!(line = row.number, %err, "record of a submit not answered not written");
    }
}

/// Removes the record [`write_unanswered`] left, once the line's submit is provably not taken.
pub(crate) fn remove_unanswered(row: &Row, dir: &Path) {
    match std::fs::remove_file(dir.join(provenance::RECORD_FILE)) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            tracing::warn!(line = row.number, %err, "record of a submit not taken not removed");
        }
        _ => {}
    }
}

/// Writes the record of a line whose job ended on `server` into `dir` (made if need be), with
/// the files saved (none when they were refused, or the job failed); a failure is logged, not
/// fatal (the files and the journal are what the batch promises).
pub(crate) fn write(
    server: &str,
    row: &Row,
    model: &'static ModelInfo,
    job: Ended<'_>,
    timings: Timings,
    saved: &[DownloadedFile],
    dir: &Path,
) {
    let summary = as_sent(model, input_of(row));
    let record = Record {
        request_id: Some(job.request_id.to_owned()),
        estimate: estimate_of(row),
        cost_usd: job.cost,
        cost_unread: job.cost_unread,
        timings,
        files: saved.iter().map(RecordFile::of).collect(),
        output: job.output.map(|output| Value::Object(output.0.clone())),
        error: job.error,
        ..Record::new(model.id, server, summary)
    };
    if let Err(err) = std::fs::create_dir_all(dir) {
        tracing::warn!(line = row.number, %err, "provenance record not written");
        return;
    }
    if let Err(err) = record.write(dir) {
        tracing::warn!(line = row.number, %err, "provenance record not written");
    }
}
