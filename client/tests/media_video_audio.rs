//! Video and audio fields, on real files (`tests/fixtures/media`, and the simulator's clip):
//! formats told by the vocabulary's magic bytes, files of the wrong kind refused, video
//! dimensions measured from MP4, QuickTime, WebM and Matroska headers, and every video whose
//! dimensions a rule needs but cannot be read reported, never passed.

// Tests fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path as FsPath, PathBuf};

use runcomfy::Media;
use runcomfy::media::{Files, data_uri};
use runcomfy::schema::{MediaFormat, MediaKind, MediaRule, MediaSpec, Rule, Schema, Types};
use runcomfy::validate::{self, Severity, ValidationReport};
use runcomfy::vocab::pointer::Path;

const LANDSCAPE: &str = "The video must be landscape, 64 to 4096 px wide.";
const SIZE: &str = "Each clip must be under 1 MB.";

/// A video field with every kind of rule: landscape, 64 to 4096 px wide, 48 px high at least.
static VIDEO: MediaSpec = MediaSpec {
    kind: MediaKind::Video,
    formats: &[],
    rules: &[
        rule(Rule::FileSizeMbBelow, 1.0, SIZE),
        rule(Rule::AspectRatioAbove, 1.0, LANDSCAPE),
        rule(Rule::WidthAbove, 63.0, LANDSCAPE),
        rule(Rule::WidthBelow, 4097.0, LANDSCAPE),
        rule(Rule::HeightAbove, 47.0, LANDSCAPE),
    ],
};

/// A video field that takes MP4 only, with a size rule and nothing to measure.
static MP4_ONLY: MediaSpec = MediaSpec {
    kind: MediaKind::Video,
    formats: &[MediaFormat::Mp4],
    rules: &[rule(Rule::FileSizeMbBelow, 1.0, SIZE)],
};

/// A video field with only a size rule: any video passes, known format or not.
static ANY_VIDEO: MediaSpec = MediaSpec {
    kind: MediaKind::Video,
    formats: &[],
    rules: &[rule(Rule::FileSizeMbBelow, 1.0, SIZE)],
};

static MP3_OR_WAV: MediaSpec = MediaSpec {
    kind: MediaKind::Audio,
    formats: &[MediaFormat::Mp3, MediaFormat::Wav],
    rules: &[rule(Rule::FileSizeMbBelow, 1.0, SIZE)],
};

static ANY_AUDIO: MediaSpec = MediaSpec {
    kind: MediaKind::Audio,
    formats: &[],
    rules: &[],
};

static ANY_IMAGE: MediaSpec = MediaSpec {
    kind: MediaKind::Image,
    formats: &[],
    rules: &[],
};

const fn rule(rule: Rule, limit: f64, message: &'static str) -> MediaRule {
    MediaRule {
        rule,
        limit,
        message,
    }
}

fn fixture_path(name: &str) -> PathBuf {
    FsPath::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/media")
        .join(name)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

/// The simulator's H.264 clip: 160x90, movie header first.
fn simulator_clip() -> PathBuf {
    FsPath::new(env!("CARGO_MANIFEST_DIR")).join("../simulator/assets/clip.mp4")
}

/// A PCM WAV of `samples` silent 8-bit mono samples.
fn wav(samples: u32) -> Vec<u8> {
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(36 + samples).to_le_bytes());
    out.extend_from_slice(
        b"WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x40\x1f\0\0\x01\0\x08\0data",
    );
    out.extend_from_slice(&samples.to_le_bytes());
    out.resize(out.len() + samples as usize, 0x80);
    out
}

/// A real 16x16 PNG.
fn png() -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 16, 16);
    encoder.set_color(png::ColorType::Grayscale);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&[0; 256]).unwrap();
    writer.finish().unwrap();
    out
}

fn check(media: &Media, spec: &'static MediaSpec) -> ValidationReport {
    let schema: &'static Schema = Box::leak(Box::new(Schema {
        types: Types::STRING,
        media: Some(spec),
        ..Schema::ANY
    }));
    validate::value(
        schema,
        media,
        &Path::root().key("clips").index(0),
        Files::Local,
    )
}

/// The same bytes as a file, as bytes and as a `data:` URI: one report (a file's problems
/// each naming it besides), returned as the bytes' is.
fn check_every_way(bytes: &[u8], spec: &'static MediaSpec) -> ValidationReport {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip");
    std::fs::write(&path, bytes).unwrap();
    let from_file = check(&Media::Path(path.clone()), spec);
    let from_bytes = check(&Media::bytes(bytes.to_vec()), spec);
    assert_eq!(check(&Media::DataUri(data_uri(bytes)), spec), from_bytes);
    let of_file = format!(" of {}", path.display());
    let named = from_bytes.problems().iter().map(|p| {
        let mut named = p.clone();
        named.value = Some(match &p.value {
            Some(measured) => format!("{measured}{of_file}"),
            None => format!("file {}", path.display()),
        });
        named
    });
    assert_eq!(from_file.problems(), named.collect::<Vec<_>>());
    from_bytes
}

/// An error as `(rule, value, message)`.
type Error = (String, Option<String>, String);

/// Each error of the report.
fn errors(report: &ValidationReport) -> Vec<Error> {
    assert!(report.problems().iter().all(|p| p.path == "clips[0]"));
    report
        .errors()
        .map(|p| (p.rule.clone(), p.value.clone(), p.message.clone()))
        .collect()
}

fn error(rule: &str, value: &str, message: &str) -> Error {
    (rule.to_owned(), Some(value.to_owned()), message.to_owned())
}

fn assert_clean(report: &ValidationReport) {
    assert!(report.problems().is_empty(), "{report}");
}

#[test]
fn video_dimensions_are_measured_in_every_container() {
    // Landscape, wide and high enough: MP4 (movie header first or last), QuickTime, WebM
    // (sizes known or live), Matroska, AVI.
    for name in [
        "moov-at-end-64x48.mp4",
        "anamorphic-100x100.mp4",
        "clip-176x144.mov",
        "live-160x120.webm",
        "clip-100x60.mkv",
        "sound-first-96x64.avi",
    ] {
        let report = check_every_way(&fixture(name), &VIDEO);
        // The anamorphic clip is 100x100 as coded (200x100 shown): not landscape.
        if name.starts_with("anamorphic") {
            assert_eq!(
                errors(&report),
                [error(
                    "width/height>",
                    "aspect ratio 1.00 (100x100)",
                    LANDSCAPE
                )],
                "{name}"
            );
        } else {
            assert_clean(&report);
        }
    }
    assert_clean(&check(&Media::Path(simulator_clip()), &VIDEO));
}

#[test]
fn video_dimension_rules_fail_as_written() {
    let report = check_every_way(&fixture("portrait-90x160.webm"), &VIDEO);
    assert_eq!(
        errors(&report),
        [error(
            "width/height>",
            "aspect ratio 0.56 (90x160)",
            LANDSCAPE
        )]
    );
    // The video track comes after a sound track.
    let report = check_every_way(&fixture("sound-first-48x64.mp4"), &VIDEO);
    assert_eq!(
        errors(&report),
        [
            error("width/height>", "aspect ratio 0.75 (48x64)", LANDSCAPE),
            error("width_pixels>", "width 48 px", LANDSCAPE),
        ]
    );
}

#[test]
fn a_video_whose_dimensions_cannot_be_read_is_an_error() {
    let moov_at_end = fixture("moov-at-end-64x48.mp4");
    let moov = moov_at_end.windows(4).position(|w| w == b"moov").unwrap() - 4;
    let ogg = [&b"OggS\0\x02"[..], &[0; 40]].concat();
    let cases: [(&str, Vec<u8>, Error); 6] = [
        (
            "cut before its movie header",
            moov_at_end[..moov].to_vec(),
            error(
                "format",
                "format mp4",
                "is a corrupt or truncated mp4 video: its dimensions cannot be read",
            ),
        ),
        (
            "sound alone",
            fixture("sound-only.mp4"),
            error(
                "format",
                "format mp4",
                "is an mp4 file with no video track: its dimensions cannot be read",
            ),
        ),
        (
            "a container whose header is not read",
            ogg,
            error(
                "format",
                "format ogg",
                "is an ogg video, whose dimensions cannot be checked: use mp4, mov, webm or avi",
            ),
        ),
        (
            "an AVI cut inside its headers",
            fixture("sound-first-96x64.avi")[..200].to_vec(),
            error(
                "format",
                "format avi",
                "is a corrupt or truncated avi video: its dimensions cannot be read",
            ),
        ),
        (
            "an unknown format (MPEG-TS)",
            [&[0x47u8, 0x40, 0, 0x10][..], &[0xff; 184]].concat(),
            error(
                "format",
                "unknown format",
                "is not a video whose dimensions can be read (mp4, mov, webm or avi)",
            ),
        ),
        (
            "text",
            b"not a video at all".to_vec(),
            error(
                "format",
                "unknown format",
                "is not a video whose dimensions can be read (mp4, mov, webm or avi)",
            ),
        ),
    ];
    for (what, bytes, want) in cases {
        let report = check_every_way(&bytes, &VIDEO);
        assert_eq!(errors(&report), [want], "{what}");
    }
}

#[test]
fn without_a_dimension_rule_any_video_passes_on_its_size() {
    for bytes in [
        fixture("sound-only.mp4"),
        fixture("clip-176x144.mov"),
        [&b"RIFF\0\0\0\0AVI LIST"[..], &[0; 40]].concat(),
    ] {
        assert_clean(&check_every_way(&bytes, &ANY_VIDEO));
    }
    // An MPEG transport stream (sync bytes every 188), or bytes of no format at all.
    for bytes in [
        [&[0x47u8, 0x40, 0, 0x10][..], &[0xff; 184]].concat(),
        (0..200u32).map(|i| 0x80 | (i * 37 % 127) as u8).collect(),
    ] {
        passes_unknown(&check_every_way(&bytes, &ANY_VIDEO), "video");
    }
    let mut big = fixture("moov-at-end-64x48.mp4");
    big.resize(1_048_576, 0);
    let report = check_every_way(&big, &ANY_VIDEO);
    assert_eq!(
        errors(&report),
        [error("file_size_mb<", "size 1.00 MB (1048576 bytes)", SIZE)]
    );
}

/// Issue 18: a field listing `mp4` refused every MP4 as "not a mp4 file".
#[test]
fn the_formats_of_a_video_field_are_told_from_the_magic_bytes() {
    assert_clean(&check_every_way(
        &fixture("moov-at-end-64x48.mp4"),
        &MP4_ONLY,
    ));
    assert_clean(&check(&Media::Path(simulator_clip()), &MP4_ONLY));
    for (name, format) in [
        ("clip-176x144.mov", "mov"),
        ("portrait-90x160.webm", "webm"),
        ("clip-100x60.mkv", "webm"),
    ] {
        let report = check_every_way(&fixture(name), &MP4_ONLY);
        assert_eq!(
            errors(&report),
            [error("format", &format!("format {format}"), "must be mp4")],
            "{name}"
        );
    }
    let report = check_every_way(b"<html>not found</html>", &MP4_ONLY);
    assert_eq!(
        errors(&report),
        [error("format", "unknown format", "is not an mp4 file")]
    );
}

#[test]
fn the_formats_of_an_audio_field_are_told_from_the_magic_bytes() {
    assert_clean(&check_every_way(&fixture("tone.mp3"), &MP3_OR_WAV));
    assert_clean(&check_every_way(&wav(800), &MP3_OR_WAV));
    let report = check_every_way(&fixture("tone.m4a"), &MP3_OR_WAV);
    assert_eq!(
        errors(&report),
        [error("format", "format m4a", "must be mp3 or wav")]
    );
    for name in ["tone.m4a", "tone.mp3", "sound-only.mp4"] {
        assert_clean(&check_every_way(&fixture(name), &ANY_AUDIO));
    }
    assert_clean(&check_every_way(&wav(800), &ANY_AUDIO));
}

#[test]
fn a_file_of_the_wrong_kind_is_refused_naming_the_field() {
    let cases: [(&'static MediaSpec, Vec<u8>, &str, &str); 5] = [
        (&VIDEO, png(), "format png", "is a png image, not a video"),
        (
            &MP4_ONLY,
            fixture("tone.mp3"),
            "format mp3",
            "is an mp3 audio file, not a video",
        ),
        (
            &ANY_VIDEO,
            wav(10),
            "format wav",
            "is a wav audio file, not a video",
        ),
        (
            &ANY_AUDIO,
            png(),
            "format png",
            "is a png image, not an audio file",
        ),
        (
            &ANY_IMAGE,
            fixture("clip-176x144.mov"),
            "format mov",
            "is a mov video, not an image",
        ),
    ];
    for (spec, bytes, value, message) in cases {
        let report = check_every_way(&bytes, spec);
        assert_eq!(
            errors(&report),
            [error("format", value, message)],
            "{report}"
        );
        assert!(
            report
                .to_string()
                .contains(&format!("clips[0]: {message} (format; {value})")),
            "{report}"
        );
    }
}

/// Video and audio of formats the vocabulary does not name pass a field that lists none; text
/// (a note, a password file, an error page) is no video or audio file of any format.
#[test]
fn text_is_refused_where_any_video_or_audio_is_taken() {
    let texts: [&[u8]; 3] = [
        b"hello world this is text\n",
        b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n",
        "<html><title>Connexion refusée</title></html>\r\n".as_bytes(),
    ];
    for text in texts {
        for (spec, kind) in [(&ANY_AUDIO, "an audio file"), (&ANY_VIDEO, "a video")] {
            let report = check_every_way(text, spec);
            assert_eq!(
                errors(&report),
                [error("format", "text", &format!("is text, not {kind}"))],
                "{text:?}"
            );
        }
    }
    // Binary of no named format still passes (an AIFF, whose size field holds zeros), said.
    passes_unknown(
        &check_every_way(b"FORM\0\0\0\x10AIFFCOMM", &ANY_AUDIO),
        "audio",
    );
}

/// A file of no format the vocabulary names passes, with a warning that says so: it may be
/// media the server takes, or no media at all.
fn passes_unknown(report: &ValidationReport, kind: &str) {
    assert!(report.is_valid(), "{report}");
    let warnings: Vec<_> = report.warnings().collect();
    assert_eq!(warnings.len(), 1, "{report}");
    assert!(
        warnings[0].message.starts_with(&format!(
            "is a file of no {kind} format this client knows ("
        )),
        "{report}"
    );
}

#[test]
fn a_dimension_rule_on_audio_is_an_error_not_a_pass() {
    // The generator refuses such a rule; a spec written by hand is still not passed.
    static AUDIO_WIDTH: MediaSpec = MediaSpec {
        kind: MediaKind::Audio,
        formats: &[],
        rules: &[rule(Rule::WidthAbove, 10.0, "wide")],
    };
    let report = check_every_way(&fixture("tone.mp3"), &AUDIO_WIDTH);
    let problems: Vec<_> = report
        .problems()
        .iter()
        .map(|p| (p.severity, p.rule.as_str(), p.message.as_str()))
        .collect();
    assert_eq!(
        problems,
        [(
            Severity::Error,
            "width_pixels>",
            "cannot be measured on an audio file"
        )]
    );
}
