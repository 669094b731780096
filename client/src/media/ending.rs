//! Whether a file ends where its format says it does. A download whose reply gave no length
//! (its body ends when the connection closes) cannot tell a cut connection from the end of the
//! file, nor one whose host serves a cut file with the length of what is left: the file's own
//! structure can, for the formats that mark their end or state their size.
//! Each is walked as a reader of the format would, from its start to its end marker, so bytes
//! that merely look like an end (a thumbnail's own end marker, text that spells `IEND`) are not
//! taken for one, and anything after the real end is allowed. A structure this walk does not
//! follow, and every other format, is taken as whole.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use crate::schema::MediaFormat;

/// Fewer bytes than any media file has (the header that tells a format is 12 bytes at most):
/// a reply with no length that ends sooner was cut.
const SHORTEST_FILE: u64 = 12;

/// The most chunks, segments, blocks or boxes walked; past that the file is taken as whole.
const MAX_STEPS: usize = 1_000_000;

/// Why a file, `len` bytes long and starting with `head`, is not whole, or `None` when it is
/// or its format cannot tell. Its format is the one its first bytes say, else `claimed` (its
/// `Content-Type`: a file cut before its first bytes say anything); a RIFF file of a format
/// this crate does not name (MIDI, an animated cursor) is held to its RIFF size.
pub(crate) fn cut_short<R: Read + Seek>(
    file: &mut R,
    len: u64,
    head: &[u8],
    claimed: Option<MediaFormat>,
) -> io::Result<Option<&'static str>> {
    use MediaFormat::{Avi, Avif, Bmp, Gif, Heif, Jpeg, M4a, Mov, Mp4, Png, Wav, Webp};
    // Shorter than any file's header, whatever its first bytes say: no media file is a few
    // bytes, a connection that broke off at once is.
    if len < SHORTEST_FILE {
        return Ok(Some("the reply ends before a file's header is whole"));
    }
    file.seek(SeekFrom::Start(0))?;
    let format = MediaFormat::sniff(head).or(claimed);
    let walked = match format {
        Some(Png) => png(&mut BufReader::new(file), len),
        Some(Jpeg) => jpeg(&mut BufReader::new(file)),
        Some(Gif) => gif(&mut BufReader::new(file)),
        Some(Webp | Wav | Avi) => riff(file, len),
        Some(Bmp) => bmp(file, len),
        Some(Mp4 | Mov | M4a) => iso_boxes(file, len, &[*b"moov", *b"mdat"], MOVIE_CUT),
        Some(Heif | Avif) => iso_boxes(file, len, &[*b"meta"], IMAGE_CUT),
        Some(_) => Ok(Walk::Whole),
        // Formats this crate does not name, or a start too short to say which: the container
        // still tells its sizes.
        None if head.starts_with(b"RIFF") => riff(file, len),
        None if head.get(4..8) == Some(b"ftyp") => iso_boxes(file, len, &[], MOVIE_CUT),
        None => Ok(Walk::Whole),
    };
    match walked {
        Ok(Walk::Whole) => Ok(None),
        Ok(Walk::Cut(why)) => Ok(Some(why)),
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => Ok(Some(match format {
            Some(Png) => PNG_CUT,
            Some(Jpeg) => "the JPEG stops before its end-of-image marker",
            Some(Gif) => "the GIF stops before its trailer",
            _ => "the file stops inside its structure",
        })),
        Err(err) => Err(err),
    }
}

/// What a walk found: the end (or a structure it does not follow), or a cut. A read past the
/// end is a cut too, as `UnexpectedEof`.
enum Walk {
    Whole,
    Cut(&'static str),
}

const PNG_CUT: &str = "the PNG stops before its IEND chunk";
const MOVIE_CUT: &str = "the file stops before its moov and mdat boxes are both in";
const IMAGE_CUT: &str = "the file stops before its meta box";

/// The top-level boxes that hold a movie's or an image's data: one of them cut is a cut file.
const MEDIA_BOXES: [[u8; 4]; 5] = [*b"moov", *b"mdat", *b"moof", *b"meta", *b"idat"];

/// PNG: chunk after chunk (length, type, data, CRC) to `IEND`, read through a buffer: a file of
/// many small chunks costs no call to the system per chunk.
fn png<R: Read + Seek>(file: &mut BufReader<R>, len: u64) -> io::Result<Walk> {
    file.seek(SeekFrom::Start(8))?;
    let mut at = 8u64;
    for _ in 0..MAX_STEPS {
        let mut head = [0; 8];
        file.read_exact(&mut head)?;
        let [l0, l1, l2, l3, t0, t1, t2, t3] = head;
        let data = u64::from(u32::from_be_bytes([l0, l1, l2, l3]));
        let end = at + 12 + data;
        if end > len {
            return Ok(Walk::Cut(PNG_CUT));
        }
        if [t0, t1, t2, t3] == *b"IEND" {
            return Ok(Walk::Whole);
        }
        // The data and its CRC; within the buffer, no call to the system.
        file.seek_relative(i64::try_from(data + 4).unwrap_or(i64::MAX))?;
        at = end;
    }
    Ok(Walk::Whole)
}

/// JPEG: segment after segment from the start, each entropy-coded scan read through to its
/// next marker, to the end-of-image marker. A thumbnail inside a segment is skipped whole.
fn jpeg<R: Read + Seek>(file: &mut BufReader<R>) -> io::Result<Walk> {
    let mut soi = [0; 2];
    file.read_exact(&mut soi)?;
    let mut marker = next_marker(file)?;
    for _ in 0..MAX_STEPS {
        match marker {
            // End of image.
            0xd9 => return Ok(Walk::Whole),
            // Start of image again (an odd file), restarts and TEM: no length.
            0xd8 | 0xd0..=0xd7 | 0x01 => marker = next_marker(file)?,
            _ => {
                let mut length = [0; 2];
                file.read_exact(&mut length)?;
                let length = u16::from_be_bytes(length);
                if length < 2 {
                    return Ok(Walk::Whole);
                }
                file.seek_relative(i64::from(length) - 2)?;
                marker = if marker == 0xda {
                    after_scan(file)?
                } else {
                    next_marker(file)?
                };
            }
        }
    }
    Ok(Walk::Whole)
}

/// The next marker's code: after `0xff` (and any fill bytes); stray bytes before it skipped,
/// as decoders do.
fn next_marker<R: BufRead>(file: &mut R) -> io::Result<u8> {
    loop {
        // To the next 0xff, a buffer at a time: a scan is most of a JPEG.
        let (found, used) = {
            let buffer = file.fill_buf()?;
            if buffer.is_empty() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            match buffer.iter().position(|&b| b == 0xff) {
                Some(at) => (true, at + 1),
                None => (false, buffer.len()),
            }
        };
        file.consume(used);
        if !found {
            continue;
        }
        loop {
            match read_byte(file)? {
                0xff => {}
                0x00 => break,
                code => return Ok(code),
            }
        }
    }
}

/// The marker that ends an entropy-coded scan: the first `0xff` followed by neither a stuffed
/// zero nor a restart marker.
fn after_scan<R: BufRead>(file: &mut R) -> io::Result<u8> {
    loop {
        let code = next_marker(file)?;
        if !(0xd0..=0xd7).contains(&code) {
            return Ok(code);
        }
    }
}

/// GIF: the header and colour table, then block after block (extensions and images, each
/// ending with an empty sub-block) to the trailer, `;`.
fn gif<R: Read + Seek>(file: &mut BufReader<R>) -> io::Result<Walk> {
    let mut header = [0; 13];
    file.read_exact(&mut header)?;
    skip_colour_table(file, header[10])?;
    for _ in 0..MAX_STEPS {
        match read_byte(file)? {
            b';' => return Ok(Walk::Whole),
            // An extension: its label, then its sub-blocks.
            b'!' => {
                read_byte(file)?;
                skip_sub_blocks(file)?;
            }
            // An image: its descriptor, colour table, code size, then its sub-blocks.
            b',' => {
                let mut descriptor = [0; 9];
                file.read_exact(&mut descriptor)?;
                skip_colour_table(file, descriptor[8])?;
                read_byte(file)?;
                skip_sub_blocks(file)?;
            }
            _ => return Ok(Walk::Whole),
        }
    }
    Ok(Walk::Whole)
}

fn skip_colour_table<R: Read + Seek>(file: &mut BufReader<R>, packed: u8) -> io::Result<()> {
    if packed & 0x80 != 0 {
        file.seek_relative(3i64 << ((packed & 7) + 1))?;
    }
    Ok(())
}

fn skip_sub_blocks<R: Read + Seek>(file: &mut BufReader<R>) -> io::Result<()> {
    for _ in 0..MAX_STEPS {
        match read_byte(file)? {
            0 => return Ok(()),
            size => file.seek_relative(i64::from(size))?,
        }
    }
    Ok(())
}

/// RIFF (WebP, WAV): as long as its header says, unless the header does not say (0, or all
/// ones: what a writer that streams puts there).
fn riff<R: Read + Seek>(file: &mut R, len: u64) -> io::Result<Walk> {
    let size = u32::from_le_bytes(read_at(file, 4)?);
    Ok(
        if size == 0 || size == u32::MAX || len >= u64::from(size) + 8 {
            Walk::Whole
        } else {
            Walk::Cut("the file is shorter than its RIFF header says")
        },
    )
}

/// BMP: as long as its header says, unless it says 0 (some writers do).
fn bmp<R: Read + Seek>(file: &mut R, len: u64) -> io::Result<Walk> {
    let size = u32::from_le_bytes(read_at(file, 2)?);
    Ok(if size == 0 || len >= u64::from(size) {
        Walk::Whole
    } else {
        Walk::Cut("the BMP is shorter than its header says")
    })
}

/// ISO-BMFF (MP4, MOV, HEIF): box after top-level box, each header giving its size, and the
/// boxes a whole file of the format has (`needed`) all among them. A box of size zero runs to
/// the end by definition; fewer bytes than a box header after the last box are trailing bytes.
fn iso_boxes<R: Read + Seek>(
    file: &mut R,
    len: u64,
    needed: &[[u8; 4]],
    missing: &'static str,
) -> io::Result<Walk> {
    let mut seen: Vec<[u8; 4]> = Vec::new();
    let mut at = 0u64;
    for _ in 0..MAX_STEPS {
        if len - at < 8 {
            break;
        }
        let [s0, s1, s2, s3, t0, t1, t2, t3] = read_at::<_, 8>(file, at)?;
        let kind = [t0, t1, t2, t3];
        if !kind.iter().all(|b| (0x20..0x7f).contains(b)) {
            // Not a box (a box's type is four characters): bytes after the last one, or a
            // structure this walk does not follow.
            break;
        }
        seen.push(kind);
        let size = match u32::from_be_bytes([s0, s1, s2, s3]) {
            0 => break,
            1 => u64::from_be_bytes(read_at(file, at + 8)?),
            size => u64::from(size),
        };
        if size < 8 {
            // Not a box this walk can follow.
            return Ok(Walk::Whole);
        }
        at = match at.checked_add(size) {
            Some(next) if next <= len => next,
            // Past the boxes that hold the media, a "box" that overruns the end is bytes after
            // the file (or a lost box of metadata, which nothing needs).
            _ if !needed.is_empty()
                && needed.iter().all(|n| seen[..seen.len() - 1].contains(n))
                && !MEDIA_BOXES.contains(&kind) =>
            {
                break;
            }
            _ => return Ok(Walk::Cut("the file's last box runs past its end")),
        };
    }
    Ok(if !needed.iter().all(|n| seen.contains(n)) {
        Walk::Cut(missing)
    } else if seen.last() == Some(b"moof") {
        Walk::Cut("the file stops after a movie fragment's header, before its media data")
    } else {
        Walk::Whole
    })
}

/// `N` bytes at `offset` (`UnexpectedEof` when the file ends first).
fn read_at<R: Read + Seek, const N: usize>(file: &mut R, offset: u64) -> io::Result<[u8; N]> {
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = [0; N];
    file.read_exact(&mut bytes)?;
    Ok(bytes)
}

fn read_byte<R: Read>(file: &mut R) -> io::Result<u8> {
    let mut byte = [0];
    file.read_exact(&mut byte)?;
    Ok(byte[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn cut(bytes: &[u8], format: MediaFormat) -> Option<&'static str> {
        cut_short(
            &mut Cursor::new(bytes),
            bytes.len() as u64,
            bytes,
            Some(format),
        )
        .unwrap_or(Some("io"))
    }

    /// Every cut of `whole` short of `from` is found; `whole`, and `whole` with bytes after
    /// it, are whole.
    fn cuts_found(whole: &[u8], from: usize, format: MediaFormat) {
        assert_eq!(cut(whole, format), None, "{format} whole");
        let mut longer = whole.to_vec();
        longer.extend_from_slice(&[0; 8192]);
        longer.push(0x0a);
        assert_eq!(cut(&longer, format), None, "{format} with trailing bytes");
        for at in from..whole.len() {
            assert!(cut(&whole[..at], format).is_some(), "{format} cut at {at}");
        }
    }

    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut bytes = (data.len() as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(kind);
        bytes.extend_from_slice(data);
        bytes.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        bytes
    }

    fn boxed(kind: &[u8], body: usize) -> Vec<u8> {
        let mut bytes = ((body + 8) as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(kind);
        bytes.resize(body + 8, 0x55);
        bytes
    }

    #[test]
    fn png_is_walked_to_its_iend_chunk() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0; 13]));
        // Text that spells an IEND chunk is not the end.
        png.extend(chunk(b"tEXt", b"x\0\0\0\0\0IEND\xae\x42\x60\x82"));
        png.extend(chunk(b"IDAT", &[0x42; 3000]));
        png.extend(chunk(b"IEND", b""));
        cuts_found(&png, 0, MediaFormat::Png);
    }

    #[test]
    fn jpeg_is_walked_past_its_thumbnail_to_its_end_marker() {
        let mut jpeg = b"\xff\xd8".to_vec();
        // An EXIF segment holding a whole thumbnail, end marker and all.
        let thumbnail = b"Exif\0\0\xff\xd8\xff\xdb\0\x03\0\xff\xd9";
        jpeg.extend_from_slice(b"\xff\xe1");
        jpeg.extend_from_slice(&((thumbnail.len() + 2) as u16).to_be_bytes());
        jpeg.extend_from_slice(thumbnail);
        jpeg.extend_from_slice(b"\xff\xdb\0\x04\x01\x02");
        // A scan with a stuffed 0xff and a restart marker in its data.
        jpeg.extend_from_slice(b"\xff\xda\0\x03\x01");
        jpeg.extend_from_slice(&[0x12; 500]);
        jpeg.extend_from_slice(b"\xff\x00\x34\xff\xd0\x56");
        jpeg.extend_from_slice(&[0x78; 500]);
        jpeg.extend_from_slice(b"\xff\xd9");
        cuts_found(&jpeg, 0, MediaFormat::Jpeg);
    }

    #[test]
    fn gif_is_walked_to_its_trailer() {
        let mut gif = b"GIF89a\x02\0\x02\0\x80\0\0".to_vec();
        gif.extend_from_slice(&[0; 6]); // A global colour table of 2 colours.
        gif.extend_from_slice(b"!\xf9\x04\0\0\0\0\0"); // A graphic control extension.
        gif.extend_from_slice(b",\0\0\0\0\x02\0\x02\0\0\x02"); // An image descriptor.
        gif.extend_from_slice(b"\x04\x3b\x3b\x3b\x3b\x02;;\0"); // Data that holds `;`.
        gif.push(b';');
        cuts_found(&gif, 0, MediaFormat::Gif);
    }

    #[test]
    fn stated_sizes_are_held_to_unless_unsaid() {
        let mut webp = b"RIFF\x10\0\0\0WEBPVP8 ".to_vec();
        webp.resize(24, 0);
        cuts_found(&webp, 0, MediaFormat::Webp);
        // What a writer that streams puts there.
        for unsaid in [[0u8; 4], [0xff; 4]] {
            let mut wav = b"RIFF".to_vec();
            wav.extend_from_slice(&unsaid);
            wav.extend_from_slice(b"WAVEfmt ");
            assert_eq!(cut(&wav, MediaFormat::Wav), None);
        }

        let mut bmp = b"BM\x20\0\0\0".to_vec();
        bmp.resize(32, 0);
        cuts_found(&bmp, 0, MediaFormat::Bmp);
        let mut unsaid = b"BM\0\0\0\0".to_vec();
        unsaid.resize(32, 0);
        assert_eq!(cut(&unsaid, MediaFormat::Bmp), None);
    }

    #[test]
    fn iso_boxes_must_fit_and_hold_what_the_format_needs() {
        let mut mp4 = boxed(b"ftyp", 16);
        mp4.extend(boxed(b"moov", 100));
        mp4.extend(boxed(b"mdat", 5000));
        // A cut at any point, at box boundaries too (no mdat, no moov) is found.
        for at in 0..mp4.len() {
            assert!(cut(&mp4[..at], MediaFormat::Mp4).is_some(), "cut at {at}");
        }
        assert_eq!(cut(&mp4, MediaFormat::Mp4), None);
        // A few bytes after the last box are not a box.
        let mut trailing = mp4.clone();
        trailing.extend_from_slice(b"\0\0\x0a");
        assert_eq!(cut(&trailing, MediaFormat::Mp4), None);

        // A 64-bit size, and a last box that runs to the end.
        let mut large = boxed(b"ftyp", 16);
        large.extend(boxed(b"moov", 40));
        large.extend_from_slice(b"\0\0\0\x01mdat\0\0\0\0\0\0\0\x20");
        large.resize(large.len() + 16, 0);
        assert_eq!(cut(&large, MediaFormat::Mov), None);
        assert!(cut(&large[..large.len() - 2], MediaFormat::Mov).is_some());
        let mut open = boxed(b"ftyp", 16);
        open.extend(boxed(b"moov", 40));
        open.extend_from_slice(b"\0\0\0\0mdat...");
        assert_eq!(cut(&open, MediaFormat::Mp4), None);

        let mut heif = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
        heif.extend(boxed(b"meta", 200));
        assert_eq!(cut(&heif, MediaFormat::Heif), None);
        assert!(cut(&heif[..24], MediaFormat::Heif).is_some());
    }

    #[test]
    fn a_file_cut_before_its_first_bytes_say_its_format_is_judged_as_claimed() {
        let whole = |bytes: &[u8], claimed| {
            cut_short(&mut Cursor::new(bytes), bytes.len() as u64, bytes, claimed)
                .unwrap_or(Some("io"))
                .is_none()
        };
        assert!(!whole(b"\xff\xd8", Some(MediaFormat::Jpeg)));
        assert!(!whole(b"\0\0\0\x20ftyp", Some(MediaFormat::Mp4)));
        // A few bytes are no file at all, whatever they start with.
        assert!(!whole(b"\xff\xd8", None));
        assert!(!whole(b"ID3\x04", None));
        assert!(whole(b"twelve bytes", None));
        // RIFF MIDI, which this crate does not name, is held to its RIFF size, however short.
        let mut midi = b"RIFF\x10\0\0\0RMIDdata".to_vec();
        midi.resize(24, 0);
        assert!(whole(&midi, None));
        for at in 4..midi.len() {
            assert!(!whole(&midi[..at], None), "cut at {at}");
        }
        // An ISO file too short to say its brand is held to its box sizes.
        assert!(!whole(b"\0\0\0\x20ftyp", None));
    }

    #[test]
    fn iso_junk_after_the_boxes_is_no_box_and_a_fragment_needs_its_data() {
        let mut mp4 = boxed(b"ftyp", 16);
        mp4.extend(boxed(b"moov", 100));
        mp4.extend(boxed(b"mdat", 500));
        let whole = mp4.clone();
        mp4.extend_from_slice(&[0x0a; 8]);
        assert_eq!(cut(&mp4, MediaFormat::Mp4), None);
        // Text looks like a box that runs past the end: past the media, it is bytes after.
        let mut text = whole.clone();
        text.extend_from_slice(b"garbage!garbage!");
        assert_eq!(cut(&text, MediaFormat::Mp4), None);
        // A cut in the media data is a cut, wherever it is.
        let mut late = whole.clone();
        late.extend(boxed(b"mdat", 300));
        assert!(cut(&late[..late.len() - 1], MediaFormat::Mp4).is_some());
        let mut fragmented = whole;
        fragmented.extend(boxed(b"moof", 40));
        assert!(cut(&fragmented, MediaFormat::Mp4).is_some());
        fragmented.extend(boxed(b"mdat", 300));
        assert_eq!(cut(&fragmented, MediaFormat::Mp4), None);
    }

    #[test]
    fn formats_that_cannot_tell_are_whole() {
        assert_eq!(
            cut(
                b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81",
                MediaFormat::Webm
            ),
            None
        );
        assert_eq!(cut(b"ID3\x04\0\0\0\0\0\0\xff\xfb", MediaFormat::Mp3), None);
    }
}
