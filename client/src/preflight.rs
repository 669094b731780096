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

use crate::catalog::{MediaSpec, ModelInfo};
use crate::client::{Client, ModelInput};
use crate::error::Error;
use crate::model::Model;
use crate::validate::{MediaCheck, ValidationReport};

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
        self.http()
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
/// Local files, bytes and `data:` URIs are skipped (local validation measures them), but
/// serializing the input reads local files, so use this with URL inputs.
pub async fn validate_remote<M: Model>(
    http: &impl HttpSource,
    input: &M::Input,
) -> Result<ValidationReport, Error> {
    validate_remote_with(http, M::info(), input).await
}

/// [`validate_remote`], with the model taken from the input's type.
pub async fn validate_remote_input<I: ModelInput>(
    http: &impl HttpSource,
    input: &I,
) -> Result<ValidationReport, Error> {
    validate_remote::<I::Model>(http, input).await
}

/// [`validate_remote`] for any serializable input and catalog entry.
pub async fn validate_remote_with(
    http: &impl HttpSource,
    info: &ModelInfo,
    input: &impl serde::Serialize,
) -> Result<ValidationReport, Error> {
    let value = serde_json::to_value(input).map_err(Error::Encode)?;
    let mut targets: Vec<(String, String, &'static MediaSpec)> = Vec::new();
    for field in info.fields {
        let Some(spec) = field.media else { continue };
        match value.get(field.name) {
            Some(serde_json::Value::String(url)) => {
                targets.push((field.name.to_owned(), url.clone(), spec));
            }
            Some(serde_json::Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(url) = item.as_str() {
                        targets.push((format!("{}[{i}]", field.name), url.to_owned(), spec));
                    }
                }
            }
            _ => {}
        }
    }
    targets.retain(|(_, url, _)| {
        url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
    });
    let client = http.http_client();
    let measured: Vec<(String, &'static MediaSpec, Measured)> = futures::stream::iter(targets)
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
        failed: None,
    }
}

/// A transport error's text without its URL, which may carry a signed query string.
fn without_url(err: &reqwest::Error) -> String {
    let mut text = String::from("cannot fetch");
    if err.is_timeout() {
        text.push_str(": timed out");
    } else if err.is_connect() {
        text.push_str(": cannot connect");
    }
    text
}

fn check(report: &mut ValidationReport, path: &str, spec: &MediaSpec, measured: &Measured) {
    if let Some((refused, why)) = &measured.failed {
        let message = format!("the URL cannot be read ({why})");
        if *refused {
            report.error(path, "remote", None, message);
        } else {
            report.warning(path, "remote", None, message);
        }
        return;
    }
    crate::media::check_prefix(report, path, &measured.head, measured.size, spec);
    if measured.size.is_none() {
        // The one rule the first bytes cannot settle alone; said, so a pass is not assumed.
        for rule in spec.rules {
            if rule.check == MediaCheck::FileSizeMbBelow {
                report.warning(
                    path,
                    rule.check.wire_name(),
                    None,
                    "the host did not say the file's size; it was not checked",
                );
            }
        }
    }
}
