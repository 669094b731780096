//! Errors of the library, and error replies in RunComfy's shape.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Why the simulator could not start or a setting could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The loopback port could not be bound.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// The OS error.
        source: std::io::Error,
    },
    /// A duration such as `500ms` or `2s..10s` could not be parsed.
    #[error("invalid duration {text:?}: {reason}")]
    Duration {
        /// The text given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A fault specification such as `submit=0.05,status=0.2` could not be parsed.
    #[error("invalid fault specification {text:?}: {reason}")]
    Faults {
        /// The text given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The state file could not be read.
    #[error("cannot use the state file {}: {reason}", path.display())]
    State {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
}

/// Error codes RunComfy documents.
pub(crate) mod code {
    pub const BAD_MODEL: u64 = 400_001;
    pub const BAD_TOKEN: u64 = 400_004;
    pub const FORBIDDEN: u64 = 403_001;
    pub const NOT_FOUND: u64 = 404_001;
    pub const VALIDATION: u64 = 422_001;
    pub const INTERNAL: u64 = 500_001;
    /// Not published by RunComfy; used for simulated rate limits.
    pub const RATE_LIMITED: u64 = 429_001;
}

/// An error reply: `{error_code, error_message, detail}` with an HTTP status.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: u64,
    pub message: String,
    pub detail: Vec<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: u64, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            detail: Vec::new(),
        }
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code::BAD_TOKEN, message)
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            code::FORBIDDEN,
            "Permission denied: the request belongs to another API token",
        )
    }

    pub fn request_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            code::NOT_FOUND,
            format!("Request {id} not found"),
        )
    }

    pub fn unknown_model(id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            code::BAD_MODEL,
            format!("Unknown model id: {id}"),
        )
    }

    pub fn validation(detail: Vec<Value>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: code::VALIDATION,
            message: "Input validation failed".to_owned(),
            detail,
        }
    }

    pub fn body(&self) -> Value {
        json!({
            "error_code": self.code,
            "error_message": self.message,
            "detail": self.detail,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}
