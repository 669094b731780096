//! Measuring a media item from its header: format from the magic bytes, dimensions from the
//! few header bytes a parser asks for (`imagesize` for images, `video` for videos), size from
//! metadata or length. Nothing is decoded.

use std::io::{self, BufRead, Cursor, Read, Seek, SeekFrom};

use imagesize::ImageType;

use crate::schema::{MediaFormat, MediaKind};

use super::video::{self, NoSize};

/// The most bytes a header parse may pull from its source; real headers take a few KB, this
/// bounds hostile ones (a JPEG made of endless tiny segments).
pub(crate) const HEADER_LIMIT: u64 = 1 << 20;

/// How much is read at a time. Small, since parsers seek past most of a file.
const BLOCK: usize = 4096;

/// What to learn of an item: what kind of file its field takes, and whether to read the
/// dimensions (of an image or a video; audio has none).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Want {
    pub(crate) kind: MediaKind,
    pub(crate) measure: bool,
}

/// What was measured of one item.
#[derive(Debug)]
pub(crate) struct Inspection {
    /// The size in bytes (decoded, for a `data:` URI); `None` when a remote host did not say.
    pub(crate) size: Option<u64>,
    /// What the bytes are.
    pub(crate) content: Content,
}

/// What the bytes of an item are.
#[derive(Debug)]
pub(crate) enum Content {
    /// Zero bytes.
    Empty,
    /// No format recognised (random bytes, fewer than 12 bytes, text where an image belongs;
    /// for a video or audio field, binary the vocabulary's magic bytes do not name).
    Unrecognised,
    /// Text (a note, a configuration file, an HTML page) where a video or audio file belongs:
    /// no format of either is text, whatever formats the vocabulary names.
    Text,
    /// The source failed while being read.
    Unreadable(io::Error),
    /// A file of a known format, of whatever kind.
    Media {
        /// Its format.
        format: Format,
        /// Its dimensions, when they could be read.
        dimensions: Result<Dimensions, Unmeasured>,
    },
}

/// A format recognised from its magic bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Format {
    /// One this crate knows by name.
    Known(MediaFormat),
    /// Another image format `imagesize` recognises (`psd`, `qoi`); not measured.
    Other(String),
}

impl Format {
    pub(crate) fn name(&self) -> &str {
        match self {
            Format::Known(format) => format.name(),
            Format::Other(name) => name,
        }
    }

    /// The article its name takes (`an mp4`, `a psd`).
    pub(crate) fn article(&self) -> &'static str {
        match self {
            Format::Known(format) => format.article(),
            Format::Other(_) => "a",
        }
    }

    /// Whether a file of this format can be what a field of `kind` takes.
    pub(crate) fn may_hold(&self, kind: MediaKind) -> bool {
        match self {
            Format::Known(format) => format.may_hold(kind),
            Format::Other(_) => kind == MediaKind::Image,
        }
    }

    /// The file with its kind, for messages: `a png image`, `a wav audio file`.
    pub(crate) fn described(&self) -> String {
        let kind = match self {
            Format::Known(format) => format.kind(),
            Format::Other(_) => MediaKind::Image,
        };
        let article = self.article();
        match kind {
            MediaKind::Audio => format!("{article} {} audio file", self.name()),
            kind => format!("{article} {} {kind}", self.name()),
        }
    }
}

/// Width and height in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dimensions {
    pub(crate) width: u64,
    pub(crate) height: u64,
}

/// Why an image's or a video's dimensions are unknown.
#[derive(Debug)]
pub(crate) enum Unmeasured {
    /// The header is cut short or inconsistent.
    Corrupt,
    /// A video container whose header lists no video track (sound alone).
    NoVideoTrack,
    /// No dimensions within [`HEADER_LIMIT`] bytes of reading.
    HeaderTooLong,
    /// The dimensions lie past the first bytes of a remote file, the only ones fetched.
    NotFetched,
    /// A format whose parser is not used here.
    NotMeasured,
    /// The source failed while being read.
    Io(io::Error),
}

/// Sniffs and, as `want` says, reads the dimensions of an item from `source`, which holds
/// `size` bytes.
pub(crate) fn inspect<R: Read + Seek>(source: R, size: u64, want: Want) -> Inspection {
    inspect_with(HeaderReader::new(source, size), Some(size), want)
}

/// [`inspect`] for the first bytes of a remote file of `size` bytes (`None`: unknown). Reading
/// past `prefix` is not corruption but the end of what was fetched: an image whose dimensions
/// lie beyond it (a movie header at the end of its file) is [`Unmeasured::NotFetched`], a format
/// not told by it [`Content::Unrecognised`].
pub(crate) fn inspect_prefix(prefix: &[u8], size: Option<u64>, want: Want) -> Inspection {
    let fetched = prefix.len() as u64;
    // Parsers may seek anywhere within the file; only `prefix` of it can be read.
    let len = size.map_or(u64::MAX, |size| size.max(fetched));
    let reader = HeaderReader::new(Cursor::new(prefix), len).with_available(fetched);
    inspect_with(reader, size, want)
}

fn inspect_with<R: Read + Seek>(
    mut reader: HeaderReader<R>,
    size: Option<u64>,
    want: Want,
) -> Inspection {
    let content = if size == Some(0) {
        Content::Empty
    } else {
        sniff_and_measure(&mut reader, want)
    };
    Inspection { size, content }
}

/// Tells the format by the vocabulary's magic bytes; images are then told and measured by
/// `imagesize`, which knows more image formats, and videos by `video`.
fn sniff_and_measure<R: Read + Seek>(reader: &mut HeaderReader<R>, want: Want) -> Content {
    let (sniffed, text) = match reader.fill_buf() {
        Ok(head) => (MediaFormat::sniff(head), is_text(head)),
        Err(_) => return unreadable_or_unrecognised(reader),
    };
    match sniffed {
        Some(format) if format.kind() != MediaKind::Image => {
            let dimensions = if want.measure && want.kind == MediaKind::Video {
                measure_video(reader, format)
            } else {
                Err(Unmeasured::NotMeasured)
            };
            Content::Media {
                format: Format::Known(format),
                dimensions,
            }
        }
        _ if want.kind == MediaKind::Image => sniff_and_measure_image(reader, want.measure),
        // An image where a video or audio file belongs: named, not measured. `imagesize` is
        // not asked about the rest, its weaker guesses (TGA) would misname unknown videos.
        Some(format) => Content::Media {
            format: Format::Known(format),
            dimensions: Err(Unmeasured::NotMeasured),
        },
        None if text => Content::Text,
        None => Content::Unrecognised,
    }
}

/// Whether the first bytes of a file are text: UTF-8 (the last character may be cut off)
/// holding no control characters but whitespace. Audio and video are binary from their first
/// bytes (sizes, sync words, compressed data), and a kilobyte of compressed data is not valid
/// UTF-8.
fn is_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(text) => text,
        // Cut off inside a character at the end of what was read.
        Err(err) if err.error_len().is_none() => {
            std::str::from_utf8(&head[..err.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !valid.is_empty()
        && valid
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
}

fn unreadable_or_unrecognised<R>(reader: &mut HeaderReader<R>) -> Content {
    match reader.failure.take() {
        Some(err) => Content::Unreadable(err),
        None => Content::Unrecognised,
    }
}

/// The MIME type of the `size` bytes of `source`, from their magic bytes and, for a video
/// container, whether it holds a video track (`audio/mp4` for an MP4 of sound alone), else
/// `application/octet-stream`; for a `data:` URI of them.
pub(crate) fn mime_of<R: Read + Seek>(source: R, size: u64) -> &'static str {
    let want = Want {
        kind: MediaKind::Video,
        measure: true,
    };
    match inspect(source, size, want).content {
        Content::Media {
            format: Format::Known(format),
            dimensions: Err(Unmeasured::NoVideoTrack),
        } => format.sound_only_mime().unwrap_or(format.mime()),
        Content::Media {
            format: Format::Known(format),
            ..
        } => format.mime(),
        _ => "application/octet-stream",
    }
}

/// Whether a video format's dimensions are read.
pub(crate) fn measures_video(format: MediaFormat) -> bool {
    matches!(
        format,
        MediaFormat::Mp4 | MediaFormat::Mov | MediaFormat::Webm | MediaFormat::Avi
    )
}

/// The frame size of a video's first video track, from its container's header.
fn measure_video<R: Read + Seek>(
    reader: &mut HeaderReader<R>,
    format: MediaFormat,
) -> Result<Dimensions, Unmeasured> {
    let len = reader.len;
    let parsed = match format {
        MediaFormat::Mp4 | MediaFormat::Mov => video::movie_frame_size(reader, len),
        MediaFormat::Webm => video::matroska_frame_size(reader, len),
        MediaFormat::Avi => video::avi_frame_size(reader, len),
        _ => return Err(Unmeasured::NotMeasured),
    };
    match (parsed, reader.failure.take()) {
        (_, Some(err)) => Err(Unmeasured::Io(err)),
        // A frame of no pixels is a damaged header, not a size the rules can judge.
        (Ok(size), None) if size.width > 0 && size.height > 0 => Ok(Dimensions {
            width: size.width,
            height: size.height,
        }),
        (Ok(_), None) => Err(Unmeasured::Corrupt),
        (Err(_), None) if reader.limit_hit => Err(Unmeasured::HeaderTooLong),
        (Err(_), None) if reader.past_available => Err(Unmeasured::NotFetched),
        (Err(NoSize::Corrupt), None) => Err(Unmeasured::Corrupt),
        (Err(NoSize::NoVideoTrack), None) => Err(Unmeasured::NoVideoTrack),
    }
}

fn sniff_and_measure_image<R: Read + Seek>(reader: &mut HeaderReader<R>, measure: bool) -> Content {
    let image_type = match imagesize::reader_type(&mut *reader) {
        Ok(image_type) => image_type,
        Err(_) => return unreadable_or_unrecognised(reader),
    };
    let Some(format) = format_of(image_type) else {
        return Content::Unrecognised;
    };
    let dimensions = if !measure || !measurable(&format) {
        Err(Unmeasured::NotMeasured)
    } else {
        let parsed = image_type.reader_size(reader);
        match (parsed, reader.failure.take()) {
            (_, Some(err)) => Err(Unmeasured::Io(err)),
            (_, None) if reader.limit_hit => Err(Unmeasured::HeaderTooLong),
            (_, None) if reader.past_available => Err(Unmeasured::NotFetched),
            // An image of no pixels is a damaged header (a BMP of zeros), not a size for the
            // rules to judge: each would fail on it.
            (Ok(size), None) if valid_header(&format, reader) => {
                match signed_if_bmp(&format, size.width as u64, size.height as u64) {
                    Some((width, height)) if width > 0 && height > 0 => {
                        Ok(Dimensions { width, height })
                    }
                    _ => Err(Unmeasured::Corrupt),
                }
            }
            _ => Err(Unmeasured::Corrupt),
        }
    };
    Content::Media { format, dimensions }
}

/// The format of an `imagesize` type; `None` for an ISO-BMFF file (`ftyp`) whose brand is not
/// an image one, such as an MP4 video, which `imagesize` calls HEIF of unknown compression.
fn format_of(image_type: ImageType) -> Option<Format> {
    use imagesize::Compression;
    let known = match image_type {
        ImageType::Jpeg => MediaFormat::Jpeg,
        ImageType::Png => MediaFormat::Png,
        ImageType::Webp => MediaFormat::Webp,
        ImageType::Gif => MediaFormat::Gif,
        ImageType::Bmp => MediaFormat::Bmp,
        ImageType::Tiff => MediaFormat::Tiff,
        ImageType::Heif(Compression::Unknown) => return None,
        ImageType::Heif(Compression::Av1) => MediaFormat::Avif,
        ImageType::Heif(_) => MediaFormat::Heif,
        other => {
            // `Dds(Bc1)` → `dds`: the container is the name users know.
            let debug = format!("{other:?}");
            let name = debug.split('(').next().unwrap_or_default();
            return Some(Format::Other(name.to_ascii_lowercase()));
        }
    };
    Some(Format::Known(known))
}

/// Whether `imagesize`'s parser for the format is used. Only the formats this crate names are
/// measured, keeping the parsers run on untrusted input few. HEIF's multiplies two `u32`
/// dimensions in a `usize`, which overflows (and panics in debug builds) below 64 bits.
fn measurable(format: &Format) -> bool {
    match format {
        Format::Known(MediaFormat::Heif | MediaFormat::Avif) => cfg!(target_pointer_width = "64"),
        Format::Known(_) => true,
        Format::Other(_) => false,
    }
}

/// A BMP's width and height as the format has them, signed 32-bit numbers, which `imagesize`
/// reads unsigned: a negative height (rows stored top-down, as is common) is its size, a
/// negative width is damage (`None`). Other formats' sizes are as read.
fn signed_if_bmp(format: &Format, width: u64, height: u64) -> Option<(u64, u64)> {
    if !matches!(format, Format::Known(MediaFormat::Bmp)) {
        return Some((width, height));
    }
    // The bits read as the format means them.
    let signed = |n: u64| u32::try_from(n).ok().map(|n| n as i32);
    let (width, height) = (signed(width)?, signed(height)?);
    (width >= 0).then(|| (width as u64, u64::from(height.unsigned_abs())))
}

/// Checks the parts of the header that `imagesize` takes on trust, so a damaged file is not
/// measured from garbage: a PNG must open with its full signature and an `IHDR` chunk of 13
/// bytes.
fn valid_header<R: Read + Seek>(format: &Format, reader: &mut HeaderReader<R>) -> bool {
    const PNG_START: &[u8; 16] = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR";
    match format {
        Format::Known(MediaFormat::Png) => {
            let mut start = [0u8; 16];
            reader.seek(SeekFrom::Start(0)).is_ok()
                && reader.read_exact(&mut start).is_ok()
                && &start == PNG_START
        }
        _ => true,
    }
}

/// The position a seek leads to, for sources of `len` bytes; positions past the end are
/// allowed, as with files.
pub(crate) fn resolve_seek(pos: u64, len: u64, to: SeekFrom) -> io::Result<u64> {
    let target = match to {
        SeekFrom::Start(n) => Some(n),
        SeekFrom::End(delta) => len.checked_add_signed(delta),
        SeekFrom::Current(delta) => pos.checked_add_signed(delta),
    };
    target.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "seek before the start or past u64",
        )
    })
}

/// A buffered, seekable view of a source that reads it in small blocks, keeps the block when a
/// seek lands inside it, stops after [`HEADER_LIMIT`] bytes, and remembers a failure of the
/// source apart from what the parser makes of it.
#[derive(Debug)]
pub(crate) struct HeaderReader<R> {
    inner: R,
    len: u64,
    /// How much of the `len` bytes can be read (less for the fetched start of a remote file).
    available: u64,
    pos: u64,
    buf: Box<[u8]>,
    buf_start: u64,
    buf_len: usize,
    /// Where the source is, when known, to skip needless seeks.
    inner_pos: Option<u64>,
    /// Bytes pulled from the source so far.
    pub(crate) bytes_read: u64,
    /// The source failed (not an end of data).
    pub(crate) failure: Option<io::Error>,
    /// Reading stopped at [`HEADER_LIMIT`].
    pub(crate) limit_hit: bool,
    /// A read went past the `available` bytes.
    pub(crate) past_available: bool,
}

impl<R: Read + Seek> HeaderReader<R> {
    pub(crate) fn new(inner: R, len: u64) -> Self {
        HeaderReader {
            inner,
            len,
            available: len,
            pos: 0,
            buf: vec![0; BLOCK].into_boxed_slice(),
            buf_start: 0,
            buf_len: 0,
            inner_pos: None,
            bytes_read: 0,
            failure: None,
            limit_hit: false,
            past_available: false,
        }
    }

    /// Only the first `available` bytes can be read; a read past them fails and is recorded.
    fn with_available(mut self, available: u64) -> Self {
        self.available = available.min(self.len);
        self
    }

    fn fill(&mut self) -> io::Result<&[u8]> {
        let in_buffer =
            self.pos >= self.buf_start && self.pos < self.buf_start + self.buf_len as u64;
        if !in_buffer {
            self.buf_start = self.pos;
            self.buf_len = 0;
            if self.pos >= self.len {
                return Ok(&[]);
            }
            if self.pos >= self.available {
                self.past_available = true;
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "past the bytes fetched",
                ));
            }
            if self.bytes_read >= HEADER_LIMIT {
                self.limit_hit = true;
                return Err(io::Error::other("header read limit reached"));
            }
            let want = (self.available - self.pos).min(BLOCK as u64) as usize;
            self.buf_len = self.refill(want).inspect_err(|err| {
                self.failure = Some(io::Error::new(err.kind(), err.to_string()));
            })?;
        }
        let offset = (self.pos - self.buf_start) as usize;
        Ok(&self.buf[offset..self.buf_len])
    }

    fn refill(&mut self, want: usize) -> io::Result<usize> {
        if self.inner_pos != Some(self.pos) {
            self.inner.seek(SeekFrom::Start(self.pos))?;
        }
        self.inner_pos = None;
        let mut got = 0;
        while got < want {
            match self.inner.read(&mut self.buf[got..want]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        self.bytes_read += got as u64;
        self.inner_pos = Some(self.pos + got as u64);
        Ok(got)
    }
}

impl<R: Read + Seek> Read for HeaderReader<R> {
    /// Fills `out` as far as the data goes, across blocks: some parsers take one short read
    /// for the end of the data.
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut done = 0;
        while done < out.len() {
            let available = self.fill()?;
            if available.is_empty() {
                break;
            }
            let n = available.len().min(out.len() - done);
            out[done..done + n].copy_from_slice(&available[..n]);
            self.pos += n as u64;
            done += n;
        }
        Ok(done)
    }
}

impl<R: Read + Seek> BufRead for HeaderReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.fill()
    }

    fn consume(&mut self, amount: usize) {
        self.pos += amount as u64;
    }
}

impl<R: Read + Seek> Seek for HeaderReader<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = resolve_seek(self.pos, self.len, to)?;
        Ok(self.pos)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly.
mod tests {
    use std::io::{Cursor, Write as _};

    use super::*;

    const IMAGE: Want = Want {
        kind: MediaKind::Image,
        measure: true,
    };

    #[test]
    fn a_top_down_bmp_is_as_tall_as_its_height_says_and_a_negative_width_is_damage() {
        let bmp = |width: i32, height: i32| {
            let mut bytes = b"BM".to_vec();
            bytes.resize(0x12, 0);
            bytes.extend_from_slice(&width.to_le_bytes());
            bytes.extend_from_slice(&height.to_le_bytes());
            bytes.resize(64, 0);
            bytes
        };
        let measured = |bytes: Vec<u8>| {
            let len = bytes.len() as u64;
            match inspect(Cursor::new(bytes), len, IMAGE).content {
                Content::Media { dimensions, .. } => dimensions,
                other => panic!("{other:?}"),
            }
        };
        let top_down = measured(bmp(100, -40)).unwrap();
        assert_eq!((top_down.width, top_down.height), (100, 40));
        let bottom_up = measured(bmp(100, 40)).unwrap();
        assert_eq!((bottom_up.width, bottom_up.height), (100, 40));
        assert!(matches!(measured(bmp(-100, 40)), Err(Unmeasured::Corrupt)));
    }

    #[test]
    fn text_is_utf8_without_control_characters_even_cut_inside_a_character() {
        assert!(is_text(b"a note\r\n\tindented\x0c"));
        assert!(is_text("une clé".as_bytes()));
        // Cut inside the last character ("é" is two bytes).
        assert!(is_text(&"une clé".as_bytes()[..8]));
        assert!(!is_text(b""));
        assert!(!is_text(b"ID3\x04\0\0\0\0"));
        assert!(!is_text(b"\xff\xfb\x90\x64"));
        assert!(!is_text(b"text with an escape \x1b[31m"));
        assert!(!is_text(&[0x47, 0x40, 0x00, 0x10]));
    }

    #[test]
    fn reads_and_seeks_like_the_source() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut reader = HeaderReader::new(Cursor::new(&data[..]), data.len() as u64);
        let mut out = [0u8; 5000];
        reader.seek(SeekFrom::Start(3000)).unwrap();
        assert_eq!(reader.read(&mut out).unwrap(), 5000);
        assert_eq!(&out[..], &data[3000..8000]);
        reader.seek(SeekFrom::End(-10)).unwrap();
        assert_eq!(reader.read(&mut out).unwrap(), 10);
        assert_eq!(&out[..10], &data[9990..]);
        reader.seek(SeekFrom::Current(5)).unwrap();
        assert_eq!(reader.read(&mut out).unwrap(), 0);
        assert!(reader.seek(SeekFrom::Current(-20_000)).is_err());
    }

    #[test]
    fn stops_at_the_limit() {
        let data = vec![7u8; (HEADER_LIMIT * 2) as usize];
        let mut reader = HeaderReader::new(Cursor::new(&data[..]), data.len() as u64);
        let err = io::copy(&mut reader, &mut io::sink()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Other);
        assert!(reader.limit_hit);
        assert_eq!(reader.bytes_read, HEADER_LIMIT);
    }

    #[test]
    fn a_seek_inside_the_block_reads_nothing_more() {
        let data = vec![1u8; 100_000];
        let mut reader = HeaderReader::new(Cursor::new(&data[..]), data.len() as u64);
        let mut out = [0u8; 4];
        for offset in [0, 100, 8, 2000, 40] {
            reader.seek(SeekFrom::Start(offset)).unwrap();
            reader.read_exact(&mut out).unwrap();
        }
        assert_eq!(reader.bytes_read, BLOCK as u64);
    }

    fn inspect_bytes(bytes: &[u8]) -> (Content, u64) {
        let mut reader = HeaderReader::new(Cursor::new(bytes), bytes.len() as u64);
        let content = sniff_and_measure(&mut reader, IMAGE);
        (content, reader.bytes_read)
    }

    #[test]
    fn a_padded_png_costs_one_block() {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, 300, 200);
        encoder.set_color(png::ColorType::Grayscale);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[9; 300 * 200]).unwrap();
        writer.finish().unwrap();
        bytes.resize(9 << 20, 0);
        let (content, read) = inspect_bytes(&bytes);
        let Content::Media { dimensions, .. } = content else {
            panic!("not an image: {content:?}");
        };
        let dimensions = dimensions.unwrap();
        assert_eq!((dimensions.width, dimensions.height), (300, 200));
        assert_eq!(read, BLOCK as u64);
    }

    #[test]
    fn a_jpeg_frame_after_large_metadata_costs_a_few_blocks() {
        let mut bytes = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 50);
        let icc: Vec<u8> = (0..500_000u32).map(|i| i as u8).collect();
        encoder.add_icc_profile(&icc).unwrap();
        encoder
            .encode(&[0; 64 * 48], 64, 48, jpeg_encoder::ColorType::Luma)
            .unwrap();
        let (content, read) = inspect_bytes(&bytes);
        let Content::Media { dimensions, .. } = content else {
            panic!("not an image: {content:?}");
        };
        let dimensions = dimensions.unwrap();
        assert_eq!((dimensions.width, dimensions.height), (64, 48));
        // One block per segment skipped (eight ICC chunks), not the 500 KB skipped.
        assert!(read <= 12 * BLOCK as u64, "{read} bytes read");
    }

    #[test]
    fn a_prefix_tells_unfetched_dimensions_from_corrupt_ones() {
        // A JPEG whose frame header lies past its first 64 KiB, behind a large ICC profile.
        let mut bytes = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, 50);
        let icc: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        encoder.add_icc_profile(&icc).unwrap();
        encoder
            .encode(&[0; 8 * 8], 8, 8, jpeg_encoder::ColorType::Luma)
            .unwrap();
        let prefix = &bytes[..64 * 1024];
        let dimensions = |size| match inspect_prefix(prefix, size, IMAGE).content {
            Content::Media { dimensions, .. } => dimensions,
            content => panic!("not an image: {content:?}"),
        };
        // The rest exists (whatever its size, or an unknown one): not fetched, not corrupt.
        for size in [Some(bytes.len() as u64), None] {
            assert!(
                matches!(dimensions(size), Err(Unmeasured::NotFetched)),
                "{size:?}"
            );
        }
        // The prefix is the whole file: it is cut short.
        assert!(matches!(
            dimensions(Some(prefix.len() as u64)),
            Err(Unmeasured::Corrupt)
        ));
        // The whole file measures as usual.
        let whole = inspect_prefix(&bytes, Some(bytes.len() as u64), IMAGE);
        let Content::Media { dimensions, .. } = whole.content else {
            panic!("not an image: {whole:?}");
        };
        let dimensions = dimensions.unwrap();
        assert_eq!((dimensions.width, dimensions.height), (8, 8));
    }

    #[test]
    fn a_prefix_too_short_to_sniff_is_unrecognised_and_a_size_of_zero_empty() {
        let short = inspect_prefix(b"\x89PN", Some(10_000), IMAGE);
        assert!(matches!(short.content, Content::Unrecognised), "{short:?}");
        let empty = inspect_prefix(b"<html>", Some(0), IMAGE);
        assert!(matches!(empty.content, Content::Empty), "{empty:?}");
    }

    #[test]
    fn an_endless_chain_of_segments_stops_at_the_limit() {
        // SOI, then 2-byte comment segments forever: no frame header within the limit.
        let mut bytes = b"\xff\xd8".to_vec();
        while bytes.len() < (3 * HEADER_LIMIT) as usize {
            bytes.extend_from_slice(b"\xff\xfe\x00\x02");
        }
        let (content, read) = inspect_bytes(&bytes);
        assert!(
            matches!(
                content,
                Content::Media {
                    dimensions: Err(Unmeasured::HeaderTooLong),
                    ..
                }
            ),
            "{content:?}"
        );
        assert_eq!(read, HEADER_LIMIT);
    }

    const VIDEO: Want = Want {
        kind: MediaKind::Video,
        measure: true,
    };

    /// The top-level boxes of an MP4 whose movie header sits after its media data.
    fn moov_at_end() -> (&'static [u8], &'static [u8]) {
        let bytes = include_bytes!("../../tests/fixtures/media/moov-at-end-64x48.mp4");
        let moov = bytes.windows(4).position(|w| w == b"moov").unwrap() - 4;
        // `ftyp` (32 bytes), then the rest up to the movie header.
        (&bytes[..32], &bytes[moov..])
    }

    fn video_dimensions(content: &Content) -> &Result<Dimensions, Unmeasured> {
        match content {
            Content::Media { dimensions, .. } => dimensions,
            other => panic!("not a video: {other:?}"),
        }
    }

    #[test]
    fn a_movie_header_after_a_large_media_box_is_reached_by_seeking() {
        let (ftyp, moov) = moov_at_end();
        // A media data box of 256 times the read limit, sparse on disk, with a 64-bit size.
        let mdat_len: u64 = 256 * HEADER_LIMIT;
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(ftyp).unwrap();
        file.write_all(b"\0\0\0\x01mdat").unwrap();
        file.write_all(&(mdat_len).to_be_bytes()).unwrap();
        file.seek(SeekFrom::Start(ftyp.len() as u64 + mdat_len))
            .unwrap();
        file.write_all(moov).unwrap();
        let len = file.metadata().unwrap().len();
        let mut reader = HeaderReader::new(file, len);
        let content = sniff_and_measure(&mut reader, VIDEO);
        let dimensions = video_dimensions(&content).as_ref().unwrap();
        assert_eq!((dimensions.width, dimensions.height), (64, 48));
        // The first block, and the blocks of the movie header; none of the media data.
        assert!(
            reader.bytes_read <= 3 * BLOCK as u64,
            "{}",
            reader.bytes_read
        );
    }

    #[test]
    fn a_prefix_before_the_movie_header_is_not_fetched() {
        let (ftyp, moov) = moov_at_end();
        let mut bytes = ftyp.to_vec();
        let mdat = 200_000u32;
        bytes.extend_from_slice(&mdat.to_be_bytes());
        bytes.extend_from_slice(b"mdat");
        bytes.resize(ftyp.len() + mdat as usize, 0);
        bytes.extend_from_slice(moov);
        let prefix = &bytes[..64 * 1024];
        for size in [Some(bytes.len() as u64), None] {
            let inspection = inspect_prefix(prefix, size, VIDEO);
            assert!(
                matches!(
                    video_dimensions(&inspection.content),
                    Err(Unmeasured::NotFetched)
                ),
                "{size:?}: {inspection:?}"
            );
        }
        // The prefix is all there is: the movie header was never written.
        let cut = inspect_prefix(prefix, Some(prefix.len() as u64), VIDEO);
        assert!(
            matches!(video_dimensions(&cut.content), Err(Unmeasured::Corrupt)),
            "{cut:?}"
        );
        let whole = inspect_prefix(&bytes, Some(bytes.len() as u64), VIDEO);
        let dimensions = video_dimensions(&whole.content).as_ref().unwrap();
        assert_eq!((dimensions.width, dimensions.height), (64, 48));
    }

    #[test]
    fn an_endless_chain_of_boxes_stops_at_the_limit() {
        let mut bytes = b"\0\0\0\x10ftypisom\0\0\0\0".to_vec();
        while bytes.len() < (3 * HEADER_LIMIT) as usize {
            bytes.extend_from_slice(b"\0\0\0\x08free");
        }
        let mut reader = HeaderReader::new(Cursor::new(&bytes[..]), bytes.len() as u64);
        let content = sniff_and_measure(&mut reader, VIDEO);
        assert!(
            matches!(video_dimensions(&content), Err(Unmeasured::HeaderTooLong)),
            "{content:?}"
        );
        assert_eq!(reader.bytes_read, HEADER_LIMIT);
    }

    #[test]
    fn videos_are_measured_only_when_asked() {
        let bytes = include_bytes!("../../tests/fixtures/media/clip-176x144.mov");
        let not_asked = Want {
            kind: MediaKind::Video,
            measure: false,
        };
        let mut reader = HeaderReader::new(Cursor::new(&bytes[..]), bytes.len() as u64);
        let content = sniff_and_measure(&mut reader, not_asked);
        assert!(
            matches!(
                &content,
                Content::Media {
                    format: Format::Known(MediaFormat::Mov),
                    dimensions: Err(Unmeasured::NotMeasured)
                }
            ),
            "{content:?}"
        );
    }
}
