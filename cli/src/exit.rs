//! Exit codes (from BSD's sysexits, so scripts can tell "fix your input" from "try again later")
//! and the CLI's own errors.

use std::time::Duration;

use runcomfy::error::{CancelAttempt, ConfigError, DownloadFailure};
use runcomfy::{CancelOutcome, Error};
use runcomfy_batch::report::shell_word;

/// Success.
pub const OK: u8 = 0;
/// The job failed or was cancelled, or another failure with no better code.
pub const FAILURE: u8 = 1;
/// The submit may have been accepted (and billed): its connection broke after the request went
/// out, the server answered 5xx or something unreadable, or `--timeout` passed while waiting
/// for its answer; or `run`'s job was accepted and a temporary failure (`--timeout`, a network
/// timeout, 429, a stalled download) stopped it from seeing the job through. Not a code to
/// retry on: check the account's requests first. Outside the sysexits range so that no wrapper
/// retrying on "temporary failure" (75) resends it.
pub const MAYBE_ACCEPTED: u8 = 3;
/// A budget stopped it: `run --max-cost` found the estimate above it (or no estimate), or
/// `batch --max-spend` left lines unsent. Nothing over the budget was sent.
pub const OVER_BUDGET: u8 = 4;
/// The command line is wrong.
pub const USAGE: u8 = 64;
/// The input is invalid (nothing was sent), the server rejected it, or the request id is unknown.
pub const DATA_ERR: u8 = 65;
/// The service failed (HTTP 5xx, unreadable replies, unreachable).
pub const UNAVAILABLE: u8 = 69;
/// A local file could not be written.
pub const IO_ERR: u8 = 74;
/// Try again later: a deadline passed, rate limited, a network hiccup, or the job is not done.
pub const TEMP_FAIL: u8 = 75;
/// No token, or the token was refused (HTTP 401/403).
pub const NO_PERM: u8 = 77;
/// Interrupted by Ctrl-C, SIGTERM or SIGHUP (after cancelling the job if it was still queued).
pub const INTERRUPTED: u8 = 130;

/// The exit codes as `--help` and the README list them.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success
  1    the job failed or was cancelled (or could not be cancelled), `models WORDS` matched
       no model, or another failure
  3    the submit may have been accepted (and billed): its connection broke after it was
       sent, the server answered 5xx or garbage, or --timeout passed during it; or run's
       job was accepted and a temporary failure (--timeout, a network timeout, 429, 5xx or
       unreadable replies, its id no longer found, a stalled download) ended the command
       before its end: do not retry blindly, check your RunComfy requests first (runcomfy
       result ID --wait follows a known job)
  4    over budget: run --max-cost found the estimate above it or had no estimate, or
       batch --max-spend left lines unsent, or a dry run would (nothing past the budget
       was sent)
  64   usage error (unknown command, model or flag, a bad option value such as --timeout's)
  65   invalid input (a model field's value too, or an input file that cannot be read),
       reported with every problem before anything is sent; also a 422 from the server or
       an unknown request id (404)
  69   service unavailable (HTTP 5xx, unreachable, unreadable replies, redirect loops,
       failed or refused downloads)
  74   cannot write output files, or stdout
  75   temporary failure, nothing paid for left behind: --timeout passed (a queued job
       cancelled), rate limited (429), network timeout, or the job has not finished yet
       (result); or batch lines left unfinished, which the same command carries on
       without sending any again
  77   authentication: no token (set RUNCOMFY_TOKEN, runcomfy login, or --token-file), or
       it was refused (HTTP 401/403)
  130  interrupted by Ctrl-C, SIGTERM or SIGHUP (a queued job is cancelled first; a running
       one is not; no partial file is left)
  A batch with lines in several states exits with the first that holds: 130, 3 (lines
  unknown), 75 (accepted jobs left to download: their files expire), 1 (lines failed),
  4 (lines unsent by --max-spend), 75 (lines left to send)";

/// A failure of a command, printed as `error: ...` with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A usage problem found after parsing.
    #[error("{0}")]
    Usage(String),
    /// The input could not be read or parsed (before any validation).
    #[error("{0}")]
    Input(String),
    /// No token and no `--mock`.
    #[error(
        "no API token: set RUNCOMFY_TOKEN, save one with `runcomfy login`, pass --token-file \
         FILE, or use --mock to try the simulator"
    )]
    NoToken,
    /// The saved token (`runcomfy login`) cannot be read, written or removed, or has expired.
    #[error("the saved token {}: {reason} (`runcomfy login` saves a new one)", path.display())]
    SavedToken {
        /// Its file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// `runcomfy login` was given a token the API refused; it was not saved.
    #[error("the API refused this token ({0}); it was not saved")]
    TokenRefused(String),
    /// The token file could not be read.
    #[error("cannot read the token file {path}: {source}")]
    TokenFile {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The token file is empty.
    #[error("the token file {0} is empty")]
    EmptyTokenFile(String),
    /// The outputs could not be saved where asked; found before submitting.
    #[error("cannot save outputs to {}: {reason}; nothing was sent", path.display())]
    OutDir {
        /// The output folder asked for.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// The in-process simulator did not start.
    #[error("cannot start the simulator (--mock): {0}")]
    Mock(#[from] runcomfy_simulator::SimError),
    /// `--timeout` passed while the submit was in flight: it may have been accepted.
    #[error(
        "the submit to {model} got no answer within --timeout {}; it may or may not have been \
         accepted",
        humantime::format_duration(*.after)
    )]
    SubmitTimedOut {
        /// The model submitted to.
        model: &'static str,
        /// The deadline.
        after: Duration,
    },
    /// Ctrl-C again while the submit waited for its answer: it may have been accepted.
    #[error(
        "interrupted again while the submit to {model} waited for its answer; it may or may not \
         have been accepted"
    )]
    SubmitInterrupted {
        /// The model submitted to.
        model: &'static str,
    },
    /// `--timeout` passed while a refused submit (rate limited, or no connection made) waited to
    /// be sent again: nothing was accepted.
    #[error(
        "the submit to {model} was refused (rate limited or no connection) until --timeout {} \
         passed; nothing was accepted",
        humantime::format_duration(*.after)
    )]
    SubmitNotTaken {
        /// The model submitted to.
        model: &'static str,
        /// The deadline.
        after: Duration,
    },
    /// `--timeout` passed before anything was sent (while checking media URLs).
    #[error(
        "{what} did not finish within --timeout {}; nothing was sent",
        humantime::format_duration(*.after)
    )]
    TimedOutBeforeSubmit {
        /// What was going on.
        what: &'static str,
        /// The deadline.
        after: Duration,
    },
    /// `--timeout` passed while a call that changes nothing (a read) was unanswered.
    #[error("{what} got no answer within --timeout {}", humantime::format_duration(*.after))]
    NoAnswer {
        /// The call.
        what: &'static str,
        /// The deadline.
        after: Duration,
    },
    /// A transport error.
    #[error(transparent)]
    Api(#[from] Error),
}

impl CliError {
    /// The exit code of this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => USAGE,
            CliError::Input(_) => DATA_ERR,
            CliError::NoToken
            | CliError::TokenFile { .. }
            | CliError::EmptyTokenFile(_)
            | CliError::SavedToken { .. }
            | CliError::TokenRefused(_) => NO_PERM,
            CliError::OutDir { .. } => IO_ERR,
            CliError::Mock(_) => FAILURE,
            CliError::SubmitTimedOut { .. } | CliError::SubmitInterrupted { .. } => MAYBE_ACCEPTED,
            CliError::TimedOutBeforeSubmit { .. }
            | CliError::SubmitNotTaken { .. }
            | CliError::NoAnswer { .. } => TEMP_FAIL,
            CliError::Api(err) => api_exit_code(err),
        }
    }

    /// Whether the submit may have been accepted: the `unknown` of `--json` and batch reports.
    pub fn maybe_accepted(&self) -> bool {
        self.exit_code() == MAYBE_ACCEPTED
    }
}

/// What a hint may depend on besides the error.
#[derive(Debug, Clone, Copy, Default)]
pub struct HintContext<'a> {
    /// `--mock`: the simulated jobs end with this command, so no hint names a later one.
    pub mock: bool,
    /// The base URL given, if any.
    pub base_url: Option<&'a str>,
    /// The command named its job (`status ID`): no hint repeats the id.
    pub job_named: bool,
}

impl CliError {
    /// A line of advice to print after the error, if any.
    pub fn hint(&self, context: HintContext<'_>) -> Option<String> {
        let HintContext {
            mock,
            base_url,
            job_named,
        } = context;
        let maybe_accepted = || {
            Some(
                "the job may have been created (and billed): check your RunComfy requests \
                 before submitting again (exit 3 is never worth a blind retry)"
                    .into(),
            )
        };
        let err = match self {
            CliError::Api(err) => err,
            CliError::SubmitTimedOut { .. } | CliError::SubmitInterrupted { .. } => {
                return maybe_accepted();
            }
            _ => return None,
        };
        match err.failure() {
            Error::SubmitOutcomeUnknown { .. } => maybe_accepted(),
            // `--base-url https://model-api.runcomfy.net/v1` asks `/v1/v1/...`.
            Error::NotFound { .. } if let Some(path) = base_url.and_then(path_of) => Some(format!(
                "the base URL has a path ({path}), which every call's path (/v1/...) follows: \
                 give the API's origin only (as https://model-api.runcomfy.net)"
            )),
            Error::Download {
                reason: DownloadFailure::HostNotAllowed(host),
                ..
            } => Some(format!(
                "to fetch files from {host}, pass --allow-output-host {host} (the token is \
                 never sent there)"
            )),
            Error::Unauthorized { .. } if let Some(source) = crate::token::source() => {
                Some(format!("the token was read from {source}"))
            }
            Error::NotFound {
                request_id: Some(_),
                ..
            } if mock => Some("with --mock, only the jobs of this same command are known".into()),
            Error::NotFound {
                request_id: Some(_),
                ..
            } => Some("request ids expire (their files after about a day)".into()),
            Error::Timeout {
                cancel: Some(CancelAttempt::Answered(CancelOutcome::Cancelled)),
                ..
            } => Some("it was still queued, and is cancelled: it will not run".into()),
            _ if mock => None,
            Error::Timeout { request_id, .. } => Some(format!(
                "the job may still finish: `runcomfy result {} --wait --out DIR` waits for it \
                 and saves its files",
                shell_word(request_id)
            )),
            _ if job_named => None,
            _ => err
                .request_id()
                .map(|id| format!("request id: {id} (`runcomfy status {}`)", shell_word(id))),
        }
    }
}

/// A base URL's path, when it has one beyond `/`.
fn path_of(base_url: &str) -> Option<String> {
    let (_, rest) = base_url.trim().split_once("://")?;
    let path = rest[rest.find('/')?..].trim_end_matches('/');
    (!path.is_empty()).then(|| runcomfy::error::printable(path, 80).into_owned())
}

/// The exit code of a transport error.
pub fn api_exit_code(err: &Error) -> u8 {
    match err {
        Error::Validation(_) | Error::Encode(_) | Error::BodyTooLarge { .. } => DATA_ERR,
        Error::Rejected { .. } | Error::NotFound { .. } | Error::Api { .. } => DATA_ERR,
        Error::Config(config) => match config {
            ConfigError::MissingToken | ConfigError::Token(_) => NO_PERM,
            ConfigError::InvalidBaseUrl { .. } | ConfigError::InvalidUserAgent => USAGE,
            _ => FAILURE,
        },
        Error::Unauthorized { .. } | Error::Forbidden { .. } => NO_PERM,
        Error::RateLimited { .. } | Error::Timeout { .. } | Error::NotFinished { .. } => TEMP_FAIL,
        Error::Server { .. } | Error::InvalidResponse { .. } => UNAVAILABLE,
        // Nothing answered at all (the service is down or the URL is wrong), or it sent the
        // client in circles; anything else (a timeout, a reset) may pass.
        Error::Transport { failure, .. } if failure.is_connect() || failure.is_redirect() => {
            UNAVAILABLE
        }
        Error::Transport { .. } => TEMP_FAIL,
        Error::SubmitOutcomeUnknown { .. } => MAYBE_ACCEPTED,
        // Only Ctrl-C stops a submit.
        Error::SubmitStopped { .. } => INTERRUPTED,
        Error::JobFailed { .. } | Error::Cancelled { .. } => FAILURE,
        Error::ModelMismatch { .. } | Error::InvalidRequestId { .. } | Error::InvalidModelId(_) => {
            USAGE
        }
        Error::Io { .. } => IO_ERR,
        Error::NotAllSaved { failure, .. } => api_exit_code(failure),
        Error::TooManyFiles { .. } | Error::UnreadableOutput { .. } => UNAVAILABLE,
        Error::Download { reason, .. } => match reason {
            DownloadFailure::Stalled(_)
            | DownloadFailure::CutShort(_)
            | DownloadFailure::TimedOut(_)
            | DownloadFailure::Transport(_) => TEMP_FAIL,
            DownloadFailure::Status(429) => TEMP_FAIL,
            _ => UNAVAILABLE,
        },
        Error::InsufficientBalance { .. } => FAILURE,
        _ => FAILURE,
    }
}
