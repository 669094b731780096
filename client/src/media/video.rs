//! A video's frame size from its container's header: the first video track of an MP4 or
//! QuickTime movie (ISO BMFF), of a WebM or Matroska file (EBML) and of an AVI (RIFF). Only the
//! headers on the way to the track are read; everything else, the media data above all, is
//! skipped by seeking, so a movie whose index sits at the end of the file costs a few small
//! reads. Every offset is
//! checked against its parent, and nothing is allocated from a size the file states.

use std::io::{Read, Seek, SeekFrom};

/// The size of a video's frames, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameSize {
    pub(crate) width: u64,
    pub(crate) height: u64,
}

/// Why no frame size was read. A failing source reads as `Corrupt` here; the caller's reader
/// knows whether it failed, hit its limit or ran past the bytes fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoSize {
    /// A header is cut short or inconsistent, or the movie header is missing.
    Corrupt,
    /// The headers were read, and no track in them is a video.
    NoVideoTrack,
}

/// Reads into `buf` from `pos` as far as the source goes; fewer bytes only at its end.
fn read_at<R: Read + Seek>(source: &mut R, pos: u64, buf: &mut [u8]) -> Result<usize, NoSize> {
    source
        .seek(SeekFrom::Start(pos))
        .map_err(|_| NoSize::Corrupt)?;
    let mut done = 0;
    while done < buf.len() {
        match source.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(_) => return Err(NoSize::Corrupt),
        }
    }
    Ok(done)
}

/// Reads exactly `N` bytes at `pos`.
fn bytes_at<R: Read + Seek, const N: usize>(source: &mut R, pos: u64) -> Result<[u8; N], NoSize> {
    let mut buf = [0u8; N];
    match read_at(source, pos, &mut buf)? {
        n if n == N => Ok(buf),
        _ => Err(NoSize::Corrupt),
    }
}

// MP4 and QuickTime (ISO BMFF): boxes of a 32-bit size (1: a 64-bit one follows; 0: to the
// end of the parent) and a four-letter type.

/// A box ("atom" in QuickTime): its type, where its payload starts and where it ends.
#[derive(Debug, Clone, Copy)]
struct Atom {
    kind: [u8; 4],
    payload: u64,
    end: u64,
}

impl Atom {
    fn len(&self) -> u64 {
        self.end - self.payload
    }
}

/// The frame size of the first video track of an MP4 or QuickTime movie of `len` bytes.
pub(crate) fn movie_frame_size<R: Read + Seek>(
    source: &mut R,
    len: u64,
) -> Result<FrameSize, NoSize> {
    // The movie header may follow the media data (it is written last unless the file was
    // made for streaming); the boxes before it are skipped, not read.
    let file = Atom {
        kind: *b"file",
        payload: 0,
        end: len,
    };
    // No movie header at all: the file was cut before it was written.
    let moov = child_box(source, &file, b"moov")?.ok_or(NoSize::Corrupt)?;
    let mut pos = moov.payload;
    while let Some(trak) = next_box(source, pos, moov.end)? {
        if &trak.kind == b"trak"
            && let Some(size) = movie_track(source, &trak)?
        {
            return Ok(size);
        }
        pos = trak.end;
    }
    Err(NoSize::NoVideoTrack)
}

/// The header of the box at `pos`, inside a parent ending at `end`; `None` when the parent
/// has no room left for one (or the file ends).
fn next_box<R: Read + Seek>(source: &mut R, pos: u64, end: u64) -> Result<Option<Atom>, NoSize> {
    if end.saturating_sub(pos) < 8 {
        return Ok(None);
    }
    let mut head = [0u8; 8];
    if read_at(source, pos, &mut head)? < 8 {
        return Ok(None);
    }
    let [s0, s1, s2, s3, k0, k1, k2, k3] = head;
    let kind = [k0, k1, k2, k3];
    let (header, size) = match u32::from_be_bytes([s0, s1, s2, s3]) {
        0 => (8, end - pos),
        1 => (16, u64::from_be_bytes(bytes_at(source, pos + 8)?)),
        size => (8, u64::from(size)),
    };
    let box_end = pos.checked_add(size).ok_or(NoSize::Corrupt)?;
    if size < header || box_end > end {
        return Err(NoSize::Corrupt);
    }
    Ok(Some(Atom {
        kind,
        payload: pos + header,
        end: box_end,
    }))
}

/// The first child of `parent` of this type.
fn child_box<R: Read + Seek>(
    source: &mut R,
    parent: &Atom,
    kind: &[u8; 4],
) -> Result<Option<Atom>, NoSize> {
    let mut pos = parent.payload;
    while let Some(found) = next_box(source, pos, parent.end)? {
        if &found.kind == kind {
            return Ok(Some(found));
        }
        pos = found.end;
    }
    Ok(None)
}

/// The path of boxes from `parent` down, or `None` where one is missing.
fn descend_boxes<R: Read + Seek>(
    source: &mut R,
    parent: &Atom,
    path: &[&[u8; 4]],
) -> Result<Option<Atom>, NoSize> {
    let mut at = *parent;
    for kind in path {
        match child_box(source, &at, kind)? {
            Some(found) => at = found,
            None => return Ok(None),
        }
    }
    Ok(Some(at))
}

/// The frame size of a track, `None` when it is not a video track.
///
/// The size is the sample description's: the coded frame, what decoders and `ffprobe`
/// report. The track header's is the display size, after the pixel aspect ratio; it is
/// used when the description gives none.
fn movie_track<R: Read + Seek>(source: &mut R, trak: &Atom) -> Result<Option<FrameSize>, NoSize> {
    let Some(hdlr) = descend_boxes(source, trak, &[b"mdia", b"hdlr"])? else {
        return Ok(None);
    };
    // Version and flags, then a QuickTime component type (or ISO's zero), then the
    // handler: `vide` in both.
    if hdlr.len() < 12 || &bytes_at::<_, 4>(source, hdlr.payload + 8)? != b"vide" {
        return Ok(None);
    }
    if let Some(stsd) = descend_boxes(source, trak, &[b"mdia", b"minf", b"stbl", b"stsd"])?
        && let Some(coded) = sample_entry_size(source, &stsd)?
    {
        return Ok(Some(coded));
    }
    match child_box(source, trak, b"tkhd")? {
        Some(tkhd) => track_header_size(source, &tkhd)?
            .map(Some)
            .ok_or(NoSize::Corrupt),
        None => Err(NoSize::Corrupt),
    }
}

/// The width and height of a visual sample entry, the first of the sample descriptions:
/// after its 8-byte header, 24 bytes of fields that ISO and QuickTime lay out alike.
fn sample_entry_size<R: Read + Seek>(
    source: &mut R,
    stsd: &Atom,
) -> Result<Option<FrameSize>, NoSize> {
    // Version and flags, the entry count, then the entries.
    let entries = stsd.payload + 8;
    let Some(entry) = next_box(source, entries, stsd.end)? else {
        return Ok(None);
    };
    if entry.len() < 28 {
        return Err(NoSize::Corrupt);
    }
    let [w0, w1, h0, h1] = bytes_at(source, entry.payload + 24)?;
    Ok(nonzero(
        u16::from_be_bytes([w0, w1]).into(),
        u16::from_be_bytes([h0, h1]).into(),
    ))
}

/// The width and height of a track header (16.16 fixed point): the display size, with no
/// rotation of its matrix applied.
fn track_header_size<R: Read + Seek>(
    source: &mut R,
    tkhd: &Atom,
) -> Result<Option<FrameSize>, NoSize> {
    let [version] = bytes_at(source, tkhd.payload)?;
    // Version 1 has 64-bit creation and modification times and duration.
    let offset = if version == 1 { 88 } else { 76 };
    if tkhd.len() < offset + 8 {
        return Err(NoSize::Corrupt);
    }
    let [w0, w1, w2, w3, h0, h1, h2, h3] = bytes_at(source, tkhd.payload + offset)?;
    let width = u32::from_be_bytes([w0, w1, w2, w3]) >> 16;
    let height = u32::from_be_bytes([h0, h1, h2, h3]) >> 16;
    Ok(nonzero(width.into(), height.into()))
}

// WebM and Matroska (EBML): elements of a variable-length ID and size.

const SEGMENT: u32 = 0x1853_8067;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_TYPE: u32 = 0x83;
const VIDEO: u32 = 0xE0;
const PIXEL_WIDTH: u32 = 0xB0;
const PIXEL_HEIGHT: u32 = 0xBA;
/// `TrackType` of a video track.
const TYPE_VIDEO: u64 = 1;

/// An element: its ID, where its data starts and where it ends (its parent's end when its
/// size is unknown, as in live streams).
#[derive(Debug, Clone, Copy)]
struct Element {
    id: u32,
    data: u64,
    end: u64,
    unknown_size: bool,
}

/// The frame size of the first video track of a WebM or Matroska file of `len` bytes.
pub(crate) fn matroska_frame_size<R: Read + Seek>(
    source: &mut R,
    len: u64,
) -> Result<FrameSize, NoSize> {
    let mut pos = 0;
    let segment = loop {
        let found = next_element(source, pos, len)?.ok_or(NoSize::Corrupt)?;
        if found.id == SEGMENT {
            break found;
        }
        if found.unknown_size {
            return Err(NoSize::Corrupt);
        }
        pos = found.end;
    };
    // Writers put the tracks before the clusters of media; a cluster of unknown size
    // (a live stream) cannot be skipped, so the tracks must come before it.
    let mut pos = segment.data;
    while let Some(found) = next_element(source, pos, segment.end)? {
        if found.id == TRACKS {
            return matroska_tracks(source, &found);
        }
        if found.unknown_size {
            break;
        }
        pos = found.end;
    }
    Err(NoSize::NoVideoTrack)
}

fn matroska_tracks<R: Read + Seek>(source: &mut R, tracks: &Element) -> Result<FrameSize, NoSize> {
    let mut pos = tracks.data;
    while let Some(entry) = next_element(source, pos, tracks.end)? {
        if entry.id == TRACK_ENTRY
            && let Some(size) = matroska_track(source, &entry)?
        {
            return Ok(size);
        }
        pos = known_end(&entry)?;
    }
    Err(NoSize::NoVideoTrack)
}

/// The frame size of a track, `None` when it is not a video track. `PixelWidth` and
/// `PixelHeight` are the coded frame's, as in an MP4's sample description.
fn matroska_track<R: Read + Seek>(
    source: &mut R,
    entry: &Element,
) -> Result<Option<FrameSize>, NoSize> {
    let (mut kind, mut width, mut height) = (None, None, None);
    let mut pos = entry.data;
    while let Some(found) = next_element(source, pos, entry.end)? {
        match found.id {
            TRACK_TYPE => kind = Some(uint(source, &found)?),
            VIDEO => {
                let mut pos = found.data;
                while let Some(field) = next_element(source, pos, found.end)? {
                    match field.id {
                        PIXEL_WIDTH => width = Some(uint(source, &field)?),
                        PIXEL_HEIGHT => height = Some(uint(source, &field)?),
                        _ => {}
                    }
                    pos = known_end(&field)?;
                }
            }
            _ => {}
        }
        pos = known_end(&found)?;
    }
    if kind != Some(TYPE_VIDEO) {
        return Ok(None);
    }
    match (width, height) {
        (Some(width), Some(height)) => nonzero(width, height).map(Some).ok_or(NoSize::Corrupt),
        _ => Err(NoSize::Corrupt),
    }
}

/// Where an element ends, when it says.
fn known_end(element: &Element) -> Result<u64, NoSize> {
    match element.unknown_size {
        true => Err(NoSize::Corrupt),
        false => Ok(element.end),
    }
}

/// The element whose header is at `pos`, inside a parent ending at `end`; `None` when the
/// parent (or the file) ends there.
fn next_element<R: Read + Seek>(
    source: &mut R,
    pos: u64,
    end: u64,
) -> Result<Option<Element>, NoSize> {
    if pos >= end {
        return Ok(None);
    }
    // An ID takes at most 4 bytes and a size at most 8.
    let mut head = [0u8; 12];
    let got = read_at(source, pos, &mut head)?;
    if got == 0 {
        return Ok(None);
    }
    let head = &head[..got];
    let (id_len, _) = vint(head, 4)?;
    let id = head[..id_len]
        .iter()
        .fold(0u32, |id, &b| (id << 8) | u32::from(b));
    let (size_len, size) = vint(head.get(id_len..).ok_or(NoSize::Corrupt)?, 8)?;
    let data = pos + (id_len + size_len) as u64;
    // All value bits set: the size is unknown, and the element runs to its parent's end.
    let unknown_size = size == (1u64 << (7 * size_len)) - 1;
    let element_end = match unknown_size {
        true => end,
        false => data.checked_add(size).ok_or(NoSize::Corrupt)?,
    };
    if data > end || element_end > end {
        return Err(NoSize::Corrupt);
    }
    Ok(Some(Element {
        id,
        data,
        end: element_end,
        unknown_size,
    }))
}

/// A variable-length integer at the start of `bytes`, of at most `max` bytes: its length
/// and its value without the length marker.
fn vint(bytes: &[u8], max: usize) -> Result<(usize, u64), NoSize> {
    let first = *bytes.first().ok_or(NoSize::Corrupt)?;
    let len = first.leading_zeros() as usize + 1;
    if len > max {
        return Err(NoSize::Corrupt);
    }
    let rest = bytes.get(1..len).ok_or(NoSize::Corrupt)?;
    let marker_free = u64::from(first) & (0xff >> len);
    let value = rest
        .iter()
        .fold(marker_free, |value, &b| (value << 8) | u64::from(b));
    Ok((len, value))
}

/// An unsigned integer element (at most 8 bytes, big-endian; empty is zero).
fn uint<R: Read + Seek>(source: &mut R, element: &Element) -> Result<u64, NoSize> {
    let len = known_end(element)? - element.data;
    if len > 8 {
        return Err(NoSize::Corrupt);
    }
    let mut buf = [0u8; 8];
    let field = &mut buf[8 - len as usize..];
    if read_at(source, element.data, field)? < field.len() {
        return Err(NoSize::Corrupt);
    }
    Ok(u64::from_be_bytes(buf))
}

// AVI (RIFF): chunks of a four-letter id and a 32-bit little-endian size, padded to an even
// length; a `LIST` chunk's data opens with the list's own four-letter type.

/// A RIFF chunk: its id (a list's type, for a `LIST`), where its data starts and ends.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    id: [u8; 4],
    data: u64,
    end: u64,
}

/// The frame size of the first video stream of an AVI file of `len` bytes: its format
/// chunk's `BITMAPINFOHEADER`, the coded frame `ffprobe` reports (a negative height marks a
/// frame stored top-down). The main header's size is the file's, not a stream's.
pub(crate) fn avi_frame_size<R: Read + Seek>(
    source: &mut R,
    len: u64,
) -> Result<FrameSize, NoSize> {
    let [r0, r1, r2, r3, s0, s1, s2, s3, f0, f1, f2, f3] = bytes_at(source, 0)?;
    if [r0, r1, r2, r3] != *b"RIFF" || [f0, f1, f2, f3] != *b"AVI " {
        return Err(NoSize::Corrupt);
    }
    // A file cut short still has its headers at the start.
    let riff_end = (8 + u64::from(u32::from_le_bytes([s0, s1, s2, s3]))).min(len);
    let headers = child_chunk(source, 12, riff_end, b"hdrl")?.ok_or(NoSize::Corrupt)?;
    let mut pos = headers.data;
    while let Some(stream) = next_chunk(source, pos, headers.end)? {
        if &stream.id == b"strl"
            && let Some(size) = avi_stream(source, &stream)?
        {
            return Ok(size);
        }
        pos = after(&stream);
    }
    Err(NoSize::NoVideoTrack)
}

/// The frame size of a stream list, `None` when its header says it is not video (`vids`).
fn avi_stream<R: Read + Seek>(source: &mut R, list: &Chunk) -> Result<Option<FrameSize>, NoSize> {
    let header = child_chunk(source, list.data, list.end, b"strh")?.ok_or(NoSize::Corrupt)?;
    if header.end - header.data < 4 || bytes_at::<_, 4>(source, header.data)? != *b"vids" {
        return Ok(None);
    }
    let format = child_chunk(source, list.data, list.end, b"strf")?.ok_or(NoSize::Corrupt)?;
    if format.end - format.data < 12 {
        return Err(NoSize::Corrupt);
    }
    let [_, _, _, _, w0, w1, w2, w3, h0, h1, h2, h3] = bytes_at(source, format.data)?;
    let width = i32::from_le_bytes([w0, w1, w2, w3]).unsigned_abs();
    let height = i32::from_le_bytes([h0, h1, h2, h3]).unsigned_abs();
    nonzero(width.into(), height.into())
        .map(Some)
        .ok_or(NoSize::Corrupt)
}

/// The first chunk (or list of that type) with this id between `pos` and `end`.
fn child_chunk<R: Read + Seek>(
    source: &mut R,
    mut pos: u64,
    end: u64,
    id: &[u8; 4],
) -> Result<Option<Chunk>, NoSize> {
    while let Some(found) = next_chunk(source, pos, end)? {
        if &found.id == id {
            return Ok(Some(found));
        }
        pos = after(&found);
    }
    Ok(None)
}

/// The chunk whose header is at `pos`, inside a parent ending at `end`; `None` when the
/// parent has no room left for one. A list is named by its type, its data after it.
fn next_chunk<R: Read + Seek>(source: &mut R, pos: u64, end: u64) -> Result<Option<Chunk>, NoSize> {
    if end.saturating_sub(pos) < 8 {
        return Ok(None);
    }
    let [i0, i1, i2, i3, s0, s1, s2, s3] = bytes_at(source, pos)?;
    let data = pos + 8;
    let chunk_end = data + u64::from(u32::from_le_bytes([s0, s1, s2, s3]));
    if chunk_end > end {
        return Err(NoSize::Corrupt);
    }
    let id = [i0, i1, i2, i3];
    if &id == b"LIST" {
        if chunk_end - data < 4 {
            return Err(NoSize::Corrupt);
        }
        let kind = bytes_at(source, data)?;
        return Ok(Some(Chunk {
            id: kind,
            data: data + 4,
            end: chunk_end,
        }));
    }
    Ok(Some(Chunk {
        id,
        data,
        end: chunk_end,
    }))
}

/// Where the chunk after this one starts: a chunk of odd size is padded by a byte.
fn after(chunk: &Chunk) -> u64 {
    chunk.end + (chunk.end & 1)
}

/// Both sides, when neither is zero (a zero is the field left unset).
fn nonzero(width: u64, height: u64) -> Option<FrameSize> {
    (width > 0 && height > 0).then_some(FrameSize { width, height })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly.
mod tests {
    use std::io::Cursor;

    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_bytes!(concat!("../../tests/fixtures/media/", $name)).as_slice()
        };
    }

    fn bmff_size(bytes: &[u8]) -> Result<FrameSize, NoSize> {
        movie_frame_size(&mut Cursor::new(bytes), bytes.len() as u64)
    }

    fn ebml_size(bytes: &[u8]) -> Result<FrameSize, NoSize> {
        matroska_frame_size(&mut Cursor::new(bytes), bytes.len() as u64)
    }

    fn size(width: u64, height: u64) -> Result<FrameSize, NoSize> {
        Ok(FrameSize { width, height })
    }

    /// A box of this type around `payload`.
    fn atom(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
        out
    }

    /// A movie with one track of this handler whose first sample entry is `width`x`height`.
    fn movie(handler: &[u8; 4], width: u16, height: u16) -> Vec<u8> {
        let hdlr = [&[0u8; 8][..], handler, &[0; 12]].concat();
        let mut entry = vec![0u8; 24];
        entry.extend_from_slice(&width.to_be_bytes());
        entry.extend_from_slice(&height.to_be_bytes());
        entry.extend_from_slice(&[0; 50]);
        let stsd = [&[0, 0, 0, 0, 0, 0, 0, 1][..], &atom(b"avc1", &entry)].concat();
        let stbl = atom(b"stbl", &atom(b"stsd", &stsd));
        let minf = atom(b"minf", &stbl);
        let mdia = atom(b"mdia", &[atom(b"hdlr", &hdlr), minf].concat());
        let trak = atom(b"trak", &mdia);
        [atom(b"ftyp", b"isom\0\0\0\0"), atom(b"moov", &trak)].concat()
    }

    #[test]
    fn real_movies_measure_as_ffprobe_says() {
        assert_eq!(bmff_size(fixture!("moov-at-end-64x48.mp4")), size(64, 48));
        // The coded frame, not the 200x100 the track header shows.
        assert_eq!(
            bmff_size(fixture!("anamorphic-100x100.mp4")),
            size(100, 100)
        );
        // The sound track comes first and is passed over.
        assert_eq!(bmff_size(fixture!("sound-first-48x64.mp4")), size(48, 64));
        assert_eq!(bmff_size(fixture!("clip-176x144.mov")), size(176, 144));
        assert_eq!(
            bmff_size(fixture!("sound-only.mp4")),
            Err(NoSize::NoVideoTrack)
        );
        assert_eq!(bmff_size(fixture!("tone.m4a")), Err(NoSize::NoVideoTrack));
    }

    fn avi_size(bytes: &[u8]) -> Result<FrameSize, NoSize> {
        avi_frame_size(&mut Cursor::new(bytes), bytes.len() as u64)
    }

    #[test]
    fn real_avi_files_measure_as_ffprobe_says() -> Result<(), &'static str> {
        // The sound stream comes first and is passed over.
        let avi = fixture!("sound-first-96x64.avi");
        assert_eq!(avi_size(avi), size(96, 64));
        // Cut after its headers, it still measures; cut inside them, it is corrupt.
        let movi = avi
            .windows(4)
            .position(|w| w == b"movi")
            .ok_or("no movi list")?;
        assert_eq!(avi_size(&avi[..movi + 100]), size(96, 64));
        for at in [0, 11, 12, 40, 200, movi / 2] {
            assert_eq!(avi_size(&avi[..at]), Err(NoSize::Corrupt), "cut at {at}");
        }
        // A stream list of sound alone has no video.
        let mut sound_only = avi.to_vec();
        let vids = (sound_only.windows(4).position(|w| w == b"vids")).ok_or("no video stream")?;
        sound_only[vids..vids + 4].copy_from_slice(b"txts");
        assert_eq!(avi_size(&sound_only), Err(NoSize::NoVideoTrack));
        // A frame stored top-down has a negative height.
        let mut top_down = avi.to_vec();
        let strf = (top_down.windows(4).rposition(|w| w == b"strf")).ok_or("no format chunk")?;
        top_down[strf + 16..strf + 20].copy_from_slice(&(-64i32).to_le_bytes());
        assert_eq!(avi_size(&top_down), size(96, 64));
        Ok(())
    }

    #[test]
    fn real_matroska_files_measure_as_ffprobe_says() {
        assert_eq!(ebml_size(fixture!("portrait-90x160.webm")), size(90, 160));
        assert_eq!(ebml_size(fixture!("live-160x120.webm")), size(160, 120));
        assert_eq!(ebml_size(fixture!("clip-100x60.mkv")), size(100, 60));
    }

    #[test]
    fn the_track_header_stands_in_for_an_empty_sample_entry() {
        let mut tkhd = vec![0u8; 76];
        tkhd.extend_from_slice(&(320u32 << 16).to_be_bytes());
        tkhd.extend_from_slice(&(240u32 << 16).to_be_bytes());
        let mut bytes = movie(b"vide", 0, 0);
        let trak = bytes.windows(4).position(|w| w == b"trak").unwrap() - 4;
        // Put the track header first in the track, growing the track and the movie.
        let header = atom(b"tkhd", &tkhd);
        bytes.splice(trak + 8..trak + 8, header.iter().copied());
        for at in [trak, trak - 8] {
            let grown =
                u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize + header.len();
            bytes[at..at + 4].copy_from_slice(&(grown as u32).to_be_bytes());
        }
        assert_eq!(bmff_size(&bytes), size(320, 240));
        // Neither says: the header is broken.
        assert_eq!(bmff_size(&movie(b"vide", 0, 0)), Err(NoSize::Corrupt));
    }

    #[test]
    fn handlers_other_than_video_are_not_measured() {
        assert_eq!(bmff_size(&movie(b"vide", 1920, 1080)), size(1920, 1080));
        assert_eq!(
            bmff_size(&movie(b"soun", 1920, 1080)),
            Err(NoSize::NoVideoTrack)
        );
    }

    #[test]
    fn every_cut_of_a_real_file_is_an_answer_not_a_panic() {
        for bytes in [
            fixture!("moov-at-end-64x48.mp4"),
            fixture!("sound-first-48x64.mp4"),
            fixture!("clip-176x144.mov"),
        ] {
            let whole = bmff_size(bytes).unwrap();
            for cut in 0..bytes.len() {
                let measured = bmff_size(&bytes[..cut]);
                // Whatever survives the cut must be the truth, or an error.
                assert!(measured.is_err() || measured == Ok(whole), "cut at {cut}");
            }
        }
        for bytes in [
            fixture!("portrait-90x160.webm"),
            fixture!("live-160x120.webm"),
            fixture!("clip-100x60.mkv"),
        ] {
            let whole = ebml_size(bytes).unwrap();
            for cut in 0..bytes.len() {
                let measured = ebml_size(&bytes[..cut]);
                assert!(measured.is_err() || measured == Ok(whole), "cut at {cut}");
            }
        }
        let avi = fixture!("sound-first-96x64.avi");
        for cut in 0..avi.len() {
            let measured = avi_size(&avi[..cut]);
            assert!(
                measured.is_err() || measured == size(96, 64),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn lying_box_sizes_are_corrupt() {
        let ftyp = atom(b"ftyp", b"isom\0\0\0\0");
        let cases: [Vec<u8>; 5] = [
            // Smaller than its own header.
            [&ftyp[..], b"\0\0\0\x04moov"].concat(),
            // A 64-bit size of 2^64 - 1: the end overflows.
            [&ftyp[..], b"\0\0\0\x01moov\xff\xff\xff\xff\xff\xff\xff\xff"].concat(),
            // A child larger than its parent.
            [&ftyp[..], &atom(b"moov", b"\0\0\x10\0trak")].concat(),
            // No movie header at all.
            [&ftyp[..], &atom(b"mdat", &[0; 64])].concat(),
            // The media data runs to the end of the file (size 0): nothing follows it.
            [&ftyp[..], b"\0\0\0\0mdat", &movie(b"vide", 64, 64)].concat(),
        ];
        for (i, bytes) in cases.iter().enumerate() {
            assert_eq!(bmff_size(bytes), Err(NoSize::Corrupt), "case {i}");
        }
    }

    /// An EBML element: `id` as written, a one-byte size.
    fn element(id: &[u8], data: &[u8]) -> Vec<u8> {
        [id, &[0x80 | data.len() as u8], data].concat()
    }

    fn webm(segment: &[u8]) -> Vec<u8> {
        let header = element(b"\x1a\x45\xdf\xa3", &element(b"\x42\x82", b"webm"));
        // A segment of unknown size (eight bytes, all value bits set).
        [
            &header[..],
            b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff",
            segment,
        ]
        .concat()
    }

    fn video_track(kind: u8, width: &[u8], height: &[u8]) -> Vec<u8> {
        let video = element(
            b"\xe0",
            &[element(b"\xb0", width), element(b"\xba", height)].concat(),
        );
        let entry = element(b"\xae", &[element(b"\x83", &[kind]), video].concat());
        element(b"\x16\x54\xae\x6b", &entry)
    }

    #[test]
    fn matroska_tracks_are_read_or_refused_by_their_header() {
        assert_eq!(
            ebml_size(&webm(&video_track(1, b"\x07\x80", b"\x04\x38"))),
            size(1920, 1080)
        );
        // An audio track.
        assert_eq!(
            ebml_size(&webm(&video_track(2, b"\x07\x80", b"\x04\x38"))),
            Err(NoSize::NoVideoTrack)
        );
        // A width of nine bytes, more than any integer here.
        assert_eq!(
            ebml_size(&webm(&video_track(1, &[1; 9], b"\x04\x38"))),
            Err(NoSize::Corrupt)
        );
        // A cluster of unknown size before the tracks: they cannot be reached.
        let cluster = b"\x1f\x43\xb6\x75\xff";
        let late = [&cluster[..], &video_track(1, b"\x07\x80", b"\x04\x38")].concat();
        assert_eq!(ebml_size(&webm(&late)), Err(NoSize::NoVideoTrack));
        // A cluster of known size is skipped.
        let sized = [
            element(b"\x1f\x43\xb6\x75", &[0; 100]),
            video_track(1, b"\x02\x80", b"\x01\xe0"),
        ]
        .concat();
        assert_eq!(ebml_size(&webm(&sized)), size(640, 480));
        // An ID whose first byte is zero has no length.
        assert_eq!(ebml_size(&webm(b"\0\x81\0")), Err(NoSize::Corrupt));
        // An element larger than the file.
        assert_eq!(
            ebml_size(&webm(b"\x16\x54\xae\x6b\x01\x00\x00\x00\x00\x10\x00\x00")),
            Err(NoSize::Corrupt)
        );
    }
}
