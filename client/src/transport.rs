//! One call to the API: the rate gate, the token (to the API origin only), reading a capped
//! body, and turning the reply into a typed value or a [`Failure`].

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt as _;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::Error;
use crate::retry::{Failure, parse_retry_after};
use crate::wire::{self, Reply};

/// The largest API reply read; replies are small JSON, so anything bigger is not one.
const MAX_REPLY_BYTES: usize = 8 * 1024 * 1024;

/// One API request.
pub(crate) struct Call {
    pub method: Method,
    pub url: Url,
    pub body: Option<Bytes>,
    pub timeout: Duration,
}

impl Client {
    /// Sends a call once.
    pub(crate) async fn send_once<T: DeserializeOwned>(&self, call: &Call) -> Result<T, Failure> {
        let inner = self.inner();
        inner.gate.wait().await;
        let mut request = inner
            .http
            .request(call.method.clone(), call.url.clone())
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, inner.user_agent.clone())
            .timeout(call.timeout);
        // The token goes to the API's own origin only, whatever URL a caller builds.
        if call.url.origin() == inner.base.origin() {
            request = request.header(AUTHORIZATION, inner.token.header().clone());
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let response = request.send().await.map_err(|source| Failure {
            not_sent: source.is_connect(),
            error: Error::Transport {
                request_id: None,
                source,
            },
            retry_after: None,
        })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        if let Some(after) = retry_after.filter(|_| status == 429 || status == 503) {
            // Capped: the gate never holds longer than the policy would wait for one retry.
            inner
                .gate
                .close_for(after.min(inner.retry.max_retry_after()));
        }
        let body = read_capped(response).await.map_err(|failure| Failure {
            retry_after,
            ..failure
        })?;
        match wire::parse::<T>(status, &body) {
            Reply::Ok(value) => Ok(value),
            Reply::Api(mut api) => {
                // A server may echo the token back anywhere in its error body.
                api.message = inner.token.scrub(&api.message);
                api.detail = api.detail.map(|d| Box::new(inner.token.scrub_json(*d)));
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
                    // The decoder's message quotes the value it choked on.
                    reason: inner.token.scrub(&reason),
                    excerpt: inner.token.scrub(&excerpt),
                },
                retry_after,
                not_sent: false,
            }),
        }
    }

    /// Sends a call, retrying as the client's policy and `retryable` allow.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        call: Call,
        retryable: fn(&Failure) -> bool,
    ) -> Result<T, Failure> {
        crate::retry::run(&self.inner().retry, retryable, || self.send_once(&call)).await
    }
}

/// Reads a reply body, refusing one larger than [`MAX_REPLY_BYTES`].
async fn read_capped(response: reqwest::Response) -> Result<Vec<u8>, Failure> {
    let status = response.status().as_u16();
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|source| Failure {
            error: Error::Transport {
                request_id: None,
                source,
            },
            retry_after: None,
            not_sent: false,
        })?;
        if body.len() + chunk.len() > MAX_REPLY_BYTES {
            return Err(Failure {
                error: Error::InvalidResponse {
                    request_id: None,
                    status,
                    reason: format!("reply larger than {MAX_REPLY_BYTES} bytes"),
                    excerpt: wire::excerpt(&body),
                },
                retry_after: None,
                not_sent: false,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
