//! An opt-in remote check of media URLs before a paid submit: the first 64 KiB of each URL of a
//! media field is fetched to check its size, format and dimensions against the field's rules.
//!
//! Local validation (`Input::validate`) never touches the network; this does, which is why it is
//! separate. The fetched bytes are measured and judged by the media module's code, so a URL is
//! held to the same formats and rules, in the same words, as a local file.

use futures::StreamExt as _;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, RANGE};
use std::time::Duration;

use runcomfy_vocab::pointer::Path;
use runcomfy_vocab::rule::Measure;

use crate::api::Client;
use crate::error::Error;
use crate::media::{self, Media};
use crate::model::{Input, Model, ModelInfo};
use crate::report::ValidationReport;
use crate::schema::{MediaSpec, Schema};
use crate::validate::instance::{Instance, View};

/// Bytes fetched from each URL: enough for any image header.
const HEAD_BYTES: usize = 64 * 1024;

/// Longest time for one URL.
const URL_TIMEOUT: Duration = Duration::from_secs(15);

/// URLs checked at once.
const CONCURRENCY: usize = 4;

/// Something holding an HTTP client: a [`Client`] or a plain `reqwest::Client`. The token is
/// never sent to media hosts either way.
pub trait HttpSource {
    /// The HTTP client to fetch with.
    fn http_client(&self) -> &reqwest::Client;
}

impl HttpSource for Client {
    fn http_client(&self) -> &reqwest::Client {
        self.inner.http.client()
    }
}

impl HttpSource for reqwest::Client {
    fn http_client(&self) -> &reqwest::Client {
        self
    }
}

/// Checks the media URLs of an input against `M`'s rules, reporting what the server would
/// refuse (too large, wrong format, bad dimensions) and URLs it could not read.
///
/// Local files, bytes and `data:` URIs are skipped: local validation measures them.
pub async fn validate_remote<M: Model>(
    http: &impl HttpSource,
    input: &M::Input,
) -> Result<ValidationReport, Error> {
    validate_remote_with(http, M::info(), input).await
}

/// [`validate_remote`], with the model taken from the input's type.
pub async fn validate_remote_input<I: Input>(
    http: &impl HttpSource,
    input: &I,
) -> Result<ValidationReport, Error> {
    validate_remote::<I::Model>(http, input).await
}

/// [`validate_remote`] for any input of a catalog model (a typed input, or a decoded JSON
/// input's [`crate::input::DynInput::instance`]).
pub async fn validate_remote_with(
    http: &impl HttpSource,
    info: &ModelInfo,
    input: &dyn Instance,
) -> Result<ValidationReport, Error> {
    let mut targets: Vec<(Path, String, &'static MediaSpec)> = Vec::new();
    media_urls(info.input, input.view(), &Path::root(), &mut targets);
    let client = http.http_client();
    let measured: Vec<(Path, &'static MediaSpec, Measured)> = futures::stream::iter(targets)
        .map(|(path, url, spec)| async move {
            let measured = measure(client, &url).await;
            (path, spec, measured)
        })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let mut report = ValidationReport::new();
    for (path, spec, measured) in measured {
        check(&mut report, &path, spec, &measured);
    }
    Ok(report)
}

/// Every http(s) URL of a media field in the value, wherever it lies, with its path and spec.
fn media_urls(
    schema: &'static Schema,
    view: View<'_>,
    path: &Path,
    out: &mut Vec<(Path, String, &'static MediaSpec)>,
) {
    match view {
        View::Media(Media::Url(url)) => media_urls(schema, View::String(url), path, out),
        View::String(url) => {
            let is_http =
                url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if let Some(spec) = schema.media.filter(|_| is_http) {
                out.push((path.clone(), url.to_owned(), spec));
            }
        }
        View::Array(items) => {
            for i in 0..items.len() {
                if let (Some(item_schema), Some(item)) = (schema.item_at(i), items.item(i)) {
                    media_urls(item_schema, item.view(), &path.index(i), out);
                }
            }
        }
        View::Object(object) => {
            for (key, value) in object.entries() {
                if let Some(property) = schema.property(key) {
                    media_urls(property, value.view(), &path.key(key), out);
                }
            }
        }
        _ => {}
    }
}

/// What could be learned about one URL.
#[derive(Debug, Default)]
struct Measured {
    /// The whole file's size, when the host said.
    size: Option<u64>,
    /// The first bytes.
    head: Vec<u8>,
    /// Why it could not be read; `Some(true)` when the host refused it (the server would fail
    /// to fetch it too), `Some(false)` for a network problem here.
    failed: Option<(bool, String)>,
    /// The compression the host applied unasked (`gzip`): the bytes are not the file's.
    encoded: Option<String>,
}

async fn measure(client: &reqwest::Client, url: &str) -> Measured {
    match tokio::time::timeout(URL_TIMEOUT, fetch_head(client, url)).await {
        Ok(measured) => measured,
        Err(_) => Measured {
            failed: Some((false, format!("no answer within {URL_TIMEOUT:?}"))),
            ..Measured::default()
        },
    }
}

async fn fetch_head(client: &reqwest::Client, url: &str) -> Measured {
    let response = client
        .get(url)
        .header(RANGE, format!("bytes=0-{}", HEAD_BYTES - 1))
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(err) => {
            return Measured {
                failed: Some((false, without_url(&err))),
                ..Measured::default()
            };
        }
    };
    let status = response.status();
    let size = match status {
        StatusCode::PARTIAL_CONTENT => response
            .headers()
            .get(CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit_once('/'))
            .and_then(|(_, total)| total.trim().parse().ok()),
        StatusCode::RANGE_NOT_SATISFIABLE => Some(0),
        s if s.is_success() => response.content_length(),
        s => {
            return Measured {
                failed: Some((s.is_client_error(), format!("HTTP {}", s.as_u16()))),
                ..Measured::default()
            };
        }
    };
    if let Some(encoding) = super::download::unasked_encoding(response.headers()) {
        return Measured {
            encoded: Some(encoding),
            ..Measured::default()
        };
    }
    let mut head = Vec::new();
    let mut stream = response.bytes_stream();
    while head.len() < HEAD_BYTES {
        match stream.next().await {
            Some(Ok(chunk)) => {
                let take = (HEAD_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            // What arrived may still be enough to measure.
            Some(Err(_)) | None => break,
        }
    }
    Measured {
        size,
        head,
        ..Measured::default()
    }
}

/// A transport error's text without its URL, which may carry a signed query string.
fn without_url(err: &reqwest::Error) -> String {
    let mut text = String::from("cannot fetch");
    if err.is_timeout() {
        text.push_str(": timed out");
    } else if err.is_connect() {
        text.push_str(": cannot connect");
    } else if err.is_redirect() {
        // The client follows five, never from https to plain http.
        text.push_str(
            ": its redirects were not followed (a loop, more than five, or one to plain http)",
        );
    } else if err.is_body() || err.is_decode() {
        text.push_str(": its reply broke off");
    }
    text
}

fn check(report: &mut ValidationReport, path: &Path, spec: &MediaSpec, measured: &Measured) {
    if let Some((refused, why)) = &measured.failed {
        let message = format!("the URL cannot be read ({why})");
        if *refused {
            report.error(path, "remote", None, message);
        } else {
            report.warning(path, "remote", None, message);
        }
        return;
    }
    if let Some(encoding) = &measured.encoded {
        // The server that fetches it may ask for and undo the compression: not an error.
        report.warning(
            path,
            "remote",
            None,
            format!("the host sent it compressed ({encoding}) unasked; its format, size and dimensions were not checked"),
        );
        return;
    }
    media::check_prefix(report, path, &measured.head, measured.size, spec);
    if measured.size.is_none() {
        // The one rule the first bytes cannot settle alone; said, so a pass is not assumed.
        for rule in spec.rules {
            if rule.rule.measure() == Measure::FileSizeMb {
                report.warning(
                    path,
                    rule.rule.wire(),
                    None,
                    "the host did not say the file's size; it was not checked",
                );
            }
        }
    }
}
