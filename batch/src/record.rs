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
