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

/// Writes the record a line's folder holds while its submit is on the wire: no request id yet,
/// the input as the line gives it (secrets hidden). A journal that loses its write-ahead log
/// after a crash then still finds the line was sent, and calls it `unknown` rather than pay
/// for it again (QA repro39 F1). Replaced once the answer is recorded; removed when the submit
/// was not taken. A failure is logged: the journal's `submitting` is the first guard.
pub(crate) fn write_sending(server: &str, row: &Row, model: &'static ModelInfo, dir: &Path) {
    let mut input: Map<String, Value> = row
        .input
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    provenance::hide_secrets(model, &mut input);
    let record = Record {
        error: Some(SENDING.to_owned()),
        ..Record::new(model.id, server, Value::Object(input))
    };
    let written = match std::fs::create_dir_all(dir) {
        Ok(()) => record.write(dir).map(drop).map_err(|err| err.to_string()),
        Err(err) => Err(err.to_string()),
    };
    if let Err(err) = written {
        tracing::warn!(line = row.number, %err, "record of the submit being sent not written");
    }
}

/// Removes the record [`write_sending`] left, once the line's submit is provably not taken.
pub(crate) fn remove_sending(row: &Row, dir: &Path) {
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
    let input: Map<String, Value> = row
        .input
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    // The body as sent, read back with its media as name, size and SHA-256.
    let body = model
        .decode(&Value::Object(input.clone()))
        .ok()
        .and_then(|decoded| {
            decoded
                .encode(runcomfy::client::DEFAULT_MAX_BODY_BYTES)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    let summary = match body {
        Some(body) => provenance::body_summary(model, &input, &body),
        None => {
            let mut input = input;
            provenance::hide_secrets(model, &mut input);
            Value::Object(input)
        }
    };
    let record = Record {
        request_id: Some(job.request_id.to_owned()),
        estimate: row
            .basis
            .as_ref()
            .map(|basis| json!({"usd": row.estimate, "basis": basis})),
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
