//! `data:` URIs read in place: the header is parsed, the payload checked, and only the bytes a
//! header parser asks for are decoded.

use std::io::{self, Read, Seek, SeekFrom};

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};

/// How much of a bad MIME type an error message repeats.
const MAX_QUOTED: usize = 40;

/// A parsed `data:[<mime>][;param]*[;base64],<data>` URI.
#[derive(Debug)]
pub(crate) struct DataUri<'a> {
    /// The MIME type as written, possibly empty.
    pub(crate) mime: &'a str,
    /// The data, still encoded when it is base64.
    pub(crate) payload: Payload<'a>,
}

/// The data of a `data:` URI.
#[derive(Debug)]
pub(crate) enum Payload<'a> {
    /// Checked base64 text (standard alphabet, padded) and the length it decodes to.
    Base64 { text: &'a [u8], len: u64 },
    /// Percent-encoded data, decoded: rare for media, so simply decoded whole.
    Plain(Vec<u8>),
}

/// Why a `data:` URI is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DataUriError {
    #[error("it does not start with `data:`")]
    NotData,
    #[error("it has no `,` between its header and its data")]
    NoComma,
    #[error("its MIME type `{0}` is not of the form type/subtype")]
    BadMime(String),
    #[error("its base64 data has a character that is not base64 ({found:?}) at offset {offset}")]
    BadChar { offset: usize, found: char },
    #[error(
        "its base64 data has {0} characters, not a multiple of 4 (is the `=` padding missing?)"
    )]
    BadLength(usize),
    #[error("its base64 data has `=` padding before its end")]
    BadPadding,
    #[error("it has an invalid percent escape at offset {0}")]
    BadEscape(usize),
}

/// What follows `prefix` at the start of `text`, in any ASCII case: schemes are (`DATA:`,
/// `HTTPS://`).
pub(crate) fn after_prefix<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.get(..prefix.len())
        .filter(|start| start.eq_ignore_ascii_case(prefix))
        .map(|_| &text[prefix.len()..])
}

impl<'a> DataUri<'a> {
    /// Parses the URI and checks its payload without decoding base64.
    pub(crate) fn parse(uri: &'a str) -> Result<Self, DataUriError> {
        let rest = after_prefix(uri, "data:").ok_or(DataUriError::NotData)?;
        let comma = rest.find(',').ok_or(DataUriError::NoComma)?;
        let (header, data) = (&rest[..comma], &rest[comma + 1..]);
        let mut params = header.split(';');
        let mime = params.next().unwrap_or_default().trim();
        if !mime.is_empty() && !is_mime(mime) {
            return Err(DataUriError::BadMime(quote(mime)));
        }
        let base64 = header
            .rsplit(';')
            .next()
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("base64"))
            && header.contains(';');
        let payload = if base64 {
            let text = data.as_bytes();
            Payload::Base64 {
                text,
                len: base64_len(text)?,
            }
        } else {
            Payload::Plain(percent_decode(data.as_bytes())?)
        };
        Ok(DataUri { mime, payload })
    }
}

fn is_mime(mime: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    mime.split_once('/')
        .is_some_and(|(kind, sub)| token(kind) && token(sub))
}

fn quote(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Checks standard, padded base64 and returns the decoded length, without decoding.
///
/// Padding is required because strict decoders (Python's, Go's) refuse unpadded data.
fn base64_len(text: &[u8]) -> Result<u64, DataUriError> {
    let pad = text.iter().rev().take_while(|&&b| b == b'=').count();
    let body = &text[..text.len() - pad];
    // The fast pass only says whether all is well; the slow one finds what is not.
    let bad = (!all_base64(body))
        .then(|| body.iter().position(|&b| !is_base64(b)))
        .flatten();
    if let Some(offset) = bad {
        let found = if body[offset] == b'=' {
            return Err(DataUriError::BadPadding);
        } else {
            // Report the character, not a byte of it, when it is not ASCII.
            let start = &text[offset..];
            std::str::from_utf8(&start[..start.len().min(4)])
                .or_else(|err| std::str::from_utf8(&start[..err.valid_up_to()]))
                .ok()
                .and_then(|s| s.chars().next())
                .unwrap_or(char::REPLACEMENT_CHARACTER)
        };
        return Err(DataUriError::BadChar { offset, found });
    }
    if !text.len().is_multiple_of(4) {
        return Err(DataUriError::BadLength(text.len()));
    }
    // `x===` and `====` are not base64: one or two `=` only, completing the last group.
    if pad > 2 {
        return Err(DataUriError::BadPadding);
    }
    Ok((text.len() / 4 * 3 - pad) as u64)
}

/// Branch-free per byte so the compiler can check 64 bytes at a time: a 10 MB image's base64
/// is scanned in about a millisecond.
fn all_base64(text: &[u8]) -> bool {
    text.chunks(64)
        .all(|chunk| chunk.iter().fold(true, |ok, &b| ok & is_base64(b)))
}

fn is_base64(b: u8) -> bool {
    (b.wrapping_sub(b'A') < 26)
        | (b.wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'0') < 10)
        | (b == b'+')
        | (b == b'/')
}

fn percent_decode(data: &[u8]) -> Result<Vec<u8>, DataUriError> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'%' {
            let hex = data
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .filter(|_| data[i + 1].is_ascii_hexdigit() && data[i + 2].is_ascii_hexdigit())
                .ok_or(DataUriError::BadEscape(i))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Decodes checked base64 text on demand: any byte range costs only the groups covering it.
#[derive(Debug)]
pub(crate) struct Base64Source<'a> {
    text: &'a [u8],
    len: u64,
    pos: u64,
}

/// The text was checked already; the last group's unused bits need not be zero, as most
/// decoders accept that too.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

impl<'a> Base64Source<'a> {
    pub(crate) fn new(text: &'a [u8], len: u64) -> Self {
        Base64Source { text, len, pos: 0 }
    }
}

impl Read for Base64Source<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len || out.is_empty() {
            return Ok(0);
        }
        let n = (out.len() as u64).min(self.len - self.pos) as usize;
        let first_group = (self.pos / 3) as usize;
        let end_group = (self.pos as usize + n).div_ceil(3);
        let chars = &self.text[first_group * 4..(end_group * 4).min(self.text.len())];
        let decoded = LENIENT.decode(chars).map_err(io::Error::other)?;
        let skip = (self.pos % 3) as usize;
        let got = decoded.get(skip..skip + n).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "base64 shorter than expected")
        })?;
        out[..n].copy_from_slice(got);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Base64Source<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = super::inspect::resolve_seek(self.pos, self.len, to)?;
        Ok(self.pos)
    }
}

/// The size and SHA-256 (lower-case hex) of the bytes a `data:` URI holds, decoded a piece at
/// a time; `None` when it is not a well-formed one.
pub(crate) fn digest(uri: &str) -> Option<(u64, String)> {
    let parsed = DataUri::parse(uri).ok()?;
    let digest = match parsed.payload {
        Payload::Base64 { text, len } => crate::digest::sha256_of(Base64Source::new(text, len)),
        Payload::Plain(bytes) => crate::digest::sha256_of(&bytes[..]),
    };
    digest.ok()
}

/// A local file written as its base64 `data:` URI a piece at a time ([`Media`]'s `Serialize`):
/// the body never holds the file twice, and a body limit stops the reading where it passes.
///
/// A read that fails ends the text early and is kept in `error`, for the caller to report: a
/// `Display` that fails without its writer failing is a panic in `serde_json` and `to_string`.
///
/// [`Media`]: super::Media
pub(crate) struct FileDataUri {
    file: std::fs::File,
    error: std::cell::RefCell<Option<io::Error>>,
}

/// Bytes of the file encoded at a time: a multiple of 3, so only the last piece is padded.
const PIECE: usize = 3 * 16 * 1024;

impl FileDataUri {
    pub(crate) fn new(file: std::fs::File) -> Self {
        FileDataUri {
            file,
            error: std::cell::RefCell::new(None),
        }
    }

    /// Why reading the file failed, if it did.
    pub(crate) fn take_error(&self) -> Option<io::Error> {
        self.error.borrow_mut().take()
    }

    /// Writes the URI; a read error is kept, not returned (see the type's doc).
    fn write(&self, out: &mut std::fmt::Formatter<'_>) -> Result<(), Failed> {
        let mut file = &self.file;
        let size = file.metadata()?.len();
        file.seek(SeekFrom::Start(0))?;
        write!(out, "data:{};base64,", super::inspect::mime_of(file, size))?;
        file.seek(SeekFrom::Start(0))?;
        let mut piece = vec![0u8; PIECE];
        let mut text = String::with_capacity(PIECE / 3 * 4);
        loop {
            let n = fill(&mut file, &mut piece)?;
            text.clear();
            general_purpose::STANDARD.encode_string(&piece[..n], &mut text);
            out.write_str(&text)?;
            if n < PIECE {
                return Ok(());
            }
        }
    }
}

enum Failed {
    Read(io::Error),
    Write,
}

impl From<io::Error> for Failed {
    fn from(err: io::Error) -> Self {
        Failed::Read(err)
    }
}

impl From<std::fmt::Error> for Failed {
    fn from(_: std::fmt::Error) -> Self {
        Failed::Write
    }
}

impl std::fmt::Display for FileDataUri {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.write(out) {
            Ok(()) => Ok(()),
            Err(Failed::Write) => Err(std::fmt::Error),
            Err(Failed::Read(err)) => {
                *self.error.borrow_mut() = Some(err);
                Ok(())
            }
        }
    }
}

/// Reads until `buf` is full or the file ends; the bytes read.
fn fill(file: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

/// Encodes bytes as a base64 `data:` URI, with the MIME type told from the bytes: by their
/// magic numbers, and for a video container by whether it holds a video track (`audio/mp4` for
/// an MP4 of sound alone); else `application/octet-stream`.
pub fn data_uri(bytes: &[u8]) -> String {
    encode_with_prefix(&format!("data:{};base64,", sniff_mime(bytes)), bytes)
}

/// The MIME type [`data_uri`] gives the bytes.
fn sniff_mime(bytes: &[u8]) -> &'static str {
    super::inspect::mime_of(io::Cursor::new(bytes), bytes.len() as u64)
}

/// Encodes bytes as padded standard base64 after `prefix`, in one allocation.
fn encode_with_prefix(prefix: &str, bytes: &[u8]) -> String {
    let encoded = base64::encoded_len(bytes.len(), true).unwrap_or(0);
    let mut out = String::with_capacity(prefix.len() + encoded);
    out.push_str(prefix);
    general_purpose::STANDARD.encode_string(bytes, &mut out);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly.
mod tests {
    use super::*;

    fn encode(bytes: &[u8]) -> String {
        general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn sniffs_mime_types() {
        assert_eq!(sniff_mime(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"), "image/png");
        assert_eq!(
            sniff_mime(b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01"),
            "image/jpeg"
        );
        assert_eq!(sniff_mime(b"\0\0\0\x20ftypisom\0\0\x02\0"), "video/mp4");
        assert_eq!(sniff_mime(b"RIFF\0\0\0\0WAVEfmt "), "audio/wav");
        assert_eq!(sniff_mime(b"hello, world"), "application/octet-stream");
        assert_eq!(sniff_mime(b""), "application/octet-stream");
    }

    /// An MP4 of sound alone is audio (RFC 4337), whatever its brand; one with a video track,
    /// its movie header before or after the media, is video.
    #[test]
    fn a_container_of_sound_alone_is_audio() {
        let media = |name: &str| {
            std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/media")
                    .join(name),
            )
            .unwrap_or_default()
        };
        assert_eq!(sniff_mime(&media("sound-only.mp4")), "audio/mp4");
        assert_eq!(sniff_mime(&media("tone.m4a")), "audio/mp4");
        assert_eq!(sniff_mime(&media("moov-at-end-64x48.mp4")), "video/mp4");
        assert_eq!(sniff_mime(&media("sound-first-48x64.mp4")), "video/mp4");
        assert_eq!(sniff_mime(&media("live-160x120.webm")), "video/webm");
    }

    #[test]
    fn decoded_length_matches_a_full_decode_for_every_padding() {
        for n in 0..40usize {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 % 256) as u8).collect();
            let text = encode(&bytes);
            assert_eq!(base64_len(text.as_bytes()), Ok(n as u64), "n = {n}");
        }
    }

    #[test]
    fn base64_source_reads_any_range_like_a_full_decode() {
        let bytes: Vec<u8> = (0..100u32).map(|i| (i * 91 % 251) as u8).collect();
        let text = encode(&bytes);
        for start in 0..bytes.len() {
            for len in [1, 2, 3, 4, 7, 200] {
                let mut source = Base64Source::new(text.as_bytes(), bytes.len() as u64);
                source.seek(SeekFrom::Start(start as u64)).unwrap();
                let mut out = vec![0; len];
                let n = source.read(&mut out).unwrap();
                let end = (start + len).min(bytes.len());
                assert_eq!(&out[..n], &bytes[start..end], "start {start} len {len}");
            }
        }
    }

    #[test]
    fn the_base64_alphabet_is_exactly_the_standard_one() {
        for b in 0..=255u8 {
            let want = b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
            assert_eq!(is_base64(b), want, "byte {b}");
            assert_eq!(all_base64(&[b'A', b, b'z']), want, "byte {b}");
        }
    }

    #[test]
    fn parses_header_and_payload() {
        let uri = DataUri::parse("data:image/png;base64,AAEC").unwrap();
        assert_eq!(uri.mime, "image/png");
        assert!(matches!(uri.payload, Payload::Base64 { len: 3, .. }));
        let uri = DataUri::parse("DATA:;charset=utf-8,a%20b").unwrap();
        assert_eq!(uri.mime, "");
        assert!(matches!(uri.payload, Payload::Plain(ref b) if b == b"a b"));
        let uri = DataUri::parse("data:image/png;name=x;base64,AA==").unwrap();
        assert!(matches!(uri.payload, Payload::Base64 { len: 1, .. }));
    }

    #[test]
    fn rejects_malformed_uris() {
        use DataUriError::*;
        let cases: &[(&str, DataUriError)] = &[
            ("https://x/y.png", NotData),
            ("data:image/png;base64", NoComma),
            ("data:image png;base64,AAAA", BadMime("image png".into())),
            ("data:png;base64,AAAA", BadMime("png".into())),
            (
                "data:image/png;base64,AA A",
                BadChar {
                    offset: 2,
                    found: ' ',
                },
            ),
            (
                "data:;base64,AAé=",
                BadChar {
                    offset: 2,
                    found: 'é',
                },
            ),
            ("data:;base64,AAA", BadLength(3)),
            ("data:;base64,AAAAA", BadLength(5)),
            ("data:;base64,A===", BadPadding),
            ("data:;base64,AA=A", BadPadding),
            ("data:;base64,====", BadPadding),
            ("data:,50%", BadEscape(2)),
            ("data:,%zz", BadEscape(0)),
            ("data:,%+1", BadEscape(0)),
        ];
        for (uri, want) in cases {
            assert_eq!(DataUri::parse(uri).unwrap_err(), *want, "{uri}");
        }
    }

    #[test]
    fn long_bad_mime_is_quoted_short() {
        let uri = format!("data:{};base64,", "x".repeat(10_000));
        let err = DataUri::parse(&uri).unwrap_err().to_string();
        assert!(err.len() < 200, "{err}");
    }
}
