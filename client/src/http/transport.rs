//! One call to the API: the rate gate, the token (to the API origin only), reading a capped
//! body, and turning the reply into a typed value or a [`Failure`].
//!
//! [`Http`] is the connection a client owns and every call goes through: the HTTP client, the
//! API's base URL, the token, the user agent, the retry policy and the rate gate. Output files
//! are fetched with a second HTTP client that follows no redirects, so the download code sees
//! (and checks) every hop. The API's client follows no redirect of a submit or a cancel (the
//! builder's policy): a server that answers a submit with one has it, and a redirect's target
//! that cannot be reached must not read as "not sent".

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt as _;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use reqwest::{Method, RequestBuilder, Url};
use serde::de::DeserializeOwned;

use super::retry::{self, Failure, RateGate, RetryPolicy, SubmitControl, retry_after};
use super::secret::Token;
use super::wire::{self, Reply};
use crate::error::Error;

/// The largest API reply read; replies are small JSON, so anything bigger is not one.
pub(crate) const MAX_REPLY_BYTES: usize = 8 * 1024 * 1024;

/// The API's media type, for `Accept` and a body's `Content-Type` (a static header value: a
/// `&str` header is copied on every call).
const JSON: &str = "application/json";

/// One API request.
pub(crate) struct Call {
    pub method: Method,
    pub url: Url,
    pub body: Option<Bytes>,
    pub timeout: Duration,
    /// The largest reply read: [`MAX_REPLY_BYTES`], but where a reply may hold more.
    pub max_reply: usize,
}

/// The connection to the API: what every call needs, and nothing of what it is about.
pub(crate) struct Http {
    client: reqwest::Client,
    /// For output files: follows no redirects.
    files: reqwest::Client,
    /// Whether `client` is known to follow no redirect of a POST (the builder's own; one the
    /// caller supplied may).
    posts_unredirected: bool,
    base: Url,
    token: Token,
    user_agent: HeaderValue,
    retry: RetryPolicy,
    gate: RateGate,
}

impl Http {
    pub(crate) fn new(
        client: reqwest::Client,
        files: reqwest::Client,
        posts_unredirected: bool,
        base: Url,
        token: Token,
        user_agent: HeaderValue,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            client,
            files,
            posts_unredirected,
            base,
            token,
            user_agent,
            retry,
            gate: RateGate::default(),
        }
    }

    /// The HTTP client inside (it carries no token by itself).
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The API's base URL.
    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    /// The token, to scrub it from text the server sends back.
    pub(crate) fn token(&self) -> &Token {
        &self.token
    }

    /// How failed calls are retried.
    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// `{base}/{segments}`, each segment escaped as one path segment.
    pub(crate) fn url<'a>(&self, segments: impl IntoIterator<Item = &'a str>) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// A GET of an output file at `url`, following no redirect, with the user agent, and the
    /// token only if `token` is asked for and `url` is the API's own origin (output hosts are
    /// other origins: they never see it).
    pub(crate) fn get_file(&self, url: &Url, token: bool) -> RequestBuilder {
        let request = self
            .files
            .get(url.clone())
            .header(USER_AGENT, self.user_agent.clone());
        if token {
            self.authorize(request, url)
        } else {
            request
        }
    }

    /// Adds the token, if `url` is the API's own origin, whatever URL a caller builds.
    fn authorize(&self, request: RequestBuilder, url: &Url) -> RequestBuilder {
        if self.is_api_origin(url) {
            request.header(AUTHORIZATION, self.token.header().clone())
        } else {
            request
        }
    }

    /// Whether `url` is on the API's own origin (scheme, host and port), compared field by
    /// field: `Url::origin` allocates both sides, and every call asks. Only HTTP(S) URLs have
    /// an origin that can match (others' are opaque).
    pub(crate) fn is_api_origin(&self, url: &Url) -> bool {
        let base = &self.base;
        matches!(url.scheme(), "http" | "https")
            && url.scheme() == base.scheme()
            && url.host() == base.host()
            && url.port_or_known_default() == base.port_or_known_default()
    }

    /// How long calls are held back by a server's `Retry-After`, if they are.
    pub(crate) fn rate_limited_for(&self) -> Option<Duration> {
        self.gate.closed_for()
    }

    /// Sends a call once; with a `control`, not at all once it is stopped, and marked on the
    /// wire from just before the request goes until its answer is read.
    async fn send_once<T: DeserializeOwned>(
        &self,
        call: &Call,
        control: Option<&SubmitControl>,
    ) -> Result<T, Failure> {
        let patience = match control.is_some_and(SubmitControl::is_single_attempt) {
            true => Duration::ZERO,
            false => self.retry.max_retry_after(),
        };
        let pass = self.gate.wait(patience).await.map_err(|left| Failure {
            error: Error::RateLimited {
                request_id: None,
                retry_after: Some(left),
            },
            retry_after: Some(left),
            not_sent: true,
        })?;
        if control.is_some_and(SubmitControl::is_stopped) {
            return Err(Failure {
                error: Error::SubmitStopped { model_id: "" },
                retry_after: None,
                not_sent: true,
            });
        }
        let _on_wire = control.map(SubmitControl::sending);
        let request = self
            .client
            .request(call.method.clone(), call.url.clone())
            .header(ACCEPT, HeaderValue::from_static(JSON))
            .header(USER_AGENT, self.user_agent.clone())
            .timeout(call.timeout);
        let mut request = self.authorize(request, &call.url);
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static(JSON))
                .body(body.clone());
        }
        let sent = std::time::Instant::now();
        let response = request.send().await.map_err(|source| Failure {
            // A connection refused after a redirect was followed is no request unsent, and with
            // a client that may follow the redirects of a POST, no hop can be told from another.
            not_sent: source.is_connect()
                && (call.method != Method::POST || self.posts_unredirected),
            error: Error::Transport {
                request_id: None,
                failure: self.token.scrub_error(source),
            },
            retry_after: None,
        })?;
        let status = response.status().as_u16();
        // `-v`: each call and its answer, which is how a wrong base URL shows itself.
        tracing::info!(
            method = %call.method,
            url = %call.url,
            status,
            ms = sent.elapsed().as_millis() as u64,
            "call"
        );
        let retry_after = retry_after(response.headers());
        if let Some(after) = retry_after.filter(|_| status == 429 || status == 503) {
            // As long as the server asked: a call meeting more of it than the policy waits for
            // fails at once, as this one does, rather than waiting the cap and asking early.
            self.gate.close_for(after);
        } else if status != 429 {
            self.gate.relieved();
        }
        drop(pass);
        // A redirect left unfollowed (of a submit or a cancel, by the builder's policy): no
        // answer to the call, and said as one, not as a refusal with no message.
        if (300..400).contains(&status) {
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                // Shown through `printable` by the error's `Display`.
                .map(|to| format!(" to {}", self.token.scrub(to)))
                .unwrap_or_default();
            return Err(Failure {
                error: Error::InvalidResponse {
                    request_id: None,
                    status,
                    reason: format!(
                        "the server answered with a redirect{to}, which this call does not follow"
                    ),
                    excerpt: String::new(),
                },
                retry_after: None,
                not_sent: false,
            });
        }
        let body = self
            .read_capped(response, call.max_reply)
            .await
            .map_err(|failure| Failure {
                retry_after,
                ..failure
            })?;
        match wire::parse::<T>(status, &body, &self.token) {
            Reply::Ok(value) => Ok(value),
            Reply::Api(api) => {
                if status == 429 && retry_after.is_none() {
                    tracing::debug!("rate limited without Retry-After");
                }
                Err(Failure {
                    error: wire::classify(api, retry_after),
                    retry_after,
                    not_sent: false,
                })
            }
            Reply::Invalid { reason, excerpt } => Err(Failure {
                error: Error::InvalidResponse {
                    request_id: None,
                    status,
                    reason,
                    excerpt,
                },
                retry_after,
                not_sent: false,
            }),
        }
    }

    /// Sends a call, retrying as the policy and `retryable` allow.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        call: Call,
        retryable: fn(&Failure) -> bool,
    ) -> Result<T, Failure> {
        retry::run(
            &self.retry,
            retryable,
            |_, _| {},
            || self.send_once(&call, None),
        )
        .await
    }

    /// [`send`](Self::send) under a [`SubmitControl`]: once it is stopped, no attempt follows
    /// and a pause before one ends at once ([`Error::SubmitStopped`], with no model named:
    /// the caller knows it); an attempt on the wire is answered first.
    pub(crate) async fn send_controlled<T: DeserializeOwned>(
        &self,
        call: Call,
        retryable: fn(&Failure) -> bool,
        control: &SubmitControl,
    ) -> Result<T, Failure> {
        let attempts = retry::run(
            &self.retry,
            |failure| retryable(failure) && !control.is_stopped() && !control.is_single_attempt(),
            |failure, delay| control.waits(failure, delay),
            || self.send_once(&call, Some(control)),
        );
        tokio::select! {
            biased;
            sent = attempts => sent,
            // Nothing on the wire: dropping the attempts leaves nothing half sent.
            () = control.stopped_off_wire() => Err(Failure {
                error: Error::SubmitStopped { model_id: "" },
                retry_after: None,
                not_sent: true,
            }),
        }
    }

    /// Reads a reply body, refusing one larger than `limit`.
    async fn read_capped(
        &self,
        response: reqwest::Response,
        limit: usize,
    ) -> Result<Vec<u8>, Failure> {
        let status = response.status().as_u16();
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|source| Failure {
                error: Error::Transport {
                    request_id: None,
                    failure: self.token.scrub_error(source),
                },
                retry_after: None,
                not_sent: false,
            })?;
            if body.len() + chunk.len() > limit {
                return Err(Failure {
                    error: Error::InvalidResponse {
                        request_id: None,
                        status,
                        reason: format!("reply larger than {limit} bytes"),
                        excerpt: wire::scrubbed_excerpt(&body, &self.token),
                    },
                    retry_after: None,
                    not_sent: false,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection to `base` that is never used to send anything.
    fn http_to(base: &str) -> Result<Http, Box<dyn std::error::Error>> {
        Ok(Http::new(
            reqwest::Client::new(),
            reqwest::Client::new(),
            false,
            Url::parse(base)?,
            Token::new("tok-1234")?,
            HeaderValue::from_static("test"),
            RetryPolicy::none(),
        ))
    }

    #[test]
    fn the_api_origin_is_scheme_host_and_port() -> Result<(), Box<dyn std::error::Error>> {
        let http = http_to("https://API.example.com/v1/")?;
        for (url, same) in [
            ("https://api.example.com/v1/requests/x/result", true),
            ("https://api.example.com:443/other", true),
            ("https://api.example.com:8443/v1/", false),
            ("http://api.example.com/v1/", false),
            ("https://cdn.example.com/v1/", false),
            ("https://api.example.com.evil.test/v1/", false),
        ] {
            assert_eq!(http.is_api_origin(&Url::parse(url)?), same, "{url}");
        }
        Ok(())
    }

    #[test]
    fn urls_escape_each_segment() -> Result<(), Box<dyn std::error::Error>> {
        let http = http_to("http://127.0.0.1:9/api/")?;
        assert_eq!(
            http.url(["v1", "requests", "a/../b?c", "status"]).as_str(),
            "http://127.0.0.1:9/api/v1/requests/a%2F..%2Fb%3Fc/status"
        );
        Ok(())
    }
}
