//! Building a [`Client`]: the token, the base URL (`https`, or plain `http` to loopback only),
//! the HTTP client (five redirects at most, never from `https` to plain `http`), the hosts
//! output files may come from, timeouts and policies.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderValue;

use crate::api::download::Fetching;
use crate::api::poll::{PollHistory, PollHistorySnapshot, PollPolicy};
use crate::api::{Client, Inner, Timeouts};
use crate::error::{ConfigError, Error, TokenError};
use crate::http::retry::RetryPolicy;
use crate::http::secret::Token;
use crate::http::transport::Http;
use crate::media::Files;

/// The API's address.
pub const DEFAULT_BASE_URL: &str = "https://model-api.runcomfy.net";

/// The environment variable holding the token.
pub const TOKEN_ENV: &str = "RUNCOMFY_TOKEN";

/// The environment variable that overrides the base URL (for the simulator, say).
pub const BASE_URL_ENV: &str = "RUNCOMFY_BASE_URL";

/// RunComfy's own CLI's variable for the base URL, read when [`BASE_URL_ENV`] is not set: a user
/// who set it for that CLI expects the same server, not paid submits sent to production.
pub const MODEL_API_BASE_ENV: &str = "RUNCOMFY_MODEL_API_BASE";

/// The default limit on a request body, `data:` URIs included: RunComfy's
/// ([`MAX_REQUEST_BYTES`](crate::media::MAX_REQUEST_BYTES)).
pub const DEFAULT_MAX_BODY_BYTES: usize = crate::media::MAX_REQUEST_BYTES;

impl Client {
    /// A client of the real API with this token.
    pub fn new(token: impl Into<String>) -> Result<Self, Error> {
        Self::builder().token(token).build()
    }

    /// A client from `RUNCOMFY_TOKEN`, and `RUNCOMFY_BASE_URL` (else `RUNCOMFY_MODEL_API_BASE`)
    /// if set.
    pub fn from_env() -> Result<Self, Error> {
        Self::builder().from_env().build()
    }

    /// A builder, to set the base URL, timeouts and policies.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

/// Builds a [`Client`].
#[derive(Default)]
pub struct ClientBuilder {
    token: Option<Result<Token, TokenError>>,
    base_url: Option<String>,
    http: Option<reqwest::Client>,
    root_certificates: Vec<reqwest::Certificate>,
    user_agent: Option<String>,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    submit_timeout: Option<Duration>,
    download_idle_timeout: Option<Duration>,
    output_hosts: Vec<String>,
    any_output_host: bool,
    retry: Option<RetryPolicy>,
    poll: Option<PollPolicy>,
    max_body: Option<usize>,
    history: Option<PollHistorySnapshot>,
    /// `local_files(false)`.
    no_local_files: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token.as_ref().map(|t| t.as_ref().is_ok()))
            // A token put in the base URL by mistake is not repeated.
            .field(
                "base_url",
                &self.base_url.as_deref().map(|url| self.scrubbed(url)),
            )
            .field("retry", &self.retry)
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// `text` with the token, if one was given, hidden: the base URL is shown in `Debug` and
    /// errors, and a token passed as the URL (the two arguments swapped) must not be.
    fn scrubbed(&self, text: &str) -> String {
        match &self.token {
            Some(Ok(token)) => token.scrub(text),
            _ => text.to_owned(),
        }
    }

    /// The API token.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Token::new(token));
        self
    }

    /// Reads `RUNCOMFY_TOKEN` and, if set, `RUNCOMFY_BASE_URL` (else `RUNCOMFY_MODEL_API_BASE`).
    pub fn from_env(mut self) -> Self {
        if let Ok(token) = std::env::var(TOKEN_ENV) {
            self = self.token(token);
        }
        let set = |var| Some(std::env::var(var).ok()?.trim().to_owned()).filter(|v| !v.is_empty());
        if let Some(base) = set(BASE_URL_ENV).or_else(|| set(MODEL_API_BASE_ENV)) {
            self = self.base_url(base);
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
    /// its refusal of redirects from `https` to plain `http`). Output files are fetched with it
    /// too, so if it follows redirects, their hops are not checked against the output hosts,
    /// and a submit whose connection failed is never retried (it may have followed a redirect,
    /// so been received).
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

    /// The idle time of a download (default 30 s): a file that receives less than
    /// [`MIN_PROGRESS_BYTES`](crate::download::MIN_PROGRESS_BYTES) in it is stalled, whether
    /// the host is silent or drips a byte at a time.
    pub fn download_idle_timeout(mut self, timeout: Duration) -> Self {
        self.download_idle_timeout = Some(timeout);
        self
    }

    /// Also fetch output files from `host` and its subdomains (an IP address: that address
    /// only). By default files come only from RunComfy's hosts (`runcomfy.net`,
    /// `runcomfy.com` and their subdomains) and the API's own host, each redirect hop
    /// included, so a reply cannot point the client at any host it likes (a service on the
    /// user's network, say). The token is never sent to them either way.
    pub fn allow_output_host(mut self, host: impl Into<String>) -> Self {
        self.output_hosts.push(host.into());
        self
    }

    /// Fetch output files from any host (still `https`, or plain `http` to loopback only).
    pub fn allow_any_output_host(mut self) -> Self {
        self.any_output_host = true;
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

    /// Whether a local path in an input is read and sent (default `true`). A service whose
    /// inputs come from its users (a typed input deserialized from a web request reads any
    /// string of a media field that is not a URL as a path) sets `false`: an input naming a
    /// path is then invalid ([`Error::Validation`](crate::Error::Validation)), and the file is
    /// never opened, so neither its bytes nor whether it exists reach anyone.
    pub fn local_files(mut self, allowed: bool) -> Self {
        self.no_local_files = !allowed;
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
        let base =
            parse_base_url_for(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL), &token)?;
        let agent = self
            .user_agent
            .unwrap_or_else(|| concat!("runcomfy-rs/", env!("CARGO_PKG_VERSION")).to_owned());
        let user_agent = HeaderValue::try_from(agent).map_err(|_| ConfigError::InvalidUserAgent)?;
        let own_client = self.http.is_none();
        let (http, files) = match self.http {
            Some(http) => (http.clone(), http),
            None => {
                let connect = self.connect_timeout.unwrap_or(Duration::from_secs(10));
                // An API on this machine is reached directly, never through the proxy the
                // environment names: over plain http, a proxy would read the token; and it
                // cannot reach this machine's loopback anyway. Its files are on it too.
                let direct = crate::http::is_loopback(&base).unwrap_or(false);
                let builder = || {
                    let builder = reqwest::Client::builder().connect_timeout(connect);
                    if direct { builder.no_proxy() } else { builder }
                };
                let http = builder()
                    .redirect(redirect_policy(&base))
                    .tls_certs_merge(self.root_certificates.clone())
                    .build()
                    .map_err(ConfigError::Http)?;
                // Downloads follow redirects themselves, checking each hop's host.
                let files = builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .tls_certs_merge(self.root_certificates)
                    .build()
                    .map_err(ConfigError::Http)?;
                (http, files)
            }
        };
        let history = PollHistory::default();
        if let Some(snapshot) = &self.history {
            history.import(snapshot);
        }
        Ok(Client {
            inner: Arc::new(Inner {
                http: Http::new(
                    http,
                    files,
                    own_client,
                    base,
                    token,
                    user_agent,
                    self.retry.unwrap_or_default(),
                ),
                poll: self.poll.unwrap_or_default(),
                timeouts: Timeouts {
                    request: self.request_timeout.unwrap_or(Duration::from_secs(30)),
                    submit: self.submit_timeout.unwrap_or(Duration::from_secs(120)),
                },
                fetching: Fetching {
                    idle: self
                        .download_idle_timeout
                        .unwrap_or(Duration::from_secs(30)),
                    hosts: self.output_hosts,
                    any_host: self.any_output_host,
                },
                max_body: self.max_body.unwrap_or(DEFAULT_MAX_BODY_BYTES),
                settling: Default::default(),
                history,
                files: if self.no_local_files {
                    Files::NoPaths
                } else {
                    Files::Local
                },
            }),
        })
    }
}

/// Follows at most five redirects, never one from `https` to anything else (a downgrade would
/// carry the request, a submit's body too, in clear text), and none of a call to a URL that
/// takes a POST: a submit (`{base}/v1/models/{model}`, whose price shares the URL) or a cancel
/// (`{base}/v1/requests/{id}/cancel`). A server that answers a submit with a redirect has it:
/// the redirect is its answer (an unknown outcome), and a target that cannot be reached must
/// not read as "not sent", which would send the paid submit again. reqwest itself drops the
/// `Authorization` header on a redirect to another scheme, host or port.
fn redirect_policy(base: &Url) -> reqwest::redirect::Policy {
    let under = |segments: &[&str]| {
        let mut url = base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url.path().to_owned()
    };
    let (models, requests) = (under(&["v1", "models", ""]), under(&["v1", "requests", ""]));
    let takes_post = move |url: &Url| {
        let path = url.path();
        path.starts_with(&models) || (path.starts_with(&requests) && path.ends_with("/cancel"))
    };
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().first().is_some_and(&takes_post) {
            attempt.stop()
        } else if attempt.previous().len() > 5 {
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

/// Reads an API base URL as the client accepts one: `https`, or `http` only to a loopback
/// address (the token goes with every call); no credentials, query or fragment, which would
/// end up in logs and errors. For a program that sends its own calls with the token
/// ([`Token::authorize`](crate::secret::Token::authorize)), as the maintainer tools' `pull`.
pub fn parse_base_url(text: &str) -> Result<Url, ConfigError> {
    let invalid = |reason| ConfigError::InvalidBaseUrl {
        // A query or fragment may hold a key (`?key=...`): not repeated.
        url: match text.find(['?', '#']) {
            Some(at) => format!("{}?…", &text[..at]),
            None => text.to_owned(),
        },
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
    let Some(loopback) = crate::http::is_loopback(&url) else {
        return Err(invalid("no host"));
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(invalid("plain http is only allowed to loopback addresses")),
        _ => Err(invalid("not an https URL")),
    }
}

/// [`parse_base_url`] for calls made with `token`: one that holds it (in its path or host, by
/// mistake: the two arguments swapped) is refused, and no error repeats it. A base URL is
/// written to records, caches and logs, which must not hold the token.
pub fn parse_base_url_for(text: &str, token: &Token) -> Result<Url, ConfigError> {
    let base = parse_base_url(text).map_err(|error| match error {
        ConfigError::InvalidBaseUrl { url, reason } => ConfigError::InvalidBaseUrl {
            url: token.scrub(&url),
            reason,
        },
        other => other,
    })?;
    let scrubbed = token.scrub(base.as_str());
    if scrubbed != base.as_str() {
        return Err(ConfigError::InvalidBaseUrl {
            url: scrubbed,
            reason: "it holds the API token",
        });
    }
    Ok(base)
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
    fn debug_hides_the_token() -> Result<(), Error> {
        let client = Client::new("sk-super-secret-token")?;
        let text = format!(
            "{client:?} {:?}",
            Client::builder().token("sk-super-secret-token")
        );
        assert!(!text.contains("super-secret"), "{text}");
        Ok(())
    }

    /// A token given as the base URL (the arguments swapped), or in its query, is not repeated
    /// by the error or the builder's `Debug` (QA repro34 #1).
    #[test]
    fn a_token_in_the_base_url_is_not_repeated() {
        let token = "sk-qa-secret-token-34343";
        for base in [
            token.to_owned(),
            format!("https://example.com/?key={token}"),
            format!("https://example.com/{token}#x"),
            format!("http://example.com/{token}"),
            // Valid URLs, refused: records, caches and logs would keep them (QA repro35 H4).
            format!("https://example.com/{token}/"),
            format!("https://{token}.example.com"),
        ] {
            let builder = Client::builder().token(token).base_url(&base);
            let debug = format!("{builder:?}");
            let error = builder.build().err().map(|e| format!("{e} {e:?}"));
            let text = format!("{debug} {error:?}");
            assert!(error.is_some() && !text.contains("secret-token"), "{text}");
        }
        // Without a token, a query is still not repeated.
        let error = parse_base_url("https://example.com/?key=abc").err();
        assert!(error.is_some_and(|e| !e.to_string().contains("abc")));
    }
}
