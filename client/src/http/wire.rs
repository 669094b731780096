//! The API's reply bodies, and turning a raw reply into one of them or a typed error.
//!
//! An error body (`error_code`) is recognised even when it comes with HTTP 200, and the token
//! is scrubbed from every string of a reply before anything else reads it: no output URL, job
//! error, status or request id built from a reply can carry it. A reply whose text can hold
//! neither (no token, no `error_code`, no escape) is read straight into its type; any other is
//! read as a JSON tree first, checked and scrubbed there. The
//! API's paths are built by the client (`/v1/models/{model_id}`, `/v1/requests/{id}/{action}`);
//! what comes back is read here. An optional field of an odd type is ignored, not fatal: only
//! what a reply cannot do without (`status`, `request_id`) refuses it.

use std::sync::LazyLock;

use memchr::memmem::Finder;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use super::secret::Token;
use crate::error::{ApiError, Error, printable};

/// Longest excerpt of a body kept in an error, in characters.
const EXCERPT_CHARS: usize = 200;

/// The most JSON values a reply may hold (objects, arrays, keys and scalars). A page of the
/// catalog (100 models, schemas included) holds about 10,000: RunComfy's 65 real models hold
/// 3,527. Read as a tree, each value takes tens of bytes however short its text: under the
/// transport's byte cap alone, a 4 MiB reply of two million zeros took `runcomfy result` to
/// 589 MB; at this many, a reply's tree stays within a few MB.
const MAX_REPLY_VALUES: usize = 100_000;

/// `POST /v1/models/{model_id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "SubmitIds")]
pub(crate) struct SubmitReply {
    /// Text, or a whole number (the job was accepted all the same: it must be followed).
    pub request_id: String,
}

/// A submit reply's ids as sent: `request_id`, else `id`, as other servers of the same API
/// name it (a job the reply names either way was accepted, and must be followed).
#[derive(Deserialize)]
struct SubmitIds {
    #[serde(default)]
    request_id: Option<serde_json::Value>,
    #[serde(default)]
    id: Option<serde_json::Value>,
}

impl TryFrom<SubmitIds> for SubmitReply {
    type Error = String;

    fn try_from(ids: SubmitIds) -> Result<Self, String> {
        let named = |value: Option<serde_json::Value>| value.filter(|v| !v.is_null());
        let id = named(ids.request_id)
            .or_else(|| named(ids.id))
            .ok_or("missing field `request_id`")?;
        id_text(id)
            .map(|request_id| SubmitReply { request_id })
            .map_err(str::to_owned)
    }
}

/// `GET /v1/requests/{id}/status`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct StatusReply {
    /// The job the reply is about, when it says (it must be the one asked about).
    #[serde(default, deserialize_with = "lenient")]
    pub request_id: Option<String>,
    pub status: String,
    #[serde(default, deserialize_with = "lenient_count")]
    pub queue_position: Option<u64>,
}

/// `GET /v1/requests/{id}/result`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ResultReply {
    /// The job the reply is about, when it says (it must be the one asked about).
    #[serde(default, deserialize_with = "lenient")]
    pub request_id: Option<String>,
    /// The model the job ran, when the reply says.
    #[serde(default, deserialize_with = "lenient")]
    pub model_id: Option<String>,
    pub status: String,
    #[serde(default)]
    pub output: Option<serde_json::Value>,
    #[serde(default)]
    pub error: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "time_text")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "time_text")]
    pub finished_at: Option<String>,
    /// What the job cost, in US dollars, when asked for (`include_cost=true`), as the server
    /// wrote it: read by [`ResultReply::cost_usd`].
    #[serde(default)]
    pub cost: Option<serde_json::Value>,
}

impl ResultReply {
    /// What the job cost, when the reply says it as an amount: a number, or one written as
    /// text (`"0.5"`, `"$0.5"`); not a negative or non-finite one.
    pub fn cost_amount(&self) -> Option<f64> {
        self.cost.as_ref().and_then(amount)
    }

    /// What the reply says the job cost, whatever it is: its JSON, cut short and printable.
    pub fn cost_said(&self) -> Option<String> {
        let said = self.cost.as_ref().filter(|c| !c.is_null())?;
        Some(printable(&said.to_string(), 80).into_owned())
    }
}

/// One model of the catalog (`GET /v1/models/{model_id}`, or an entry of `GET /v1/models`):
/// its name, kind, price and input schema.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ModelReply {
    #[serde(default, deserialize_with = "lenient")]
    pub model_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub kind: Option<String>,
    /// Only an object is a schema.
    #[serde(default, deserialize_with = "lenient")]
    pub input_schema: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, deserialize_with = "lenient_amount")]
    pub base_price_usd: Option<f64>,
    #[serde(default, deserialize_with = "lenient")]
    pub price_unit: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub pricing: Option<String>,
    /// What RunComfy's own catalog calls `pricing`.
    #[serde(default, deserialize_with = "lenient")]
    pub pricing_mode: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub pricing_note: Option<String>,
}

/// `GET /v1/models`: a page of the catalog. An entry that names no model is left out, with a
/// warning (`Client::model_prices`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ModelsReply {
    pub models: Vec<serde_json::Value>,
    #[serde(default, deserialize_with = "lenient")]
    pub total: Option<u64>,
}

/// An amount: a JSON number, or a number written as text (`"0.03"`); anything else (or a
/// negative or non-finite one) is ignored.
fn lenient_amount<'de, D>(deserializer: D) -> Result<Option<f64>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(amount(&serde_json::Value::deserialize(deserializer)?))
}

/// An amount: a JSON number, or a number written as text (`"0.03"`, `"$0.03"`); not a
/// negative or non-finite one.
fn amount(value: &serde_json::Value) -> Option<f64> {
    let amount = match value {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().trim_start_matches('$').parse().ok(),
        _ => None,
    };
    amount.filter(|a: &f64| a.is_finite() && *a >= 0.0)
}

/// A request id: text, or a whole number written as one.
fn id_text(value: serde_json::Value) -> Result<String, &'static str> {
    match value {
        serde_json::Value::String(text) => Ok(text),
        serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
        _ => Err("the request id is neither text nor a whole number"),
    }
}

/// A count: a whole number, or one written as text (`"3"`); anything else is ignored.
fn lenient_count<'de, D>(deserializer: D) -> Result<Option<u64>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// `POST /v1/requests/{id}/cancel`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CancelReply {
    #[serde(default, deserialize_with = "lenient")]
    pub request_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub outcome: Option<String>,
}

/// The key that makes a body an error body, whatever the HTTP status.
const ERROR_CODE: &str = "error_code";

/// Looks for [`ERROR_CODE`] in every reply: built once, not per reply.
static ERROR_CODE_FINDER: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new(ERROR_CODE.as_bytes()));

/// The error body: `{error_code, error_message, detail}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error_code: serde_json::Value,
    #[serde(default, deserialize_with = "lenient")]
    error_message: Option<String>,
    #[serde(default)]
    detail: Option<serde_json::Value>,
}

/// An optional field read if it has the expected type, and ignored otherwise
/// (`"queue_position": "abc"` does not make a whole status reply unreadable).
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// A time as the server wrote it: text, or a number (epoch seconds, say) as its JSON text,
/// kept for the record to say what could not be read; anything else is none.
fn time_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => Some(text),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
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

/// Reads a reply: an error body (whatever the status), an error status, or the expected body;
/// `token` is scrubbed from all of it first.
pub(crate) fn parse<T: DeserializeOwned>(status: u16, body: &[u8], token: &Token) -> Reply<T> {
    // A value takes two bytes of text at the least (`0,`): a shorter body cannot hold too many.
    if body.len() >= 2 * MAX_REPLY_VALUES
        && super::json_count::more_values_than(body, MAX_REPLY_VALUES)
    {
        return Reply::Invalid {
            reason: format!("reply holds more than {MAX_REPLY_VALUES} JSON values"),
            excerpt: scrubbed_excerpt(body, token),
        };
    }
    // Most replies are a 2xx that can hold neither the token nor an error code, even escaped:
    // those are read straight into `T`, without the JSON tree in between (a dozen
    // allocations a reply). Anything else, or a body `T` refuses, takes the whole way below.
    let may_hold_token = token.may_be_in_json(body);
    // A flat object (a status reply): `T`'s derive refuses a key given twice itself. A key
    // given twice deeper (two `images` lists in an output) is found on the way below.
    if (200..300).contains(&status)
        && !may_hold_token
        && memchr::memchr(b'\\', body).is_none()
        && memchr::memchr_iter(b'{', body).nth(1).is_none()
        && ERROR_CODE_FINDER.find(body).is_none()
        && let Ok(reply) = serde_json::from_slice(body)
    {
        return Reply::Ok(reply);
    }
    // A key given twice is ambiguous (`"status": "failed", ..., "status": "succeeded"`): which
    // did the server mean? Refused, not read as the last.
    let read = runcomfy_json::parse_slice(body).or_else(|unread| {
        // One number too large for a double (`"cost": 1e400`, a seed in the output) is no
        // reason to lose a paid job's reply: it is kept as its text.
        let eased = overflowing_numbers_as_text(body).ok_or_else(|| unread.to_string())?;
        runcomfy_json::parse_slice(&eased).map_err(|_| unread.to_string())
    });
    let (value, unread) = match read {
        Ok(mut value) => {
            if may_hold_token {
                token.scrub_json(&mut value);
            }
            (Some(value), None)
        }
        Err(unread) => (None, Some(unread)),
    };
    // From the scrubbed tree when there is one: the raw text may hold the token escaped.
    let excerpt = |value: Option<&serde_json::Value>| match value {
        Some(value) if may_hold_token => excerpt(value.to_string().as_bytes()),
        _ => scrubbed_excerpt(body, token),
    };
    if let Some(api) = value.as_ref().and_then(|v| error_body(status, v)) {
        return Reply::Api(api);
    }
    if !(200..300).contains(&status) {
        return Reply::Api(ApiError {
            status,
            code: None,
            message: excerpt(value.as_ref()),
            detail: None,
        });
    }
    let Some(value) = value else {
        let depth = nesting(body);
        return Reply::Invalid {
            reason: if body.is_empty() {
                "empty body".into()
            } else if depth > MAX_NESTING {
                // Valid JSON maybe, but past what the reader follows (its stack is bounded).
                format!("JSON nested {depth} levels deep, more than {MAX_NESTING}")
            } else if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
                // JSON, which the strict reader refused: a key given twice, which it names
                // (the server's word: printable and cut short where it is shown, and never
                // the token, which a key may echo).
                token.scrub(&unread.unwrap_or_default())
            } else {
                "not JSON".into()
            },
            excerpt: excerpt(None),
        };
    };
    match T::deserialize(&value) {
        Ok(reply) => Reply::Ok(reply),
        Err(err) => Reply::Invalid {
            // The decoder's message quotes the value it choked on (already scrubbed).
            reason: err.to_string(),
            excerpt: excerpt(Some(&value)),
        },
    }
}

/// The deepest nesting of a reply serde_json reads: past it, it stops with an error.
const MAX_NESTING: usize = 127;

/// How deep arrays and objects nest in `json`, read as JSON text (brackets in strings do not
/// count), whether or not the rest of it is JSON.
fn nesting(json: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for &byte in json {
        match (in_string, byte) {
            (true, _) if escaped => escaped = false,
            (true, b'\\') => escaped = true,
            (true, b'"') => in_string = false,
            (true, _) => {}
            (false, b'"') => in_string = true,
            (false, b'[' | b'{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (false, b']' | b'}') => depth = depth.saturating_sub(1),
            (false, _) => {}
        }
    }
    deepest
}

/// `json` with each number too large for a double written as a string of its text (`1e400`
/// becomes `"1e400"`), which serde_json cannot read as a number; `None` when it has none.
fn overflowing_numbers_as_text(json: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(json.len() + 16);
    let (mut at, mut in_string, mut eased) = (0, false, false);
    while let Some(&byte) = json.get(at) {
        if in_string {
            match byte {
                b'\\' => {
                    out.extend_from_slice(json.get(at..at + 2).unwrap_or(&json[at..]));
                    at += 2;
                    continue;
                }
                b'"' => in_string = false,
                _ => {}
            }
        } else if byte == b'"' {
            in_string = true;
        } else if byte == b'-' || byte.is_ascii_digit() {
            let len = json[at..]
                .iter()
                .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                .unwrap_or(json.len() - at);
            let number = &json[at..at + len];
            let overflows = std::str::from_utf8(number)
                .ok()
                .and_then(|text| text.parse::<f64>().ok())
                .is_some_and(f64::is_infinite);
            if overflows {
                out.push(b'"');
                out.extend_from_slice(number);
                out.push(b'"');
                eased = true;
            } else {
                out.extend_from_slice(number);
            }
            at += len;
            continue;
        }
        out.push(byte);
        at += 1;
    }
    eased.then_some(out)
}

fn error_body(status: u16, value: &serde_json::Value) -> Option<ApiError> {
    let object = value.as_object()?;
    if object.get(ERROR_CODE).is_none_or(|code| code.is_null()) {
        return None;
    }
    let body = ErrorBody::deserialize(value).ok()?;
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

/// [`excerpt`] of a reply that may echo the token: scrubbed before the cut, so a token that
/// spans it cannot show in part.
pub(crate) fn scrubbed_excerpt(body: &[u8], token: &Token) -> String {
    let text = String::from_utf8_lossy(body);
    // Enough past the cut to hold any token that starts before it.
    let head: String = text.chars().take(EXCERPT_CHARS + token.chars()).collect();
    let cut = text.len() > head.len();
    let mut out = excerpt(token.scrub(&head).as_bytes());
    if cut && !out.ends_with('…') {
        out.push('…');
    }
    out
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
///
/// A 429 is a rate limit whatever code its body gives: only that reading honours the
/// `Retry-After` the server sent with it.
pub(crate) fn classify(api: ApiError, retry_after: Option<std::time::Duration>) -> Error {
    let kind = match api.code {
        _ if api.status == 429 => Kind::RateLimited,
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

    fn parse<T: DeserializeOwned>(status: u16, body: &[u8]) -> Reply<T> {
        let token = Token::new("tok-wire-123").unwrap_or_else(|e| panic!("{e}"));
        super::parse(status, body, &token)
    }

    /// A reply nested deeper than the reader follows is said to be, not "not JSON" (QA
    /// repro29 #5); brackets inside strings do not count.
    #[test]
    fn a_reply_nested_too_deep_says_so() {
        let deep = |n: usize| {
            format!(
                r#"{{"status": "succeeded", "output": {{"x": {}{}}}}}"#,
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        match parse::<ResultReply>(200, deep(200).as_bytes()) {
            Reply::Invalid { reason, .. } => {
                assert_eq!(reason, "JSON nested 202 levels deep, more than 127")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse::<ResultReply>(200, deep(100).as_bytes()),
            Reply::Ok(_)
        ));
        assert_eq!(nesting(br#"{"a": "[[[{{{\"[", "b": [1]}"#), 2);
        match parse::<ResultReply>(200, b"<html>") {
            Reply::Invalid { reason, .. } => assert_eq!(reason, "not JSON"),
            other => panic!("{other:?}"),
        }
    }

    /// A key given twice is ambiguous, at any depth: refused, naming it, not read as the last
    /// (QA repro33 F5: a failed job read as succeeded, a result for another job let through,
    /// one of two `images` lists lost). The token a key echoes is not repeated.
    #[test]
    fn a_key_given_twice_is_refused_at_any_depth() {
        for body in [
            r#"{"request_id": "a", "status": "failed", "status": "succeeded"}"#,
            r#"{"request_id": "x", "request_id": "a", "status": "succeeded"}"#,
            r#"{"status": "succeeded", "output": {"images": ["u"], "images": ["v"]}}"#,
            r#"{"status": "succeeded", "output": {"tok-wire-123": 1, "tok-wire-123": 2}}"#,
        ] {
            match parse::<ResultReply>(200, body.as_bytes()) {
                Reply::Invalid { reason, .. } => {
                    assert!(reason.contains("is given twice"), "{reason}");
                    assert!(!reason.contains("tok-wire-123"), "{reason}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
        match parse::<StatusReply>(200, br#"{"status": "in_queue", "status": "completed"}"#) {
            Reply::Invalid { .. } => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn odd_optional_fields_are_ignored_and_the_token_never_comes_through() {
        let body = br#"{"status": "in_queue", "queue_position": "abc"}"#;
        match parse::<StatusReply>(200, body) {
            Reply::Ok(reply) => assert_eq!(reply.queue_position, None),
            other => panic!("{other:?}"),
        }
        let body = br#"{"status": "failed", "error": {"m": "tok-wire-123"}, "output": ["x?t=tok-wire-123"],
            "created_at": 5, "finished_at": ["tok-wire-123"]}"#;
        match parse::<ResultReply>(200, body) {
            Reply::Ok(reply) => {
                let text = format!("{reply:?}");
                assert!(!text.contains("tok-wire-123"), "{text}");
                // A number is kept as its text (a record says what it could not read).
                assert_eq!(
                    (reply.created_at, reply.finished_at),
                    (Some("5".into()), None)
                );
            }
            other => panic!("{other:?}"),
        }
        // Written with escapes, the token is not in the raw text but is in what it decodes
        // to: still scrubbed.
        let body = br#"{"status": "failed", "error": "\u0074ok-wire-123", "output": {"tok-w\u0069re-123": 1}}"#;
        assert!(!String::from_utf8_lossy(body).contains("tok-wire-123"));
        match parse::<ResultReply>(200, body) {
            Reply::Ok(reply) => {
                let text = format!("{reply:?}");
                assert!(!text.contains("tok-wire-123"), "{text}");
                assert!(text.contains("[redacted]"), "{text}");
            }
            other => panic!("{other:?}"),
        }
        // Not JSON at all: the excerpt is scrubbed too.
        match parse::<StatusReply>(502, b"<html>tok-wire-123</html>") {
            Reply::Api(api) => assert!(!api.message.contains("tok-wire-123"), "{api:?}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn costs_and_prices_are_read_leniently() {
        let cost = |body: &str| match parse::<ResultReply>(200, body.as_bytes()) {
            Reply::Ok(reply) => (reply.cost_amount(), reply.cost_said()),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            cost(r#"{"status": "succeeded", "cost": 0.09}"#),
            (Some(0.09), Some("0.09".into()))
        );
        assert_eq!(
            cost(r#"{"status": "succeeded", "cost": "$0.5"}"#),
            (Some(0.5), Some(r#""$0.5""#.into()))
        );
        // Said, but not as an amount: kept as said.
        assert_eq!(
            cost(r#"{"status": "succeeded", "cost": -1}"#),
            (None, Some("-1".into()))
        );
        assert_eq!(
            cost(r#"{"status": "succeeded", "cost": "0.5 EUR"}"#),
            (None, Some(r#""0.5 EUR""#.into()))
        );
        assert_eq!(
            cost(r#"{"status": "succeeded", "cost": {"usd": 1}}"#),
            (None, Some(r#"{"usd":1}"#.into()))
        );
        assert_eq!(cost(r#"{"status": "succeeded"}"#), (None, None));
        assert_eq!(
            cost(r#"{"status": "succeeded", "cost": null}"#),
            (None, None)
        );
        // Too large for a double: kept as its text, and the reply is read.
        assert_eq!(
            cost(r#"{"status": "succeeded", "cost": 1e400, "output": {"seed": -2E+999}}"#),
            (None, Some(r#""1e400""#.into()))
        );
        let eased = overflowing_numbers_as_text(br#"{"a": [1e400, 2], "s": "9e999 \" 1e400"}"#);
        assert_eq!(
            eased.as_deref(),
            Some(&br#"{"a": ["1e400", 2], "s": "9e999 \" 1e400"}"#[..])
        );
        assert_eq!(overflowing_numbers_as_text(br#"{"a": 1e300}"#), None);
        let body = br#"{"model_id": "a/b", "base_price_usd": "0.03", "price_unit": 7}"#;
        match parse::<ModelReply>(200, body) {
            Reply::Ok(reply) => {
                assert_eq!(reply.base_price_usd, Some(0.03));
                assert_eq!(reply.price_unit, None);
            }
            other => panic!("{other:?}"),
        }
    }

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
        // One that would also read as the expected reply, its key written plainly or escaped.
        for body in [
            br#"{"status": "in_progress", "error_code": 429001, "error_message": "slow down"}"#
                .as_slice(),
            br#"{"status": "in_progress", "error\u005fcode": 429001, "error_message": "slow down"}"#,
        ] {
            match parse::<StatusReply>(200, body) {
                Reply::Api(api) => assert_eq!(api.code, Some(429001)),
                other => panic!("{other:?}"),
            }
            // With a token too short to be looked for, escapes are no reason to look closer.
            let short = Token::new("tok").unwrap_or_else(|e| panic!("{e}"));
            match super::parse::<StatusReply>(200, body, &short) {
                Reply::Api(api) => assert_eq!(api.code, Some(429001)),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn numbers_where_text_or_counts_belong_are_read() {
        match parse::<SubmitReply>(200, br#"{"request_id": 123}"#) {
            Reply::Ok(reply) => assert_eq!(reply.request_id, "123"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse::<SubmitReply>(200, br#"{"request_id": 1.5}"#),
            Reply::Invalid { .. }
        ));
        // Another server's name for it; `request_id` first when both are given.
        for (body, id) in [
            (&br#"{"id": "r-9", "status": "in_queue"}"#[..], "r-9"),
            (br#"{"id": "other", "request_id": "r-1"}"#, "r-1"),
            (br#"{"request_id": null, "id": 7}"#, "7"),
        ] {
            match parse::<SubmitReply>(200, body) {
                Reply::Ok(reply) => assert_eq!(reply.request_id, id),
                other => panic!("{other:?}"),
            }
        }
        match parse::<SubmitReply>(200, br#"{"status": "in_queue"}"#) {
            Reply::Invalid { reason, .. } => assert!(reason.contains("request_id"), "{reason}"),
            other => panic!("{other:?}"),
        }
        match parse::<StatusReply>(200, br#"{"status": "in_queue", "queue_position": " 7"}"#) {
            Reply::Ok(reply) => assert_eq!(reply.queue_position, Some(7)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn replies_of_too_many_values_are_refused_before_they_are_read() {
        // Well under the byte cap, but tens of bytes a value as a tree.
        let zeros = vec!["0"; 2 * MAX_REPLY_VALUES].join(",");
        let body = format!(r#"{{"status": "succeeded", "output": {{"images": [{zeros}]}}}}"#);
        match parse::<ResultReply>(200, body.as_bytes()) {
            Reply::Invalid { reason, excerpt } => {
                assert!(reason.contains("JSON values"), "{reason}");
                assert!(excerpt.starts_with(r#"{"status""#), "{excerpt}");
            }
            other => panic!("{other:?}"),
        }
        // As long, in few values: a thousand long output URLs.
        let url = format!("\"https://files.runcomfy.net/{}.png\"", "a".repeat(400));
        let urls = vec![url.as_str(); 1000].join(",");
        let body = format!(r#"{{"status": "succeeded", "output": {{"images": [{urls}]}}}}"#);
        assert!(body.len() >= 2 * MAX_REPLY_VALUES);
        match parse::<ResultReply>(200, body.as_bytes()) {
            Reply::Ok(reply) => assert_eq!(reply.status, "succeeded"),
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

    #[test]
    fn a_429_is_a_rate_limit_whatever_code_its_body_gives() {
        let api = ApiError {
            status: 429,
            code: Some(500001),
            message: "slow down".into(),
            detail: None,
        };
        let wait = std::time::Duration::from_secs(7);
        match classify(api, Some(wait)) {
            Error::RateLimited { retry_after, .. } => assert_eq!(retry_after, Some(wait)),
            other => panic!("{other:?}"),
        }
    }
}
