//! The Model API as Rust: a [`Client`], the jobs it submits, waiting for them and saving their
//! files. Everything here goes through the HTTP layer (`crate::http`) and works on the model
//! core (`model`, `catalog`, `input`); nothing below it knows this layer.
//!
//! - [`client`]: every `impl Client`: building one, submitting (typed and JSON inputs), jobs
//!   from request ids, downloads.
//! - [`job`]: a submitted [`Job`](job::Job): its status, result and cancel calls.
//! - [`wait`]: the poll loop behind `Job::wait`; [`poll`]: when to poll, learned per model.
//! - [`download`]: saving an output's files, through the HTTP layer.
//! - [`dynamic`]: the job of a model chosen at run time.
//! - [`preflight`]: the opt-in remote check of media URLs.
//! - `replies`: every reply parser at once, for the fuzz targets.
//!
//! The [`Client`] type is defined here, at the base of the layer, because everything in it
//! holds one: a job holds its client, a wait reads its poll history, a download uses its
//! connection. What a client does is in [`client`].

pub mod client;
pub mod download;
pub mod dynamic;
pub mod job;
pub mod poll;
pub mod preflight;
pub(crate) mod replies;
pub mod wait;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::http::transport::Http;
use download::Fetching;
use poll::{PollHistory, PollPolicy};

/// A client of RunComfy's Model API.
///
/// Cheap to clone: clones share one connection pool, one token, one poll history and one
/// rate-limit pause.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// What the clones of a client share.
struct Inner {
    /// The connection: every call goes through it.
    http: Http,
    poll: PollPolicy,
    history: PollHistory,
    timeouts: Timeouts,
    /// How output files are fetched.
    fetching: Fetching,
    max_body: usize,
    /// Which media inputs validation may read: local files unless turned off.
    files: crate::media::Files,
    /// The cancels dropped runs are sending in tasks of their own.
    settling: Settling,
}

/// Cancels sent in the background (a [`Client::run`] dropped while its job waits), which
/// [`Client::settle`] waits for: a runtime that shuts down first ends them unsent.
#[derive(Default)]
struct Settling {
    pending: std::sync::atomic::AtomicUsize,
    done: tokio::sync::Notify,
}

/// Time limits of single requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Timeouts {
    /// Status, result and cancel calls.
    request: Duration,
    /// A submit, whose body may hold megabytes of `data:` URIs.
    submit: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.http.base().as_str())
            .field("token", self.inner.http.token())
            .field("retry", self.inner.http.retry_policy())
            .field("poll", &self.inner.poll)
            .field("max_body", &self.inner.max_body)
            .finish_non_exhaustive()
    }
}
