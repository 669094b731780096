//! Media: the kinds a field takes (image, video, audio) and the file formats of each, with
//! their MIME types, file extensions and magic bytes.

use std::fmt;

/// What a media field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MediaKind {
    /// Images (`image_uri`, `image_uris`).
    Image,
    /// Videos (`video_uri`, `video_uris`).
    Video,
    /// Audio (`audio_uri`, `audio_uris`).
    Audio,
}

impl MediaKind {
    /// Every kind.
    pub const ALL: [MediaKind; 3] = [MediaKind::Image, MediaKind::Video, MediaKind::Audio];

    /// The `format` of a field holding one file of this kind.
    pub const fn format(self) -> &'static str {
        match self {
            MediaKind::Image => "image_uri",
            MediaKind::Video => "video_uri",
            MediaKind::Audio => "audio_uri",
        }
    }

    /// The `format` of an array holding files of this kind.
    pub const fn list_format(self) -> &'static str {
        match self {
            MediaKind::Image => "image_uris",
            MediaKind::Video => "video_uris",
            MediaKind::Audio => "audio_uris",
        }
    }

    /// The lowercase word for the kind (`image`), as outputs name it too (`RunComfy`'s
    /// `output_type` is its upper case).
    pub const fn name(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
        }
    }

    /// The kind a name means: `image`, `IMAGE`, `video`, `audio`.
    pub fn parse(name: &str) -> Option<MediaKind> {
        MediaKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name.trim()))
    }

    /// A file of this kind, with its article, for messages: `an image`, `a video`.
    pub const fn a_file(self) -> &'static str {
        match self {
            MediaKind::Image => "an image",
            MediaKind::Video => "a video",
            MediaKind::Audio => "an audio file",
        }
    }

    /// Files of this kind, for messages and docs: `images`, `videos`, `audio files`.
    pub const fn files(self) -> &'static str {
        match self {
            MediaKind::Image => "images",
            MediaKind::Video => "videos",
            MediaKind::Audio => "audio files",
        }
    }

    /// Whether an output property the schema does not list holds files, by its name: its
    /// last word is a kind of media, `file` or `url`, singular or plural (`images`, `video`,
    /// `audio_url`, `mask_files`; not `image_description`).
    pub fn names_output_files(name: &str) -> bool {
        crate::price::words(name).last().is_some_and(|last| {
            matches!(
                last.strip_suffix('s').unwrap_or(last),
                "image" | "video" | "audio" | "file" | "url" | "uri"
            )
        })
    }

    /// The kind a field name suggests (`reference_videos` → video), for a field that carries
    /// `validations` but no media `format`. Images unless the name says otherwise.
    pub fn guess_from_name(name: &str) -> MediaKind {
        let name = name.to_ascii_lowercase();
        if name.contains("video") {
            MediaKind::Video
        } else if ["audio", "voice", "sound", "music"]
            .iter()
            .any(|w| name.contains(w))
        {
            MediaKind::Audio
        } else {
            MediaKind::Image
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a media `format` says: the kind of file, and whether the field holds a list of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MediaFormatName {
    /// The kind of file.
    pub kind: MediaKind,
    /// `image_uris` rather than `image_uri`.
    pub list: bool,
}

impl MediaFormatName {
    /// Reads a schema `format` value: `image_uri`, `image_uris`, ...
    pub fn parse(format: &str) -> Option<MediaFormatName> {
        MediaKind::ALL.into_iter().find_map(|kind| {
            if format == kind.format() {
                Some(MediaFormatName { kind, list: false })
            } else if format == kind.list_format() {
                Some(MediaFormatName { kind, list: true })
            } else {
                None
            }
        })
    }
}

/// A file format, recognised from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MediaFormat {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
    /// GIF.
    Gif,
    /// BMP.
    Bmp,
    /// TIFF.
    Tiff,
    /// HEIF and HEIC (ISO-BMFF images).
    Heif,
    /// AVIF (ISO-BMFF images).
    Avif,
    /// MP4 video (ISO-BMFF).
    Mp4,
    /// QuickTime video.
    Mov,
    /// WebM or Matroska video.
    Webm,
    /// AVI video (RIFF).
    Avi,
    /// WAV audio.
    Wav,
    /// MP3 audio.
    Mp3,
    /// Ogg audio (Vorbis, Opus).
    Ogg,
    /// FLAC audio.
    Flac,
    /// AAC audio in an MPEG-4 container (`.m4a`).
    M4a,
    /// Raw AAC audio (ADTS).
    Aac,
}

impl MediaFormat {
    /// Every format.
    pub const ALL: &'static [MediaFormat] = &[
        MediaFormat::Jpeg,
        MediaFormat::Png,
        MediaFormat::Webp,
        MediaFormat::Gif,
        MediaFormat::Bmp,
        MediaFormat::Tiff,
        MediaFormat::Heif,
        MediaFormat::Avif,
        MediaFormat::Mp4,
        MediaFormat::Mov,
        MediaFormat::Webm,
        MediaFormat::Avi,
        MediaFormat::Wav,
        MediaFormat::Mp3,
        MediaFormat::Ogg,
        MediaFormat::Flac,
        MediaFormat::M4a,
        MediaFormat::Aac,
    ];

    /// The lowercase name overlays and messages use (`jpeg`, `mp4`).
    pub const fn name(self) -> &'static str {
        match self {
            MediaFormat::Jpeg => "jpeg",
            MediaFormat::Png => "png",
            MediaFormat::Webp => "webp",
            MediaFormat::Gif => "gif",
            MediaFormat::Bmp => "bmp",
            MediaFormat::Tiff => "tiff",
            MediaFormat::Heif => "heif",
            MediaFormat::Avif => "avif",
            MediaFormat::Mp4 => "mp4",
            MediaFormat::Mov => "mov",
            MediaFormat::Webm => "webm",
            MediaFormat::Avi => "avi",
            MediaFormat::Wav => "wav",
            MediaFormat::Mp3 => "mp3",
            MediaFormat::Ogg => "ogg",
            MediaFormat::Flac => "flac",
            MediaFormat::M4a => "m4a",
            MediaFormat::Aac => "aac",
        }
    }

    /// The article its name takes read aloud (`an mp4`, `a png`): `an` where the name starts
    /// with a vowel sound, spelled out (`m`) or read as a word (`avi`, `ogg`).
    pub const fn article(self) -> &'static str {
        match self {
            MediaFormat::Mp4
            | MediaFormat::Mp3
            | MediaFormat::M4a
            | MediaFormat::Avi
            | MediaFormat::Avif
            | MediaFormat::Ogg
            | MediaFormat::Aac => "an",
            _ => "a",
        }
    }

    /// What kind of media the format holds.
    pub const fn kind(self) -> MediaKind {
        match self {
            MediaFormat::Jpeg
            | MediaFormat::Png
            | MediaFormat::Webp
            | MediaFormat::Gif
            | MediaFormat::Bmp
            | MediaFormat::Tiff
            | MediaFormat::Heif
            | MediaFormat::Avif => MediaKind::Image,
            MediaFormat::Mp4 | MediaFormat::Mov | MediaFormat::Webm | MediaFormat::Avi => {
                MediaKind::Video
            }
            MediaFormat::Wav
            | MediaFormat::Mp3
            | MediaFormat::Ogg
            | MediaFormat::Flac
            | MediaFormat::M4a
            | MediaFormat::Aac => MediaKind::Audio,
        }
    }

    /// Whether a file of this format can be a file of `kind`: its own kind, and audio too for
    /// the containers that hold video (an MP4, MOV or WebM of sound alone is common) and video
    /// for Ogg (Theora). An image format holds images only.
    pub const fn may_hold(self, kind: MediaKind) -> bool {
        match (self, kind) {
            (MediaFormat::Mp4 | MediaFormat::Mov | MediaFormat::Webm, MediaKind::Audio)
            | (MediaFormat::Ogg, MediaKind::Video) => true,
            (format, kind) => matches!(
                (format.kind(), kind),
                (MediaKind::Image, MediaKind::Image)
                    | (MediaKind::Video, MediaKind::Video)
                    | (MediaKind::Audio, MediaKind::Audio)
            ),
        }
    }

    /// The MIME type.
    pub const fn mime(self) -> &'static str {
        match self {
            MediaFormat::Jpeg => "image/jpeg",
            MediaFormat::Png => "image/png",
            MediaFormat::Webp => "image/webp",
            MediaFormat::Gif => "image/gif",
            MediaFormat::Bmp => "image/bmp",
            MediaFormat::Tiff => "image/tiff",
            MediaFormat::Heif => "image/heif",
            MediaFormat::Avif => "image/avif",
            MediaFormat::Mp4 => "video/mp4",
            MediaFormat::Mov => "video/quicktime",
            MediaFormat::Webm => "video/webm",
            MediaFormat::Avi => "video/x-msvideo",
            MediaFormat::Wav => "audio/wav",
            MediaFormat::Mp3 => "audio/mpeg",
            MediaFormat::Ogg => "audio/ogg",
            MediaFormat::Flac => "audio/flac",
            MediaFormat::M4a => "audio/mp4",
            MediaFormat::Aac => "audio/aac",
        }
    }

    /// The MIME type of a file of this format that holds sound alone (no video track), where
    /// it differs from [`mime`](Self::mime): `audio/mp4` (RFC 4337), `audio/webm`.
    pub const fn sound_only_mime(self) -> Option<&'static str> {
        match self {
            MediaFormat::Mp4 => Some("audio/mp4"),
            MediaFormat::Webm => Some("audio/webm"),
            _ => None,
        }
    }

    /// Other MIME types that name the format (`image/jpg`, `image/avif`, `audio/x-wav`).
    pub const fn other_mimes(self) -> &'static [&'static str] {
        match self {
            MediaFormat::Jpeg => &["image/jpg", "image/pjpeg"],
            MediaFormat::Heif => &["image/heic", "image/heif-sequence", "image/heic-sequence"],
            MediaFormat::Wav => &["audio/x-wav", "audio/wave", "audio/vnd.wave"],
            MediaFormat::Mp3 => &["audio/mp3"],
            MediaFormat::M4a => &["audio/x-m4a"],
            MediaFormat::Flac => &["audio/x-flac"],
            MediaFormat::Webm => &["video/x-matroska"],
            MediaFormat::Avi => &["video/avi", "video/msvideo", "video/vnd.avi"],
            _ => &[],
        }
    }

    /// The usual file extension, without the dot.
    pub const fn extension(self) -> &'static str {
        match self {
            MediaFormat::Jpeg => "jpg",
            other => other.name(),
        }
    }

    /// The format a name means (`jpeg`, `jpg`, `JPEG`, `mp4`), as overlays write them.
    pub fn parse(name: &str) -> Option<MediaFormat> {
        let name = name.trim().to_ascii_lowercase();
        let name = match name.as_str() {
            "jpg" => "jpeg",
            "heic" => "heif",
            "tif" => "tiff",
            "quicktime" => "mov",
            "mkv" | "matroska" => "webm",
            "wave" => "wav",
            "mpeg" => "mp3",
            "oga" | "opus" => "ogg",
            other => other,
        };
        MediaFormat::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// The format of a MIME type, if one of this list.
    pub fn from_mime(mime: &str) -> Option<MediaFormat> {
        let mime = mime.split(';').next().unwrap_or_default().trim();
        MediaFormat::ALL.iter().copied().find(|f| {
            f.mime().eq_ignore_ascii_case(mime)
                || f.other_mimes().iter().any(|m| m.eq_ignore_ascii_case(mime))
        })
    }

    /// The format whose usual extension a file name ends with.
    pub fn from_extension(name: &str) -> Option<MediaFormat> {
        let (_, ext) = name.rsplit_once('.')?;
        MediaFormat::parse(ext)
    }

    /// Recognises a format from the first bytes of a file (12 are enough); `None` for anything
    /// else, too short a start included. Images are told as the `imagesize` crate tells them,
    /// so a file's declared type and its measured one agree.
    pub fn sniff(bytes: &[u8]) -> Option<MediaFormat> {
        let at =
            |offset: usize, magic: &[u8]| bytes.get(offset..offset + magic.len()) == Some(magic);
        if at(0, b"\xff\xd8\xff") {
            Some(MediaFormat::Jpeg)
        } else if at(0, b"\x89PNG") {
            Some(MediaFormat::Png)
        } else if at(0, b"GIF8") {
            Some(MediaFormat::Gif)
        } else if at(0, b"RIFF") && at(8, b"WEBP") {
            Some(MediaFormat::Webp)
        } else if at(0, b"RIFF") && at(8, b"WAVE") {
            Some(MediaFormat::Wav)
        } else if at(0, b"RIFF") && at(8, b"AVI ") {
            Some(MediaFormat::Avi)
        } else if at(0, b"BM") {
            Some(MediaFormat::Bmp)
        } else if at(0, b"II*\0") || at(0, b"MM\0*") || at(0, b"II+\0") || at(0, b"MM\0+") {
            Some(MediaFormat::Tiff)
        } else if at(4, b"ftyp") {
            Some(iso_bmff(bytes.get(8..12)?))
        } else if [b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"]
            .iter()
            .any(|atom| at(4, *atom))
        {
            // Classic QuickTime files open with an atom of the movie or its padding, no `ftyp`.
            Some(MediaFormat::Mov)
        } else if at(0, b"\x1a\x45\xdf\xa3") {
            Some(MediaFormat::Webm)
        } else if at(0, b"OggS") {
            Some(MediaFormat::Ogg)
        } else if at(0, b"fLaC") {
            Some(MediaFormat::Flac)
        } else if at(0, b"ID3") {
            Some(MediaFormat::Mp3)
        } else if let [0xff, second, ..] = bytes {
            // MPEG audio frame sync: 11 set bits. Layer bits `00` are AAC's ADTS.
            match second & 0xf6 {
                0xf0 => Some(MediaFormat::Aac),
                _ if second & 0xe0 == 0xe0 && second & 0x06 != 0 => Some(MediaFormat::Mp3),
                _ => None,
            }
        } else {
            None
        }
    }
}

/// The format of an ISO-BMFF file from its major brand.
fn iso_bmff(brand: &[u8]) -> MediaFormat {
    match brand {
        // The image brands `imagesize` knows, so no image it measures is taken for a video.
        b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"hevm" | b"hevs" | b"mif1"
        | b"mif2" | b"miaf" | b"msf1" | b"jpeg" | b"jpgs" => MediaFormat::Heif,
        b"avif" | b"avis" | b"avio" | b"MA1A" | b"MA1B" => MediaFormat::Avif,
        b"qt  " => MediaFormat::Mov,
        b"M4A " | b"M4B " => MediaFormat::M4a,
        _ => MediaFormat::Mp4,
    }
}

impl fmt::Display for MediaFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Formats in prose: `jpeg`, `jpeg or png`, `jpeg, png or webp`.
pub fn list(formats: &[MediaFormat]) -> String {
    let names: Vec<&str> = formats.iter().map(|f| f.name()).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_every_kind() {
        let cases: [(&[u8], MediaFormat); 16] = [
            (b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", MediaFormat::Png),
            (b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01", MediaFormat::Jpeg),
            (b"RIFF\0\0\0\0WEBPVP8 ", MediaFormat::Webp),
            (b"\0\0\0\x20ftypisom\0\0\x02\0", MediaFormat::Mp4),
            (b"\0\0\0\x14ftypqt  \0\0\0\0", MediaFormat::Mov),
            (b"\0\0\0\x1cftypheic\0\0\0\0", MediaFormat::Heif),
            (b"\0\0\0\x1cftypM4A \0\0\0\0", MediaFormat::M4a),
            (b"RIFF\0\0\0\0WAVEfmt ", MediaFormat::Wav),
            (b"RIFF\0\0\0\0AVI LIST", MediaFormat::Avi),
            (b"ID3\x04\0\0\0\0\0\0", MediaFormat::Mp3),
            (b"\xff\xfb\x90\x64\0\0", MediaFormat::Mp3),
            (b"\xff\xf1\x50\x80\0\0", MediaFormat::Aac),
            (b"\x1a\x45\xdf\xa3\x9f\x42", MediaFormat::Webm),
            (b"\0\0\0\x08wide\0\0\x06\x91mdat", MediaFormat::Mov),
            (b"\0\0\0\x1cftypavio\0\0\0\0", MediaFormat::Avif),
            (b"\0\0\0\x1cftypmiaf\0\0\0\0", MediaFormat::Heif),
        ];
        for (bytes, format) in cases {
            assert_eq!(MediaFormat::sniff(bytes), Some(format), "{format}");
        }
        // QuickTime that opens with padding.
        assert_eq!(
            MediaFormat::sniff(b"\0\0\0\x08skip\0\0\0\x10moov"),
            Some(MediaFormat::Mov)
        );
        assert_eq!(MediaFormat::sniff(b"hello, world"), None);
        assert_eq!(MediaFormat::sniff(b""), None);
        assert_eq!(MediaFormat::sniff(b"\0\0\0\x20ftyp"), None);
    }

    #[test]
    fn what_formats_may_hold() {
        for format in MediaFormat::ALL {
            assert!(format.may_hold(format.kind()), "{format}");
        }
        assert!(MediaFormat::Mp4.may_hold(MediaKind::Audio));
        assert!(MediaFormat::Webm.may_hold(MediaKind::Audio));
        assert!(MediaFormat::Ogg.may_hold(MediaKind::Video));
        assert!(!MediaFormat::Png.may_hold(MediaKind::Video));
        assert!(!MediaFormat::Wav.may_hold(MediaKind::Video));
        assert!(!MediaFormat::Mp4.may_hold(MediaKind::Image));
        assert!(!MediaFormat::M4a.may_hold(MediaKind::Video));
    }

    #[test]
    fn names_mimes_and_extensions() {
        for format in MediaFormat::ALL {
            assert_eq!(MediaFormat::parse(format.name()), Some(*format));
            assert_eq!(MediaFormat::from_mime(format.mime()), Some(*format));
            assert_eq!(
                MediaFormat::from_extension(&format!("a.{}", format.extension())),
                Some(*format)
            );
        }
        assert_eq!(MediaFormat::parse("JPG"), Some(MediaFormat::Jpeg));
        assert_eq!(MediaFormat::from_mime("image/jpg"), Some(MediaFormat::Jpeg));
        assert_eq!(MediaFormat::from_mime("video/avi"), Some(MediaFormat::Avi));
        assert_eq!(MediaFormat::parse("psd"), None);
    }

    #[test]
    fn media_format_names() {
        assert_eq!(
            MediaFormatName::parse("video_uris"),
            Some(MediaFormatName {
                kind: MediaKind::Video,
                list: true
            })
        );
        assert_eq!(
            MediaFormatName::parse("audio_uri"),
            Some(MediaFormatName {
                kind: MediaKind::Audio,
                list: false
            })
        );
        assert_eq!(MediaFormatName::parse("uri"), None);
        assert_eq!(
            MediaKind::guess_from_name("reference_videos"),
            MediaKind::Video
        );
        assert_eq!(MediaKind::parse("AUDIO"), Some(MediaKind::Audio));
        for files in ["images", "video", "audio_url", "maskFiles", "video_uris"] {
            assert!(MediaKind::names_output_files(files), "{files}");
        }
        for other in ["image_description", "seed", "has_nsfw_concepts", "s", ""] {
            assert!(!MediaKind::names_output_files(other), "{other}");
        }
    }

    #[test]
    fn lists_in_prose() {
        assert_eq!(list(&[MediaFormat::Jpeg]), "jpeg");
        assert_eq!(list(&[MediaFormat::Jpeg, MediaFormat::Png]), "jpeg or png");
        assert_eq!(
            list(&[MediaFormat::Jpeg, MediaFormat::Png, MediaFormat::Webp]),
            "jpeg, png or webp"
        );
    }
}
