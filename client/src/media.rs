//! Media inputs: one type for image, video and audio fields, and how one is judged against its
//! field's [`MediaSpec`]: measured from its header only (`inspect`, `datauri`), every
//! `validations` rule applied to the measurement, problems written into a
//! [`ValidationReport`]. The validator calls `check` for each media value; the opt-in remote
//! check ([`preflight`](crate::preflight)) calls `check_prefix` with the first bytes of a URL.

mod datauri;
mod ending;
mod inspect;
mod video;

use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use runcomfy_vocab::format::{Format as TextFormat, url_fault};
use runcomfy_vocab::media::list;
use runcomfy_vocab::pointer::Path as FieldPath;
use runcomfy_vocab::rule::Measure;

use crate::error::{SHOWN_CHARS, printable};
use crate::report::{Problem, ValidationReport};
use crate::schema::{MediaFormat, MediaKind, MediaRule, MediaSpec};

pub use datauri::data_uri;
pub(crate) use datauri::digest as data_uri_digest;
pub(crate) use datauri::{Base64Source, DataUri, Payload, after_prefix};
pub(crate) use ending::cut_short;
use inspect::{Content, Dimensions, Format, Inspection, Unmeasured, Want};

/// How much of a `data:` URI's header `Debug` shows.
const DEBUG_HEAD: usize = 64;

/// RunComfy's limit on a request body (its own nodes cap a request at 64 MiB), which local
/// files travel inside, as base64: the Model API has no upload.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

/// The size at which a local file's base64 fills [`MAX_REQUEST_BYTES`] by itself: a request
/// carries only smaller ones. Validation refuses one this large or larger from its size,
/// unread.
pub const MAX_INLINE_FILE_BYTES: u64 = (MAX_REQUEST_BYTES as u64) / 4 * 3;

/// Bytes in the MB of the `file_size_mb` rules.
const MB: f64 = 1_048_576.0;

/// An image, video or audio input: an `https` URL, a `data:` URI, a local file, or bytes in
/// memory.
///
/// Local files and bytes are sent as base64 `data:` URIs. In JSON, a string that is neither a
/// URL nor a `data:` URI is read as a local path, so `{"images": ["cat.png"]}` works from a file
/// or the command line; a service whose inputs are its users' JSON turns that off with
/// [`ClientBuilder::local_files`](crate::ClientBuilder::local_files).
///
/// Serializing an input is making its request body: a local file is read and written as its
/// `data:` URI a piece at a time (and fails if it is gone, or is no regular file). To keep or
/// log an input, keep the value it was made from; a provenance record ([`crate::provenance`])
/// keeps each file's path and sha256.
#[derive(Clone, PartialEq, Eq)]
pub enum Media {
    /// A URL the server fetches itself.
    Url(String),
    /// A `data:` URI, sent as it is.
    DataUri(String),
    /// A local file, read when the request is sent.
    Path(PathBuf),
    /// Bytes in memory.
    Bytes(Arc<[u8]>),
}

/// A media input could not be turned into what is sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// A local file could not be read.
    #[error("cannot read media file {}: {failure}", shown_path(path))]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (said by the error's text, so not its `source()`).
        failure: std::io::Error,
    },
}

impl Media {
    /// A URL the server fetches itself.
    pub fn url(url: impl Into<String>) -> Self {
        Media::Url(url.into())
    }

    /// A local file.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        Media::Path(path.into())
    }

    /// Bytes in memory.
    pub fn bytes(bytes: impl Into<Arc<[u8]>>) -> Self {
        Media::Bytes(bytes.into())
    }

    /// Reads a string as a `data:` URI, a URL (it has a `scheme://`), or else a local path;
    /// a `file:` URL of this machine is its path (`file:///tmp/a%20b.png`).
    pub fn parse(value: &str) -> Self {
        if let Some(path) = file_url_path(value) {
            return Media::Path(path);
        }
        // `https:/host/a.png` too is a URL, a broken one, not a file of that name.
        let web = value.split_once(':').is_some_and(|(scheme, _)| {
            ["http", "https"]
                .iter()
                .any(|s| scheme.trim().eq_ignore_ascii_case(s))
        });
        if has_data_scheme(value) {
            Media::DataUri(value.to_owned())
        } else if web || value.contains("://") {
            Media::Url(value.to_owned())
        } else {
            Media::Path(PathBuf::from(value))
        }
    }

    /// The local path, for a file.
    pub fn as_path(&self) -> Option<&Path> {
        match self {
            Media::Path(path) => Some(path),
            _ => None,
        }
    }

    /// The string sent on the wire: URLs and `data:` URIs as they are, files and bytes as
    /// base64 `data:` URIs (a file is read whole here).
    pub fn to_wire(&self) -> Result<Cow<'_, str>, MediaError> {
        match self {
            Media::Url(url) => Ok(Cow::Borrowed(url)),
            Media::DataUri(uri) => Ok(Cow::Borrowed(uri)),
            Media::Path(path) => match read_regular(path) {
                Ok(bytes) => Ok(Cow::Owned(data_uri(&bytes))),
                Err(source) => Err(MediaError::Read {
                    path: path.clone(),
                    failure: source,
                }),
            },
            Media::Bytes(bytes) => Ok(Cow::Owned(data_uri(bytes))),
        }
    }
}

/// Makes each relative local media path of `input` absolute, from the working folder it is
/// read from: where `body`, the request body made from `input`, holds a file inline at the
/// same place. A copy of the input kept to be sent later (a batch's journal) then names the
/// same files from any folder (QA repro52 F2: a batch carried on from another folder sent that
/// folder's files of the same names). Other strings are left as they are.
pub fn absolute_paths(input: &mut serde_json::Value, body: &serde_json::Value) {
    use serde_json::Value;
    match (input, body) {
        (Value::String(given), Value::String(sent)) if has_data_scheme(sent) => {
            let absolute = match Media::parse(given) {
                Media::Path(path) if path.is_relative() => std::path::absolute(&path).ok(),
                _ => None,
            };
            // A path that is not Unicode stays as given: it was read, so it reads again.
            if let Some(text) = absolute.as_deref().and_then(Path::to_str) {
                *given = text.to_owned();
            }
        }
        (Value::Array(given), Value::Array(sent)) => {
            for (item, sent) in given.iter_mut().zip(sent) {
                absolute_paths(item, sent);
            }
        }
        (Value::Object(given), Value::Object(sent)) => {
            for (key, item) in given.iter_mut() {
                if let Some(sent) = sent.get(key) {
                    absolute_paths(item, sent);
                }
            }
        }
        _ => {}
    }
}

/// The local path a `file:` URL names, when it names one on this machine (no host, or
/// `localhost`); another host's is left a URL, which is refused as one.
fn file_url_path(value: &str) -> Option<PathBuf> {
    after_prefix(value.trim(), "file:")?;
    url::Url::parse(value.trim()).ok()?.to_file_path().ok()
}

/// Whether `value` is a `data:` URI (its scheme in any case), looked at in place.
pub(crate) fn has_data_scheme(value: &str) -> bool {
    after_prefix(value, "data:").is_some()
}

impl fmt::Debug for Media {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Media::Url(url) => f.debug_tuple("Url").field(url).finish(),
            // A data URI can be megabytes long, and a malformed one may have no comma: show
            // the start of its header only.
            Media::DataUri(uri) => {
                let head = uri.split(',').next().unwrap_or_default();
                let head = match head.char_indices().nth(DEBUG_HEAD) {
                    Some((end, _)) => &head[..end],
                    None => head,
                };
                write!(f, "DataUri({head},… {} bytes)", uri.len())
            }
            Media::Path(path) => f.debug_tuple("Path").field(path).finish(),
            Media::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
        }
    }
}

impl From<&str> for Media {
    fn from(value: &str) -> Self {
        Media::parse(value)
    }
}

impl From<String> for Media {
    fn from(value: String) -> Self {
        Media::parse(&value)
    }
}

impl From<PathBuf> for Media {
    fn from(value: PathBuf) -> Self {
        Media::Path(value)
    }
}

impl From<&Path> for Media {
    fn from(value: &Path) -> Self {
        Media::Path(value.to_owned())
    }
}

impl From<Vec<u8>> for Media {
    fn from(value: Vec<u8>) -> Self {
        Media::Bytes(value.into())
    }
}

impl Serialize for Media {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Media::Path(path) = self else {
            let wire = self.to_wire().map_err(serde::ser::Error::custom)?;
            return serializer.serialize_str(&wire);
        };
        // Streamed: a body limit stops a large file a piece past it, not after reading it all.
        let unread = |source| {
            serde::ser::Error::custom(MediaError::Read {
                path: path.clone(),
                failure: source,
            })
        };
        let (file, _) = open(path).map_err(unread)?;
        let uri = datauri::FileDataUri::new(file);
        let written = serializer.collect_str(&uri);
        match uri.take_error() {
            Some(source) => Err(unread(source)),
            None => written,
        }
    }
}

impl<'de> Deserialize<'de> for Media {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Ok(Media::parse(&value))
    }
}

/// Which media values validation may read: the client reads local files; a server (the
/// simulator) takes only what travels on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Files {
    /// Local paths and bytes are read (from their headers) and sent as `data:` URIs.
    Local,
    /// Only URLs and `data:` URIs are valid: a bare path names nothing on the server's side.
    Wire,
    /// As [`Local`](Self::Local), but a local path is refused without being opened: a client
    /// whose inputs come from others (JSON from a web request) must not send its own disk's
    /// files ([`ClientBuilder::local_files`](crate::ClientBuilder::local_files)).
    NoPaths,
}

/// The media an input sends inline, by path, measured as sent: what no single item's check
/// sees, several files that together pass the [`MAX_REQUEST_BYTES`] a request may carry.
#[derive(Debug, Default)]
pub(crate) struct Inline {
    /// Each item's bytes as sent (base64 for files and bytes), and what it is, by its path
    /// (a schema that applies twice to one item counts it once).
    items: std::collections::BTreeMap<String, (u64, String)>,
}

impl Inline {
    /// Adds the item at `path`, `what` it is, of `bytes` once sent.
    fn add(&mut self, path: &FieldPath, bytes: u64, what: String) {
        self.items.insert(path.as_str().to_owned(), (bytes, what));
    }

    /// Adds `len` bytes sent as base64.
    fn add_base64(&mut self, path: &FieldPath, len: u64, what: String) {
        let sent = usize::try_from(len)
            .ok()
            .and_then(|len| base64::encoded_len(len, true))
            .map_or(u64::MAX, |sent| sent as u64);
        self.add(path, sent, what);
    }

    /// Reports, at the input's root, media that together pass what a request may carry, the
    /// largest named first.
    pub(crate) fn check(&self, report: &mut ValidationReport) {
        let total: u64 = self.items.values().map(|(bytes, _)| bytes).sum();
        // One item alone over the cap is its own check's error.
        if total < MAX_REQUEST_BYTES as u64 || self.items.len() < 2 {
            return;
        }
        let mut items: Vec<(&String, &(u64, String))> = self.items.iter().collect();
        items.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        const SHOWN: usize = 8;
        let mut named: Vec<String> = items
            .iter()
            .take(SHOWN)
            .map(|(at, (bytes, what))| format!("{at}: {what}, {:.1} MiB", *bytes as f64 / MB))
            .collect();
        if items.len() > SHOWN {
            named.push(format!("and {} more", items.len() - SHOWN));
        }
        let message = format!(
            "the media sent inline come to {:.1} MiB as sent (base64), past the {} MiB a request \
             may carry; give https URLs for some: {}",
            total as f64 / MB,
            MAX_REQUEST_BYTES >> 20,
            named.join("; ")
        );
        report.error(
            &FieldPath::root(),
            "size",
            Some(format!("{total} bytes")),
            message,
        );
    }
}

/// Checks one media item against its field's spec (the validator calls it for each one), and
/// adds what it sends inline to `inline`, measured as it is read.
///
/// A URL is checked for syntax and `https` only: the format and the `validations` rules cannot
/// be measured without fetching it, so none are applied here (the opt-in
/// [`preflight`](crate::preflight) fetches its first bytes and calls [`check_prefix`]).
/// Files, bytes and `data:` URIs are measured once, from their header only, and every rule is
/// applied to the measurement. Every item is sniffed; images are always measured, videos when
/// a rule needs their dimensions; audio has only a size.
pub(crate) fn check(
    report: &mut ValidationReport,
    path: &FieldPath,
    media: &Media,
    spec: &MediaSpec,
    files: Files,
    inline: &mut Inline,
) {
    let want = what_to_inspect(spec);
    let inspection = match media {
        Media::Url(url) => return check_url(report, path, url),
        Media::Path(_) | Media::Bytes(_) if files == Files::Wire => {
            let message = "must be an https URL or a data: URI: the server cannot read local files";
            return report.error(path, "format", None, message);
        }
        Media::Path(_) if files == Files::NoPaths => {
            let message = "is a local path, and this client sends no local file: give an https \
                           URL or a data: URI";
            return report.error(path, "file", None, message);
        }
        Media::Path(file) if file.as_os_str().is_empty() => {
            let message = "is empty: give a file's path, an https URL or a data: URI";
            return report.error(path, "file", None, message);
        }
        Media::Path(file) => match open(file) {
            Ok((handle, size)) => {
                inline.add_base64(path, size, shown_path(file));
                // At the bound its base64 fills the request, with no room for its `data:`
                // header or the rest of the body (QA repro41 L4: refused later, unnamed).
                if size >= MAX_INLINE_FILE_BYTES {
                    let message = format!(
                        "{} is {:.1} MiB: sent inline, as base64 a third larger, it alone fills \
                         the {} MiB a request may carry; give an https URL for it",
                        shown_path(file),
                        size as f64 / MB,
                        MAX_REQUEST_BYTES >> 20
                    );
                    return report.error(path, "size", Some(format!("{size} bytes")), message);
                }
                inspect::inspect(handle, size, want)
            }
            Err(err) => {
                // A shell expands `~`; JSON (`--input`, a batch line) reaches us without one.
                let tilde = file.starts_with("~") && err.kind() == std::io::ErrorKind::NotFound;
                let hint = match tilde {
                    true => " (`~` is expanded by a shell, not in JSON: write the folder out)",
                    false => "",
                };
                let message = format!("cannot read {}: {err}{hint}", shown_path(file));
                return report.error(path, "file", None, message);
            }
        },
        Media::Bytes(bytes) => {
            inline.add_base64(path, bytes.len() as u64, "bytes".to_owned());
            inspect::inspect(Cursor::new(&bytes[..]), bytes.len() as u64, want)
        }
        Media::DataUri(uri) => {
            // On the server's side (`Wire`) the body has arrived already.
            if files != Files::Wire {
                inline.add(path, uri.len() as u64, "a data: URI".to_owned());
            }
            match DataUri::parse(uri) {
                Ok(parsed) => {
                    let inspection = match &parsed.payload {
                        Payload::Base64 { text, len } => {
                            inspect::inspect(Base64Source::new(text, *len), *len, want)
                        }
                        Payload::Plain(bytes) => {
                            inspect::inspect(Cursor::new(&bytes[..]), bytes.len() as u64, want)
                        }
                    };
                    check_declared_mime(report, path, parsed.mime, &inspection.content);
                    inspection
                }
                Err(err) => {
                    let message = format!("is not a valid data: URI: {err}");
                    return report.error(path, "format", None, message);
                }
            }
        }
    };
    let Media::Path(file) = media else {
        return report_inspection(report, path, Origin::Local(media), spec, &inspection);
    };
    // Each measurement says which file it is of: with eight `--images`, or in a batch line,
    // `images[5]` alone leaves the user counting.
    let mut found = ValidationReport::new();
    report_inspection(&mut found, path, Origin::Local(media), spec, &inspection);
    for problem in found.problems() {
        let file = file.display();
        report.push(Problem {
            value: Some(match &problem.value {
                Some(measured) => format!("{measured} of {file}"),
                None => format!("file {file}"),
            }),
            ..problem.clone()
        });
    }
}

/// Checks the first bytes of a remote media item, of `size` bytes in all (`None`: the host did
/// not say), against its field's spec, as [`check`] does a local one: the format, and every rule
/// those bytes and the size settle. Dimensions past `prefix` get a warning that they were not
/// checked; the size rule without a size is left for the caller to report as it sees fit.
pub(crate) fn check_prefix(
    report: &mut ValidationReport,
    path: &FieldPath,
    prefix: &[u8],
    size: Option<u64>,
    spec: &MediaSpec,
) {
    let inspection = inspect::inspect_prefix(prefix, size, what_to_inspect(spec));
    report_inspection(report, path, Origin::Remote, spec, &inspection);
}

/// What to learn of an item: images are always measured (a damaged one is worth saying),
/// videos only for a rule on their dimensions, so an unusual but valid video with only a size
/// rule is not refused for a header this crate cannot read.
fn what_to_inspect(spec: &MediaSpec) -> Want {
    Want {
        kind: spec.kind,
        measure: spec.kind == MediaKind::Image || needs_dimensions(spec),
    }
}

/// Where the measured bytes came from, for the wording of messages.
#[derive(Clone, Copy)]
enum Origin<'a> {
    /// A file, bytes or a `data:` URI.
    Local(&'a Media),
    /// The fetched start of a URL.
    Remote,
}

fn check_url(report: &mut ValidationReport, path: &FieldPath, url: &str) {
    // The parser forgives what a server may not: spaces trimmed or escaped, `https:/host`.
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        let message = "must be a URL without spaces, line breaks or other control characters \
                       (a space in it is written %20)";
        return report.error(path, "format", None, message);
    }
    if after_prefix(url, "https:").is_some() && after_prefix(url, "https://").is_none() {
        let message = "must be a valid https URL: https:// then the host";
        return report.error(path, "format", None, message);
    }
    // The URL is sent as written, so it must be one as written: a parser (and many a server's
    // fetcher) would escape `|` or `{` on its own, or guess what `%zz` meant.
    if let Some(fault) = url_fault(url) {
        return report.error(
            path,
            "format",
            None,
            format!("must be a valid https URL: {fault}"),
        );
    }
    if !TextFormat::Iri.check(url) {
        let message = "must be a valid https URL (RFC 3987)";
        return report.error(path, "format", None, message);
    }
    match url::Url::parse(url) {
        Ok(parsed) if parsed.scheme() == "https" => {}
        Ok(parsed) => report.error(
            path,
            "format",
            Some(format!("scheme {}", parsed.scheme())),
            "must be an https URL (the server fetches it), a data: URI or a local file",
        ),
        Err(err) => report.error(
            path,
            "format",
            None,
            format!("must be a valid https URL ({err})"),
        ),
    }
}

/// A regular file's bytes ([`open`]).
fn read_regular(file: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let (mut handle, size) = open(file)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    handle.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Opens a regular file (never a FIFO or a device, which may not end) and takes its size
/// from the metadata.
pub(crate) fn open(file: &Path) -> std::io::Result<(File, u64)> {
    let not_regular =
        || std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file");
    // Before opening (opening a FIFO waits for a writer, forever), and again on what was
    // opened (the path may have changed since; a directory opens on Unix and fails only on
    // the first read, with a vaguer error).
    if !std::fs::metadata(file)?.is_file() {
        return Err(not_regular());
    }
    let handle = File::open(file)?;
    let metadata = handle.metadata()?;
    if !metadata.is_file() {
        return Err(not_regular());
    }
    Ok((handle, metadata.len()))
}

/// Warns when a `data:` URI declares an image type that differs from its content: a server
/// that trusts the declared type may refuse or misread it.
fn check_declared_mime(
    report: &mut ValidationReport,
    path: &FieldPath,
    declared: &str,
    content: &Content,
) {
    let Content::Media {
        format: Format::Known(format),
        ..
    } = content
    else {
        return;
    };
    // Only images: the container of a video or audio file has several MIME types by what it
    // holds (`audio/mp4` for an MP4 of sound), so a difference there says little.
    if format.kind() != MediaKind::Image {
        return;
    }
    let matches = declared.is_empty() || MediaFormat::from_mime(declared) == Some(*format);
    if !matches {
        report.warning(
            path,
            "format",
            Some(format!("declared {declared}, content {}", format.name())),
            format!(
                "the data: URI says {declared} but holds a {} image",
                format.name()
            ),
        );
    }
}

/// Reports what the inspection found wrong with the field's content, then checks its rules.
fn report_inspection(
    report: &mut ValidationReport,
    path: &FieldPath,
    origin: Origin<'_>,
    spec: &MediaSpec,
    inspection: &Inspection,
) {
    let mut dimensions = None;
    match &inspection.content {
        Content::Empty => {
            return report.error(
                path,
                "format",
                Some("size 0 bytes".to_owned()),
                format!("is empty: expected {}", expected(spec)),
            );
        }
        // Video and audio come in more formats than the vocabulary names (MPEG-TS, AIFF): an
        // unknown one is refused only when the field lists its formats or must be measured, and
        // otherwise said, since it may as well be no media at all (paid for if the server
        // takes it). Text is none of them.
        Content::Unrecognised if takes_unknown_formats(spec) => {
            let known: Vec<MediaFormat> = MediaFormat::ALL
                .iter()
                .copied()
                .filter(|f| f.kind() == spec.kind)
                .collect();
            let what = format!("of no {} format this client knows", spec.kind);
            report.warning(
                path,
                "format",
                Some("unknown format".to_owned()),
                format!(
                    "{} ({}): it is sent as it is, and the server may refuse it",
                    match origin {
                        Origin::Local(_) => format!("is a file {what}"),
                        Origin::Remote => format!("the URL serves a file {what}"),
                    },
                    list(&known)
                ),
            );
        }
        Content::Text if takes_unknown_formats(spec) => report.error(
            path,
            "format",
            Some("text".to_owned()),
            match origin {
                Origin::Local(_) => format!("is text, not {}", spec.kind.a_file()),
                Origin::Remote => format!("the URL serves text, not {}", spec.kind.a_file()),
            },
        ),
        Content::Unrecognised | Content::Text => report_unrecognised(report, path, origin, spec),
        Content::Unreadable(err) => return report_unreadable(report, path, origin, err),
        Content::Media { format, .. } if !format.may_hold(spec.kind) => report.error(
            path,
            "format",
            Some(format!("format {}", format.name())),
            format!("is {}, not {}", format.described(), spec.kind.a_file()),
        ),
        Content::Media {
            format,
            dimensions: measured,
        } => {
            let allowed = spec.formats.is_empty()
                || matches!(format, Format::Known(known) if spec.formats.contains(known));
            if !allowed {
                report.error(
                    path,
                    "format",
                    Some(format!("format {}", format.name())),
                    format!("must be {}", list(spec.formats)),
                );
            }
            match measured {
                Ok(measured) => dimensions = Some(*measured),
                // A refused format is reason enough; its damage would only add noise (a failed
                // read is still said).
                Err(unmeasured) if !allowed && !matches!(unmeasured, Unmeasured::Io(_)) => {}
                Err(unmeasured) => {
                    report_unmeasured(report, path, origin, spec, format, unmeasured)
                }
            }
        }
    }
    apply_rules(report, path, spec, inspection.size, dimensions);
}

/// Whether a field takes video or audio of formats the vocabulary does not name: it lists no
/// formats and has no rule that needs the dimensions.
fn takes_unknown_formats(spec: &MediaSpec) -> bool {
    spec.kind != MediaKind::Image && spec.formats.is_empty() && !needs_dimensions(spec)
}

/// Content of no format the field can take.
fn report_unrecognised(
    report: &mut ValidationReport,
    path: &FieldPath,
    origin: Origin<'_>,
    spec: &MediaSpec,
) {
    let wanted = match spec.formats.is_empty() && spec.kind != MediaKind::Image {
        true => format!(
            "{} whose dimensions can be read ({})",
            spec.kind.a_file(),
            list(&measured_formats(spec.kind))
        ),
        false => expected(spec),
    };
    report.error(
        path,
        "format",
        Some("unknown format".to_owned()),
        match origin {
            Origin::Local(_) => format!("is not {wanted}"),
            // Often an HTML page: a login wall, an error page, a viewer around the file.
            Origin::Remote => format!("the URL does not serve {wanted}"),
        },
    );
}

/// Why a file of a known format was not measured, when the field's rules needed it.
fn report_unmeasured(
    report: &mut ValidationReport,
    path: &FieldPath,
    origin: Origin<'_>,
    spec: &MediaSpec,
    format: &Format,
    unmeasured: &Unmeasured,
) {
    // The file as the field takes it: `png image`, `mp4 video`; with its article.
    let what = format!("{} {}", format.name(), spec.kind);
    let a_what = format!("{} {what}", format.article());
    let value = || Some(format!("format {}", format.name()));
    match unmeasured {
        Unmeasured::Io(err) => report_unreadable(report, path, origin, err),
        // The start of a URL says nothing more; the server measures the whole file. Said, so a
        // pass is not assumed.
        Unmeasured::NotFetched if needs_dimensions(spec) => report.warning(
            path,
            "remote",
            value(),
            format!(
                "its dimensions lie past the bytes fetched: {} not checked",
                dimension_rules(spec)
            ),
        ),
        Unmeasured::NotFetched => {}
        Unmeasured::Corrupt => report.error(
            path,
            "format",
            value(),
            format!("is a corrupt or truncated {what}: its dimensions cannot be read"),
        ),
        Unmeasured::NoVideoTrack => report.error(
            path,
            "format",
            value(),
            format!(
                "is {} {} file with no video track: its dimensions cannot be read",
                format.article(),
                format.name()
            ),
        ),
        Unmeasured::HeaderTooLong => report.error(
            path,
            "format",
            value(),
            format!(
                "is {a_what} whose dimensions are not within its first {} KiB read",
                inspect::HEADER_LIMIT / 1024
            ),
        ),
        Unmeasured::NotMeasured if needs_dimensions(spec) => report.error(
            path,
            "format",
            value(),
            format!(
                "is {a_what}, whose dimensions cannot be checked: use {}",
                list(&measured_formats(spec.kind))
            ),
        ),
        Unmeasured::NotMeasured => {}
    }
}

/// Checks each of the field's rules on the measured size and dimensions.
fn apply_rules(
    report: &mut ValidationReport,
    path: &FieldPath,
    spec: &MediaSpec,
    size: Option<u64>,
    dimensions: Option<Dimensions>,
) {
    for rule in spec.rules {
        if rule.rule.measure().applies_to(spec.kind) {
            apply_rule(report, path, rule, size, dimensions);
        } else {
            // The generator refuses such a rule; a spec written by hand may still carry one.
            report.error(
                path,
                rule.rule.wire(),
                None,
                format!("cannot be measured on {}", spec.kind.a_file()),
            );
        }
    }
}

/// The field's rules on dimensions, for messages: `width_pixels>, height_pixels>`.
fn dimension_rules(spec: &MediaSpec) -> String {
    let names: Vec<&str> = spec
        .rules
        .iter()
        .filter(|rule| rule.rule.measure().needs_dimensions())
        .map(|rule| rule.rule.wire())
        .collect();
    names.join(", ")
}

/// The formats of a kind whose dimensions are read: every image format named, and the video
/// formats with a header parser.
fn measured_formats(kind: MediaKind) -> Vec<MediaFormat> {
    MediaFormat::ALL
        .iter()
        .copied()
        .filter(|f| f.kind() == kind && (kind == MediaKind::Image || inspect::measures_video(*f)))
        .collect()
}

fn report_unreadable(
    report: &mut ValidationReport,
    path: &FieldPath,
    origin: Origin<'_>,
    err: &std::io::Error,
) {
    let message = match origin {
        Origin::Local(Media::Path(file)) => format!("cannot read {}: {err}", shown_path(file)),
        _ => format!("cannot be read: {err}"),
    };
    report.error(path, "file", None, message);
}

/// Whether a rule of the spec needs dimensions, of a kind that has them.
fn needs_dimensions(spec: &MediaSpec) -> bool {
    spec.rules.iter().any(|rule| {
        let measure = rule.rule.measure();
        measure.needs_dimensions() && measure.applies_to(spec.kind)
    })
}

/// What the field takes, for messages: `a jpeg or png image`, `an image`, `a file`.
fn expected(spec: &MediaSpec) -> String {
    match (spec.formats.is_empty(), spec.kind) {
        (false, kind) => {
            let article = spec.formats.first().map_or("a", |f| f.article());
            let noun = if kind == MediaKind::Image {
                "image"
            } else {
                "file"
            };
            format!("{article} {} {noun}", list(spec.formats))
        }
        (true, MediaKind::Image) => "an image".to_owned(),
        (true, MediaKind::Video) => "a video".to_owned(),
        (true, MediaKind::Audio) => "an audio file".to_owned(),
    }
}

/// Applies one rule strictly as written (`width_pixels> 14` passes from 15 px). Dimension rules
/// need dimensions; without them (a file whose problem is already reported, or a remote one
/// measured only in part) they are skipped, as is the size rule without a size.
fn apply_rule(
    report: &mut ValidationReport,
    path: &FieldPath,
    rule: &MediaRule,
    size: Option<u64>,
    dimensions: Option<Dimensions>,
) {
    let measured = match (rule.rule.measure(), dimensions) {
        (Measure::FileSizeMb, _) => size.map(|size| {
            let mb = size as f64 / MB;
            let mb_shown = beside(mb, rule.limit);
            (mb, format!("size {mb_shown} MB ({size} bytes)"))
        }),
        (Measure::Width, Some(d)) => Some((d.width as f64, format!("width {} px", d.width))),
        (Measure::Height, Some(d)) => Some((d.height as f64, format!("height {} px", d.height))),
        (Measure::AspectRatio, Some(d)) => Some(match d.height {
            // A zero height has no ratio: no bound can hold, and `inf` or `NaN` would confuse.
            0 => (
                f64::NAN,
                format!("aspect ratio undefined ({}x{})", d.width, d.height),
            ),
            h => {
                let ratio = d.width as f64 / h as f64;
                let ratio_shown = beside(ratio, rule.limit);
                (
                    ratio,
                    format!("aspect ratio {ratio_shown} ({}x{})", d.width, d.height),
                )
            }
        }),
        (_, None) => None,
    };
    if let Some((value, shown)) = measured
        && !rule.rule.holds(value, rule.limit)
    {
        report.error(path, rule.rule.wire(), Some(shown), rule.message);
    }
}

/// `value` to two decimals, or to as many more (up to six) as it takes not to read as `limit`
/// when it is not: 300x751 is "0.399" beside a limit of 0.4, not "0.40".
fn beside(value: f64, limit: f64) -> String {
    for decimals in 2..=6 {
        let shown = format!("{value:.decimals$}");
        if value == limit || shown != format!("{limit:.decimals$}") {
            return shown;
        }
    }
    value.to_string()
}

/// A local media path as an error shows it: a relative one with the absolute path it was read
/// at (relative paths are read from the working folder, which the reader may not have in mind).
pub(crate) fn shown_path(file: &Path) -> String {
    let given = file.display().to_string();
    match std::path::absolute(file) {
        Ok(absolute) if file.is_relative() => format!(
            "{} ({})",
            printable(&given, SHOWN_CHARS),
            printable(&absolute.display().to_string(), SHOWN_CHARS)
        ),
        _ => printable(&given, SHOWN_CHARS).into_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly.
mod tests {
    use super::*;

    #[test]
    fn a_measure_is_shown_apart_from_the_limit_it_misses() {
        assert_eq!(beside(300.0 / 751.0, 0.4), "0.399");
        assert_eq!(beside(751.0 / 300.0, 2.5), "2.503");
        assert_eq!(beside(16.0 / 9.0, 1.0), "1.78");
        assert_eq!(beside(0.4, 0.4), "0.40");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_url_of_this_machine_is_its_path() {
        let path = |text| match Media::parse(text) {
            Media::Path(path) => Some(path),
            _ => None,
        };
        assert_eq!(
            path("file:///tmp/a%20b.png"),
            Some(PathBuf::from("/tmp/a b.png"))
        );
        assert_eq!(
            path("FILE://localhost/x.png"),
            Some(PathBuf::from("/x.png"))
        );
        // Another machine's is a URL, refused as one.
        assert!(matches!(Media::parse("file://host/x.png"), Media::Url(_)));
    }

    #[test]
    fn parse_recognises_data_uris_in_any_case() {
        assert!(matches!(
            Media::parse("DATA:image/png;base64,"),
            Media::DataUri(_)
        ));
        assert!(matches!(Media::parse("https://x/y.png"), Media::Url(_)));
        assert!(matches!(Media::parse("dat"), Media::Path(_)));
        assert!(matches!(Media::parse("HTTPS:/x/y.png"), Media::Url(_)));
        assert!(matches!(Media::parse("./https.png"), Media::Path(_)));
        for bad in [
            " https://x/y.png",
            "https://x/y.png\n",
            "https://x/a b.png",
            "https:/x/y.png",
            "https://x/a|b.png",
            "https://x/a%zz.png",
        ] {
            let mut report = ValidationReport::new();
            check_url(&mut report, &FieldPath::root().key("image"), bad);
            assert!(!report.is_valid(), "{bad:?}");
        }
        let mut report = ValidationReport::new();
        check_url(
            &mut report,
            &FieldPath::root().key("image"),
            "https://x/a%20b.png",
        );
        assert!(report.is_valid(), "{report}");
    }

    static WIDE_VIDEO: MediaSpec = MediaSpec {
        kind: MediaKind::Video,
        formats: &[],
        rules: &[MediaRule {
            rule: crate::schema::Rule::AspectRatioAbove,
            limit: 1.0,
            message: "The video must be landscape.",
        }],
    };

    fn check_remote(prefix: &[u8], size: u64) -> ValidationReport {
        let mut report = ValidationReport::new();
        let path = FieldPath::root().key("clips").index(0);
        check_prefix(&mut report, &path, prefix, Some(size), &WIDE_VIDEO);
        report
    }

    #[test]
    fn a_remote_video_is_judged_when_its_header_is_fetched_and_said_unchecked_when_not() {
        let faststart = include_bytes!("../tests/fixtures/media/sound-first-48x64.mp4");
        let report = check_remote(faststart, faststart.len() as u64);
        let found: Vec<_> = report.errors().map(|p| p.value.clone()).collect();
        assert_eq!(
            found,
            [Some("aspect ratio 0.75 (48x64)".to_owned())],
            "{report}"
        );
        // The movie header follows 100 KB of media: the first 64 KiB do not hold it.
        let late = include_bytes!("../tests/fixtures/media/moov-at-end-64x48.mp4");
        let mdat = late.windows(4).position(|w| w == b"mdat").unwrap() - 4;
        let mut bytes = late[..mdat].to_vec();
        bytes.extend_from_slice(&100_008u32.to_be_bytes());
        bytes.extend_from_slice(b"mdat");
        bytes.resize(bytes.len() + 100_000, 0);
        let moov = late.windows(4).position(|w| w == b"moov").unwrap() - 4;
        bytes.extend_from_slice(&late[moov..]);
        let report = check_remote(&bytes[..64 * 1024], bytes.len() as u64);
        assert!(report.is_valid(), "{report}");
        let warnings: Vec<_> = report.warnings().map(|p| p.to_string()).collect();
        assert_eq!(
            warnings,
            [
                "clips[0]: its dimensions lie past the bytes fetched: width/height> not checked \
              (remote; format mp4)"
            ],
        );
        // Fetched whole, it is measured.
        assert!(check_remote(&bytes, bytes.len() as u64).is_valid());
    }

    #[test]
    fn debug_of_a_data_uri_without_comma_is_short() {
        let media = Media::DataUri(format!("data:{}", "x".repeat(100_000)));
        assert!(format!("{media:?}").len() < 200);
    }
}

/// Files for unit tests.
#[cfg(test)]
pub(crate) mod tests_support {
    /// A 16x16 RGB PNG, large enough for the seed models' 14 px minimum.
    pub(crate) const PIXEL_PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00\x90\x91\x68\x36\x00\x00\x00\x16\x49\x44\x41\x54\x78\xda\x63\x68\x70\x50\x20\x09\x31\x8c\x6a\x18\xd5\x30\x7c\x35\x00\x00\x77\x29\xe0\x01\x80\x21\x3f\x04\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";
}
