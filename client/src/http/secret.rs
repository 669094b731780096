//! The API token: kept out of `Debug`, logs, errors and panics.
//!
//! A small hand-written newtype rather than the `secrecy` crate: the token is only ever turned
//! into one `Authorization` header value, marked sensitive so `http`'s own `Debug` hides it, and
//! zeroizing our copy would not help while `reqwest` keeps its own copy of the header.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use reqwest::header::HeaderValue;

#[doc(inline)]
pub use crate::error::TokenError;

/// What replaces the token wherever it could otherwise show up.
pub(crate) const REDACTED: &str = "[redacted]";

/// The fewest characters of a token that count as the token when a server echoes only part of
/// it (cut short, or a piece of it); all of a shorter token. Eight random characters do not
/// occur by chance in a reply, and a fixed length keeps the search small for a long token.
const FRAGMENT: usize = 8;

/// The longest token taken. RunComfy's are a few dozen characters; a header of kilobytes is
/// refused by servers (431), and every run of it is searched for in each reply.
pub const MAX_TOKEN_CHARS: usize = 4096;

/// A RunComfy API token.
///
/// `Debug` prints `Token([redacted])`; there is no `Display` and no accessor for the text.
///
/// What a server sends back is scrubbed of it in the forms an echo takes: as is, in any case
/// (a MIME type or host name read from a header is lower-cased), cut short or in pieces (any
/// run of 8 of its characters), reversed, hex-encoded, percent-encoded (as a URL built from it
/// carries it), or base64-encoded (at any of its three alignments). A server that means to
/// hide it can always encode it some other way: this covers what an honest echo and our own
/// reading of headers make of it.
///
/// A program that sends its own requests with the token (the maintainer tools' `pull`) adds it
/// with [`authorize`](Self::authorize) and treats what comes back with [`scrub`](Self::scrub),
/// [`scrub_json`](Self::scrub_json) and [`scrub_error`](Self::scrub_error), as the client does.
#[derive(Clone)]
pub struct Token {
    /// `Bearer <token>`, marked sensitive.
    header: HeaderValue,
    /// Every run of a fragment's length of the token (one, the whole token, for a short one),
    /// forwards, backwards and in hex, in any ASCII case. Every reply is searched, so the
    /// searcher is built once.
    fragments: AhoCorasick,
    /// The token's base64 encodings (both alphabets, each alignment), found as they are.
    encodings: AhoCorasick,
}

impl Token {
    /// Wraps a token, trimming surrounding whitespace (a trailing newline from a file or an
    /// environment variable is a common accident).
    pub fn new(token: impl Into<String>) -> Result<Self, TokenError> {
        let token = token.into();
        let trimmed = token.trim();
        // Copied from a curl example with its scheme: the header adds it again.
        let trimmed = match trimmed.split_once(char::is_whitespace) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim_start(),
            None if trimmed.eq_ignore_ascii_case("bearer") => "",
            _ => trimmed,
        };
        if trimmed.is_empty() {
            return Err(TokenError::Empty);
        }
        // A header may carry bytes past ASCII, but a server may echo them back decoded another
        // way (Latin-1), where `scrub` would not find them: such a token is refused.
        if !trimmed.is_ascii() {
            return Err(TokenError::InvalidCharacters);
        }
        if trimmed.len() > MAX_TOKEN_CHARS {
            return Err(TokenError::TooLong {
                max: MAX_TOKEN_CHARS,
            });
        }
        let mut header = HeaderValue::try_from(format!("Bearer {trimmed}"))
            .map_err(|_| TokenError::InvalidCharacters)?;
        header.set_sensitive(true);
        let searcher = |patterns: Vec<Vec<u8>>, any_case: bool| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(any_case)
                .build(patterns)
                .map_err(|_| TokenError::TooLong {
                    max: MAX_TOKEN_CHARS,
                })
        };
        Ok(Self {
            header,
            fragments: searcher(fragments(trimmed.as_bytes()), true)?,
            encodings: searcher(encodings(trimmed.as_bytes()), false)?,
        })
    }

    /// The `Authorization` header value.
    pub(crate) fn header(&self) -> &HeaderValue {
        &self.header
    }

    /// `request` with the `Authorization: Bearer` header (marked sensitive, so the HTTP
    /// stack's `Debug` and logs hide it), for a caller that sends its own requests: it answers
    /// for where they go (the client adds it to the API's origin only).
    pub fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.header(reqwest::header::AUTHORIZATION, self.header.clone())
    }

    /// Replaces every echo of the token in text that came from elsewhere (a server may echo a
    /// bad token back in its error message, or build a URL from it) with `[redacted]`. A one-
    /// to three-character token is not looked for: scrubbing it would mangle ordinary text.
    pub fn scrub(&self, text: &str) -> String {
        let spans = self.spans(text.as_bytes());
        if spans.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut from = 0;
        for span in spans {
            // Every span starts and ends on ASCII (the token's bytes, `%XX`, base64): on
            // character boundaries.
            out.push_str(text.get(from..span.start).unwrap_or_default());
            out.push_str(REDACTED);
            from = span.end;
        }
        out.push_str(text.get(from..).unwrap_or_default());
        out
    }

    /// The token's length in characters.
    pub(crate) fn chars(&self) -> usize {
        self.header.len() - "Bearer ".len()
    }

    /// Whether an echo of the token occurs in `bytes`.
    fn is_in(&self, bytes: &[u8]) -> bool {
        !self.spans(bytes).is_empty()
    }

    /// Where echoes of the token are in `bytes`: sorted byte ranges that neither overlap nor
    /// touch. None for a one- to three-character token: scrubbing it would mangle ordinary
    /// text, and such a token is never a real one.
    fn spans(&self, bytes: &[u8]) -> Vec<Range<usize>> {
        if self.chars() < 4 {
            return Vec::new();
        }
        let found = |searcher: &AhoCorasick, haystack: &[u8]| -> Vec<Range<usize>> {
            searcher
                .find_overlapping_iter(haystack)
                .map(|m| m.range())
                .collect()
        };
        // Fragments as the text has them, and through percent escapes: each byte read as the
        // text means it, with where it came from. Both: a token may hold `%41` itself.
        let mut spans = found(&self.fragments, bytes);
        let decoded = PercentDecoded::of(bytes);
        if !decoded.escapes.is_empty() {
            spans.extend(
                found(&self.fragments, &decoded.bytes)
                    .into_iter()
                    .map(|range| decoded.source(range)),
            );
        }
        spans.extend(found(&self.encodings, bytes));
        merged(spans)
    }

    /// Whether a JSON text may hold the token in one of its strings once decoded: it holds it
    /// in a form [`scrub`](Self::scrub) finds, or has an escape (`\u0074ok...` decodes to it). A
    /// reply that cannot is not walked.
    pub(crate) fn may_be_in_json(&self, json: &[u8]) -> bool {
        self.is_in(json) || (self.chars() >= 4 && memchr::memchr(b'\\', json).is_some())
    }

    /// [`scrub`](Self::scrub) on the URL an HTTP client error names: a redirect's `Location`
    /// may carry the token back. The URL is dropped if the scrubbed text does not parse.
    pub fn scrub_error(&self, mut error: reqwest::Error) -> reqwest::Error {
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
    /// a hostile server) is neither copied nor rebuilt. Returns whether an echo was found, for
    /// a caller that refuses such a reply rather than keep it scrubbed.
    pub fn scrub_json(&self, value: &mut serde_json::Value) -> bool {
        use serde_json::Value;
        match value {
            Value::String(text) => {
                let found = self.is_in(text.as_bytes());
                if found {
                    *text = self.scrub(text);
                }
                found
            }
            // `fold`, not `any`: every item is scrubbed, also after one held an echo.
            Value::Array(items) => items
                .iter_mut()
                .fold(false, |found, item| self.scrub_json(item) | found),
            Value::Object(map) => {
                let found = map.keys().any(|key| self.is_in(key.as_bytes()));
                if found {
                    *map = std::mem::take(map)
                        .into_iter()
                        .map(|(key, item)| (self.scrub(&key), item))
                        .collect();
                }
                map.values_mut()
                    .fold(found, |found, item| self.scrub_json(item) | found)
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }
}

/// Each run of the token as long as a fragment ([`FRAGMENT`], or the whole of a shorter
/// token): any echo at least that long holds one of them. Also backwards, and in hex (either
/// case, as the search ignores ASCII case).
fn fragments(token: &[u8]) -> Vec<Vec<u8>> {
    let len = token.len().min(FRAGMENT);
    let reversed: Vec<u8> = token.iter().rev().copied().collect();
    let mut runs: Vec<Vec<u8>> = token
        .windows(len)
        .chain(reversed.windows(len))
        .map(<[u8]>::to_vec)
        .collect();
    let hex: Vec<Vec<u8>> = token
        .windows(len)
        .map(|run| {
            run.iter()
                .flat_map(|b| format!("{b:02x}").into_bytes())
                .collect()
        })
        .collect();
    runs.extend(hex);
    runs.sort_unstable();
    runs.dedup();
    runs
}

/// Each whole base64 quartet run the token makes, whatever came before it in the encoded text
/// (three alignments) and in either alphabet: only quartets made of the token's own bytes, so
/// they are the same in every text that encodes it.
fn encodings(token: &[u8]) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let mut encoded = Vec::new();
    for skip in 0..3 {
        let rest = token.get(skip..).unwrap_or_default();
        let whole = rest.get(..rest.len() / 3 * 3).unwrap_or_default();
        // Shorter than a fragment, an encoding says too little to be told from chance.
        if whole.len() < FRAGMENT {
            continue;
        }
        encoded.push(STANDARD_NO_PAD.encode(whole).into_bytes());
        encoded.push(URL_SAFE_NO_PAD.encode(whole).into_bytes());
    }
    encoded.sort_unstable();
    encoded.dedup();
    encoded
}

/// Text with its percent escapes (`%2B`) read as the bytes they stand for, and where each
/// byte came from. Text without a `%` (nearly every reply) is not copied.
struct PercentDecoded<'a> {
    bytes: Cow<'a, [u8]>,
    /// The decoded offsets of the bytes that were escapes (three source bytes each).
    escapes: Vec<usize>,
}

impl PercentDecoded<'_> {
    fn of(text: &[u8]) -> PercentDecoded<'_> {
        if memchr::memchr(b'%', text).is_none() {
            return PercentDecoded {
                bytes: Cow::Borrowed(text),
                escapes: Vec::new(),
            };
        }
        let mut bytes = Vec::with_capacity(text.len());
        let mut escapes = Vec::new();
        let mut at = 0;
        while let Some(&byte) = text.get(at) {
            let escaped = match text.get(at..at + 3) {
                Some([b'%', high, low]) => hex(*high).zip(hex(*low)).map(|(h, l)| h << 4 | l),
                _ => None,
            };
            match escaped {
                Some(decoded) => {
                    escapes.push(bytes.len());
                    bytes.push(decoded);
                    at += 3;
                }
                None => {
                    bytes.push(byte);
                    at += 1;
                }
            }
        }
        PercentDecoded {
            bytes: Cow::Owned(bytes),
            escapes,
        }
    }

    /// The source bytes decoded bytes `range` came from.
    fn source(&self, range: Range<usize>) -> Range<usize> {
        // Each escape before a byte moved it two bytes on.
        let at = |i: usize| i + 2 * self.escapes.partition_point(|&e| e < i);
        at(range.start)..at(range.end)
    }
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// `spans` sorted, with those that overlap or touch joined: each echo is one `[redacted]`.
fn merged(mut spans: Vec<Range<usize>>) -> Vec<Range<usize>> {
    spans.sort_unstable_by_key(|span| span.start);
    let mut out: Vec<Range<usize>> = Vec::with_capacity(spans.len());
    for span in spans {
        match out.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => out.push(span),
        }
    }
    out
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
        // The scheme a curl example shows before the token is not sent twice.
        for pasted in ["Bearer tok-123", "bearer  tok-123", "BEARER tok-123"] {
            let token = Token::new(pasted).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(token.header().as_bytes(), b"Bearer tok-123", "{pasted}");
        }
        assert_eq!(Token::new("Bearer ").err(), Some(TokenError::Empty));
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
        assert!(token.scrub_json(&mut detail));
        assert_eq!(
            detail,
            serde_json::json!([{"[redacted]": ["x [redacted]"], "n": 1}])
        );
        // An echo in a later item is scrubbed and told too; none is none.
        let mut later = serde_json::json!({"a": ["x", {"b": "tok-123456"}], "c": "tok-123456"});
        assert!(token.scrub_json(&mut later));
        assert_eq!(
            later,
            serde_json::json!({"a": ["x", {"b": "[redacted]"}], "c": "[redacted]"})
        );
        let mut clean = serde_json::json!({"a": ["x", 1, null]});
        assert!(!token.scrub_json(&mut clean));
    }

    #[test]
    fn a_token_holding_percent_escapes_is_found_as_it_is() {
        let token = Token::new("Zm9v%3D%3Dabcdefgh").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            token.scrub("invalid token Zm9v%3D%3Dabcdefgh here"),
            "invalid token [redacted] here"
        );
        assert_eq!(
            token.scrub("Bearer Zm9v%3D%3Dabcdefgh"),
            "Bearer [redacted]"
        );
    }

    #[test]
    fn a_token_longer_than_any_is_refused() {
        assert!(Token::new("a".repeat(MAX_TOKEN_CHARS)).is_ok());
        assert_eq!(
            Token::new("a".repeat(MAX_TOKEN_CHARS + 1)).err(),
            Some(TokenError::TooLong {
                max: MAX_TOKEN_CHARS
            })
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

    #[test]
    fn scrubs_a_token_echoed_cut_short_encoded_or_in_pieces() {
        let token = Token::new("sk+SECRET/TOKEN=123").unwrap_or_else(|e| panic!("{e}"));
        // Cut short, or a piece of it: eight characters or more count.
        assert_eq!(token.scrub("id-sk+SECRET/TOKEN=12"), "id-[redacted]");
        assert_eq!(token.scrub("x SECRET/TOKE y"), "x [redacted] y");
        assert_eq!(
            token.scrub("sk+SECRE / T/TOKEN= / EN=123"),
            "[redacted] / [redacted] / EN=123"
        );
        // A shorter piece says too little to be told from chance.
        assert_eq!(token.scrub("SECRET"), "SECRET");
        // Percent-encoded, wholly or in part, upper or lower case.
        assert_eq!(
            token.scrub("https://h/0.png?sig=sk%2BSECRET%2FTOKEN%3D123&x=1"),
            "https://h/0.png?sig=[redacted]&x=1"
        );
        assert_eq!(token.scrub("sk%2bSECRET/TOKEN%3d123"), "[redacted]");
        // Base64, however it was aligned in what was encoded.
        use base64::Engine as _;
        for before in ["", "a", "ab"] {
            let text = format!("{before}sk+SECRET/TOKEN=123 after");
            for engine in [
                base64::engine::general_purpose::STANDARD,
                base64::engine::general_purpose::URL_SAFE,
            ] {
                let encoded = engine.encode(&text);
                let scrubbed = token.scrub(&encoded);
                assert!(scrubbed.contains(REDACTED), "{before:?}: {scrubbed}");
            }
        }
        // Two echoes side by side are one.
        assert_eq!(
            token.scrub("sk+SECRET/TOKEN=123sk+SECRET/TOKEN=123"),
            "[redacted]"
        );
        // In another case (a MIME type or a host name read from a header is lower-cased), or
        // with its case swapped.
        assert_eq!(
            token.scrub("text/x-sk+secret/token=123"),
            "text/x-[redacted]"
        );
        assert_eq!(token.scrub("SK+secret/token=123"), "[redacted]");
        // Backwards, and in hex of either case.
        assert_eq!(token.scrub("321=NEKOT/TERCES+ks"), "[redacted]");
        let hex: String = "sk+SECRET/TOKEN=123"
            .bytes()
            .map(|b| format!("{b:02X}"))
            .collect();
        assert_eq!(token.scrub(&format!("0x{hex}")), "0x[redacted]");
        // Text around an echo is kept whole, past ASCII too.
        assert_eq!(token.scrub("é sk+SECRET/TOKEN=123 ü"), "é [redacted] ü");
    }
}
