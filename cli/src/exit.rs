//! Exit codes (from BSD's sysexits, so scripts can tell "fix your input" from "try again later")
//! and the CLI's own errors.

use runcomfy::Error;
use runcomfy::error::{ConfigError, DownloadFailure};

/// Success.
pub const OK: u8 = 0;
/// The job failed or was cancelled, or another failure with no better code.
pub const FAILURE: u8 = 1;
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
/// Interrupted by Ctrl-C (after cancelling the job if it was still queued).
pub const INTERRUPTED: u8 = 130;

/// The exit codes as `--help` and the README list them.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success
  1    the job failed or was cancelled (or could not be cancelled), or another failure
  64   usage error (unknown command, model or flag, a bad option value such as --timeout's)
  65   invalid input (a model field's value too, or an input file that cannot be read),
       reported with every problem before anything is sent; also a 422 from the server or
       an unknown request id (404)
  69   service unavailable (HTTP 5xx, unreachable, unreadable replies, failed downloads)
  74   cannot write output files
  75   temporary failure: --timeout passed, rate limited (429), network timeout, or the job
       has not finished yet (result)
  77   authentication: no token (set RUNCOMFY_TOKEN or --token-file), or it was refused
       (HTTP 401/403)
  130  interrupted by Ctrl-C (a queued job is cancelled first; a running one is not)";

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
        "no API token: set RUNCOMFY_TOKEN, pass --token-file FILE, or use --mock to try the \
         simulator"
    )]
    NoToken,
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
            CliError::NoToken | CliError::TokenFile { .. } | CliError::EmptyTokenFile(_) => NO_PERM,
            CliError::OutDir { .. } => IO_ERR,
            CliError::Mock(_) => FAILURE,
            CliError::Api(err) => api_exit_code(err),
        }
    }

    /// A line of advice to print after the error, if any; under `--mock` (`mock`), none that
    /// names a later command, since the simulated jobs end with this one.
    pub fn hint(&self, mock: bool) -> Option<String> {
        let CliError::Api(err) = self else {
            return None;
        };
        match err {
            Error::SubmitOutcomeUnknown { .. } => Some(
                "the job may have been created (and billed): check your RunComfy requests \
                 before submitting again"
                    .into(),
            ),
            Error::NotFound {
                request_id: Some(_),
                ..
            } => Some(
                "request ids expire; with --mock, only jobs of the same command are known".into(),
            ),
            _ if mock => None,
            Error::Timeout { request_id, .. } => Some(format!(
                "the job may still finish: `runcomfy result {request_id} --out DIR` fetches it"
            )),
            _ => err
                .request_id()
                .map(|id| format!("request id: {id} (`runcomfy status {id}`)")),
        }
    }
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
        // Nothing answered at all: the service is down or the URL is wrong; anything else
        // (a timeout, a reset) may pass.
        Error::Transport { source, .. } if source.is_connect() => UNAVAILABLE,
        Error::Transport { .. } => TEMP_FAIL,
        Error::SubmitOutcomeUnknown { source, .. } => api_exit_code(source),
        Error::JobFailed { .. } | Error::Cancelled { .. } => FAILURE,
        Error::ModelMismatch { .. } => USAGE,
        Error::Io { .. } => IO_ERR,
        Error::Download { reason, .. } => match reason {
            DownloadFailure::Stalled(_) | DownloadFailure::Transport(_) => TEMP_FAIL,
            DownloadFailure::Status(429) => TEMP_FAIL,
            _ => UNAVAILABLE,
        },
        Error::InsufficientBalance { .. } => FAILURE,
        _ => FAILURE,
    }
}
