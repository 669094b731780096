//! A submitted job: its status, result and cancel calls, saving its files, and what it saves to
//! resume later. Waiting for it is in [`wait`](crate::wait).

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime};

use reqwest::{Method, Url};
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::api::Client;
use crate::api::download::{self, DownloadOptions, DownloadedFile};
use crate::error::{Error, JobError};
use crate::http::retry::Failure;
use crate::http::secret::REDACTED;
use crate::http::transport::{Call, Http};
use crate::http::wire::{self, CancelReply, ResultReply, StatusReply};
use crate::model::{Model, ModelInfo, Output as _, OutputFile};
use crate::price::Usd;
use crate::printable::printable_id;

#[doc(inline)]
pub use crate::error::CancelOutcome;

/// A job of model `M`, by request id.
///
/// Serializes to its [`JobRecord`] (request id, model id, when it was submitted; never the
/// token); rebuild it with [`Client::resume`] (or [`Client::job`] from the id alone) to pick it
/// up after a restart without paying again.
pub struct Job<M: Model> {
    client: Client,
    request_id: Arc<str>,
    /// When the submit was accepted; `None` for a job rebuilt from its id alone.
    pub(crate) accepted: Option<Accepted>,
    /// The terminal result, once a poll has seen it, so `result()` after `wait()` is free.
    pub(crate) finished: Arc<Mutex<Option<Arc<ResultReply>>>>,
    /// The model, when known: `M`'s, or for a job of a model chosen at run time, that model
    /// (`None` for one rebuilt from its request id alone).
    model: Option<&'static ModelInfo>,
    marker: PhantomData<fn() -> M>,
}

impl<M: Model> Clone for Job<M> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            request_id: self.request_id.clone(),
            accepted: self.accepted,
            finished: self.finished.clone(),
            model: self.model,
            marker: PhantomData,
        }
    }
}

impl<M: Model> fmt::Debug for Job<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("request_id", &&*self.request_id)
            .field("model_id", &self.model_id())
            .finish()
    }
}

/// When a job's submit was accepted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Accepted {
    /// On this process's monotonic clock: what the poll schedule counts from.
    pub at: Instant,
    /// On the wall clock: what a [`JobRecord`] keeps.
    pub wall: SystemTime,
    /// Read back from a record rather than seen by this process: the wait learns its run time
    /// only if it saw the run start (the job may have queued, or ended, unseen during the
    /// pause, which would teach a run time as long as the pause).
    pub from_record: bool,
}

impl Accepted {
    /// Now, as a submit's reply arrives.
    pub(crate) fn now() -> Self {
        Self {
            at: Instant::now(),
            wall: crate::clock::now(),
            from_record: false,
        }
    }

    /// A record's submit time placed on this process's clock; `None` when it is ahead of the
    /// wall clock (a clock set back since: the run would start in the future) or older than
    /// the monotonic clock reaches (a reboot since).
    fn from_record(wall: SystemTime) -> Option<Self> {
        let ago = crate::clock::now().duration_since(wall).ok()?;
        Some(Self {
            at: Instant::now().checked_sub(ago)?,
            wall,
            from_record: true,
        })
    }
}

/// What a job saves: enough to find it again, and to wait for it as well as the process that
/// submitted it would have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The request id the API gave.
    pub request_id: String,
    /// The model id (`bytedance/seedream-4-0/edit`).
    pub model_id: String,
    /// When the submit was accepted, on this machine's clock (RFC 3339 in JSON). A job resumed
    /// with it is polled on the model's learned schedule from that time; without it (a record
    /// from a bare request id), at the cold pace from the first look.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rfc3339")]
    pub submitted_at: Option<SystemTime>,
}

impl JobRecord {
    /// A record of the job `request_id` of model `model_id`, its submit time unknown.
    pub fn new(request_id: impl Into<String>, model_id: impl Into<String>) -> Self {
        Self {
            request_id: request_id.into(),
            model_id: model_id.into(),
            submitted_at: None,
        }
    }

    /// The record with the time its submit was accepted.
    pub fn submitted_at(mut self, at: SystemTime) -> Self {
        self.submitted_at = Some(at);
        self
    }

    /// When the submit was accepted, placed on this process's clock.
    pub(crate) fn accepted(&self) -> Option<Accepted> {
        self.submitted_at.and_then(Accepted::from_record)
    }
}

/// A record's `submitted_at` as an RFC 3339 timestamp.
mod rfc3339 {
    use std::time::SystemTime;

    use serde::{Deserialize as _, Deserializer, Serializer, de};

    use crate::http::dates;

    pub fn serialize<S: Serializer>(at: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
        match at.and_then(dates::format_rfc3339) {
            Some(text) => s.serialize_some(&text),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SystemTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => dates::parse_rfc3339(&text)
                .map(|t| Some(t.at))
                .ok_or_else(|| de::Error::custom(format!("not an RFC 3339 time: {text:?}"))),
        }
    }
}

impl<M: Model> Serialize for Job<M> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.record().serialize(serializer)
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum JobState {
    /// Waiting for a worker.
    InQueue,
    /// Running.
    InProgress,
    /// Finished, success or failure unknown yet (the status call says only this).
    Completed,
    /// Finished with an output.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Cancelled.
    Cancelled,
    /// A status this client does not know; treated as still running.
    Unknown,
}

impl JobState {
    /// Reads the `status` of a status or result reply, in any case and with `-` or a space
    /// for `_` (`IN_PROGRESS`, `In progress`), as other servers of the same API write it.
    pub fn from_wire(status: &str) -> Self {
        let status = status.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        match status.as_str() {
            // The names RunComfy's own nodes also take as not finished.
            "in_queue" | "queued" | "pending" | "waiting" => JobState::InQueue,
            "in_progress" | "running" | "starting" | "processing" => JobState::InProgress,
            // Ended, how the result says (an output, or an error).
            "completed" | "complete" | "done" | "finished" => JobState::Completed,
            "succeeded" | "success" | "successful" => JobState::Succeeded,
            "failed" | "failure" | "error" | "errored" | "timed_out" => JobState::Failed,
            "cancelled" | "canceled" | "aborted" => JobState::Cancelled,
            _ => JobState::Unknown,
        }
    }

    /// Whether the job has ended.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Completed | JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JobState::InQueue => "in_queue",
            JobState::InProgress => "in_progress",
            JobState::Completed => "completed",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
            JobState::Unknown => "unknown",
        })
    }
}

/// A status reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// The state.
    pub state: JobState,
    /// The position in the queue, while queued.
    pub queue_position: Option<u64>,
    /// The status as the server wrote it.
    pub raw: String,
}

/// A result reply, with the output typed.
#[derive(Debug, Clone)]
pub struct JobResult<O> {
    /// The state.
    pub state: JobState,
    /// The output, once succeeded.
    pub output: Option<O>,
    /// The server's error, once failed.
    pub error: Option<JobError>,
    /// When the job was created, as the server wrote it.
    pub created_at: Option<String>,
    /// When it finished, as the server wrote it.
    pub finished_at: Option<String>,
    /// What it cost, when the server says (the result is asked for with `include_cost=true`).
    pub cost: Option<Usd>,
    /// The model the job ran, when the server says (server text).
    pub model_id: Option<String>,
}

impl<M: Model> Job<M> {
    pub(crate) fn new(
        client: Client,
        request_id: String,
        model: Option<&'static ModelInfo>,
        accepted: Option<Accepted>,
    ) -> Self {
        Self {
            client,
            request_id: request_id.into(),
            accepted,
            finished: Arc::new(Mutex::new(None)),
            model,
            marker: PhantomData,
        }
    }

    /// The request id.
    pub fn id(&self) -> &str {
        &self.request_id
    }

    /// The model, when known (a job of a model chosen at run time that was rebuilt from its
    /// request id alone has none).
    pub fn model(&self) -> Option<&'static ModelInfo> {
        self.model
    }

    /// The model id (`M::ID`, or for a job of a model chosen at run time, that model's; empty
    /// when unknown).
    pub fn model_id(&self) -> &'static str {
        self.model.map_or(M::ID, |m| m.id)
    }

    /// When the server accepted its submit (this machine's clock): seen by this process, or
    /// read from the record it was resumed from.
    pub fn submitted_at(&self) -> Option<SystemTime> {
        self.accepted.map(|a| a.wall)
    }

    /// How long ago the server accepted its submit, on the monotonic clock, so a wall-clock
    /// step since does not change it (a resumed job is placed on that clock from its record
    /// when resumed); `None` when not known, or when the record's time is still to come.
    pub fn accepted_ago(&self) -> Option<std::time::Duration> {
        self.accepted.map(|a| a.at.elapsed())
    }

    /// What to save to resume the job later.
    pub fn record(&self) -> JobRecord {
        JobRecord {
            request_id: self.request_id.to_string(),
            model_id: self.model_id().to_owned(),
            submitted_at: self.submitted_at(),
        }
    }

    /// The client the job belongs to.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn span(&self, name: &'static str) -> tracing::Span {
        tracing::debug_span!("runcomfy.job", op = name, request_id = %self.request_id, model_id = self.model_id())
    }

    /// Asks for the job's status.
    pub async fn status(&self) -> Result<Status, Error> {
        let reply: StatusReply = self.get("status").instrument(self.span("status")).await?;
        self.about_this_job("status", reply.request_id.as_deref())?;
        Ok(Status {
            state: JobState::from_wire(&reply.status),
            queue_position: reply.queue_position,
            raw: reply.status,
        })
    }

    /// The output of a succeeded job.
    ///
    /// A failed job gives [`Error::JobFailed`] with the server's error, a cancelled one
    /// [`Error::Cancelled`], and one still running [`Error::NotFinished`].
    pub async fn result(&self) -> Result<M::Output, Error> {
        let reply = self.latest_result().await?;
        self.output_of(&reply)
    }

    /// The whole result reply, whatever the state, with the output typed. Once the job has
    /// been seen finished (by a wait, or an earlier call) that reply answers, with no call.
    /// A reply that says the job succeeded (or completed without an error) but has no output
    /// is [`Error::InvalidResponse`].
    pub async fn result_state(&self) -> Result<JobResult<M::Output>, Error> {
        let reply = self.latest_result().await?;
        if lacks_output(&reply) {
            return Err(no_output(&self.request_id, &reply));
        }
        let state = result_state(&reply);
        let output = match (&reply.output, state) {
            (Some(output), JobState::Succeeded) => Some(self.typed_output(output)?),
            _ => None,
        };
        Ok(JobResult {
            state,
            output,
            error: reply.error.clone().map(JobError),
            created_at: reply.created_at.clone(),
            finished_at: reply.finished_at.clone(),
            cost: cost_of(&reply),
            model_id: reply.model_id.clone(),
        })
    }

    /// What the job cost, as the last result reply of a finished job said (after
    /// [`wait`](Self::wait) or [`result`](Self::result); results are asked for with
    /// `include_cost=true`). `None` before the end, or when the server did not say.
    pub fn cost(&self) -> Option<Usd> {
        cost_of(&*self.cached()?)
    }

    /// What the last result reply of a finished job said it cost, when that could not be read
    /// as US dollars (another currency, a negative, an amount too large): its JSON, cut short
    /// and printable. `None` when [`cost`](Self::cost) has it, or nothing was said.
    pub fn cost_unread(&self) -> Option<String> {
        let reply = self.cached()?;
        match cost_of(&reply) {
            Some(_) => None,
            None => reply.cost_said(),
        }
    }

    /// When the server says the job was created and finished (RFC 3339 text, server clock),
    /// from the last result reply of a finished job.
    pub fn server_times(&self) -> (Option<String>, Option<String>) {
        match self.cached() {
            Some(reply) => (reply.created_at.clone(), reply.finished_at.clone()),
            None => (None, None),
        }
    }

    /// Asks the server to cancel the job; only a queued job can be cancelled.
    pub async fn cancel(&self) -> Result<CancelOutcome, Error> {
        let call = Call {
            method: Method::POST,
            url: request_url(self.http(), &self.request_id, "cancel")?,
            body: None,
            timeout: self.client.inner.timeouts.request,
            max_reply: crate::http::transport::MAX_REPLY_BYTES,
        };
        let reply: CancelReply = self
            .http()
            .send(call, Failure::is_transient)
            .instrument(self.span("cancel"))
            .await
            .map_err(|failure| failure.error.for_job(&self.request_id))?;
        self.about_this_job("cancel", reply.request_id.as_deref())?;
        let invalid = |reason: String| Error::InvalidResponse {
            request_id: Some(self.request_id.to_string()),
            status: 200,
            // Shown through `printable` by the error's `Display`.
            reason,
            excerpt: String::new(),
        };
        let cancelled = |word: &str| matches!(word, "cancelled" | "canceled");
        let outcome = match (reply.outcome.as_deref(), reply.status.as_deref()) {
            // Cancelled yet finished: neither is trusted. (A queued status beside `cancelled`
            // may be the state the cancel found.)
            (Some(outcome), Some(status @ ("completed" | "succeeded" | "failed")))
                if cancelled(outcome) =>
            {
                return Err(invalid(format!(
                    "the cancel reply says `{outcome}` with status `{status}`"
                )));
            }
            (Some(word), _) if cancelled(word) => CancelOutcome::Cancelled,
            (Some("not_cancellable"), _) => CancelOutcome::NotCancellable,
            (Some(other), _) => CancelOutcome::Other(other.to_owned()),
            (None, Some(status)) if cancelled(status) => CancelOutcome::Cancelled,
            (None, Some(status)) => CancelOutcome::Other(status.to_owned()),
            (None, None) => return Err(invalid("the cancel reply says no outcome".into())),
        };
        tracing::info!(parent: &self.span("cancel"), %outcome, "cancel answered");
        Ok(outcome)
    }

    /// Saves every file of the job's output into `dir`; see [`Client::download_with`]. An
    /// output that names no file of a model that makes files is an error
    /// ([`check_names_files`](Self::check_names_files)).
    pub async fn download(
        &self,
        output: &M::Output,
        dir: impl AsRef<Path>,
        options: &DownloadOptions,
    ) -> Result<Vec<DownloadedFile>, Error> {
        let files = self.files(output);
        self.check_files(&files)?;
        let unfetchable = self.unfetchable(output);
        let fetching = &self.client.inner.fetching;
        let saved = download::save_all(self.http(), fetching, files, dir.as_ref(), options).await;
        let Some(unfetchable) = unfetchable else {
            return saved;
        };
        // What names no file fails the download as a file that cannot be fetched does, after
        // the files that can be are saved, and decides over a failure a later fetch may mend
        // (QA repro53 N1: beside a file cut short it went unsaid, exit 3).
        let (saved, mut failures) = match saved {
            Ok(saved) => (saved, Vec::new()),
            Err(Error::NotAllSaved {
                saved,
                failure,
                others,
            }) => (saved, [*failure].into_iter().chain(others).collect()),
            Err(err) => (Vec::new(), vec![err]),
        };
        failures.push(unfetchable);
        download::saved_but(saved, failures)
    }

    /// [`Error::UnreadableOutput`] naming the places of `output` where its model's fields of
    /// files name none ([`crate::model::not_files`]); `None` when there are none, or the model
    /// is not known.
    fn unfetchable(&self, output: &M::Output) -> Option<Error> {
        let model = self.output_model()?;
        let output = serde_json::to_value(output).ok()?;
        let found = crate::model::not_files(model, &output);
        let (first, value) = found.first()?;
        let others = match found.len() - 1 {
            0 => String::new(),
            1 => " (and 1 other place)".to_owned(),
            n => format!(" (and {n} other places)"),
        };
        Some(Error::UnreadableOutput {
            request_id: self.request_id.to_string(),
            reason: format!("`{first}` names no file{others}"),
            // The server's text: scrubbed, as every excerpt of a reply is.
            excerpt: crate::http::wire::scrubbed_excerpt(
                value.to_string().as_bytes(),
                self.http().token(),
            ),
        })
    }

    /// The files `output` names, as this job's model reads it ([`Output::files_of`]): for a
    /// job of a model chosen at run time, every string of a field the model lists as files is
    /// one, as its typed output reads it.
    ///
    /// [`Output::files_of`]: crate::Output::files_of
    pub fn files<'o>(&self, output: &'o M::Output) -> Vec<OutputFile<'o>> {
        match self.output_model() {
            Some(model) => output.files_of(model),
            None => output.files(),
        }
    }

    /// The model whose output this job's is: its own, or for a job rebuilt from its id alone,
    /// the catalog's model its finished result names (`model_id`), so a job run elsewhere is
    /// read as its model's output too.
    fn output_model(&self) -> Option<&'static ModelInfo> {
        self.model.or_else(|| {
            let reply = self.cached()?;
            crate::catalog::find(reply.model_id.as_deref()?)
        })
    }

    /// [`Error::UnreadableOutput`] when the job's model is known to make files (its
    /// [`Upstream::output_kind`]) and `output` names none: the job succeeded, may be billed,
    /// and nothing came of it. [`download`](Self::download) checks it first.
    ///
    /// [`Upstream::output_kind`]: crate::model::Upstream::output_kind
    pub fn check_names_files(&self, output: &M::Output) -> Result<(), Error> {
        self.check_files(&self.files(output))
    }

    /// [`check_names_files`](Self::check_names_files) of the files an output names.
    fn check_files(&self, files: &[OutputFile<'_>]) -> Result<(), Error> {
        // QA repro47 P1: `{}` or `{"images": 5}` was "succeeded; saved 0 files", exit 0.
        let kind = self
            .output_model()
            .and_then(|model| model.upstream.output_kind);
        match kind.filter(|_| files.is_empty()) {
            Some(kind) => Err(Error::UnreadableOutput {
                request_id: self.request_id.to_string(),
                reason: format!("it names no file, where the model makes {kind} files"),
                excerpt: String::new(),
            }),
            None => Ok(()),
        }
    }

    /// Refuses a reply that names another job than this one: its state, output or cancel
    /// would be taken for this job's (another's files saved as this job's).
    fn about_this_job(&self, what: &str, replied: Option<&str>) -> Result<(), Error> {
        match replied {
            Some(other) if other != &*self.request_id => Err(Error::InvalidResponse {
                request_id: Some(self.request_id.to_string()),
                status: 200,
                // Shown through `printable` by the error's `Display`.
                reason: format!("the {what} reply is for request `{other}`"),
                excerpt: String::new(),
            }),
            _ => Ok(()),
        }
    }

    /// The client's connection.
    fn http(&self) -> &Http {
        &self.client.inner.http
    }

    /// GETs `/v1/requests/{id}/{action}`, retrying transient failures; the result with
    /// `include_cost=true`, so a finished job says what it cost.
    async fn get<T: serde::de::DeserializeOwned>(&self, action: &str) -> Result<T, Error> {
        let mut url = request_url(self.http(), &self.request_id, action)?;
        if action == "result" {
            url.query_pairs_mut().append_pair("include_cost", "true");
        }
        let call = Call {
            method: Method::GET,
            url,
            body: None,
            timeout: self.client.inner.timeouts.request,
            // A result may hold its files inline, as `data:` URIs, as large as the API takes
            // a request (QA repro51 F1: a 40 MB one could never be read).
            max_reply: match action {
                "result" => crate::media::MAX_REQUEST_BYTES,
                _ => crate::http::transport::MAX_REPLY_BYTES,
            },
        };
        self.http()
            .send(call, Failure::is_transient)
            .await
            .map_err(|failure| failure.error.for_job(&self.request_id))
    }

    /// Fetches the result reply; a terminal one is kept (shared, not copied) for `result()`.
    pub(crate) async fn fetch_result(&self) -> Result<Arc<ResultReply>, Error> {
        let reply: ResultReply = self.get("result").instrument(self.span("result")).await?;
        self.about_this_job("result", reply.request_id.as_deref())?;
        let reply = Arc::new(reply);
        if result_state(&reply).is_terminal() && !lacks_output(&reply) {
            *self.finished.lock().unwrap_or_else(PoisonError::into_inner) =
                Some(Arc::clone(&reply));
        }
        Ok(reply)
    }

    /// The terminal result reply kept, else a fresh one (a finished job's state cannot change).
    async fn latest_result(&self) -> Result<Arc<ResultReply>, Error> {
        match self.cached() {
            Some(reply) => Ok(reply),
            None => self.fetch_result().await,
        }
    }

    pub(crate) fn cached(&self) -> Option<Arc<ResultReply>> {
        self.finished
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The output of a result reply, or the error its state means.
    pub(crate) fn output_of(&self, reply: &ResultReply) -> Result<M::Output, Error> {
        let request_id = || self.request_id.to_string();
        match result_state(reply) {
            JobState::Succeeded => match &reply.output {
                Some(output) => self.typed_output(output),
                None => Err(no_output(&self.request_id, reply)),
            },
            // Neither an output nor an error (either would have made it one of the above).
            JobState::Completed => Err(no_output(&self.request_id, reply)),
            JobState::Failed => Err(Error::JobFailed {
                request_id: request_id(),
                error: JobError(reply.error.clone().unwrap_or(serde_json::Value::Null)),
            }),
            JobState::Cancelled => Err(Error::Cancelled {
                request_id: request_id(),
            }),
            _ => Err(Error::NotFinished {
                request_id: request_id(),
                status: reply.status.clone(),
            }),
        }
    }

    fn typed_output(&self, output: &serde_json::Value) -> Result<M::Output, Error> {
        // Read from the reply's tree in place. Both texts quote what the server sent, which
        // the transport scrubbed of the token.
        M::Output::deserialize(output).map_err(|err| Error::UnreadableOutput {
            request_id: self.request_id.to_string(),
            reason: err.to_string(),
            excerpt: wire::excerpt(output.to_string().as_bytes()),
        })
    }
}

/// The state of a result reply; `completed`, or a status this client does not know, is read
/// by whether it has an error, then an output (`completed` with any; an unknown status, such as
/// `ready`, with one that holds something: the API gives an output only once a job succeeded,
/// and a wait would otherwise poll such a job until its deadline).
/// What the reply says the job cost, when that is an amount of US dollars (an exact [`Usd`]).
fn cost_of(reply: &ResultReply) -> Option<Usd> {
    reply.cost_amount().and_then(Usd::from_dollars)
}

pub(crate) fn result_state(reply: &ResultReply) -> JobState {
    match JobState::from_wire(&reply.status) {
        JobState::Completed | JobState::Unknown if has_error(reply) => JobState::Failed,
        JobState::Completed if reply.output.is_some() => JobState::Succeeded,
        JobState::Unknown if reply.output.as_ref().is_some_and(holds_something) => {
            JobState::Succeeded
        }
        state => state,
    }
}

/// Whether an output holds anything: not `{}`, `[]` or `""`.
fn holds_something(output: &serde_json::Value) -> bool {
    use serde_json::Value;
    match output {
        Value::Null => false,
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::String(text) => !text.trim().is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Whether a result's `error` says something: `""`, `{}`, `[]` and `false` are how some
/// servers write "none".
fn has_error(reply: &ResultReply) -> bool {
    use serde_json::Value;
    reply.error.as_ref().is_some_and(|error| match error {
        Value::Null => false,
        Value::Bool(error) => *error,
        Value::String(text) => !text.trim().is_empty(),
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Number(_) => true,
    })
}

/// A finished reply with nothing to give: `succeeded` without an output, or `completed` with
/// neither output nor error. It is not kept as the job's end: a later call may find the
/// output (a server may write the state before the files).
pub(crate) fn lacks_output(reply: &ResultReply) -> bool {
    matches!(
        result_state(reply),
        JobState::Succeeded | JobState::Completed
    ) && reply.output.is_none()
}

/// The error of a reply that [`lacks_output`].
pub(crate) fn no_output(request_id: &str, reply: &ResultReply) -> Error {
    Error::InvalidResponse {
        request_id: Some(request_id.to_owned()),
        status: 200,
        reason: format!("the job is {} but the reply has no output", reply.status),
        excerpt: String::new(),
    }
}

/// `{base}/v1/requests/{request_id}/{action}`, with the id as one escaped segment; an id that
/// cannot be one ([`check_request_id`]) is refused before anything is sent.
fn request_url(http: &Http, request_id: &str, action: &str) -> Result<Url, Error> {
    check_request_id(request_id).map_err(|reason| Error::InvalidRequestId {
        request_id: request_id.to_owned(),
        reason,
    })?;
    Ok(http.url(["v1", "requests", request_id, action]))
}

/// Longest request id taken: the API's are UUIDs.
const MAX_REQUEST_ID: usize = 256;

/// Why `id` cannot be a request id, if it cannot. A request id goes into URLs, file names,
/// logs and reports, whether a user or a server gave it: anything odd is refused rather than
/// trusted (a URL drops `..`, and one that held the token, scrubbed on arrival, could not be
/// followed without showing it).
pub(crate) fn check_request_id(id: &str) -> Result<(), &'static str> {
    if id.trim().is_empty() {
        Err("it is empty")
    } else if id.len() > MAX_REQUEST_ID {
        Err("it is longer than 256 bytes")
    } else if id.trim() != id {
        Err("it has spaces around it")
    } else if matches!(id, "." | "..") {
        Err("a URL would drop it")
    } else if printable_id(id, MAX_REQUEST_ID) != id {
        // An inner ASCII space passes: escaped in the URL, and quoted in any command shown,
        // a server's id that has one can still be followed (QA repro41 L6 read "spaces" as
        // every space).
        Err("it has control or invisible characters, or spaces other than ASCII's")
    } else if id.starts_with('-') {
        Err("it starts with `-`, which a command line reads as an option")
    } else if id.contains(REDACTED) {
        Err("it holds the API token")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn statuses_read_in_any_case_and_spelling() {
        for (wire, state) in [
            ("IN_QUEUE", JobState::InQueue),
            ("In progress", JobState::InProgress),
            (" in-progress ", JobState::InProgress),
            ("COMPLETED", JobState::Completed),
            ("Success", JobState::Succeeded),
            ("ERROR", JobState::Failed),
            ("Canceled", JobState::Cancelled),
            ("thinking", JobState::Unknown),
        ] {
            assert_eq!(JobState::from_wire(wire), state, "{wire:?}");
        }
    }

    #[test]
    fn a_cost_too_large_for_dollars_is_no_cost() -> Result<(), serde_json::Error> {
        let reply: ResultReply = serde_json::from_str(r#"{"status": "succeeded", "cost": 1e300}"#)?;
        assert_eq!(cost_of(&reply), None);
        assert_eq!(reply.cost_said().as_deref(), Some("1e+300"));
        let reply: ResultReply = serde_json::from_str(r#"{"status": "succeeded", "cost": 0.09}"#)?;
        assert_eq!(cost_of(&reply), Usd::from_dollars(0.09));
        Ok(())
    }

    #[test]
    fn records_read_with_or_without_their_submit_time() -> Result<(), serde_json::Error> {
        let bare: JobRecord = serde_json::from_str(r#"{"request_id":"r1","model_id":"m/x"}"#)?;
        assert_eq!(bare, JobRecord::new("r1", "m/x"));
        assert_eq!(
            serde_json::to_string(&bare)?,
            r#"{"request_id":"r1","model_id":"m/x"}"#
        );
        let timed: JobRecord = serde_json::from_str(
            r#"{"request_id":"r1","model_id":"m/x","submitted_at":"2026-12-03T19:00:00.125+01:00"}"#,
        )?;
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_320_800_125);
        assert_eq!(timed, JobRecord::new("r1", "m/x").submitted_at(at));
        assert_eq!(
            serde_json::to_value(&timed)?["submitted_at"],
            "2026-12-03T18:00:00.125Z"
        );
        let bad = serde_json::from_str::<JobRecord>(
            r#"{"request_id":"r1","model_id":"m/x","submitted_at":"yesterday"}"#,
        );
        assert!(bad.is_err_and(|e| e.to_string().contains("\"yesterday\"")));
        Ok(())
    }

    #[test]
    fn a_submit_time_is_placed_on_this_clock_unless_it_is_ahead_of_it() {
        let ago =
            JobRecord::new("r1", "m/x").submitted_at(SystemTime::now() - Duration::from_secs(5));
        let accepted = ago.accepted().map(|a| a.at.elapsed());
        assert!(
            accepted.is_some_and(|e| e >= Duration::from_secs(5) && e < Duration::from_secs(6))
        );
        let ahead =
            JobRecord::new("r1", "m/x").submitted_at(SystemTime::now() + Duration::from_secs(60));
        assert!(ahead.accepted().is_none());
    }

    #[test]
    fn urls_escape_request_ids() -> Result<(), Error> {
        let client = Client::builder()
            .token("tok-1234")
            .base_url("http://127.0.0.1:9/api/")
            .build()?;
        assert_eq!(
            request_url(&client.inner.http, "a/../b?c", "status")?.as_str(),
            "http://127.0.0.1:9/api/v1/requests/a%2F..%2Fb%3Fc/status"
        );
        Ok(())
    }

    #[test]
    fn request_ids_that_could_mislead_are_refused() {
        assert_eq!(check_request_id("3f2c-41d8-a1b2"), Ok(()));
        for bad in [
            "",
            "   ",
            " id",
            ".",
            "..",
            "a\tb",
            "a\u{1b}[2J",
            "id\u{202e}gpj",
            "a\u{200b}b",
            "\u{feff}id",
            "a\u{a0}b",
            "a\u{3000}b",
            "-x",
            "job-[redacted]",
            &"x".repeat(257),
        ] {
            assert!(check_request_id(bad).is_err(), "{bad:?}");
        }
    }
}
