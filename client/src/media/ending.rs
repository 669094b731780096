//! Whether a file ends where its format says it does. A download whose reply gave no length
//! (its body ends when the connection closes) cannot tell a cut connection from the end of the
//! file: the file's own structure can, for the formats that mark their end or state their size.
//! Formats that do neither are taken as whole.

use std::io::{self, Read, Seek, SeekFrom};

use crate::schema::MediaFormat;

/// How far from the end a trailer marker is looked for: encoders may pad or append a little
/// after it, and a marker this close to the end of compressed data is no accident.
const TRAILER_WINDOW: u64 = 4096;

/// PNG's last chunk: IEND's type and its CRC (its length, zero, comes before).
const PNG_IEND: &[u8] = b"IEND\xae\x42\x60\x82";

/// JPEG's end-of-image marker.
const JPEG_EOI: &[u8] = b"\xff\xd9";

/// The most top-level ISO-BMFF boxes walked; a real file has a handful.
const MAX_BOXES: usize = 10_000;

/// Why a file of `format`, `len` bytes long, is not whole, or `None` when it is or its format
/// cannot tell.
pub(crate) fn cut_short<R: Read + Seek>(
    file: &mut R,
    len: u64,
    format: MediaFormat,
) -> io::Result<Option<&'static str>> {
    use MediaFormat::{Avif, Bmp, Gif, Heif, Jpeg, M4a, Mov, Mp4, Png, Wav, Webp};
    let whole = match format {
        Png => trailer_in_tail(file, len, PNG_IEND)?,
        Jpeg => trailer_in_tail(file, len, JPEG_EOI)?,
        Gif => read_tail(file, len, 1)? == b";",
        Webp | Wav => declared_size(file, len, 4, |size| u64::from(size) + 8)?,
        // Zero is what some writers put there: no size said.
        Bmp => declared_size(file, len, 2, u64::from)?,
        Mp4 | Mov | M4a | Heif | Avif => boxes_fit(file, len)?,
        _ => true,
    };
    Ok((!whole).then_some(match format {
        Png => "the PNG stops before its IEND chunk",
        Jpeg => "the JPEG stops before its end-of-image marker",
        Gif => "the GIF stops before its trailer",
        Webp | Wav => "the file is shorter than its RIFF header says",
        Bmp => "the BMP is shorter than its header says",
        _ => "the file's last box runs past its end",
    }))
}

/// Whether `marker` is among the last bytes, after the first few (a JPEG's own start must not
/// count).
fn trailer_in_tail<R: Read + Seek>(file: &mut R, len: u64, marker: &[u8]) -> io::Result<bool> {
    let tail = read_tail(file, len, TRAILER_WINDOW.min(len.saturating_sub(4)))?;
    Ok(tail.windows(marker.len()).any(|w| w == marker))
}

fn read_tail<R: Read + Seek>(file: &mut R, len: u64, count: u64) -> io::Result<Vec<u8>> {
    let count = count.min(len);
    file.seek(SeekFrom::Start(len - count))?;
    let mut tail = Vec::with_capacity(count as usize);
    file.take(count).read_to_end(&mut tail)?;
    Ok(tail)
}

/// Whether the file is at least as long as the little-endian `u32` at `offset` says (through
/// `total`); a zero there says nothing.
fn declared_size<R: Read + Seek>(
    file: &mut R,
    len: u64,
    offset: u64,
    total: impl Fn(u32) -> u64,
) -> io::Result<bool> {
    let Some(size) = read_at(file, len, offset)? else {
        return Ok(false);
    };
    let size = u32::from_le_bytes(size);
    Ok(size == 0 || len >= total(size))
}

/// Whether the top-level boxes of an ISO-BMFF file (MP4, MOV, HEIF) end within it: each box
/// header gives its size, so a cut one runs past the end. A box of size zero runs to the end
/// by definition; a malformed size is not this check's to judge.
fn boxes_fit<R: Read + Seek>(file: &mut R, len: u64) -> io::Result<bool> {
    let mut at = 0u64;
    for _ in 0..MAX_BOXES {
        if at == len {
            return Ok(true);
        }
        let Some(size) = read_at(file, len, at)? else {
            return Ok(false);
        };
        let size = match u32::from_be_bytes(size) {
            0 => return Ok(true),
            1 => match read_at(file, len, at + 8)? {
                Some(large) => u64::from_be_bytes(large),
                None => return Ok(false),
            },
            size => u64::from(size),
        };
        if size < 8 {
            return Ok(true);
        }
        at = match at.checked_add(size) {
            Some(next) if next <= len => next,
            _ => return Ok(false),
        };
    }
    Ok(true)
}

/// `N` bytes at `offset`, or `None` when the file ends first.
fn read_at<R: Read + Seek, const N: usize>(
    file: &mut R,
    len: u64,
    offset: u64,
) -> io::Result<Option<[u8; N]>> {
    if offset.saturating_add(N as u64) > len {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = [0; N];
    file.read_exact(&mut bytes)?;
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn cut(bytes: &[u8], format: MediaFormat) -> Option<&'static str> {
        cut_short(&mut Cursor::new(bytes), bytes.len() as u64, format).unwrap_or(Some("io"))
    }

    fn boxed(kind: &[u8], body: usize) -> Vec<u8> {
        let mut bytes = ((body + 8) as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(kind);
        bytes.resize(body + 8, 0x55);
        bytes
    }

    #[test]
    fn marked_ends_are_found_and_missed() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&[0x42; 5000]);
        assert!(cut(&png, MediaFormat::Png).is_some());
        png.extend_from_slice(b"\0\0\0\0IEND\xae\x42\x60\x82");
        assert_eq!(cut(&png, MediaFormat::Png), None);

        let jpeg = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\xff\xd9".to_vec();
        assert_eq!(cut(&jpeg, MediaFormat::Jpeg), None);
        // The start's own markers are not an end.
        assert!(cut(b"\xff\xd8\xff\xd9", MediaFormat::Jpeg).is_some());
        assert!(cut(&jpeg[..jpeg.len() - 1], MediaFormat::Jpeg).is_some());

        assert_eq!(cut(b"GIF89a...;", MediaFormat::Gif), None);
        assert!(cut(b"GIF89a...", MediaFormat::Gif).is_some());
    }

    #[test]
    fn stated_sizes_are_held_to() {
        let mut webp = b"RIFF\x10\0\0\0WEBPVP8 ".to_vec();
        webp.resize(24, 0);
        assert_eq!(cut(&webp, MediaFormat::Webp), None);
        assert!(cut(&webp[..20], MediaFormat::Webp).is_some());
        assert!(cut(b"RIF", MediaFormat::Wav).is_some());

        let mut bmp = b"BM\x20\0\0\0".to_vec();
        bmp.resize(32, 0);
        assert_eq!(cut(&bmp, MediaFormat::Bmp), None);
        assert!(cut(&bmp[..31], MediaFormat::Bmp).is_some());
        assert_eq!(cut(b"BM\0\0\0\0\0\0", MediaFormat::Bmp), None);
    }

    #[test]
    fn iso_boxes_must_fit() {
        let mut mp4 = boxed(b"ftyp", 16);
        mp4.extend(boxed(b"moov", 100));
        mp4.extend(boxed(b"mdat", 5000));
        assert_eq!(cut(&mp4, MediaFormat::Mp4), None);
        assert!(cut(&mp4[..mp4.len() - 1], MediaFormat::Mp4).is_some());
        assert!(cut(&mp4[..mp4.len() - 5001], MediaFormat::Mp4).is_some());

        // A 64-bit size, and a last box that runs to the end.
        let mut large = boxed(b"ftyp", 16);
        large.extend_from_slice(b"\0\0\0\x01mdat\0\0\0\0\0\0\0\x20");
        large.resize(large.len() + 16, 0);
        assert_eq!(cut(&large, MediaFormat::Mov), None);
        assert!(cut(&large[..large.len() - 2], MediaFormat::Mov).is_some());
        let mut open = boxed(b"ftyp", 16);
        open.extend_from_slice(b"\0\0\0\0mdat...");
        assert_eq!(cut(&open, MediaFormat::Mp4), None);
    }

    #[test]
    fn formats_that_cannot_tell_are_whole() {
        assert_eq!(cut(b"\x1a\x45\xdf\xa3", MediaFormat::Webm), None);
        assert_eq!(cut(b"ID3", MediaFormat::Mp3), None);
    }
}
