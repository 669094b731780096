//! Saving an output's files: streamed to a temporary file in the target directory, then renamed
//! into place under a safe name, a few at a time.
//!
//! Output files come from RunComfy's hosts (`*.runcomfy.net`, `*.runcomfy.com`) or the API's
//! own host; any other host is refused before a request is sent unless the client allows it
//! ([`ClientBuilder::allow_output_host`](crate::client::ClientBuilder::allow_output_host)), and
//! so is every redirect hop, which is followed here rather than by the HTTP client. Plain `http`
//! is refused except to loopback addresses. The token goes only to the API's own origin.
//!
//! A download ends: at the first bytes when they are not what the `Content-Type` says, when
//! less than [`MIN_PROGRESS_BYTES`] arrive in the idle time (a host that drips a byte at a
//! time), beyond the size limit, and at the deadline of the whole call
//! ([`DownloadOptions::timeout`]). A reply with no length (its body ends when the connection
//! closes) must end where its file's format says, or it was cut short and is fetched again.
//! Whatever ends it, its temporary file is removed.
//!
//! Functions of the HTTP layer's connection, not of the client:
//! [`Client::download_with`](crate::Client::download_with) and
//! [`Job::download`](crate::Job::download) call `save_all` with their client's.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use reqwest::Url;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, LOCATION};

use crate::error::{DownloadFailure, Error, SHOWN_CHARS, printable};
use crate::http::retry::{self, Failure, retry_after};
use crate::http::secret::Token;
use crate::http::transport::Http;
use crate::media::{Base64Source, DataUri, Payload, after_prefix, cut_short};
use crate::model::OutputFile;
use crate::place::{Identity, Placed, place_new};
use crate::schema::{MediaFormat, MediaKind};

pub use crate::saved::DownloadedFile;

/// Longest [`safe_file_name`], and so file name stem written (before the extension).
const MAX_STEM: usize = 100;

/// The longest output URL fetched: a signed URL is a kilobyte or two, and HTTP stacks refuse
/// request lines past 8 to 64 KiB, so a longer one is refused as such, not sent to fail as a
/// network error that looks worth retrying.
const MAX_URL_BYTES: usize = 16 * 1024;

/// The most files one output may list. A job makes a handful (Seedream at most 15); a reply
/// listing more is refused before anything is fetched, rather than filling a folder for the
/// hour the downloads may take.
const MAX_OUTPUT_FILES: usize = 1_000;

/// Bytes kept from the start of a file to recognise its format.
const SNIFF_BYTES: usize = 32;

/// The default limit on one file: far above any image or clip a model returns, so an output
/// host that never stops sending cannot fill the disk.
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 4 << 30;

/// The default deadline of one download call, every file and retry included: an hour is
/// minutes for any real output, and an end for a host that sends just fast enough not to
/// count as stalled.
pub const DEFAULT_DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(3600);

/// The least a download must receive in each idle time (the client's
/// [`download_idle_timeout`](crate::client::ClientBuilder::download_idle_timeout)) not to
/// count as stalled.
pub const MIN_PROGRESS_BYTES: u64 = 1024;

/// Redirects followed for one file, as for API calls.
const MAX_REDIRECTS: usize = 5;

/// The hosts output files come from by default, with their subdomains (RunComfy's CLI fetches
/// only from these).
const RUNCOMFY_HOSTS: [&str; 2] = ["runcomfy.net", "runcomfy.com"];

/// How [`Client::download_with`](crate::Client::download_with) saves files.
#[derive(Debug, Clone)]
pub struct DownloadOptions {
    concurrency: usize,
    prefix: Option<String>,
    overwrite: bool,
    max_bytes: Option<u64>,
    timeout: Duration,
    counter: Option<DownloadCounter>,
}

/// The bytes a download has received so far, for a progress display, and the files it has
/// saved whole: give a clone to [`DownloadOptions::counter`] and read it from another task
/// while the download runs, or after it was dropped (Ctrl-C).
///
/// Every attempt counts: a file fetched again after a broken connection counts its bytes
/// again.
#[derive(Debug, Clone, Default)]
pub struct DownloadCounter(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    bytes: AtomicU64,
    saved: Mutex<Vec<DownloadedFile>>,
}

impl DownloadCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes received so far, by every file of the downloads it was given to.
    pub fn received(&self) -> u64 {
        self.0.bytes.load(Ordering::Relaxed)
    }

    /// The files saved whole (in place) so far, in the order they were: what a download that
    /// was dropped before its end (Ctrl-C, a deadline of the caller's) had saved.
    pub fn saved(&self) -> Vec<DownloadedFile> {
        self.0
            .saved
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn add(&self, bytes: u64) {
        self.0.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    fn saved_one(&self, file: &DownloadedFile) {
        self.0
            .saved
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(file.clone());
    }
}

impl Default for DownloadOptions {
    fn default() -> Self {
        Self {
            concurrency: 1,
            prefix: None,
            overwrite: false,
            max_bytes: Some(DEFAULT_MAX_DOWNLOAD_BYTES),
            timeout: DEFAULT_DOWNLOAD_TIMEOUT,
            counter: None,
        }
    }
}

impl DownloadOptions {
    /// Defaults: one file at a time (as RunComfy's CLI: each file in flight holds up to three
    /// of hyper's read buffers of ~400 KiB), no prefix, existing files kept
    /// (new names get `-1`, `-2`...; a file already there with the same bytes is not saved
    /// again, its path is given), files up to [`DEFAULT_MAX_DOWNLOAD_BYTES`], the whole
    /// call within [`DEFAULT_DOWNLOAD_TIMEOUT`].
    pub fn new() -> Self {
        Self::default()
    }

    /// How many files download at once (at least one): more can be faster from a distant host,
    /// for about 1 MiB each.
    pub fn concurrency(mut self, files: usize) -> Self {
        self.concurrency = files.max(1);
        self
    }

    /// Put this before every file name (`{prefix}-images-0.png`), a request id for example.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Replace files of the same name instead of picking a new name.
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Refuse files larger than this (default [`DEFAULT_MAX_DOWNLOAD_BYTES`]).
    pub fn max_bytes(mut self, limit: u64) -> Self {
        self.max_bytes = Some(limit);
        self
    }

    /// End the whole call after this long (default [`DEFAULT_DOWNLOAD_TIMEOUT`]), every file
    /// and retry included: [`DownloadFailure::TimedOut`], and the file being written is
    /// removed. A caller with a deadline of its own passes what is left of it.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Count the bytes received into `counter`, which a progress display reads meanwhile.
    pub fn counter(mut self, counter: DownloadCounter) -> Self {
        self.counter = Some(counter);
        self
    }
}

/// How a client fetches output files: set when it is built, the same for every download.
#[derive(Debug, Clone)]
pub(crate) struct Fetching {
    /// The idle time: less than [`MIN_PROGRESS_BYTES`] in it is a stall.
    pub idle: Duration,
    /// Hosts allowed besides RunComfy's and the API's own.
    pub hosts: Vec<String>,
    /// Any host is allowed.
    pub any_host: bool,
}

impl Fetching {
    /// Whether a file may be fetched from `url`: `https` (plain `http` only to loopback), and a
    /// host of RunComfy's, the API's, or one allowed.
    fn check(&self, http: &Http, url: &Url) -> Result<(), DownloadFailure> {
        let Some(loopback) = crate::http::is_loopback(url) else {
            return Err(DownloadFailure::BadUrl);
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => return Err(DownloadFailure::BadUrl),
        }
        let name = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let under = |allowed: &str| {
            let allowed = allowed.trim_start_matches('.').to_ascii_lowercase();
            name == allowed
                || (matches!(url.host(), Some(url::Host::Domain(_)))
                    && name.ends_with(&format!(".{allowed}")))
        };
        let api_host = http.base().host_str().unwrap_or_default();
        if self.any_host
            || name.eq_ignore_ascii_case(api_host)
            || RUNCOMFY_HOSTS.iter().any(|h| under(h))
            || self.hosts.iter().any(|h| under(h))
        {
            Ok(())
        } else {
            Err(DownloadFailure::HostNotAllowed(name))
        }
    }
}

/// Saves every file of an output (`listed`, in the order of
/// [`Output::files`](crate::Output::files)) into `dir`: what `Client::download_with` does.
pub(crate) async fn save_all(
    http: &Http,
    fetching: &Fetching,
    listed: Vec<OutputFile<'_>>,
    dir: &Path,
    options: &DownloadOptions,
) -> Result<Vec<DownloadedFile>, Error> {
    let deadline = crate::http::dates::later(Instant::now(), options.timeout);
    if listed.len() > MAX_OUTPUT_FILES {
        return Err(Error::TooManyFiles {
            listed: listed.len(),
            most: MAX_OUTPUT_FILES,
        });
    }
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|source| Error::Io {
            path: dir.to_owned(),
            failure: source,
        })?;
    remove_dead_parts(dir).await;
    // Each file gets a name of its own before any is fetched: two fields can clean to one
    // name (`a b`, `a_b`), and with `overwrite` the later would replace the earlier.
    let mut stems = HashSet::new();
    let files: Vec<File> = listed
        .into_iter()
        .map(|f| {
            let mut stem = file_stem(options.prefix.as_deref(), f.field, f.index);
            let base = stem.clone();
            for n in 2.. {
                if stems.insert(stem.clone()) {
                    break;
                }
                stem = with_suffix(&base, &format!("-{n}"));
            }
            File {
                field: f.field.to_owned(),
                index: f.index,
                url: f.url.to_owned(),
                stem,
            }
        })
        .collect();
    // Every file is tried, though one fails: the others are then whole on disk, and a later
    // download (`overwrite` or not) keeps them, so a file that cannot be fetched does not keep
    // the rest from being saved.
    let results: Vec<Result<DownloadedFile, Error>> = futures::stream::iter(files)
        .map(|file| async move {
            let saved = save_one(http, fetching, file, dir, options, deadline).await;
            if let (Ok(file), Some(counter)) = (&saved, &options.counter) {
                counter.saved_one(file);
            }
            saved
        })
        .buffered(options.concurrency)
        .collect()
        .await;
    let mut saved = Vec::with_capacity(results.len());
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok(file) => saved.push(file),
            Err(err) => failures.push(err),
        }
    }
    saved_but(saved, failures)
}

/// The files saved, or, when some were not, why: the one said first, whose kind the exit code
/// follows, is one that fetching again cannot mend when there is one, whatever the order of
/// the files (QA repro51 F5: a 404 and a file cut short gave 69 or 3 by their order).
pub(crate) fn saved_but(
    saved: Vec<DownloadedFile>,
    mut failures: Vec<Error>,
) -> Result<Vec<DownloadedFile>, Error> {
    let first = failures
        .iter()
        .position(|err| !err.is_transient())
        .unwrap_or(0);
    if failures.is_empty() {
        return Ok(saved);
    }
    let failure = failures.remove(first);
    match saved.is_empty() && failures.is_empty() {
        true => Err(failure),
        false => Err(Error::NotAllSaved {
            saved,
            failure: Box::new(failure),
            others: failures,
        }),
    }
}

/// One file of an output.
struct File {
    field: String,
    index: Option<usize>,
    url: String,
    /// Its file name, without the extension: unique in the output.
    stem: String,
}

async fn save_one(
    http: &Http,
    fetching: &Fetching,
    file: File,
    dir: &Path,
    options: &DownloadOptions,
    deadline: Instant,
) -> Result<DownloadedFile, Error> {
    let File {
        field,
        index,
        url,
        stem,
    } = file;
    let refuse = |url: String, reason| Err(Error::Download { url, reason });
    if after_prefix(url.trim_start(), "data:").is_some() {
        return save_inline(field, index, &url, dir, &stem, options).await;
    }
    if url.len() > MAX_URL_BYTES {
        let len = url.len();
        return refuse(url, DownloadFailure::UrlTooLong(len));
    }
    let Some(parsed) = output_location(http.base(), &url) else {
        return refuse(url, DownloadFailure::NotAUrl);
    };
    if let Err(reason) = fetching.check(http, &parsed) {
        return refuse(url, reason);
    }
    // The field is the server's word: shown, not obeyed, by a log reader.
    let span = tracing::debug_span!(
        "runcomfy.download",
        field = %printable(&field, SHOWN_CHARS),
        index
    );
    let attempts = retry::run(
        http.retry_policy(),
        is_retryable_download,
        |_, _| {},
        || fetch_to_temp(http, fetching, &parsed, dir, &stem, options),
    );
    // Dropping the attempt in flight removes its temporary file.
    let fetched = match tokio::time::timeout_at(deadline.into(), attempts).await {
        Ok(Ok(fetched)) => fetched,
        Ok(Err(failure)) => return Err(failure.error),
        Err(_) => return refuse(url, DownloadFailure::TimedOut(options.timeout)),
    };
    let ext = extension(
        fetched.content_type.as_deref(),
        &fetched.head,
        Some(&parsed),
    );
    let path = fetched
        .temp
        .persist(
            dir,
            &stem,
            ext,
            options.overwrite,
            (fetched.bytes, &fetched.sha256),
        )
        .await?;
    tracing::debug!(parent: &span, path = %path.display(), bytes = fetched.bytes, "saved");
    // Where it came from: a path output (`/files/a.png`) as the URL fetched on the API's origin
    // (QA repro38 N11: the bare path, which no one can open); the output keeps it as given.
    let url = match crate::model::is_path(&url) {
        true => parsed.to_string(),
        false => url,
    };
    Ok(DownloadedFile {
        field,
        index,
        url,
        path,
        bytes: fetched.bytes,
        content_type: fetched.content_type,
        sha256: fetched.sha256,
    })
}

/// Saves a file the output gives inline, as a `data:` URI (as RunComfy's own nodes send
/// media), through the checks a fetched file passes: what its type says, not text, whole, and
/// within the size limit. Its record's URL is a short description: the data is in the output.
async fn save_inline(
    field: String,
    index: Option<usize>,
    uri: &str,
    dir: &Path,
    stem: &str,
    options: &DownloadOptions,
) -> Result<DownloadedFile, Error> {
    let said = |reason| Error::Download {
        url: "data:".to_owned(),
        reason,
    };
    let parsed = DataUri::parse(uri.trim_start())
        .map_err(|err| said(DownloadFailure::BadDataUri(err.to_string())))?;
    let content_type = (!parsed.mime.is_empty()).then(|| parsed.mime.to_owned());
    let url = format!(
        "data:{} (inline, {} bytes of base64 or text)",
        printable(parsed.mime, SHOWN_CHARS),
        uri.len()
    );
    let said = |reason| Error::Download {
        url: url.clone(),
        reason,
    };
    let bytes = match parsed.payload {
        Payload::Base64 { text, len } => {
            if let Some(limit) = options.max_bytes.filter(|limit| len > *limit) {
                return Err(said(DownloadFailure::TooLarge(limit)));
            }
            let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or_default());
            std::io::Read::read_to_end(&mut Base64Source::new(text, len), &mut bytes)
                .map_err(|err| said(DownloadFailure::BadDataUri(err.to_string())))?;
            bytes
        }
        Payload::Plain(bytes) => bytes,
    };
    let temp = TempFile::create(dir, stem)?;
    let io = |source| Error::Io {
        path: temp.path.clone(),
        failure: source,
    };
    let file = temp.file.try_clone().map_err(io)?;
    let body = Body::new(content_type.clone(), None, options.max_bytes);
    let stream = futures::stream::iter([Ok(bytes::Bytes::from(bytes))]);
    let pace = Pace::new(Duration::from_secs(3600), options.counter.clone());
    let (head, len, sha256) = match save_body(stream, pace, body, file, temp.path.clone()).await {
        Ok(saved) => saved,
        // Inline, it cannot come whole another time.
        Err(Saving::Failed(DownloadFailure::CutShort(why))) => {
            return Err(said(DownloadFailure::BadDataUri(format!(
                "the file it holds is cut short: {why}"
            ))));
        }
        Err(Saving::Failed(reason)) => return Err(said(reason)),
        Err(Saving::Transport(source)) => {
            return Err(said(DownloadFailure::Transport(source)));
        }
        Err(Saving::Io(source)) => return Err(io(source)),
    };
    let ext = extension(content_type.as_deref(), &head, None);
    let path = temp
        .persist(dir, stem, ext, options.overwrite, (len, &sha256))
        .await?;
    Ok(DownloadedFile {
        field,
        index,
        url,
        path,
        bytes: len,
        content_type,
        sha256,
    })
}

/// GETs a file, following redirects here so that each hop is checked: its host and scheme as
/// the first URL's, never from `https` to plain `http`, and the token only while every hop so
/// far is on the API's own origin.
async fn open(
    http: &Http,
    fetching: &Fetching,
    url: &Url,
    fail: &impl Fn(DownloadFailure) -> Failure,
) -> Result<reqwest::Response, Failure> {
    let mut current = url.clone();
    let mut token = http.is_api_origin(&current);
    for _ in 0..=MAX_REDIRECTS {
        let request = http.get_file(&current, token);
        let response = match tokio::time::timeout(fetching.idle, request.send()).await {
            Err(_) => return Err(fail(DownloadFailure::Stalled(fetching.idle))),
            Ok(Err(source)) => {
                let source = http.token().scrub_error(source);
                return Err(fail(DownloadFailure::Transport(source)));
            }
            Ok(Ok(response)) => response,
        };
        // Scrubbed before it is parsed, which lower-cases a host: a target that held the token
        // is then no URL, or one that names no secret.
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .filter(|_| response.status().is_redirection())
            .map(|to| http.token().scrub(to));
        let Some(location) = location else {
            return Ok(response);
        };
        let next = current
            .join(&location)
            .map_err(|_| fail(DownloadFailure::BadRedirect))?;
        if current.scheme() == "https" && next.scheme() != "https" {
            return Err(fail(DownloadFailure::BadUrl));
        }
        fetching.check(http, &next).map_err(&fail)?;
        token = token && http.is_api_origin(&next);
        current = next;
    }
    Err(fail(DownloadFailure::TooManyRedirects))
}

/// One attempt: GET the file and stream it into a fresh temporary file.
async fn fetch_to_temp(
    http: &Http,
    fetching: &Fetching,
    url: &Url,
    dir: &Path,
    stem: &str,
    options: &DownloadOptions,
) -> Result<Fetched, Failure> {
    let max_bytes = options.max_bytes;
    let fail = |reason| Failure {
        error: Error::Download {
            url: url.to_string(),
            reason,
        },
        retry_after: None,
        not_sent: false,
    };
    let response = open(http, fetching, url, &fail).await?;
    let content_type = accept(&response, max_bytes, &fail, http.token())?;
    let temp = TempFile::create(dir, stem).map_err(|err| Failure {
        error: err,
        retry_after: None,
        not_sent: false,
    })?;
    let io_fail = |source| Failure {
        error: Error::Io {
            path: temp.path.clone(),
            failure: source,
        },
        retry_after: None,
        not_sent: false,
    };
    let file = temp.file.try_clone().map_err(io_fail)?;
    let body = Body::new(content_type.clone(), named_by(url), max_bytes);
    let pace = Pace::new(fetching.idle, options.counter.clone());
    let saved = save_body(response.bytes_stream(), pace, body, file, temp.path.clone()).await;
    let (head, bytes, sha256) = saved.map_err(|err| match err {
        Saving::Failed(reason) => fail(reason),
        Saving::Transport(source) => {
            fail(DownloadFailure::Transport(http.token().scrub_error(source)))
        }
        Saving::Io(source) => io_fail(source),
    })?;
    Ok(Fetched {
        temp,
        head,
        bytes,
        content_type,
        sha256,
    })
}

/// A response worth reading: a success whose declared length is within the limit. Returns
/// its content type. Header text is scrubbed of `token` as a reply's body is: a host that was
/// sent it (the API's own) may echo it there, and a MIME type is read lower-cased.
fn accept(
    response: &reqwest::Response,
    max_bytes: Option<u64>,
    fail: &impl Fn(DownloadFailure) -> Failure,
    token: &Token,
) -> Result<Option<String>, Failure> {
    let status = response.status();
    if !status.is_success() {
        let retry_after = retry_after(response.headers());
        return Err(Failure {
            retry_after,
            ..fail(DownloadFailure::Status(status.as_u16()))
        });
    }
    if let (Some(limit), Some(length)) = (max_bytes, response.content_length())
        && length > limit
    {
        return Err(fail(DownloadFailure::TooLarge(limit)));
    }
    if let Some(encoding) = unasked_encoding(response.headers()) {
        return Err(fail(DownloadFailure::Encoded(token.scrub(&encoding))));
    }
    Ok(response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|text| token.scrub(text)))
}

/// The `Content-Encoding` of a reply, unless none or `identity`. No `Accept-Encoding` is sent,
/// so a compressed body would be saved as the file, or judged as one whose bytes are not its
/// type: callers say why instead.
pub(super) fn unasked_encoding(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_ENCODING)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"))
}

/// The stall rule: less than [`MIN_PROGRESS_BYTES`] in one idle time is a stall, however the
/// bytes trickle in.
struct Pace {
    idle: Duration,
    /// When the current idle time began, and the bytes received since.
    window: (Instant, u64),
    /// Where the bytes received are also counted, for a progress display.
    counter: Option<DownloadCounter>,
}

impl Pace {
    fn new(idle: Duration, counter: Option<DownloadCounter>) -> Self {
        Self {
            idle,
            window: (Instant::now(), 0),
            counter,
        }
    }

    /// The stream's next item, or a stall.
    async fn next<S>(
        &mut self,
        stream: &mut S,
    ) -> Result<Option<reqwest::Result<bytes::Bytes>>, DownloadFailure>
    where
        S: futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin,
    {
        loop {
            let until = self.window.0 + self.idle;
            match tokio::time::timeout_at(until.into(), stream.next()).await {
                Err(_) if self.window.1 < MIN_PROGRESS_BYTES => {
                    return Err(DownloadFailure::Stalled(self.idle));
                }
                Err(_) => self.window = (Instant::now(), 0),
                Ok(Some(Ok(chunk))) => {
                    self.count(chunk.len() as u64)?;
                    return Ok(Some(Ok(chunk)));
                }
                Ok(other) => return Ok(other),
            }
        }
    }

    fn count(&mut self, len: u64) -> Result<(), DownloadFailure> {
        if let Some(counter) = &self.counter {
            counter.add(len);
        }
        if self.window.0.elapsed() >= self.idle {
            if self.window.1 + len < MIN_PROGRESS_BYTES {
                return Err(DownloadFailure::Stalled(self.idle));
            }
            self.window = (Instant::now(), 0);
        } else {
            self.window.1 += len;
        }
        Ok(())
    }
}

/// What is learned of a body as it streams: its size against the limit and its first bytes
/// (checked against the content type as soon as there are enough).
struct Body {
    content_type: Option<String>,
    /// The format the URL's last segment names, if any.
    named: Option<MediaFormat>,
    max_bytes: Option<u64>,
    head: Vec<u8>,
    checked: bool,
    bytes: u64,
}

impl Body {
    fn new(
        content_type: Option<String>,
        named: Option<MediaFormat>,
        max_bytes: Option<u64>,
    ) -> Self {
        Self {
            content_type,
            named,
            max_bytes,
            head: Vec::with_capacity(SNIFF_BYTES),
            checked: false,
            bytes: 0,
        }
    }

    fn take(&mut self, chunk: &[u8]) -> Result<(), DownloadFailure> {
        self.bytes += chunk.len() as u64;
        if let Some(limit) = self.max_bytes.filter(|limit| self.bytes > *limit) {
            return Err(DownloadFailure::TooLarge(limit));
        }
        if self.head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        // The first bytes tell: a body that is not what it claims ends here, not at its end.
        if !self.checked && self.head.len() >= SNIFF_BYTES {
            check_content(self.content_type.as_deref(), self.named, &self.head, false)?;
            self.checked = true;
        }
        Ok(())
    }

    /// The format its `Content-Type` names, if one this crate knows.
    fn claimed(&self) -> Option<MediaFormat> {
        self.content_type
            .as_deref()
            .and_then(MediaFormat::from_mime)
    }

    /// The first bytes and the size of a whole body (a short one checked now).
    fn finish(self) -> Result<(Vec<u8>, u64), DownloadFailure> {
        if !self.checked {
            check_content(self.content_type.as_deref(), self.named, &self.head, true)?;
        }
        Ok((self.head, self.bytes))
    }
}

/// Why [`save_body`] stopped.
enum Saving {
    Failed(DownloadFailure),
    Transport(reqwest::Error),
    Io(std::io::Error),
}

/// Streams a body into `file` (at `path`) on one blocking thread, which writes each chunk and
/// takes the next from hyper as soon as the last is written: no chunk waits in a queue or on
/// another task, since each pins one of hyper's read buffers (up to ~400 KiB, §8), and the disk
/// never waits for the download's task. Returns the first bytes, the size and the sha256 once
/// the file is synced. Dropped, it stops the thread before its next chunk.
///
/// The sha256 is read back from the written file while it syncs: hashed chunk by chunk as they
/// came, it cost a fifth of the throughput (BENCHMARKS.md §6), all of it while the disk sat
/// idle, and during the sync the CPU is the one that idles.
async fn save_body<S>(
    mut stream: S,
    mut pace: Pace,
    mut body: Body,
    mut file: std::fs::File,
    path: PathBuf,
) -> Result<(Vec<u8>, u64, String), Saving>
where
    S: futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin + Send + 'static,
{
    use std::io::Write as _;
    let runtime = tokio::runtime::Handle::current();
    // Dropped with this future, `_dropped` ends the thread's wait for a chunk.
    let (_dropped, mut abandoned) = tokio::sync::oneshot::channel::<()>();
    let thread = tokio::task::spawn_blocking(move || {
        loop {
            let next = runtime.block_on(async {
                tokio::select! {
                    biased;
                    _ = &mut abandoned => None,
                    next = pace.next(&mut stream) => Some(next),
                }
            });
            let Some(next) = next else {
                return Err(Saving::Io(std::io::Error::other(
                    "the download was abandoned",
                )));
            };
            match next.map_err(Saving::Failed)? {
                None => break,
                Some(Err(source)) => return Err(Saving::Transport(source)),
                Some(Ok(chunk)) => {
                    body.take(&chunk).map_err(Saving::Failed)?;
                    file.write_all(&chunk).map_err(Saving::Io)?;
                }
            }
        }
        let claimed = body.claimed();
        let (head, bytes) = body.finish().map_err(Saving::Failed)?;
        // Whatever length the reply stated: a host may serve a file cut short with the length
        // of what is left, and a reply with none ends where the connection broke.
        let mut written = std::fs::File::open(&path).map_err(Saving::Io)?;
        let cut = cut_short(&mut written, bytes, &head, claimed).map_err(Saving::Io)?;
        if let Some(why) = cut {
            return Err(Saving::Failed(DownloadFailure::CutShort(why)));
        }
        let sha256 = sync_and_hash(&file, &path).map_err(Saving::Io)?;
        Ok((head, bytes, sha256))
    });
    thread
        .await
        .map_err(|err| Saving::Io(std::io::Error::other(err)))?
}

/// Syncs `file` to disk (so it is whole before the rename gives it its final name) and,
/// meanwhile, reads it back from `path` for its sha256.
fn sync_and_hash(file: &std::fs::File, path: &Path) -> std::io::Result<String> {
    std::thread::scope(|scope| {
        let sync = std::thread::Builder::new()
            .name("runcomfy-sync".into())
            .spawn_scoped(scope, || file.sync_all());
        let sha256 = std::fs::File::open(path).and_then(crate::digest::sha256_of);
        match sync {
            Ok(sync) => sync
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the sync thread panicked")))?,
            // No thread to spare: one after the other.
            Err(_) => file.sync_all()?,
        }
        sha256.map(|(_, hex)| hex)
    })
}

/// An output file is media: a host that sends something else sent a broken file, fetched
/// again rather than saved. That is nothing at all, text where media belongs (an HTML error
/// page or a JSON error with 200, whatever its `Content-Type`), a program (an executable or a
/// script, whatever names it: saved as `video-0.mp4` it would be run by a double click), bytes
/// of another format than the one the `Content-Type` names (an error page sent as
/// `image/png`), or bytes of no image format where an image is named (by the `Content-Type`,
/// or by the URL under one that names no format). Other bytes in no format the vocabulary
/// tells are taken on trust: a model may return a format this crate does not name, a video or
/// an audio file may be one the vocabulary does not tell from its start (a fragmented MP4, an
/// RF64 WAV), and a URL's name may be wrong where the bytes are right (a JPEG at `out.png`).
fn check_content(
    content_type: Option<&str>,
    named: Option<MediaFormat>,
    head: &[u8],
    complete: bool,
) -> Result<(), DownloadFailure> {
    if complete && head.is_empty() {
        return Err(DownloadFailure::NotMedia("an empty body".to_owned()));
    }
    let mime = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let claimed = MediaFormat::from_mime(&mime);
    let image = |format: Option<MediaFormat>| format.is_some_and(|f| f.kind() == MediaKind::Image);
    match (claimed, MediaFormat::sniff(head)) {
        // Bytes of a known format are that format whatever they are sent as, and are saved as
        // it ([`extension`]): a PNG sent as `image/jpeg` is a server's slip, not a file to
        // refuse for ever (QA repro51 F7).
        (_, Some(_)) => Ok(()),
        (_, None) if looks_like_program(head) => Err(DownloadFailure::NotMedia(format!(
            "a program, {}",
            sent_as(&mime)
        ))),
        (Some(_), None) if image(claimed) || looks_like_text(head) => {
            Err(DownloadFailure::Mismatch(mime))
        }
        // SVG is the one text format among images.
        (None, None) if looks_like_text(head) && mime != "image/svg+xml" => Err(
            DownloadFailure::NotMedia(format!("text, {}", sent_as(&mime))),
        ),
        (None, None) if image(named) => Err(DownloadFailure::NotMedia(format!(
            "bytes of no image format from a URL naming {}, {}",
            named.map_or("", MediaFormat::name),
            sent_as(&mime)
        ))),
        _ => Ok(()),
    }
}

/// Whether the first bytes start a program: an executable (ELF, PE, Mach-O) or a script
/// (`#!`). No media format starts so.
fn looks_like_program(head: &[u8]) -> bool {
    const STARTS: [&[u8]; 8] = [
        b"\x7fELF",
        b"MZ",
        b"#!",
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    ];
    STARTS.iter().any(|start| head.starts_with(start))
}

/// How a body's `Content-Type` (a bare MIME type, lower case) is said in a reason.
fn sent_as(mime: &str) -> String {
    match mime {
        "" => "with no Content-Type".to_owned(),
        mime => format!("sent as {mime}"),
    }
}

/// Whether a `Content-Type`'s format and the bytes' are one: equal, or two names of one
/// container (an MP4 brand sent as `video/quicktime`, AVIF as `image/heif`).
fn same_format(claimed: MediaFormat, sniffed: MediaFormat) -> bool {
    use MediaFormat::{Avif, Heif, M4a, Mov, Mp4};
    claimed == sniffed
        || matches!(
            (claimed, sniffed),
            (Mp4 | Mov | M4a, Mp4 | Mov | M4a) | (Heif | Avif, Heif | Avif)
        )
}

/// Whether the first bytes are markup or JSON (after any byte-order mark and white space): what
/// error pages and error messages are.
fn looks_like_text(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    head.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'<' | b'{' | b'['))
}

fn is_retryable_download(failure: &Failure) -> bool {
    match &failure.error {
        Error::Download { reason, .. } => match reason {
            DownloadFailure::Status(code) => matches!(code, 408 | 429 | 500 | 502 | 503 | 504),
            DownloadFailure::Transport(source) => {
                !source.is_builder()
                    && !source.is_redirect()
                    && !crate::error::is_tls_failure(source)
            }
            DownloadFailure::Stalled(_)
            | DownloadFailure::CutShort(_)
            | DownloadFailure::Mismatch(_)
            | DownloadFailure::NotMedia(_) => true,
            _ => false,
        },
        _ => false,
    }
}

struct Fetched {
    temp: TempFile,
    head: Vec<u8>,
    bytes: u64,
    content_type: Option<String>,
    sha256: String,
}

/// Removes the temporary files ([`TempFile`]) that downloads into `dir` left when their
/// process was killed (kill -9, a crash): their names carry the process id, and one whose
/// process no longer runs is no download on the way. Best effort, on Unix.
async fn remove_dead_parts(dir: &Path) {
    let dir = dir.to_owned();
    // A folder of many files is read off the async threads.
    let _ = tokio::task::spawn_blocking(move || {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if let Some(pid) = name.to_str().and_then(part_pid)
                && pid != std::process::id()
                && !runs(pid)
                && entry.file_type().is_ok_and(|t| t.is_file())
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    })
    .await;
}

/// The process id in a temporary file's name, `.{stem}.{pid}-{attempt}.part`.
fn part_pid(name: &str) -> Option<u32> {
    let inner = name.strip_prefix('.')?.strip_suffix(".part")?;
    let (_, tail) = inner.rsplit_once('.')?;
    let (pid, attempt) = tail.split_once('-')?;
    attempt.parse::<u32>().ok()?;
    pid.parse().ok()
}

/// Whether process `pid` runs (or may: anything but "no such process" says it does).
#[cfg(unix)]
fn runs(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return true;
    };
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

#[cfg(not(unix))]
fn runs(_pid: u32) -> bool {
    true
}

/// A temporary file, removed when dropped unless persisted (a cancelled, failed or timed-out
/// download leaves nothing behind).
struct TempFile {
    path: PathBuf,
    /// Open for writing.
    file: std::fs::File,
    keep: bool,
}

impl TempFile {
    /// Created at once, not on the blocking pool: a download dropped at any point after this
    /// has a `TempFile` to remove the file, and none before it has a file to leave.
    fn create(dir: &Path, stem: &str) -> Result<Self, Error> {
        let mut attempt = 0u32;
        loop {
            let name = format!(".{stem}.{}-{attempt}.part", std::process::id());
            let path = dir.join(name);
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => {
                    return Ok(Self {
                        path,
                        file,
                        keep: false,
                    });
                }
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && attempt < 1000 => {
                    attempt += 1;
                }
                Err(source) => {
                    return Err(Error::Io {
                        path,
                        failure: source,
                    });
                }
            }
        }
    }

    /// Moves the file to `{stem}.{ext}`, or, when that exists and `overwrite` is off, gives
    /// the path of a file on the way with the same bytes (`bytes` long, hashing to `sha256`)
    /// or else moves it to `{stem}-{n}.{ext}`.
    async fn persist(
        mut self,
        dir: &Path,
        stem: &str,
        ext: &str,
        overwrite: bool,
        (bytes, sha256): (u64, &str),
    ) -> Result<PathBuf, Error> {
        let io = |path: &Path, source| Error::Io {
            path: path.to_owned(),
            failure: source,
        };
        if overwrite {
            let target = dir.join(format!("{stem}.{ext}"));
            tokio::fs::rename(&self.path, &target)
                .await
                .map_err(|e| io(&target, e))?;
            self.keep = true;
            return Ok(target);
        }
        let named = dir.join(format!("{stem}.{ext}"));
        let (temp, dir, stem, ext, sha256) = (
            self.path.clone(),
            dir.to_owned(),
            stem.to_owned(),
            ext.to_owned(),
            sha256.to_owned(),
        );
        let placed = tokio::task::spawn_blocking(move || {
            let identity = Identity {
                bytes,
                sha256: &sha256,
            };
            place_new(&temp, &dir, &stem, &ext, Some(identity))
        })
        .await
        .map_err(|e| io(&named, std::io::Error::other(e)))?
        .map_err(|e| io(&named, e))?;
        match placed {
            // The temporary name goes when `self` drops.
            Placed::Linked(target) | Placed::Existing(target) => Ok(target),
            Placed::Renamed(target) => {
                self.keep = true;
                Ok(target)
            }
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            // Best effort: a leftover `.part` file is harmless.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `{prefix}-{field}-{index}` made safe as a file name; the index survives the length cap.
fn file_stem(prefix: Option<&str>, field: &str, index: Option<usize>) -> String {
    let base = match prefix {
        Some(prefix) => format!("{prefix}-{field}"),
        None => field.to_owned(),
    };
    with_suffix(&base, &index.map(|i| format!("-{i}")).unwrap_or_default())
}

/// `base` made safe and cut short enough for `suffix` (safe ASCII, `-2`) to follow it.
fn with_suffix(base: &str, suffix: &str) -> String {
    let mut stem = sanitize(base);
    // `sanitize` leaves ASCII only: any byte is a character boundary.
    stem.truncate(MAX_STEM.saturating_sub(suffix.len()));
    let mut stem = stem.trim_end_matches('.').to_owned();
    if stem.is_empty() {
        stem.push_str("file");
    }
    stem + suffix
}

/// [`safe_file_name`], never empty.
fn sanitize(name: &str) -> String {
    let safe = safe_file_name(name);
    if safe.is_empty() {
        "file".to_owned()
    } else {
        safe
    }
}

/// `name` made safe as one file or folder name on common file systems: ASCII letters, digits,
/// `-`, `_` and `.` are kept and anything else becomes `_` (so no path separators and no control
/// characters); at most 100 characters; no leading or trailing dot (no hidden files, no `..`,
/// nothing Windows trims) and no `..` inside; a name Windows reserves for a device (`CON`,
/// `nul.png`, `COM1`), or one a command would take for an option (`-rf`), gets a leading `_`.
/// Empty when nothing is left: the caller picks a fallback.
///
/// ```
/// use runcomfy::download::safe_file_name;
/// assert_eq!(safe_file_name("../../etc/passwd"), "_._etc_passwd");
/// assert_eq!(safe_file_name("..."), "");
/// assert_eq!(safe_file_name("Con.png"), "_Con.png");
/// assert_eq!(safe_file_name("-rf"), "_-rf");
/// ```
pub fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        // Cut before trimming, so a cut cannot leave a trailing dot.
        .take(MAX_STEM)
        .collect();
    let mut out = cleaned.trim_matches('.').to_owned();
    while out.contains("..") {
        out = out.replace("..", ".");
    }
    // `rm *` in the folder would read `-rf.png` as options.
    if is_windows_device(&out) || out.starts_with('-') {
        out.insert(0, '_');
        out.truncate(MAX_STEM);
        out.truncate(out.trim_end_matches('.').len());
    }
    out
}

/// Whether Windows reads `name` as a device rather than a file: `CON`, `PRN`, `AUX`, `NUL`,
/// `COM1`–`COM9` or `LPT1`–`LPT9`, in any case, alone or before an extension (`nul.png`).
fn is_windows_device(name: &str) -> bool {
    let base = name
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(
        base.as_bytes(),
        b"CON"
            | b"PRN"
            | b"AUX"
            | b"NUL"
            | [b'C', b'O', b'M', b'1'..=b'9']
            | [b'L', b'P', b'T', b'1'..=b'9']
    )
}

/// The format a URL's name gives (`out.png`), if one of the vocabulary's.
fn named_by(url: &Url) -> Option<MediaFormat> {
    MediaFormat::from_extension(url.path_segments()?.next_back()?)
}

/// The extension: of the bytes' format, else the `Content-Type`'s, else the URL's, if any (one
/// of the vocabulary's, so a URL cannot choose `.exe`), else `bin`.
fn extension(content_type: Option<&str>, head: &[u8], url: Option<&Url>) -> &'static str {
    let claimed = content_type.and_then(MediaFormat::from_mime);
    let format = match (claimed, MediaFormat::sniff(head)) {
        // The `Content-Type`'s name of the bytes' container (`.mov` for an MP4 brand), or of
        // audio behind an ID3 tag, which sniffs as MP3.
        (Some(claimed), Some(sniffed))
            if same_format(claimed, sniffed) || tagged_audio(claimed, head) =>
        {
            Some(claimed)
        }
        (_, Some(sniffed)) => Some(sniffed),
        (claimed, None) => claimed,
    };
    format
        .or_else(|| named_by(url?))
        .map_or("bin", MediaFormat::extension)
}

/// Whether `head` is audio of the `claimed` format behind an ID3 tag: one opens MP3 files, and
/// may open AAC and FLAC ones too, which then sniff as MP3.
fn tagged_audio(claimed: MediaFormat, head: &[u8]) -> bool {
    head.starts_with(b"ID3") && claimed.kind() == MediaKind::Audio
}

/// Where an output's file is fetched from: its URL, or a path (`/files/a.png`) on the API's
/// own origin, as a browser reads one there; `None` when it is neither.
pub(crate) fn output_location(base: &Url, url: &str) -> Option<Url> {
    match Url::parse(url) {
        Ok(parsed) if parsed.has_host() => Some(parsed),
        Err(url::ParseError::RelativeUrlWithoutBase) if crate::model::is_path(url) => {
            base.join(url.trim()).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temporary file a killed download left is removed by the next download into its
    /// folder; one of a process that runs (this one) is not, nor any other file.
    #[cfg(unix)]
    #[tokio::test]
    async fn parts_of_processes_that_ended_are_removed() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let mut ended = std::process::Command::new("true").spawn()?;
        let gone = ended.id();
        ended.wait()?;
        let mine = std::process::id();
        let names = [
            format!(".images-0.{gone}-0.part"),
            format!(".images-0.{mine}-0.part"),
            format!("images-0.{gone}-0.part"),
            ".notes.part".to_owned(),
            "images-0.png".to_owned(),
        ];
        for name in &names {
            std::fs::write(dir.path().join(name), b"x")?;
        }
        remove_dead_parts(dir.path()).await;
        let mut left: Vec<String> = std::fs::read_dir(dir.path())?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()?;
        left.sort();
        let mut expected = names[1..].to_vec();
        expected.sort();
        assert_eq!(left, expected);
        assert_eq!(part_pid(".a.b.12-3.part"), Some(12));
        assert_eq!(part_pid(".a.12-x.part"), None);
        Ok(())
    }

    #[test]
    fn names_are_safe() {
        assert_eq!(file_stem(None, "images", Some(3)), "images-3");
        // The index outlives the cap on a long field name.
        let long = "k".repeat(300);
        let (a, b) = (
            file_stem(None, &long, Some(1)),
            file_stem(None, &long, Some(2)),
        );
        assert!(
            a.ends_with("-1") && b.ends_with("-2") && a.len() <= MAX_STEM,
            "{a}"
        );
        assert_eq!(
            file_stem(Some("../../etc/passwd"), "image", None),
            "_._etc_passwd-image"
        );
        assert_eq!(sanitize("..\u{7}/x"), "__x");
        assert_eq!(sanitize("/abs/path"), "_abs_path");
        assert_eq!(sanitize(""), "file");
        assert_eq!(sanitize("a..b"), "a.b");
        assert!(sanitize(&"x".repeat(500)).len() <= MAX_STEM);
        // A cut at the limit leaves no trailing dot.
        let long = format!("{}.{}", "x".repeat(MAX_STEM - 1), "y".repeat(50));
        assert_eq!(sanitize(&long), "x".repeat(MAX_STEM - 1));
        // Names Windows keeps for devices, whatever their case or extension.
        for (name, safe) in [
            ("CON", "_CON"),
            ("nul.png", "_nul.png"),
            ("com1", "_com1"),
            ("Lpt9.tar.gz", "_Lpt9.tar.gz"),
            ("console", "console"),
            ("com10", "com10"),
            ("com0", "com0"),
            ("images-con", "images-con"),
            ("-rf", "_-rf"),
            ("--help.png", "_--help.png"),
        ] {
            assert_eq!(safe_file_name(name), safe, "{name}");
        }
        assert_eq!(file_stem(None, "aux", None), "_aux");
        let long = format!("con.{}", "x".repeat(MAX_STEM));
        assert!(safe_file_name(&long).len() <= MAX_STEM);
    }

    #[test]
    fn files_are_capped_by_default() {
        assert_eq!(
            DownloadOptions::default().max_bytes,
            Some(DEFAULT_MAX_DOWNLOAD_BYTES)
        );
    }

    #[test]
    fn content_is_checked_against_the_vocabulary() {
        let avif = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf";
        let quicktime = b"\0\0\0\x14ftypqt  \0\0\0\0qt  ";
        assert!(check_content(Some("image/avif"), None, avif, true).is_ok());
        assert!(check_content(Some("video/mp4"), None, quicktime, true).is_ok());
        assert!(check_content(Some("image/svg+xml"), None, b"<svg/>", true).is_ok());
        assert!(check_content(Some("audio/aiff"), None, b"FORM\0\0\0\x10AIFF", true).is_ok());
        // Known bytes are what they are, whatever they are sent as (QA repro51 F7).
        assert!(check_content(Some("image/png"), None, avif, true).is_ok());
        assert!(matches!(
            check_content(Some("video/mp4"), None, b"<html>", true),
            Err(DownloadFailure::Mismatch(_))
        ));
        assert!(matches!(
            check_content(Some("application/octet-stream"), None, b" {}", true),
            Err(DownloadFailure::NotMedia(_))
        ));
        // Not yet: more may come.
        assert!(check_content(None, None, b"", false).is_ok());
        // A program is no media file, whatever names it (QA repro33 F3: saved as a video,
        // exit 0); a URL's name is a claim where the Content-Type makes none (bytes of no
        // image at `out.png`), but a JPEG is a JPEG whatever its name.
        let script = b"#!/bin/sh\nrm -rf ~\n";
        let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
        for named in [None, Some(MediaFormat::Png), Some(MediaFormat::Mp4)] {
            for content_type in [None, Some("application/octet-stream"), Some("video/mp4")] {
                for bytes in [&script[..], &elf[..]] {
                    assert!(matches!(
                        check_content(content_type, named, bytes, true),
                        Err(DownloadFailure::NotMedia(_))
                    ));
                }
            }
        }
        let unknown = b"\0\x01\x02\x03 of no format";
        assert!(matches!(
            check_content(None, Some(MediaFormat::Png), unknown, true),
            Err(DownloadFailure::NotMedia(_))
        ));
        let jpeg = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01";
        assert!(check_content(None, Some(MediaFormat::Png), jpeg, true).is_ok());
        // A video or audio file the vocabulary does not tell from its start is taken on
        // trust, as it may be valid: a fragmented MP4, an RF64 WAV (QA repro35).
        let fragment = b"\0\0\0\x18stypmsdh\0\0\0\0";
        let rf64 = b"RF64\xff\xff\xff\xffWAVEds64";
        for (bytes, named, content_type) in [
            (&fragment[..], MediaFormat::Mp4, "video/mp4"),
            (&rf64[..], MediaFormat::Wav, "audio/wav"),
        ] {
            assert!(check_content(None, Some(named), bytes, true).is_ok());
            assert!(check_content(Some(content_type), None, bytes, true).is_ok());
        }
        // FLAC or AAC behind an ID3 tag, sent as itself.
        let tagged = b"ID3\x04\0\0\0\0\0\x0afLaC\0\0";
        for content_type in ["audio/flac", "audio/aac", "audio/mpeg"] {
            assert!(check_content(Some(content_type), None, tagged, true).is_ok());
        }
    }

    #[test]
    fn extensions() -> Result<(), url::ParseError> {
        let url = Url::parse("https://cdn.example/out/x.JPEG?sig=1")?;
        let plain = Url::parse("https://cdn.example/out/x")?;
        assert_eq!(extension(Some("image/png; q=1"), b"", Some(&url)), "png");
        assert_eq!(
            extension(None, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Some(&plain)),
            "png"
        );
        assert_eq!(
            extension(Some("application/octet-stream"), b"", Some(&url)),
            "jpg"
        );
        assert_eq!(
            extension(None, b"", Some(&Url::parse("https://h/run.sh")?)),
            "bin"
        );
        // The bytes' format names a file sent as another; a container's or tagged audio's
        // other name is kept.
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(extension(Some("image/jpeg"), png, Some(&url)), "png");
        let quicktime = b"\0\0\0\x14ftypqt  \0\0\0\0qt  ";
        assert_eq!(extension(Some("video/mp4"), quicktime, None), "mp4");
        assert_eq!(extension(Some("audio/flac"), b"ID3\x04\0\0", None), "flac");
        Ok(())
    }
}
