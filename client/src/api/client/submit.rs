//! Submitting: a typed input, or a JSON input of a model chosen at run time, through the one
//! submit every path shares; and jobs rebuilt from their request ids.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use reqwest::{Method, Url};
use tracing::Instrument as _;

use crate::api::Client;
use crate::api::dynamic::DynJob;
use crate::api::job::{Accepted, Job, JobRecord, check_request_id};
use crate::catalog::find;
use crate::error::Error;
use crate::http::retry::{Failure, SubmitControl};
use crate::http::transport::{Call, Http};
use crate::http::wire::SubmitReply;
use crate::media::{Files, Media};
use crate::model::{DynInput, Input, Model, ModelInfo, encode};
use crate::report::Problem;
use crate::validate::instance::{Instance, View};

impl Client {
    /// Validates the input, sends it, and returns the job.
    ///
    /// Invalid input is refused without a network call ([`Error::Validation`]). The submit is
    /// retried only when the server provably did not take it (no connection, or 429); any
    /// other doubt gives [`Error::SubmitOutcomeUnknown`] and nothing is sent again.
    pub async fn submit<M: Model>(&self, input: &M::Input) -> Result<Job<M>, Error> {
        self.submit_with::<M>(input, &SubmitControl::new()).await
    }

    /// [`submit`](Self::submit) under a [`SubmitControl`], which can stop it being sent again
    /// (at Ctrl-C, say) and tells whether dropping it now leaves its outcome unknown.
    pub async fn submit_with<M: Model>(
        &self,
        input: &M::Input,
        control: &SubmitControl,
    ) -> Result<Job<M>, Error> {
        let (files, max_body) = (self.inner.files, self.inner.max_body);
        let prepare = move |input: &M::Input| -> Result<(Bytes, Vec<Problem>), Error> {
            // The input's own check (a hand-written input may add to it); with local files
            // off, paths are refused first, so that check opens none.
            if files == Files::NoPaths {
                crate::validate::typed_input(M::info(), input, Files::NoPaths).into_result()?;
            }
            let warnings = input.validate().into_result()?;
            Ok((encode(input, max_body)?, warnings))
        };
        let (body, warnings) = if names_local_file(input) {
            let input = input.clone();
            off_worker(move || prepare(&input)).await?
        } else {
            prepare(input)?
        };
        self.submit_body(M::info(), body, &warnings, control).await
    }

    /// [`submit`](Self::submit), with the model taken from the input's type.
    pub async fn submit_input<I: Input>(&self, input: &I) -> Result<Job<I::Model>, Error> {
        self.submit::<I::Model>(input).await
    }

    /// Submits, waits for the end, and returns the output.
    ///
    /// Only the output comes back: for the request id, the cost, or a deadline, use
    /// [`submit`](Self::submit) then [`Job::wait_with`] (whose
    /// [`timeout`](crate::WaitOptions::timeout) cancels a job still queued).
    ///
    /// Dropped while it waits (under `tokio::time::timeout`, or a `select!` that took another
    /// branch), it asks the server to cancel the job, in a task of its own (best effort: a
    /// running job cannot be cancelled, and is billed), and logs the request id at warn level,
    /// so the job is not lost without a trace. A program that ends right after (its `main`
    /// returning on that timeout) ends that task with its runtime, the cancel unsent, and a
    /// queued job then runs and is billed: `await` [`settle`](Self::settle) first. Dropped
    /// while the submit is on the wire, the job may have been accepted with nobody told its id:
    /// bound the submit with [`submit_with`](Self::submit_with) and a [`SubmitControl`]
    /// instead.
    pub async fn run<M: Model>(&self, input: &M::Input) -> Result<M::Output, Error> {
        let job = self.submit::<M>(input).await?;
        let abandoned = Abandoned(Some(job.clone()));
        let output = job.wait().await;
        abandoned.forget();
        output
    }

    /// Waits for the cancels that dropped [`run`](Self::run)s are sending in the background
    /// (each given [`CANCEL_TIMEOUT`](crate::api::wait::CANCEL_TIMEOUT) at most): call it
    /// before the program exits after a run was dropped, as a runtime that shuts down ends
    /// them unsent. Returns at once when there are none.
    pub async fn settle(&self) {
        let settling = &self.inner.settling;
        loop {
            // Made before the count is read: a cancel ending in between still wakes it.
            let done = settling.done.notified();
            if settling.pending.load(Ordering::Acquire) == 0 {
                return;
            }
            done.await;
        }
    }

    /// [`run`](Self::run), with the model taken from the input's type.
    pub async fn run_input<I: Input>(
        &self,
        input: &I,
    ) -> Result<<I::Model as Model>::Output, Error> {
        self.run::<I::Model>(input).await
    }

    /// Decodes a JSON input for `model`, validates it, sends it, and returns the job.
    ///
    /// Like [`Client::submit`]: invalid input is refused without a network call
    /// ([`Error::Validation`], with every problem), and the submit is retried only when the
    /// server provably did not take it.
    pub async fn submit_json(
        &self,
        model: &'static ModelInfo,
        input: &serde_json::Value,
    ) -> Result<DynJob, Error> {
        self.submit_json_with(model, input, &SubmitControl::new())
            .await
    }

    /// [`submit_json`](Self::submit_json) under a [`SubmitControl`].
    pub async fn submit_json_with(
        &self,
        model: &'static ModelInfo,
        input: &serde_json::Value,
        control: &SubmitControl,
    ) -> Result<DynJob, Error> {
        // Its local files' headers are read here; the files themselves, into the body, off
        // the worker (`submit_decoded_with`).
        let decoded = (model.decode)(model, input, self.inner.files)?;
        self.submit_decoded_with(&decoded, control).await
    }

    /// Sends a decoded JSON input ([`ModelInfo::decode`]): what [`Client::submit_json`] does
    /// after decoding, for a caller that has decoded it already (to show its problems first).
    pub async fn submit_decoded(&self, input: &DynInput) -> Result<DynJob, Error> {
        self.submit_decoded_with(input, &SubmitControl::new()).await
    }

    /// [`submit_decoded`](Self::submit_decoded) under a [`SubmitControl`].
    pub async fn submit_decoded_with(
        &self,
        input: &DynInput,
        control: &SubmitControl,
    ) -> Result<DynJob, Error> {
        // Decoded by the caller, local files allowed: checked again when this client sends none.
        if self.inner.files == Files::NoPaths {
            crate::validate::typed_input(input.model(), input.instance(), Files::NoPaths)
                .into_result()?;
        }
        let max_body = self.inner.max_body;
        let body = if names_local_file(input.instance()) {
            let input = input.clone();
            off_worker(move || input.encode(max_body)).await?
        } else {
            input.encode(max_body)?
        };
        self.submit_body(input.model(), body, input.warnings(), control)
            .await
    }

    /// Sends a validated, encoded input: the one submit of every path (typed inputs, JSON
    /// inputs of a model chosen at run time).
    async fn submit_body<M: Model>(
        &self,
        model: &'static ModelInfo,
        body: Bytes,
        warnings: &[Problem],
        control: &SubmitControl,
    ) -> Result<Job<M>, Error> {
        let span = tracing::info_span!(
            "runcomfy.submit",
            model_id = model.id,
            request_id = tracing::field::Empty
        );
        async {
            for warning in warnings {
                tracing::debug!(path = %warning.path, rule = %warning.rule, "validation warning");
            }
            let http = &self.inner.http;
            let call = Call {
                method: Method::POST,
                url: model_url(http, model.id)?,
                body: Some(body),
                timeout: self.inner.timeouts.submit,
                max_reply: crate::http::transport::MAX_REPLY_BYTES,
            };
            let reply: SubmitReply = http
                .send_controlled(call, Failure::is_safe_to_resubmit, control)
                .await
                .map_err(|failure| submit_error(model.id, failure))?;
            let accepted = Accepted::now();
            if let Err(why) = check_request_id(&reply.request_id) {
                let shown =
                    crate::printable::printable_id(&reply.request_id, crate::error::SHOWN_CHARS);
                return Err(Error::SubmitOutcomeUnknown {
                    model_id: model.id,
                    failure: Box::new(Error::InvalidResponse {
                        request_id: None,
                        status: 200,
                        reason: format!("unusable request_id `{shown}`: {why}"),
                        excerpt: String::new(),
                    }),
                });
            }
            tracing::Span::current().record("request_id", reply.request_id.as_str());
            tracing::info!("submitted");
            Ok(Job::new(
                self.clone(),
                reply.request_id,
                Some(model),
                Some(accepted),
            ))
        }
        .instrument(span)
        .await
    }

    /// A job submitted earlier (by this process or another), from its request id.
    pub fn job<M: Model>(&self, request_id: impl Into<String>) -> Job<M> {
        Job::new(self.clone(), request_id.into(), Some(M::info()), None)
    }

    /// A saved job, checking it belongs to `M`. With the record's submit time, its wait plans
    /// from the model's learned run times as if this process had submitted it.
    pub fn resume<M: Model>(&self, record: &JobRecord) -> Result<Job<M>, Error> {
        if record.model_id != M::ID {
            return Err(Error::ModelMismatch {
                request_id: record.request_id.clone(),
                expected: M::ID,
                found: record.model_id.clone(),
            });
        }
        Ok(Job::new(
            self.clone(),
            record.request_id.clone(),
            Some(M::info()),
            record.accepted(),
        ))
    }

    /// A job submitted earlier, from its request id; the model is unknown.
    pub fn job_json(&self, request_id: impl Into<String>) -> DynJob {
        Job::new(self.clone(), request_id.into(), None, None)
    }

    /// A saved job; its model id must be in the catalog. Waited for as
    /// [`resume`](Self::resume)'s.
    pub fn resume_json(&self, record: &JobRecord) -> Result<DynJob, Error> {
        let Some(model) = find(&record.model_id) else {
            return Err(Error::ModelMismatch {
                request_id: record.request_id.clone(),
                expected: "a model of the catalog",
                found: record.model_id.clone(),
            });
        };
        self.resume_model(model, record)
    }

    /// A saved job of `model` (of the catalog, or one run [`unchecked`](crate::unchecked)),
    /// checking the record is of it. Waited for as [`resume`](Self::resume)'s.
    pub fn resume_model(
        &self,
        model: &'static ModelInfo,
        record: &JobRecord,
    ) -> Result<DynJob, Error> {
        if record.model_id != model.id {
            return Err(Error::ModelMismatch {
                request_id: record.request_id.clone(),
                expected: model.id,
                found: record.model_id.clone(),
            });
        }
        Ok(Job::new(
            self.clone(),
            record.request_id.clone(),
            Some(model),
            record.accepted(),
        ))
    }
}

/// Whether a typed input holds a local file anywhere (a typed input's text is text, never a
/// file): checking and sending it reads the disk.
fn names_local_file(input: &(impl Instance + ?Sized)) -> bool {
    fn view(view: View<'_>) -> bool {
        match view {
            View::Media(media) => matches!(media, Media::Path(_)),
            View::Array(items) => (0..items.len()).any(|i| items.item(i).is_some_and(view_of)),
            View::Object(object) => object.entries().iter().any(|(_, value)| view_of(*value)),
            View::Null | View::Bool(_) | View::Number(_) | View::String(_) => false,
        }
    }
    fn view_of(value: &dyn Instance) -> bool {
        view(value.view())
    }
    view(input.view())
}

/// Runs `work`, which reads files (validation measures them, a body carries them inline), on
/// a thread of tokio's blocking pool rather than on the async worker, where a slow disk would
/// hold every other task of a server sharing it. A panic there is resumed here.
async fn off_worker<T, E>(work: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, Error>
where
    T: Send + 'static,
    E: Into<Error> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => done.map_err(Into::into),
        Err(err) => match err.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Cancelled: the runtime is shutting down; nothing was sent.
            Err(err) => Err(Error::Encode(serde_json::Error::io(std::io::Error::other(
                err,
            )))),
        },
    }
}

/// `{base}/v1/models/{model_id}`.
/// The endpoint of model `model_id` (`/v1/models/{model_id}`), for an id that is one: an empty
/// one (the `Unchecked` type's own) would be the catalog's `/v1/models`.
pub(super) fn model_url(http: &Http, model_id: &str) -> Result<Url, Error> {
    crate::unchecked::check_id(model_id)?;
    Ok(http.url(["v1", "models"].into_iter().chain(model_id.split('/'))))
}

/// Sorts a failed submit: definite refusals as they are, everything else as unknown.
fn submit_error(model_id: &'static str, failure: Failure) -> Error {
    let definite = match &failure.error {
        // Named here: the transport does not know the model.
        Error::SubmitStopped { .. } => return Error::SubmitStopped { model_id },
        Error::Unauthorized { .. }
        | Error::Forbidden { .. }
        | Error::InsufficientBalance { .. }
        | Error::NotFound { .. }
        | Error::Rejected { .. }
        | Error::RateLimited { .. } => true,
        // An error body, or a 4xx without one; a redirect (or any other status) answering a
        // submit is no refusal of it.
        Error::Api { api, .. } => api.code.is_some() || (400..500).contains(&api.status),
        Error::Transport { .. } => failure.not_sent,
        _ => false,
    };
    if definite {
        failure.error
    } else {
        Error::SubmitOutcomeUnknown {
            model_id,
            failure: Box::new(failure.error),
        }
    }
}

/// A job [`Client::run`] waits for: dropped before the wait ends, it asks the server to cancel
/// the job (which the caller can no longer reach), and says so.
struct Abandoned<M: Model>(Option<Job<M>>);

impl<M: Model> Abandoned<M> {
    /// The wait ended: nothing to do.
    fn forget(mut self) {
        self.0 = None;
    }
}

impl<M: Model> Drop for Abandoned<M> {
    fn drop(&mut self) {
        let Some(job) = self.0.take() else {
            return;
        };
        let runtime = tokio::runtime::Handle::try_current();
        tracing::warn!(
            request_id = job.id(),
            model = job.model_id(),
            cancelling = runtime.is_ok(),
            "run() was dropped while its job was unfinished; a job already running is billed \
             (its cancel is sent in the background: Client::settle waits for it)"
        );
        if let Ok(runtime) = runtime {
            let pending = Pending::new(job.client().clone());
            runtime.spawn(async move {
                let _pending = pending;
                let cancel = tokio::time::timeout(crate::api::wait::CANCEL_TIMEOUT, job.cancel());
                match cancel.await {
                    Ok(Ok(outcome)) => tracing::info!(request_id = job.id(), ?outcome, "cancel of an abandoned run"),
                    Ok(Err(err)) => tracing::warn!(request_id = job.id(), %err, "cannot cancel an abandoned run"),
                    Err(_) => tracing::warn!(request_id = job.id(), "no answer to the cancel of an abandoned run"),
                }
            });
        }
    }
}

/// A cancel sent in the background, counted until it ends or its task is dropped (a runtime
/// shutting down), for [`Client::settle`].
struct Pending(Client);

impl Pending {
    fn new(client: Client) -> Self {
        client.inner.settling.pending.fetch_add(1, Ordering::AcqRel);
        Pending(client)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let settling = &self.0.inner.settling;
        settling.pending.fetch_sub(1, Ordering::AcqRel);
        settling.done.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_urls_keep_the_id_path() -> Result<(), Error> {
        let client = Client::builder()
            .token("tok-1234")
            .base_url("http://127.0.0.1:9/api/")
            .build()?;
        assert_eq!(
            model_url(&client.inner.http, "bytedance/seedream-4-0/edit")?.as_str(),
            "http://127.0.0.1:9/api/v1/models/bytedance/seedream-4-0/edit"
        );
        // The `Unchecked` type's empty id would be the catalog's endpoint (QA repro34 #3).
        for id in ["", "a//b", "../x"] {
            assert!(matches!(
                model_url(&client.inner.http, id),
                Err(Error::InvalidModelId(_))
            ));
        }
        Ok(())
    }
}
