//! Models chosen at run time: submit a JSON input to a catalog model by id and follow the job
//! without its generated types (the CLI's path).
//!
//! The input is checked with the model's generated validator ([`ModelInfo::validate_json`])
//! before anything is sent, and media fields get the same treatment as in typed inputs (local
//! paths are sent as `data:` URIs). The job is a [`Job`] of a private type-erased model, so
//! polling, retries, deadlines, cancellation and downloads are the transport's own.

use std::fmt;
use std::path::Path;
use std::time::Instant;

use futures::Stream;
use reqwest::Method;
use serde::ser::{SerializeMap as _, SerializeSeq as _};
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::catalog::{ModelInfo, find};
use crate::client::{Client, encode, is_sane_request_id, submit_error};
use crate::download::{DownloadOptions, DownloadedFile};
use crate::error::Error;
use crate::job::{CancelOutcome, Job, JobRecord, JobResult, Status};
use crate::media::Media;
use crate::model::{Input, Model, Output, OutputFile, push_extra_urls};
use crate::retry::Failure;
use crate::transport::Call;
use crate::validate::{Problem, Severity, ValidationError, ValidationReport};
use crate::wait::{Update, WaitOptions};
use crate::wire::{SubmitReply, excerpt};

/// The output of a job of a model chosen at run time: the `output` object as the server sent
/// it. Its files are every http(s) URL of its top-level strings and arrays of strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DynOutput(pub serde_json::Map<String, serde_json::Value>);

impl Output for DynOutput {
    fn files(&self) -> Vec<OutputFile<'_>> {
        let mut files = Vec::new();
        push_extra_urls(&mut files, &self.0);
        files
    }
}

/// A model with no generated type: what [`DynJob`] wraps. Its input type has no values, so it
/// can never be submitted through the typed path by mistake.
struct Untyped;

/// No value of this type exists.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum NoInput {}

impl Input for NoInput {
    fn validate(&self) -> ValidationReport {
        match *self {}
    }
}

/// Only for the `Model` bound; the real model is the one [`DynJob`] carries.
static UNTYPED_INFO: ModelInfo = ModelInfo {
    id: Untyped::ID,
    display_name: "model chosen at run time",
    docs: None,
    rust_input: "serde_json::Value",
    fields: &[],
    output_fields: &[],
    cross_rules: &[],
    input_schema: "{}",
    output_schema: "{}",
    validate_json: |_| Ok(ValidationReport::new()),
};

impl Model for Untyped {
    /// The run-time history key of a job whose model is unknown (rebuilt from its id alone);
    /// jobs of a known model learn under that model's id.
    const ID: &'static str = "(dynamic)";
    type Input = NoInput;
    type Output = DynOutput;
    fn info() -> &'static ModelInfo {
        &UNTYPED_INFO
    }
}

/// A job of a model chosen at run time (or of an unknown model, when rebuilt from a request
/// id alone).
#[derive(Clone)]
pub struct DynJob {
    job: Job<Untyped>,
    model: Option<&'static ModelInfo>,
}

impl fmt::Debug for DynJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynJob")
            .field("request_id", &self.id())
            .field("model_id", &self.model_id())
            .finish()
    }
}

/// Checks a JSON input against a model of the catalog, without sending anything.
///
/// A body that does not even fit the model's input type (a missing required field, a value
/// of the wrong type, an unknown field or choice) gives one error at that field, whose message is
/// the decoder's.
pub fn validate(model: &ModelInfo, input: &serde_json::Value) -> ValidationReport {
    match (model.validate_json)(input) {
        Ok(report) => report,
        Err(err) => {
            let mut report = ValidationReport::new();
            report.push(Problem {
                severity: Severity::Error,
                path: err.path,
                rule: "type".into(),
                value: None,
                message: err.message,
            });
            report
        }
    }
}

impl Client {
    /// Validates a JSON input for `model`, sends it, and returns the job.
    ///
    /// Like [`Client::submit`]: invalid input is refused without a network call
    /// ([`Error::Validation`], with every problem), and the submit is retried only when the
    /// server provably did not take it.
    pub async fn submit_json(
        &self,
        model: &'static ModelInfo,
        input: &serde_json::Value,
    ) -> Result<DynJob, Error> {
        let span = tracing::info_span!(
            "runcomfy.submit",
            model_id = model.id,
            request_id = tracing::field::Empty
        );
        async {
            let warnings = validate(model, input).into_result()?;
            for warning in &warnings {
                tracing::debug!(path = %warning.path, rule = %warning.rule, "validation warning");
            }
            let Some(object) = input.as_object() else {
                // Unreachable after validation (inputs are objects), but never send one.
                return Err(not_an_object());
            };
            let body = encode(&WireInput { model, object }, self.inner().max_body)?;
            let call = Call {
                method: Method::POST,
                url: self.model_url(model.id),
                body: Some(body),
                timeout: self.inner().timeouts.submit,
            };
            let reply: SubmitReply = self
                .send(call, Failure::is_safe_to_resubmit)
                .await
                .map_err(|failure| submit_error(model.id, failure))?;
            let accepted = Instant::now();
            if !is_sane_request_id(&reply.request_id) {
                return Err(Error::SubmitOutcomeUnknown {
                    model_id: model.id,
                    source: Box::new(Error::InvalidResponse {
                        request_id: None,
                        status: 200,
                        reason: "unusable request_id".into(),
                        excerpt: excerpt(reply.request_id.as_bytes()),
                    }),
                });
            }
            tracing::Span::current().record("request_id", reply.request_id.as_str());
            tracing::info!("submitted");
            Ok(DynJob {
                job: Job::new(self.clone(), reply.request_id, Some(accepted)).learning_as(model.id),
                model: Some(model),
            })
        }
        .instrument(span)
        .await
    }

    /// A job submitted earlier, from its request id; the model is unknown.
    pub fn job_json(&self, request_id: impl Into<String>) -> DynJob {
        DynJob {
            job: Job::new(self.clone(), request_id.into(), None),
            model: None,
        }
    }

    /// A saved job; its model id must be in the catalog.
    pub fn resume_json(&self, record: &JobRecord) -> Result<DynJob, Error> {
        let Some(model) = find(&record.model_id) else {
            return Err(Error::ModelMismatch {
                request_id: record.request_id.clone(),
                expected: "a model of the catalog",
                found: record.model_id.clone(),
            });
        };
        Ok(DynJob {
            job: Job::new(self.clone(), record.request_id.clone(), None).learning_as(model.id),
            model: Some(model),
        })
    }
}

fn not_an_object() -> Error {
    let mut report = ValidationReport::new();
    report.error("", "type", None, "the input must be a JSON object");
    Error::Validation(ValidationError { report })
}

impl DynJob {
    /// The request id.
    pub fn id(&self) -> &str {
        self.job.id()
    }

    /// The model, when known (a job rebuilt from its request id alone has none).
    pub fn model(&self) -> Option<&'static ModelInfo> {
        self.model
    }

    /// The model id, when known.
    pub fn model_id(&self) -> Option<&'static str> {
        self.model.map(|m| m.id)
    }

    /// What to save to resume the job later, when the model is known.
    pub fn record(&self) -> Option<JobRecord> {
        self.model.map(|m| JobRecord {
            request_id: self.id().to_owned(),
            model_id: m.id.to_owned(),
        })
    }

    /// The client the job belongs to.
    pub fn client(&self) -> &Client {
        self.job.client()
    }

    /// Asks for the job's status.
    pub async fn status(&self) -> Result<Status, Error> {
        self.job.status().await
    }

    /// The output of a succeeded job; see [`Job::result`].
    pub async fn result(&self) -> Result<DynOutput, Error> {
        self.job.result().await
    }

    /// The whole result reply, whatever the state; see [`Job::result_state`].
    pub async fn result_state(&self) -> Result<JobResult<DynOutput>, Error> {
        self.job.result_state().await
    }

    /// Asks the server to cancel the job; only a queued job can be cancelled.
    pub async fn cancel(&self) -> Result<CancelOutcome, Error> {
        self.job.cancel().await
    }

    /// Polls until the job ends; see [`Job::wait`].
    pub async fn wait(&self) -> Result<DynOutput, Error> {
        self.job.wait().await
    }

    /// Polls until the job ends, calling `on_update` after every poll; see [`Job::wait_with`].
    pub async fn wait_with(
        &self,
        options: WaitOptions,
        on_update: impl FnMut(&Update),
    ) -> Result<DynOutput, Error> {
        self.job.wait_with(options, on_update).await
    }

    /// The updates of [`wait_with`](Self::wait_with) as a stream; see [`Job::updates`].
    pub fn updates(&self, options: WaitOptions) -> impl Stream<Item = Result<Update, Error>> + '_ {
        self.job.updates(options)
    }

    /// Saves every file of the output into `dir`; see [`Client::download_with`].
    pub async fn download(
        &self,
        output: &DynOutput,
        dir: impl AsRef<Path>,
        options: &DownloadOptions,
    ) -> Result<Vec<DownloadedFile>, Error> {
        self.client().download_with(output, dir, options).await
    }
}

/// The request body: the input as given, with media fields as they are sent (local files as
/// `data:` URIs), written straight into the capped body.
struct WireInput<'a> {
    model: &'a ModelInfo,
    object: &'a serde_json::Map<String, serde_json::Value>,
}

impl Serialize for WireInput<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.object.len()))?;
        for (key, value) in self.object {
            if self.model.field(key).is_some_and(|f| f.media.is_some()) {
                map.serialize_entry(key, &WireMedia(value))?;
            } else {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

/// A media field's value: each string read as [`Media`]; anything else as it is.
struct WireMedia<'a>(&'a serde_json::Value);

impl Serialize for WireMedia<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            serde_json::Value::String(text) => Media::parse(text).serialize(serializer),
            serde_json::Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&WireMedia(item))?;
                }
                seq.end()
            }
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_files_are_the_urls() {
        let output: DynOutput = serde_json::from_value(serde_json::json!({
            "images": ["https://cdn.example/a.png", "https://cdn.example/b.png"],
            "seed": 3,
            "note": "not a url"
        }))
        .unwrap_or_default();
        let files = output.files();
        assert_eq!(files.len(), 2);
        assert_eq!(files[1].field, "images");
        assert_eq!(files[1].index, Some(1));
    }

    #[test]
    fn local_media_is_sent_as_data_uris() -> Result<(), Box<dyn std::error::Error>> {
        let model = find("bytedance/seedream-4-0/edit").ok_or("no edit model")?;
        let dir = std::env::temp_dir().join(format!("runcomfy-dynamic-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("x.png");
        std::fs::write(&file, b"\x89PNG\r\n\x1a\nrest")?;
        let input = serde_json::json!({
            "prompt": "p",
            "images": [file.to_string_lossy(), "https://cdn.example/b.png"],
        });
        let object = input.as_object().ok_or("not an object")?;
        let body = encode(&WireInput { model, object }, 1 << 20)?;
        let sent: serde_json::Value = serde_json::from_slice(&body)?;
        assert_eq!(sent["prompt"], "p");
        assert!(
            sent["images"][0]
                .as_str()
                .is_some_and(|s| s.starts_with("data:image/png;base64,"))
        );
        assert_eq!(sent["images"][1], "https://cdn.example/b.png");
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn undecodable_inputs_are_one_error() -> Result<(), Box<dyn std::error::Error>> {
        let model = find("bytedance/seedream-4-0/sequential").ok_or("no model")?;
        let report = validate(model, &serde_json::json!({"text": 3}));
        assert!(!report.is_valid());
        let report = validate(model, &serde_json::json!({"text": "Generate 3 images."}));
        assert!(report.is_valid(), "{report}");
        Ok(())
    }
}
