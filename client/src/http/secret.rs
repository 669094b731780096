//! The API token: kept out of `Debug`, logs, errors and panics.
//!
//! A small hand-written newtype rather than the `secrecy` crate: the token is only ever turned
//! into one `Authorization` header value, marked sensitive so `http`'s own `Debug` hides it, and
//! zeroizing our copy would not help while `reqwest` keeps its own copy of the header.

use std::fmt;

use memchr::memmem::Finder;
use reqwest::header::HeaderValue;

#[doc(inline)]
pub use crate::error::TokenError;

/// What replaces the token wherever it could otherwise show up.
pub(crate) const REDACTED: &str = "[redacted]";

/// A RunComfy API token.
///
/// `Debug` prints `Token([redacted])`; there is no `Display` and no accessor for the text.
#[derive(Clone)]
pub struct Token {
    /// The token, kept only to scrub it from text the server sends back.
    raw: Box<str>,
    /// `Bearer <token>`, marked sensitive.
    header: HeaderValue,
    /// Looks for `raw`: every reply is searched, so the searcher is built once.
    finder: Finder<'static>,
}

impl Token {
    /// Wraps a token, trimming surrounding whitespace (a trailing newline from a file or an
    /// environment variable is a common accident).
    pub fn new(token: impl Into<String>) -> Result<Self, TokenError> {
        let token = token.into();
        let trimmed = token.trim();
        if trimmed.is_empty() {
            return Err(TokenError::Empty);
        }
        // A header may carry bytes past ASCII, but a server may echo them back decoded another
        // way (Latin-1), where `scrub` would not find them: such a token is refused.
        if !trimmed.is_ascii() {
            return Err(TokenError::InvalidCharacters);
        }
        let mut header = HeaderValue::try_from(format!("Bearer {trimmed}"))
            .map_err(|_| TokenError::InvalidCharacters)?;
        header.set_sensitive(true);
        Ok(Self {
            finder: Finder::new(trimmed.as_bytes()).into_owned(),
            raw: trimmed.into(),
            header,
        })
    }

    /// The `Authorization` header value.
    pub(crate) fn header(&self) -> &HeaderValue {
        &self.header
    }

    /// Replaces every occurrence of the token in text that came from elsewhere (a server may
    /// echo a bad token back in its error message).
    pub(crate) fn scrub(&self, text: &str) -> String {
        if self.is_in(text.as_bytes()) {
            text.replace(&*self.raw, REDACTED)
        } else {
            text.to_owned()
        }
    }

    /// The token's length in characters.
    pub(crate) fn chars(&self) -> usize {
        self.raw.chars().count()
    }

    /// Whether the token occurs in `bytes`. A one- to three-character token never does:
    /// scrubbing it would mangle ordinary text, and such a token is never a real one.
    fn is_in(&self, bytes: &[u8]) -> bool {
        self.raw.len() >= 4 && self.finder.find(bytes).is_some()
    }

    /// Whether a JSON text may hold the token in one of its strings once decoded: it holds it
    /// as is, or has an escape (`\u0074ok...` decodes to it). A reply that cannot is not
    /// walked.
    pub(crate) fn may_be_in_json(&self, json: &[u8]) -> bool {
        self.is_in(json) || (self.raw.len() >= 4 && memchr::memchr(b'\\', json).is_some())
    }

    /// [`scrub`](Self::scrub) on the URL an HTTP client error names: a redirect's `Location`
    /// may carry the token back. The URL is dropped if the scrubbed text does not parse.
    pub(crate) fn scrub_error(&self, mut error: reqwest::Error) -> reqwest::Error {
        let Some(url) = error.url_mut() else {
            return error;
        };
        if !self.is_in(url.as_str().as_bytes()) {
            return error;
        }
        match reqwest::Url::parse(&self.scrub(url.as_str())) {
            Ok(scrubbed) => {
                *url = scrubbed;
                error
            }
            Err(_) => error.without_url(),
        }
    }

    /// [`scrub`](Self::scrub) on every string and key of a JSON value (a whole reply), in
    /// place: every reply goes through here, and one without the token (all of them, but for
    /// a hostile server) is neither copied nor rebuilt.
    pub(crate) fn scrub_json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::String(text) => {
                if self.is_in(text.as_bytes()) {
                    *text = text.replace(&*self.raw, REDACTED);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.scrub_json(item)),
            Value::Object(map) => {
                if map.keys().any(|key| self.is_in(key.as_bytes())) {
                    *map = std::mem::take(map)
                        .into_iter()
                        .map(|(key, item)| (self.scrub(&key), item))
                        .collect();
                }
                map.values_mut().for_each(|item| self.scrub_json(item));
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({REDACTED})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let token = Token::new("sk-very-secret-value").unwrap_or_else(|e| panic!("{e}"));
        let debug = format!("{token:?} {:?}", token.header());
        assert!(!debug.contains("very-secret"), "{debug}");
    }

    #[test]
    fn rejects_empty_and_header_breaking_tokens() {
        assert_eq!(Token::new("  \n").err(), Some(TokenError::Empty));
        assert_eq!(
            Token::new("abc\r\ndef").err(),
            Some(TokenError::InvalidCharacters)
        );
        assert!(Token::new(" tok-123\n").is_ok());
        // A header could carry it, but an echo of it could come back decoded otherwise.
        assert_eq!(
            Token::new("tok-café").err(),
            Some(TokenError::InvalidCharacters)
        );
    }

    #[test]
    fn scrubs_echoed_tokens_in_json() {
        let token = Token::new("tok-123456").unwrap_or_else(|e| panic!("{e}"));
        let mut detail = serde_json::json!([{"tok-123456": ["x tok-123456"], "n": 1}]);
        token.scrub_json(&mut detail);
        assert_eq!(
            detail,
            serde_json::json!([{"[redacted]": ["x [redacted]"], "n": 1}])
        );
    }

    #[test]
    fn scrubs_echoed_tokens() {
        let token = Token::new("tok-123456").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            token.scrub("bad token tok-123456!"),
            "bad token [redacted]!"
        );
    }
}
