//! The API's reply bodies, and turning a raw reply into one of them or a typed error.
//!
//! Every reply is read as JSON first, so an error body (`error_code`) is recognised even when it
//! comes with HTTP 200. The API's paths are built by the client (`/v1/models/{model_id}`,
//! `/v1/requests/{id}/{action}`); what comes back is read here.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Error};

/// Longest excerpt of a body kept in an error, in characters.
const EXCERPT_CHARS: usize = 200;

/// `POST /v1/models/{model_id}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SubmitReply {
    pub request_id: String,
}

/// `GET /v1/requests/{id}/status`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct StatusReply {
    pub status: String,
    #[serde(default)]
    pub queue_position: Option<u64>,
}

/// `GET /v1/requests/{id}/result`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ResultReply {
    pub status: String,
    #[serde(default)]
    pub output: Option<serde_json::Value>,
    #[serde(default)]
    pub error: Option<serde_json::Value>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
}

/// `POST /v1/requests/{id}/cancel`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CancelReply {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub outcome: Option<String>,
}

/// The error body: `{error_code, error_message, detail}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error_code: serde_json::Value,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    detail: Option<serde_json::Value>,
}

/// How a raw reply reads.
#[derive(Debug)]
pub(crate) enum Reply<T> {
    /// The expected body.
    Ok(T),
    /// A RunComfy error body or an error status.
    Api(ApiError),
    /// A 2xx whose body is not what was expected.
    Invalid { reason: String, excerpt: String },
}

/// Reads a reply: an error body (whatever the status), an error status, or the expected body.
pub(crate) fn parse<T: DeserializeOwned>(status: u16, body: &[u8]) -> Reply<T> {
    let value: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    if let Some(api) = value.as_ref().and_then(|v| error_body(status, v)) {
        return Reply::Api(api);
    }
    if !(200..300).contains(&status) {
        return Reply::Api(ApiError {
            status,
            code: None,
            message: excerpt(body),
            detail: None,
        });
    }
    let Some(value) = value else {
        return Reply::Invalid {
            reason: "not JSON".into(),
            excerpt: excerpt(body),
        };
    };
    match serde_json::from_value(value) {
        Ok(reply) => Reply::Ok(reply),
        Err(err) => Reply::Invalid {
            reason: err.to_string(),
            excerpt: excerpt(body),
        },
    }
}

fn error_body(status: u16, value: &serde_json::Value) -> Option<ApiError> {
    let object = value.as_object()?;
    if object.get("error_code").is_none_or(|code| code.is_null()) {
        return None;
    }
    let body: ErrorBody = serde_json::from_value(value.clone()).ok()?;
    // The code is documented as an integer; accept a numeric string too.
    let code = match &body.error_code {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    Some(ApiError {
        status,
        code,
        message: body.error_message.unwrap_or_default(),
        detail: body.detail.filter(|d| !d.is_null()).map(Box::new),
    })
}

/// The start of a body for an error message: capped, control characters replaced.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Which typed error an API error is, from its RunComfy code or else its HTTP status.
pub(crate) fn classify(api: ApiError, retry_after: Option<std::time::Duration>) -> Error {
    let kind = match api.code {
        Some(400004) => Kind::Unauthorized,
        Some(400002) => Kind::Balance,
        Some(403001) => Kind::Forbidden,
        Some(404001) => Kind::NotFound,
        Some(422001) => Kind::Rejected,
        Some(code) if (500_000..600_000).contains(&code) => Kind::Server,
        _ => match api.status {
            401 => Kind::Unauthorized,
            402 => Kind::Balance,
            403 => Kind::Forbidden,
            404 | 410 => Kind::NotFound,
            422 => Kind::Rejected,
            429 => Kind::RateLimited,
            408 | 500..=599 => Kind::Server,
            // An error body with 200 and an unknown code: a refusal of this request.
            _ => Kind::Other,
        },
    };
    let request_id = None;
    match kind {
        Kind::Unauthorized => Error::Unauthorized { request_id, api },
        Kind::Forbidden => Error::Forbidden { request_id, api },
        Kind::Balance => Error::InsufficientBalance { api },
        Kind::NotFound => Error::NotFound { request_id, api },
        Kind::Rejected => Error::Rejected { api },
        Kind::RateLimited => Error::RateLimited {
            request_id,
            retry_after,
        },
        Kind::Server => Error::Server { request_id, api },
        Kind::Other => Error::Api { request_id, api },
    }
}

enum Kind {
    Unauthorized,
    Forbidden,
    Balance,
    NotFound,
    Rejected,
    RateLimited,
    Server,
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_errors_even_with_200() {
        let body = br#"{"error_code": 422001, "error_message": "bad", "detail": [{"loc": "x"}]}"#;
        match parse::<StatusReply>(200, body) {
            Reply::Api(api) => {
                assert_eq!(api.code, Some(422001));
                assert!(matches!(classify(api, None), Error::Rejected { .. }));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_result_with_a_job_error_is_not_an_error_body() {
        let body = br#"{"request_id": "r", "status": "failed", "error": "boom", "output": null}"#;
        assert!(matches!(parse::<ResultReply>(200, body), Reply::Ok(_)));
    }

    #[test]
    fn malformed_bodies_are_invalid_with_a_capped_excerpt() {
        let body = format!("{{\"status\": \n{}", "x".repeat(1000));
        match parse::<StatusReply>(200, body.as_bytes()) {
            Reply::Invalid { excerpt, .. } => {
                assert!(excerpt.chars().count() <= EXCERPT_CHARS + 1);
                assert!(!excerpt.contains('\n'));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn statuses_without_bodies_map_to_kinds() {
        let api = |status| ApiError {
            status,
            code: None,
            message: String::new(),
            detail: None,
        };
        assert!(matches!(
            classify(api(401), None),
            Error::Unauthorized { .. }
        ));
        assert!(matches!(
            classify(api(402), None),
            Error::InsufficientBalance { .. }
        ));
        assert!(matches!(classify(api(503), None), Error::Server { .. }));
        assert!(matches!(
            classify(api(429), None),
            Error::RateLimited { .. }
        ));
        assert!(matches!(classify(api(400), None), Error::Api { .. }));
    }
}
