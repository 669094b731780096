//! The [`Client`]: one connection pool, token and policy set, shared by every model and job.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::HeaderValue;
use reqwest::{Method, Url};
use tracing::Instrument as _;

use crate::catalog::ModelInfo;
use crate::error::{ConfigError, Error};
use crate::input::encode;
use crate::job::{Job, JobRecord};
use crate::model::{Input, Model};
use crate::poll::{PollHistory, PollHistorySnapshot, PollPolicy};
use crate::retry::{Failure, RateGate, RetryPolicy};
use crate::secret::Token;
use crate::transport::Call;
use crate::validate::Problem;
use crate::wire::SubmitReply;

/// The API's address.
pub const DEFAULT_BASE_URL: &str = "https://model-api.runcomfy.net";

/// The environment variable holding the token.
pub const TOKEN_ENV: &str = "RUNCOMFY_TOKEN";

/// The environment variable that overrides the base URL (for the simulator, say).
pub const BASE_URL_ENV: &str = "RUNCOMFY_BASE_URL";

/// The default limit on a request body, `data:` URIs included (RunComfy's own nodes cap a
/// request at 64 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// A client of RunComfy's Model API.
///
/// Cheap to clone: clones share one connection pool, one token, one poll history and one
/// rate-limit pause.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub http: reqwest::Client,
    pub base: Url,
    pub token: Token,
    pub user_agent: HeaderValue,
    pub retry: RetryPolicy,
    pub poll: PollPolicy,
    pub timeouts: Timeouts,
    pub max_body: usize,
    pub history: PollHistory,
    pub gate: RateGate,
}

/// Time limits of single requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeouts {
    /// Status, result and cancel calls.
    pub request: Duration,
    /// A submit, whose body may hold megabytes of `data:` URIs.
    pub submit: Duration,
    /// Longest silence while downloading a file.
    pub download_idle: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("token", &self.inner.token)
            .field("retry", &self.inner.retry)
            .field("poll", &self.inner.poll)
            .field("max_body", &self.inner.max_body)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the real API with this token.
    pub fn new(token: impl Into<String>) -> Result<Self, Error> {
        Self::builder().token(token).build()
    }

    /// A client from `RUNCOMFY_TOKEN`, and `RUNCOMFY_BASE_URL` if set.
    pub fn from_env() -> Result<Self, Error> {
        Self::builder().from_env().build()
    }

    /// A builder, to set the base URL, timeouts and policies.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The HTTP client inside, for calls of your own (it carries no token by itself).
    pub fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The run times learned so far, to save (see [`PollHistorySnapshot`]).
    pub fn poll_history(&self) -> PollHistorySnapshot {
        self.inner.history.export()
    }

    /// The run times this client learned itself, without those it imported: what to add to
    /// a store that other processes write too ([`PollHistorySnapshot::extend`]).
    pub fn poll_history_learned(&self) -> PollHistorySnapshot {
        self.inner.history.export_learned()
    }

    /// Adds saved run times to the history.
    pub fn import_poll_history(&self, snapshot: &PollHistorySnapshot) {
        self.inner.history.import(snapshot);
    }

    /// Validates the input, sends it, and returns the job.
    ///
    /// Invalid input is refused without a network call ([`Error::Validation`]). The submit is
    /// retried only when the server provably did not take it (no connection, or 429); any
    /// other doubt gives [`Error::SubmitOutcomeUnknown`] and nothing is sent again.
    pub async fn submit<M: Model>(&self, input: &M::Input) -> Result<Job<M>, Error> {
        let warnings = input.validate().into_result()?;
        let body = encode(input, self.inner.max_body)?;
        self.submit_body(M::info(), body, &warnings).await
    }

    /// Sends a validated, encoded input: the one submit of every path (typed inputs, JSON
    /// inputs of a model chosen at run time).
    pub(crate) async fn submit_body<M: Model>(
        &self,
        model: &'static ModelInfo,
        body: Bytes,
        warnings: &[Problem],
    ) -> Result<Job<M>, Error> {
        let span = tracing::info_span!(
            "runcomfy.submit",
            model_id = model.id,
            request_id = tracing::field::Empty
        );
        async {
            for warning in warnings {
                tracing::debug!(path = %warning.path, rule = %warning.rule, "validation warning");
            }
            let call = Call {
                method: Method::POST,
                url: self.model_url(model.id),
                body: Some(body),
                timeout: self.inner.timeouts.submit,
            };
            let reply: SubmitReply = self
                .send(call, Failure::is_safe_to_resubmit)
                .await
                .map_err(|failure| submit_error(model.id, failure))?;
            let accepted = Instant::now();
            if !is_sane_request_id(&reply.request_id) {
                return Err(Error::SubmitOutcomeUnknown {
                    model_id: model.id,
                    source: Box::new(Error::InvalidResponse {
                        request_id: None,
                        status: 200,
                        reason: "unusable request_id".into(),
                        excerpt: crate::wire::excerpt(reply.request_id.as_bytes()),
                    }),
                });
            }
            tracing::Span::current().record("request_id", reply.request_id.as_str());
            tracing::info!("submitted");
            Ok(Job::new(
                self.clone(),
                reply.request_id,
                Some(model),
                Some(accepted),
            ))
        }
        .instrument(span)
        .await
    }

    /// [`submit`](Self::submit), with the model taken from the input's type.
    pub async fn submit_input<I: Input>(&self, input: &I) -> Result<Job<I::Model>, Error> {
        self.submit::<I::Model>(input).await
    }

    /// Submits, waits for the end, and returns the output.
    pub async fn run<M: Model>(&self, input: &M::Input) -> Result<M::Output, Error> {
        self.submit::<M>(input).await?.wait().await
    }

    /// [`run`](Self::run), with the model taken from the input's type.
    pub async fn run_input<I: Input>(
        &self,
        input: &I,
    ) -> Result<<I::Model as Model>::Output, Error> {
        self.run::<I::Model>(input).await
    }

    /// A job submitted earlier (by this process or another), from its request id.
    pub fn job<M: Model>(&self, request_id: impl Into<String>) -> Job<M> {
        Job::new(self.clone(), request_id.into(), Some(M::info()), None)
    }

    /// A saved job, checking it belongs to `M`.
    pub fn resume<M: Model>(&self, record: &JobRecord) -> Result<Job<M>, Error> {
        if record.model_id != M::ID {
            return Err(Error::ModelMismatch {
                request_id: record.request_id.clone(),
                expected: M::ID,
                found: record.model_id.clone(),
            });
        }
        Ok(self.job::<M>(record.request_id.clone()))
    }

    /// `{base}/v1/models/{model_id}`.
    pub(crate) fn model_url(&self, model_id: &str) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .pop_if_empty()
                .extend(["v1", "models"])
                .extend(model_id.split('/'));
        }
        url
    }

    /// `{base}/v1/requests/{request_id}/{action}`, with the id as one escaped segment.
    pub(crate) fn request_url(&self, request_id: &str, action: &str) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .pop_if_empty()
                .extend(["v1", "requests", request_id, action]);
        }
        url
    }
}

/// Sorts a failed submit: definite refusals as they are, everything else as unknown.
pub(crate) fn submit_error(model_id: &'static str, failure: Failure) -> Error {
    let definite = match &failure.error {
        Error::Unauthorized { .. }
        | Error::Forbidden { .. }
        | Error::InsufficientBalance { .. }
        | Error::NotFound { .. }
        | Error::Rejected { .. }
        | Error::RateLimited { .. }
        | Error::Api { .. } => true,
        Error::Transport { .. } => failure.not_sent,
        _ => false,
    };
    if definite {
        failure.error
    } else {
        Error::SubmitOutcomeUnknown {
            model_id,
            source: Box::new(failure.error),
        }
    }
}

/// A request id is put into URLs and file names: refuse anything odd rather than trust it.
pub(crate) fn is_sane_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 256 && id.chars().all(|c| !c.is_control())
}

/// Builds a [`Client`].
#[derive(Default)]
pub struct ClientBuilder {
    token: Option<Result<Token, crate::secret::TokenError>>,
    base_url: Option<String>,
    http: Option<reqwest::Client>,
    root_certificates: Vec<reqwest::Certificate>,
    user_agent: Option<String>,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    submit_timeout: Option<Duration>,
    download_idle_timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    poll: Option<PollPolicy>,
    max_body: Option<usize>,
    history: Option<PollHistorySnapshot>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token.as_ref().map(|t| t.as_ref().is_ok()))
            .field("base_url", &self.base_url)
            .field("retry", &self.retry)
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The API token.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Token::new(token));
        self
    }

    /// Reads `RUNCOMFY_TOKEN` and, if set, `RUNCOMFY_BASE_URL`.
    pub fn from_env(mut self) -> Self {
        if let Ok(token) = std::env::var(TOKEN_ENV) {
            self = self.token(token);
        }
        if let Ok(base) = std::env::var(BASE_URL_ENV)
            && !base.trim().is_empty()
        {
            self = self.base_url(base.trim());
        }
        self
    }

    /// The API's base URL: `https`, or plain `http` to a loopback address (the simulator).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Use this HTTP client (its own timeouts, proxy, TLS settings and redirect policy apply;
    /// the connect timeout, root certificates and user agent of this builder do not, nor does
    /// its refusal of redirects from `https` to plain `http`).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Also trusts these certificate authorities, besides the platform's: a company proxy's
    /// that the system does not list, or a self-signed gateway's.
    pub fn root_certificates(
        mut self,
        certificates: impl IntoIterator<Item = reqwest::Certificate>,
    ) -> Self {
        self.root_certificates.extend(certificates);
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// Longest wait for a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Longest status, result or cancel call (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// Longest submit, upload included (default 120 s).
    pub fn submit_timeout(mut self, timeout: Duration) -> Self {
        self.submit_timeout = Some(timeout);
        self
    }

    /// Longest silence while downloading a file (default 30 s).
    pub fn download_idle_timeout(mut self, timeout: Duration) -> Self {
        self.download_idle_timeout = Some(timeout);
        self
    }

    /// How failed calls are retried.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// How jobs are polled.
    pub fn poll_policy(mut self, policy: PollPolicy) -> Self {
        self.poll = Some(policy);
        self
    }

    /// The largest request body, `data:` URIs included (default 64 MiB).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body = Some(limit);
        self
    }

    /// Starts from saved run times.
    pub fn poll_history(mut self, snapshot: PollHistorySnapshot) -> Self {
        self.history = Some(snapshot);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let token = match self.token {
            None => return Err(ConfigError::MissingToken.into()),
            Some(token) => token.map_err(ConfigError::Token)?,
        };
        let base = parse_base_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let agent = self
            .user_agent
            .unwrap_or_else(|| concat!("runcomfy-rs/", env!("CARGO_PKG_VERSION")).to_owned());
        let user_agent = HeaderValue::try_from(agent).map_err(|_| ConfigError::InvalidUserAgent)?;
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout.unwrap_or(Duration::from_secs(10)))
                .redirect(redirect_policy())
                .tls_certs_merge(self.root_certificates)
                .build()
                .map_err(ConfigError::Http)?,
        };
        let history = PollHistory::default();
        if let Some(snapshot) = &self.history {
            history.import(snapshot);
        }
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                token,
                user_agent,
                retry: self.retry.unwrap_or_default(),
                poll: self.poll.unwrap_or_default(),
                timeouts: Timeouts {
                    request: self.request_timeout.unwrap_or(Duration::from_secs(30)),
                    submit: self.submit_timeout.unwrap_or(Duration::from_secs(120)),
                    download_idle: self
                        .download_idle_timeout
                        .unwrap_or(Duration::from_secs(30)),
                },
                max_body: self.max_body.unwrap_or(DEFAULT_MAX_BODY_BYTES),
                history,
                gate: RateGate::default(),
            }),
        })
    }
}

/// Follows at most five redirects, and never one from `https` to anything else: a downgrade
/// would carry the request (a submit's body too) in clear text. reqwest itself drops the
/// `Authorization` header on a redirect to another scheme, host or port.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if is_downgrade(attempt.previous().last(), attempt.url()) {
            attempt.error("refused a redirect from https to a plain URL")
        } else {
            attempt.follow()
        }
    })
}

fn is_downgrade(from: Option<&Url>, to: &Url) -> bool {
    from.is_some_and(|from| from.scheme() == "https") && to.scheme() != "https"
}

/// Accepts `https` URLs, and `http` only to loopback addresses; no credentials, query or
/// fragment, which would end up in logs and errors.
fn parse_base_url(text: &str) -> Result<Url, ConfigError> {
    let invalid = |reason| ConfigError::InvalidBaseUrl {
        url: text.to_owned(),
        reason,
    };
    let url = Url::parse(text).map_err(|_| invalid("not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::InvalidBaseUrl {
            // The URL holds credentials: do not repeat it.
            url: String::from("(hidden: it holds credentials)"),
            reason: "credentials in the URL",
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a query or fragment"));
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => return Err(invalid("no host")),
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(invalid("plain http is only allowed to loopback addresses")),
        _ => Err(invalid("not an https URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert!(parse_base_url("https://model-api.runcomfy.net").is_ok());
        assert!(parse_base_url("http://127.0.0.1:8080").is_ok());
        assert!(parse_base_url("http://127.5.0.1:8080/prefix/").is_ok());
        assert!(parse_base_url("http://[::1]:80").is_ok());
        assert!(parse_base_url("http://localhost:3000").is_ok());
        assert!(parse_base_url("http://example.com").is_err());
        assert!(parse_base_url("http://127.0.0.1.example.com").is_err());
        assert!(parse_base_url("ftp://127.0.0.1").is_err());
        assert!(parse_base_url("https://user:pw@example.com").is_err());
        assert!(parse_base_url("https://example.com/?token=x").is_err());
    }

    #[test]
    fn redirects_from_https_never_downgrade() -> Result<(), url::ParseError> {
        let https = Url::parse("https://model-api.runcomfy.net/v1/requests/x/status")?;
        let http = Url::parse("http://model-api.runcomfy.net/v1/requests/x/status")?;
        let loopback = Url::parse("http://127.0.0.1:8080/x")?;
        assert!(is_downgrade(Some(&https), &http));
        assert!(is_downgrade(Some(&https), &loopback));
        assert!(!is_downgrade(Some(&https), &https));
        // The simulator's plain loopback origin redirects within plain http.
        assert!(!is_downgrade(Some(&loopback), &loopback));
        assert!(!is_downgrade(None, &http));
        Ok(())
    }

    #[test]
    fn urls_escape_request_ids() -> Result<(), Error> {
        let client = Client::builder()
            .token("tok-1234")
            .base_url("http://127.0.0.1:9/api/")
            .build()?;
        assert_eq!(
            client.request_url("a/../b?c", "status").as_str(),
            "http://127.0.0.1:9/api/v1/requests/a%2F..%2Fb%3Fc/status"
        );
        assert_eq!(
            client.model_url("bytedance/seedream-4-0/edit").as_str(),
            "http://127.0.0.1:9/api/v1/models/bytedance/seedream-4-0/edit"
        );
        Ok(())
    }

    #[test]
    fn oversized_bodies_are_refused_before_sending() {
        let big = vec!["x".repeat(100); 100];
        assert!(matches!(
            encode(&big, 1000),
            Err(Error::BodyTooLarge { limit: 1000 })
        ));
        assert!(encode(&big, 1 << 20).is_ok());
    }

    #[test]
    fn debug_hides_the_token() -> Result<(), Error> {
        let client = Client::new("sk-super-secret-token")?;
        let text = format!(
            "{client:?} {:?}",
            Client::builder().token("sk-super-secret-token")
        );
        assert!(!text.contains("super-secret"), "{text}");
        Ok(())
    }
}
