//! The crate's errors: one enum, matched on by kind, each carrying the request id once a job
//! exists; with the errors and outcomes it holds (a refused token, a best-effort cancel).
//!
//! Below everything that fails with it: the HTTP layer, the model core's encoding and the
//! client. So it names no type above it: a refused token is a [`TokenError`] here (re-exported
//! by `secret`), and what a cancel achieved is a [`CancelOutcome`] here (re-exported by `job`).
//!
//! Errors carry what the server sent as it sent it (the token scrubbed out on arrival), but
//! their `Display` shows every piece of it through [`printable`]: no control character or
//! bidirectional override, and at most [`SHOWN_CHARS`] characters of each piece. Printing an
//! error, logging it or writing it to a report cannot drive a terminal.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::report::ValidationError;

pub use crate::printable::{
    SHOWN_CHARS, SHOWN_URL_CHARS, escaped_json, printable, printable_id, printable_url,
};

/// Everything a call to the API can fail with.
///
/// Errors that happen after a job was accepted carry its request id (see
/// [`Error::request_id`]), so a caller can always resume, inspect or cancel it.
///
/// An error's text says what caused it, so [`source`](std::error::Error::source) gives none
/// (a reporter walking the chain, as `anyhow`'s `{:#}`, would say it twice): the cause is a
/// field of its variant (`failure`), or [`Error::failure`] for a submit of unknown outcome.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input failed validation; nothing was sent.
    #[error(transparent)]
    Validation(#[from] ValidationError),

    /// The input could not be serialized (a local media file could not be read, for example);
    /// nothing was sent.
    #[error("cannot serialize the input: {0}")]
    Encode(serde_json::Error),

    /// The serialized request body (with its `data:` URIs) is larger than the configured limit
    /// ([`ClientBuilder::max_body_bytes`](crate::client::ClientBuilder::max_body_bytes));
    /// nothing was sent.
    #[error(
        "the request is over its limit of {}: local files are sent inline, a third larger \
         than they are (the API has no upload); give large files as https URLs",
        size_text(*limit)
    )]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },

    /// The client is misconfigured.
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// The token was refused (HTTP 401, code 400004).
    #[error("{}{}", labelled("unauthorized", api), for_request(request_id))]
    Unauthorized {
        /// The job, when the call was about one.
        request_id: Option<String>,
        /// What the server said.
        api: ApiError,
    },

    /// The token may not do this (HTTP 403, code 403001).
    #[error("{}{}", labelled("permission denied", api), for_request(request_id))]
    Forbidden {
        /// The job, when the call was about one.
        request_id: Option<String>,
        /// What the server said.
        api: ApiError,
    },

    /// The account's balance cannot pay for the job (HTTP 402, code 400002).
    #[error("{}", labelled("insufficient balance", api))]
    InsufficientBalance {
        /// What the server said.
        api: ApiError,
    },

    /// No such model or request (HTTP 404, code 404001); request ids also expire.
    #[error("{}{}", labelled("not found", api), for_request(request_id))]
    NotFound {
        /// The job, when the call was about one.
        request_id: Option<String>,
        /// What the server said.
        api: ApiError,
    },

    /// The server refused the input (HTTP 422, code 422001); `api.detail` says why.
    #[error("{}", labelled("rejected by the server", api))]
    Rejected {
        /// What the server said, with its `detail`.
        api: ApiError,
    },

    /// Too many requests, and retrying within the policy's limits did not help; or a pause the
    /// server asked for (`Retry-After`) has longer left than the policy waits
    /// ([`RetryPolicy::with_max_retry_after`](crate::retry::RetryPolicy::with_max_retry_after)),
    /// and the call was not sent.
    #[error(
        "rate limited{}{}",
        retry_after_text(retry_after),
        for_request(request_id)
    )]
    RateLimited {
        /// The job, when the call was about one.
        request_id: Option<String>,
        /// How long the server asked to wait, if it said.
        retry_after: Option<Duration>,
    },

    /// Another client error the server reported (a bad model id, code 400001, for example).
    #[error(
        "{}{}",
        labelled("the server refused the request", api),
        for_request(request_id)
    )]
    Api {
        /// The job, when the call was about one.
        request_id: Option<String>,
        /// What the server said.
        api: ApiError,
    },

    /// A server error (5xx or code 500001) that retrying did not get past.
    #[error("{}{}", labelled("server error", api), for_request(request_id))]
    Server {
        /// The job, when the call was about one.
        request_id: Option<String>,
        /// What the server said.
        api: ApiError,
    },

    /// The connection failed, was reset or timed out, and retrying did not get past it.
    #[error(
        "transport error{}: {}",
        for_request(request_id),
        transport_text(failure, true)
    )]
    Transport {
        /// The job, when the call was about one.
        request_id: Option<String>,
        /// The HTTP client's error (it names the URL, never the token).
        failure: reqwest::Error,
    },

    /// The server's reply could not be understood.
    #[error(
        "invalid response (HTTP {status}): {}{}{}",
        printable(reason, SHOWN_CHARS),
        for_request(request_id),
        body_start(excerpt)
    )]
    InvalidResponse {
        /// The job, when the call was about one.
        request_id: Option<String>,
        /// The HTTP status.
        status: u16,
        /// What was wrong with it.
        reason: String,
        /// The start of the body, capped and with control characters replaced.
        excerpt: String,
    },

    /// A job the server says succeeded gave an output that is not the model's output type (the
    /// server's fault, or the model's output changed since this build): asking again gives the
    /// same. The job ran and may be billed; [`Job::cost`](crate::Job::cost) says what it cost.
    #[error(
        "job {} succeeded, but its output is not the model's output type: {}{}",
        printable(request_id, SHOWN_CHARS),
        printable(reason, SHOWN_CHARS),
        body_start(excerpt)
    )]
    UnreadableOutput {
        /// The job.
        request_id: String,
        /// How the output differs from the type.
        reason: String,
        /// The start of the output, capped and with control characters replaced.
        excerpt: String,
    },

    /// The job did not finish before the deadline given to `wait`. A queued job was asked to
    /// cancel (best effort); `cancel` says how that went.
    #[error(
        "job {} did not finish within {}{}",
        printable(request_id, SHOWN_CHARS),
        seconds(*after),
        cancel_text(cancel)
    )]
    Timeout {
        /// The job.
        request_id: String,
        /// The deadline that passed.
        after: Duration,
        /// The outcome of the cancel request, if one was sent.
        cancel: Option<CancelAttempt>,
    },

    /// The job ran and failed; `error` is what the server reported.
    #[error("job {} failed: {error}", printable(request_id, SHOWN_CHARS))]
    JobFailed {
        /// The job.
        request_id: String,
        /// The server's `error`, as it sent it.
        error: JobError,
    },

    /// The job was cancelled.
    #[error("job {} was cancelled", printable(request_id, SHOWN_CHARS))]
    Cancelled {
        /// The job.
        request_id: String,
    },

    /// The job has not finished yet (asked for its output too early).
    #[error(
        "job {} has not finished yet (status {})",
        printable(request_id, SHOWN_CHARS),
        printable(status, SHOWN_CHARS)
    )]
    NotFinished {
        /// The job.
        request_id: String,
        /// The status the server reported.
        status: String,
    },

    /// The submit may or may not have been accepted (reset or timeout after the body was sent,
    /// a 5xx, an unreadable reply). It is never retried, since a second submit could be billed
    /// twice; check the dashboard before submitting again.
    #[error("the submit to {model_id} may or may not have been accepted: {failure}")]
    SubmitOutcomeUnknown {
        /// The model submitted to.
        model_id: &'static str,
        /// What happened.
        failure: Box<Error>,
    },

    /// The submit was stopped ([`SubmitControl::stop`](crate::SubmitControl::stop)) with none
    /// of its attempts on the wire: nothing was accepted, and nothing more is sent.
    #[error(
        "the submit to {model_id} was stopped before it was sent (again); nothing was accepted"
    )]
    SubmitStopped {
        /// The model submitted to.
        model_id: &'static str,
    },

    /// A saved job belongs to another model than the one asked for.
    #[error(
        "job {} belongs to model {}, not {expected}",
        printable(request_id, SHOWN_CHARS),
        printable(found, SHOWN_CHARS)
    )]
    ModelMismatch {
        /// The job.
        request_id: String,
        /// The model asked for.
        expected: &'static str,
        /// The model the saved job names.
        found: String,
    },

    /// A model id that cannot name a model's endpoint: empty (the
    /// [`Unchecked`](crate::unchecked::Unchecked) type itself, not a model
    /// [`unchecked`](crate::unchecked::unchecked) made), or not a path of letters, digits, `.`,
    /// `-` and `_`. Nothing was sent.
    #[error(transparent)]
    InvalidModelId(#[from] BadModelId),

    /// A request id that cannot be one: empty, `.` or `..` (which a URL would drop), with
    /// spaces around it, control characters, or longer than any the API gives. Nothing was
    /// sent.
    #[error(
        "`{}` is not a request id ({reason})",
        crate::printable::printable_id(request_id, SHOWN_CHARS)
    )]
    InvalidRequestId {
        /// The id given.
        request_id: String,
        /// Why it is refused.
        reason: &'static str,
    },

    /// Writing a downloaded file failed.
    #[error("cannot write {}: {failure}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        failure: std::io::Error,
    },

    /// A download was refused or broke off.
    #[error("download of {} failed: {reason}", printable(url, SHOWN_CHARS))]
    Download {
        /// The file's URL.
        url: String,
        /// Why.
        reason: DownloadFailure,
    },

    /// An output listing more files than any job makes was refused before any was fetched
    /// (a reply like it is a server's fault, and following it would fill the disk). Fetching
    /// it again gives the same.
    #[error("the output lists {listed} files, more than any job makes ({most}); none was fetched")]
    TooManyFiles {
        /// How many it lists.
        listed: usize,
        /// The most an output may list.
        most: usize,
    },

    /// Some files of an output were saved, and not all: every file was tried, `failure` is
    /// the first that was not saved (the first fetching again cannot mend, when there is
    /// one: [`Error::is_transient`]), `others` the rest, `saved` those that were (whole, in
    /// place).
    #[error(
        "{failure}{} ({} other file{} saved)",
        match others.len() {
            0 => String::new(),
            1 => format!("; and 1 more file not saved: {}", others[0]),
            n => format!("; and {n} more files not saved, the first: {}", others[0]),
        },
        saved.len(),
        if saved.len() == 1 { "" } else { "s" }
    )]
    NotAllSaved {
        /// The files saved.
        saved: Vec<crate::saved::DownloadedFile>,
        /// The first file that was not.
        failure: Box<Error>,
        /// The other files that were not, each its failure.
        others: Vec<Error>,
    },
}

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadFailure {
    /// The host answered with an error status.
    #[error("HTTP {0}")]
    Status(u16),
    /// The connection failed or broke off. (The URL is not repeated: the download's error
    /// names it.)
    #[error("{}", transport_text(.0, false))]
    Transport(reqwest::Error),
    /// Too little data arrived for too long (less than a KiB in the idle time): a host that
    /// stops, or drips a byte at a time.
    #[error("next to no data for {0:?}")]
    Stalled(Duration),
    /// The connection closed before the file's end, as the file's own structure tells (PNG's
    /// IEND, JPEG's end marker, a size in its header): the reply gave no length to tell by.
    #[error("cut short: {0}")]
    CutShort(&'static str),
    /// The downloads did not end within their deadline
    /// ([`DownloadOptions::timeout`](crate::download::DownloadOptions::timeout)).
    #[error("not finished within {}", seconds(*.0))]
    TimedOut(Duration),
    /// The file is larger than the configured limit.
    #[error("larger than the {0}-byte limit")]
    TooLarge(u64),
    /// The first bytes are not what the `Content-Type` says (an error page sent as an image).
    #[error(
        "the content is not the {} its Content-Type says",
        printable(.0, SHOWN_CHARS)
    )]
    Mismatch(String),
    /// The file came compressed (`Content-Encoding`), which the client never asks for: its
    /// bytes are not the file.
    #[error(
        "sent compressed ({}) although no compression was asked for",
        printable(.0, SHOWN_CHARS)
    )]
    Encoded(String),
    /// What came is not a media file: nothing, or text (an error page or message sent with a
    /// success status).
    #[error("not a media file: {}", printable(.0, SHOWN_CHARS))]
    NotMedia(String),
    /// The URL is not an `https` URL (plain `http` is allowed to loopback addresses only), or a
    /// redirect went from `https` to plain `http`.
    #[error("not an https URL (plain http only to loopback addresses)")]
    BadUrl,
    /// The URL's host is not one output files come from: RunComfy's hosts, the API's own host,
    /// or one allowed with
    /// [`ClientBuilder::allow_output_host`](crate::client::ClientBuilder::allow_output_host).
    #[error(
        "{} is not a host output files come from (RunComfy's, or the API's own); allow it \
         explicitly to fetch from it",
        printable(.0, SHOWN_CHARS)
    )]
    HostNotAllowed(String),
    /// More redirects than the client follows.
    #[error("too many redirects")]
    TooManyRedirects,
    /// A redirect's `Location` is no URL (or held the API token, whose scrubbed text is none).
    #[error("redirected to something that is not a URL")]
    BadRedirect,
    /// What the output names is no whole URL (a path, or a scheme with no host), so there is
    /// nowhere to fetch it from.
    #[error("not a whole URL (a scheme and a host): nowhere to fetch it from")]
    NotAUrl,
    /// The URL is longer than any file host takes (HTTP stacks refuse a request line past
    /// 8 to 64 KiB); its length in bytes.
    #[error("the URL is {0} bytes long, more than any file host takes")]
    UrlTooLong(usize),
    /// A file given inline as a `data:` URI that is malformed; why.
    #[error("a malformed data: URI: {0}")]
    BadDataUri(String),
}

impl DownloadFailure {
    /// Whether fetching the file again cannot help: what came, or where it is, was refused
    /// (not what its type says, compressed, not media, too large, not https, a host not
    /// allowed, redirects in circles), as opposed to a network or host trouble that may pass.
    pub fn is_refusal(&self) -> bool {
        match self {
            DownloadFailure::Status(_)
            | DownloadFailure::Transport(_)
            | DownloadFailure::Stalled(_)
            | DownloadFailure::CutShort(_)
            | DownloadFailure::TimedOut(_) => false,
            DownloadFailure::TooLarge(_)
            | DownloadFailure::Mismatch(_)
            | DownloadFailure::Encoded(_)
            | DownloadFailure::NotMedia(_)
            | DownloadFailure::BadUrl
            | DownloadFailure::HostNotAllowed(_)
            | DownloadFailure::TooManyRedirects
            | DownloadFailure::BadRedirect
            | DownloadFailure::NotAUrl
            | DownloadFailure::UrlTooLong(_)
            | DownloadFailure::BadDataUri(_) => true,
        }
    }
}

/// What the API said in an error body (`{error_code, error_message, detail}`) or, without one,
/// the HTTP status.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status (200 for error bodies sent with 200).
    pub status: u16,
    /// RunComfy's `error_code` (422001, ...), when the body had one.
    pub code: Option<i64>,
    /// RunComfy's `error_message`, or a short excerpt of the body.
    pub message: String,
    /// RunComfy's `detail` (field-level problems for 422), when present; boxed to keep
    /// [`Error`] small.
    pub detail: Option<Box<serde_json::Value>>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = if self.message.is_empty() {
            "(no message)"
        } else {
            &self.message
        };
        write!(
            f,
            "{} (HTTP {}",
            printable(message, SHOWN_CHARS),
            self.status
        )?;
        if let Some(code) = self.code {
            write!(f, ", code {code}")?;
        }
        f.write_str(")")?;
        // An empty `detail` (`[]`, `{}`, `""`) says nothing.
        let said = |d: &&serde_json::Value| match d {
            serde_json::Value::Null => false,
            serde_json::Value::Array(items) => !items.is_empty(),
            serde_json::Value::Object(fields) => !fields.is_empty(),
            serde_json::Value::String(text) => !text.is_empty(),
            _ => true,
        };
        if let Some(detail) = self.detail.as_deref().filter(said) {
            write!(
                f,
                "; detail: {}",
                printable(&detail.to_string(), SHOWN_CHARS)
            )?;
        }
        Ok(())
    }
}

/// The `error` of a failed job, as the server sent it (its shape is not documented); shown
/// through [`printable`].
#[derive(Debug, Clone, PartialEq)]
pub struct JobError(pub serde_json::Value);

impl JobError {
    /// A message from the error: the string itself, or its `message`/`error_message` field.
    pub fn message(&self) -> Option<&str> {
        match &self.0 {
            serde_json::Value::String(text) => Some(text),
            serde_json::Value::Object(map) => ["message", "error_message", "detail"]
                .iter()
                .find_map(|key| map.get(*key).and_then(|v| v.as_str())),
            _ => None,
        }
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.message(), &self.0) {
            (Some(message), _) => f.write_str(&printable(message, SHOWN_CHARS)),
            (None, serde_json::Value::Null) => f.write_str("(no error given)"),
            (None, other) => f.write_str(&printable(&other.to_string(), SHOWN_CHARS)),
        }
    }
}

/// How a best-effort cancel went.
#[derive(Debug)]
#[non_exhaustive]
pub enum CancelAttempt {
    /// The server answered.
    Answered(CancelOutcome),
    /// The cancel request itself failed.
    Failed(Box<Error>),
    /// The cancel request was sent and got no answer within this long: the job may or may
    /// not be cancelled.
    Unanswered(Duration),
}

/// What a cancel achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CancelOutcome {
    /// The job was cancelled (it had not started).
    Cancelled,
    /// The job is running or finished and cannot be cancelled.
    NotCancellable,
    /// An outcome this client does not know, as the server wrote it.
    Other(String),
}

impl CancelOutcome {
    /// The outcome as the API writes it (`cancelled`, `not_cancellable`, or the server's own
    /// word as it came, for JSON: not escaped for a terminal as [`Display`](fmt::Display) is).
    pub fn wire(&self) -> &str {
        match self {
            CancelOutcome::Cancelled => "cancelled",
            CancelOutcome::NotCancellable => "not_cancellable",
            CancelOutcome::Other(other) => other,
        }
    }
}

impl fmt::Display for CancelOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CancelOutcome::Cancelled => f.write_str("cancelled"),
            CancelOutcome::NotCancellable => f.write_str("not cancellable"),
            CancelOutcome::Other(other) => f.write_str(&printable(other, SHOWN_CHARS)),
        }
    }
}

/// A model id that cannot name a model: it becomes the request's URL path, so only the
/// characters RunComfy's ids are made of are taken
/// ([`unchecked::check_id`](crate::unchecked::check_id)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{id}` is not a model id: {reason}")]
pub struct BadModelId {
    /// The id as given, made printable.
    pub id: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// A token that cannot be sent in an HTTP header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is empty or only whitespace.
    #[error("the API token is empty")]
    Empty,
    /// The token has characters other than printable ASCII, which RunComfy's tokens are made
    /// of (the token itself is not shown).
    #[error(
        "the API token has characters other than printable ASCII (RunComfy's tokens have none)"
    )]
    InvalidCharacters,
    /// The token is longer than any RunComfy gives.
    #[error("the API token is longer than {max} characters (RunComfy's are a few dozen)")]
    TooLong {
        /// The most taken.
        max: usize,
    },
}

/// A misconfigured client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No token was given (`RUNCOMFY_TOKEN` is unset for `from_env`).
    #[error("no API token: set RUNCOMFY_TOKEN or pass one to the builder")]
    MissingToken,
    /// The token cannot be used.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The base URL is not a URL.
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL given.
        url: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The user agent cannot be sent in an HTTP header.
    #[error("the user agent has characters an HTTP header cannot carry")]
    InvalidUserAgent,
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Http(reqwest::Error),
}

impl Error {
    /// The files saved before the error, when a download saved some ([`Error::NotAllSaved`]).
    pub fn saved_files(&self) -> &[crate::saved::DownloadedFile] {
        match self {
            Error::NotAllSaved { saved, .. } => saved,
            _ => &[],
        }
    }

    /// The error itself, or for [`Error::NotAllSaved`] the failure that kept a file unsaved:
    /// what decides whether fetching again can help.
    pub fn failure(&self) -> &Error {
        match self {
            Error::NotAllSaved { failure, .. } => failure.failure(),
            other => other,
        }
    }

    /// Whether a job may exist, and be billed, despite the error: the submit may have been
    /// accepted ([`Error::SubmitOutcomeUnknown`]), or the error is about a job the server took
    /// (it has a request id: a failed job, a deadline, a wait that failed; or its files failed to
    /// download). Sending
    /// the same input again may then pay twice: look the job up first
    /// ([`request_id`](Self::request_id), [`Client::job`](crate::Client::job)).
    pub fn may_have_been_billed(&self) -> bool {
        // A download's output came from a job that ran.
        matches!(
            self,
            Error::SubmitOutcomeUnknown { .. }
                | Error::Download { .. }
                | Error::TooManyFiles { .. }
                | Error::NotAllSaved { .. }
        ) || self.request_id().is_some()
    }

    /// Whether the same call may succeed later, unchanged: a rate limit, a server error, a
    /// connection or reply that failed, a deadline or a job not finished yet. Never a refusal,
    /// an invalid input or a failed job; and a submit whose outcome is unknown is not to be
    /// sent again ([`may_have_been_billed`](Self::may_have_been_billed)).
    ///
    /// The same call, not the same program: an error that names a job
    /// ([`request_id`](Self::request_id)) came after its submit, so retry what failed on that
    /// job ([`Client::job`](crate::Client::job) then [`Job::wait`](crate::Job::wait), or the
    /// download), not [`Client::run`](crate::Client::run) or a submit, which would pay for a
    /// second job.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.failure(),
            Error::RateLimited { .. }
                | Error::Server { .. }
                | Error::Transport { .. }
                | Error::InvalidResponse { .. }
                | Error::Timeout { .. }
                | Error::NotFinished { .. }
                | Error::Download {
                    reason: DownloadFailure::Status(500..=599)
                        | DownloadFailure::Transport(_)
                        | DownloadFailure::Stalled(_)
                        | DownloadFailure::CutShort(_)
                        | DownloadFailure::TimedOut(_),
                    ..
                }
        )
    }

    /// Whether the API refused the token (HTTP 401) or what it may do (403): every call made
    /// with it, a submit included, would be refused the same way, so a program stops rather
    /// than carry on without what was asked (a price, a status).
    pub fn is_token_refused(&self) -> bool {
        matches!(
            self.failure(),
            Error::Unauthorized { .. } | Error::Forbidden { .. }
        )
    }

    /// The request id of the job the error is about, when a job exists.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Unauthorized { request_id, .. }
            | Error::Forbidden { request_id, .. }
            | Error::NotFound { request_id, .. }
            | Error::RateLimited { request_id, .. }
            | Error::Api { request_id, .. }
            | Error::Server { request_id, .. }
            | Error::Transport { request_id, .. }
            | Error::InvalidResponse { request_id, .. } => request_id.as_deref(),
            Error::Timeout { request_id, .. }
            | Error::UnreadableOutput { request_id, .. }
            | Error::JobFailed { request_id, .. }
            | Error::Cancelled { request_id }
            | Error::NotFinished { request_id, .. }
            | Error::ModelMismatch { request_id, .. } => Some(request_id),
            _ => None,
        }
    }

    /// Attaches the request id to an error from a call about that job.
    pub(crate) fn for_job(mut self, id: &str) -> Self {
        match &mut self {
            Error::Unauthorized { request_id, .. }
            | Error::Forbidden { request_id, .. }
            | Error::NotFound { request_id, .. }
            | Error::RateLimited { request_id, .. }
            | Error::Api { request_id, .. }
            | Error::Server { request_id, .. }
            | Error::Transport { request_id, .. }
            | Error::InvalidResponse { request_id, .. }
                if request_id.is_none() =>
            {
                *request_id = Some(id.to_owned());
            }
            _ => {}
        }
        self
    }
}

/// `; body starts: "..."`, unless the error is not about the body's text (an output listing
/// too many files, a finished job with no output).
/// A duration as people read it: `3s`, `2.5s`, `90s` (a deadline's remainder is not shown to
/// the nanosecond).
fn seconds(duration: Duration) -> String {
    let tenths = (duration.as_secs_f64() * 10.0).round() / 10.0;
    format!("{tenths}s")
}

/// [`seconds`], in minutes or hours past two of them: a `Retry-After` date can be years off.
/// Seconds in a day.
const DAY: u64 = 24 * 3600;

fn long_seconds(duration: Duration) -> String {
    // To the nearest: the time left of a pause is a hair under what was asked.
    match duration.as_secs_f64().round() as u64 {
        secs if secs < 120 => seconds(duration),
        secs if secs < 2 * 3600 => format!("{} min", (secs + 30) / 60),
        secs if secs < 2 * DAY => format!("{} h", (secs + 1800) / 3600),
        // A server's absurd `Retry-After` is one figure however it was stored (a pause held
        // in nanoseconds tops out at 584 years).
        secs if secs < 365 * DAY => format!("{} days", (secs + DAY / 2) / DAY),
        _ => "more than a year".to_owned(),
    }
}

fn body_start(excerpt: &str) -> String {
    match excerpt {
        "" => String::new(),
        excerpt => format!("; body starts: \"{}\"", printable(excerpt, SHOWN_CHARS)),
    }
}

/// `label: what the server said`, without the label when the server's message already starts
/// with it ("insufficient balance: Insufficient balance (HTTP 402)" says it twice).
fn labelled(label: &str, api: &ApiError) -> String {
    let said = api.message.trim_start();
    let repeats = said
        .get(..label.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(label));
    if repeats {
        api.to_string()
    } else {
        format!("{label}: {api}")
    }
}

/// A size in MiB when it is a whole number of them, else in bytes.
fn size_text(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

fn for_request(request_id: &Option<String>) -> String {
    match request_id {
        Some(id) => format!(" (request {})", printable(id, SHOWN_CHARS)),
        None => String::new(),
    }
}

/// What the HTTP client said, a timeout called one (reqwest names a reply body cut by the time
/// limit "error decoding response body"), with the innermost cause ("connection reset",
/// "too many redirects"), which reqwest's own text leaves out.
fn transport_text(source: &reqwest::Error, with_url: bool) -> String {
    let mut text = if source.is_timeout() {
        match source.url().filter(|_| with_url) {
            Some(url) => format!("timed out waiting for {url}"),
            None => "timed out".to_owned(),
        }
    } else if source.is_body() || source.is_decode() {
        // reqwest says "error decoding response body" for a body cut short, and this crate
        // reads every body as bytes (JSON is parsed apart): what broke is the connection.
        "the connection broke off before the end of the reply".to_owned()
    } else {
        match source.url().filter(|_| !with_url) {
            // Said elsewhere (a download's error names its URL), and a long one would crowd out
            // the cause.
            Some(url) => source.to_string().replace(&format!(" for url ({url})"), ""),
            None => source.to_string(),
        }
    };
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(source);
    let mut innermost = None;
    while let Some(next) = cause {
        innermost = Some(next);
        cause = next.source();
    }
    if let Some(innermost) = innermost.filter(|_| !source.is_timeout()) {
        let _ = fmt::Write::write_fmt(&mut text, format_args!(": {innermost}"));
    }
    if is_tls_failure(source) {
        text.push_str(
            " (the server's TLS certificate is not trusted here: behind a proxy or a private \
             certificate authority, set SSL_CERT_FILE to its certificate)",
        );
    }
    printable(&text, SHOWN_CHARS).into_owned()
}

/// Whether a connection failed in its TLS handshake (an untrusted certificate, a protocol
/// refused): rustls says so as invalid data. Asking again gets the same answer.
pub(crate) fn is_tls_failure(source: &reqwest::Error) -> bool {
    // An I/O error wrapping another hides it from `source()`: `get_ref` reaches it.
    fn invalid_data(io: &std::io::Error) -> bool {
        io.kind() == std::io::ErrorKind::InvalidData
            || io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<std::io::Error>())
                .is_some_and(invalid_data)
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(source);
    while let Some(next) = cause {
        if next
            .downcast_ref::<std::io::Error>()
            .is_some_and(invalid_data)
        {
            return source.is_connect();
        }
        cause = next.source();
    }
    false
}

fn retry_after_text(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(after) => format!(" (retry after {})", long_seconds(*after)),
        None => String::new(),
    }
}

fn cancel_text(cancel: &Option<CancelAttempt>) -> String {
    match cancel {
        None => String::new(),
        Some(CancelAttempt::Answered(outcome)) => format!("; cancel: {outcome}"),
        Some(CancelAttempt::Failed(err)) => format!("; cancel failed: {err}"),
        Some(CancelAttempt::Unanswered(after)) => {
            format!("; the cancel got no answer within {}", seconds(*after))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_whether_a_job_may_be_billed_and_whether_trying_again_helps() {
        let download = |reason| Error::Download {
            url: "https://x.runcomfy.net/a.png".into(),
            reason,
        };
        let cases = [
            // (error, may have been billed, transient)
            (
                Error::RateLimited {
                    request_id: None,
                    retry_after: None,
                },
                false,
                true,
            ),
            (
                Error::Timeout {
                    request_id: "r".into(),
                    after: Duration::from_secs(1),
                    cancel: None,
                },
                true,
                true,
            ),
            (
                Error::Cancelled {
                    request_id: "r".into(),
                },
                true,
                false,
            ),
            (download(DownloadFailure::Status(503)), true, true),
            (download(DownloadFailure::Status(404)), true, false),
            (
                Error::Validation(ValidationError {
                    report: crate::report::ValidationReport::new(),
                }),
                false,
                false,
            ),
        ];
        for (err, billed, transient) in cases {
            assert_eq!(err.may_have_been_billed(), billed, "{err}");
            assert_eq!(err.is_transient(), transient, "{err}");
        }
    }

    #[test]
    fn durations_read_as_seconds_to_the_tenth() {
        assert_eq!(seconds(Duration::from_secs(3)), "3s");
        assert_eq!(seconds(Duration::from_nanos(2_984_837_801)), "3s");
        assert_eq!(seconds(Duration::from_millis(2_450)), "2.5s");
        assert_eq!(seconds(Duration::from_secs(300)), "300s");
        let limited = |secs| {
            Error::RateLimited {
                request_id: None,
                retry_after: Some(Duration::from_secs(secs)),
            }
            .to_string()
        };
        assert_eq!(limited(4), "rate limited (retry after 4s)");
        assert_eq!(limited(600), "rate limited (retry after 10 min)");
        let left = Error::RateLimited {
            request_id: None,
            retry_after: Some(Duration::from_millis(3_599_999)),
        };
        assert_eq!(left.to_string(), "rate limited (retry after 60 min)");
        assert_eq!(limited(5 * 3600), "rate limited (retry after 5 h)");
        assert_eq!(limited(3 * 86_400), "rate limited (retry after 3 days)");
        // A `Retry-After` date in 2099, and the most a pause held in nanoseconds keeps.
        assert_eq!(
            limited(2_299_828_509),
            "rate limited (retry after more than a year)"
        );
        assert_eq!(
            limited(u64::MAX / 1_000_000_000),
            "rate limited (retry after more than a year)"
        );
    }

    #[test]
    fn an_invalid_response_quotes_its_body_only_when_it_is_about_it() {
        let invalid = |excerpt: &str| {
            Error::InvalidResponse {
                request_id: None,
                status: 200,
                reason: "the output lists 1001 files".into(),
                excerpt: excerpt.into(),
            }
            .to_string()
        };
        assert_eq!(
            invalid(""),
            "invalid response (HTTP 200): the output lists 1001 files"
        );
        assert!(invalid("{\"output\"").ends_with("; body starts: \"{\"output\"\""));
    }

    /// What a reporter that walks `source()` prints (`anyhow`'s `{:#}`).
    fn chain(err: &dyn std::error::Error) -> String {
        let mut text = err.to_string();
        let mut cause = err.source();
        while let Some(next) = cause {
            text = format!("{text}: {next}");
            cause = next.source();
        }
        text
    }

    #[test]
    fn an_error_says_its_cause_once() {
        let io = || std::io::Error::from(std::io::ErrorKind::StorageFull);
        let cases: [Box<dyn std::error::Error>; 4] = [
            Box::new(Error::SubmitOutcomeUnknown {
                model_id: "m/x",
                failure: Box::new(Error::Cancelled {
                    request_id: "r".into(),
                }),
            }),
            Box::new(Error::Io {
                path: "a.png".into(),
                failure: io(),
            }),
            Box::new(crate::media::MediaError::Read {
                path: "a.png".into(),
                failure: io(),
            }),
            Box::new(crate::provenance::RecordError::Io {
                path: "r.json".into(),
                failure: io(),
            }),
        ];
        for err in cases {
            assert_eq!(chain(&*err), err.to_string(), "{err:?}");
        }
        let encode = serde_json::from_str::<u8>("x").map_err(Error::Encode);
        if let Err(err) = encode {
            assert_eq!(chain(&err), err.to_string());
        }
    }

    #[test]
    fn the_kind_of_error_is_not_said_twice() {
        let balance = |message: &str| {
            Error::InsufficientBalance {
                api: ApiError {
                    status: 402,
                    code: Some(400002),
                    message: message.into(),
                    detail: None,
                },
            }
            .to_string()
        };
        assert_eq!(
            balance("Insufficient balance"),
            "Insufficient balance (HTTP 402, code 400002)"
        );
        assert_eq!(
            balance("top up first"),
            "insufficient balance: top up first (HTTP 402, code 400002)"
        );
    }

    #[test]
    fn an_empty_detail_is_not_shown_and_a_full_one_is() {
        let with = |detail: serde_json::Value| {
            ApiError {
                status: 401,
                code: Some(400004),
                message: "Invalid or expired API token".into(),
                detail: Some(Box::new(detail)),
            }
            .to_string()
        };
        let bare = "Invalid or expired API token (HTTP 401, code 400004)";
        for empty in [
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!(""),
            serde_json::Value::Null,
        ] {
            assert_eq!(with(empty), bare);
        }
        assert_eq!(
            with(serde_json::json!([{"loc": ["prompt"]}])),
            format!(r#"{bare}; detail: [{{"loc":["prompt"]}}]"#)
        );
    }
}
