//! Media validation against the Seedream 4.0 image rules, on real PNG and JPEG files made here.

// Tests fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use runcomfy::Media;
use runcomfy::media::{Files, data_uri};
use runcomfy::schema::{MediaFormat, MediaKind, MediaRule, MediaSpec, Rule, Schema, Types};
use runcomfy::validate::{self, Problem, Severity, ValidationReport};
use runcomfy::vocab::pointer::Path;

const SIZE_MESSAGE: &str = "File size must be less than 10 MB.";
const RATIO_MESSAGE: &str = "The aspect ratio range should be 1:3 to 3:1.";
const MIN_MESSAGE: &str = "The uploaded image width and height must exceed 14 pixels.";
const MAX_MESSAGE: &str = "The uploaded image width and height must not exceed 6000 pixels.";

/// The `images` field of the seed schemas (`validations`), plus the overlay's formats.
static SEED: MediaSpec = MediaSpec {
    kind: MediaKind::Image,
    formats: &[MediaFormat::Jpeg, MediaFormat::Png],
    rules: &SEED_RULES,
};

static SEED_RULES: [MediaRule; 7] = [
    rule(Rule::FileSizeMbBelow, 10.0, SIZE_MESSAGE),
    rule(Rule::AspectRatioAbove, 0.33, RATIO_MESSAGE),
    rule(Rule::AspectRatioBelow, 3.0, RATIO_MESSAGE),
    rule(Rule::WidthAbove, 14.0, MIN_MESSAGE),
    rule(Rule::HeightAbove, 14.0, MIN_MESSAGE),
    rule(Rule::WidthBelow, 6000.0, MAX_MESSAGE),
    rule(Rule::HeightBelow, 6000.0, MAX_MESSAGE),
];

const fn rule(rule: Rule, limit: f64, message: &'static str) -> MediaRule {
    MediaRule {
        rule,
        limit,
        message,
    }
}

/// A real PNG, one bit per pixel so even 6000 px wide ones are small.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().unwrap();
    let row = width.div_ceil(8) as usize;
    writer
        .write_image_data(&vec![0x55; row * height as usize])
        .unwrap();
    writer.finish().unwrap();
    out
}

/// A real grayscale JPEG.
fn jpeg(width: u16, height: u16) -> Vec<u8> {
    jpeg_with_icc(width, height, &[])
}

/// A JPEG with an ICC profile of `icc` bytes, stored in APP2 segments before the frame header.
fn jpeg_with_icc(width: u16, height: u16, icc: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 50);
    if !icc.is_empty() {
        encoder.add_icc_profile(icc).unwrap();
    }
    let pixels = vec![128u8; width as usize * height as usize];
    encoder
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Luma)
        .unwrap();
    out
}

/// `bytes` padded with zeros to exactly `size` bytes, as trailing data after the image.
fn padded(mut bytes: Vec<u8>, size: usize) -> Vec<u8> {
    assert!(bytes.len() <= size);
    bytes.resize(size, 0);
    bytes
}

/// The JPEG cut just after its frame header's marker and length, before the dimensions.
fn cut_in_frame_header(mut jpeg: Vec<u8>) -> Vec<u8> {
    let sof = jpeg.windows(2).position(|w| w == [0xff, 0xc0]).unwrap();
    jpeg.truncate(sof + 6);
    jpeg
}

/// A minimal WebP (VP8X) header of the given size.
fn webp(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"RIFF\x24\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
    out.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    out.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    out.resize(44, 0);
    out
}

/// A minimal GIF header of the given size.
fn gif(width: u16, height: u16) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(&[0; 16]);
    out
}

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Dir(tempfile::tempdir().unwrap())
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

fn check(media: &Media) -> ValidationReport {
    check_with(media, &SEED)
}

fn check_with(media: &Media, spec: &'static MediaSpec) -> ValidationReport {
    check_at(media, spec, 0)
}

/// Validates `media` as item `index` of a media list whose items take `spec`.
fn check_at(media: &Media, spec: &'static MediaSpec, index: usize) -> ValidationReport {
    let schema: &'static Schema = Box::leak(Box::new(Schema {
        types: Types::STRING,
        media: Some(spec),
        ..Schema::ANY
    }));
    let path = Path::root().key("images").index(index);
    validate::value(schema, media, &path, Files::Local)
}

fn check_file(bytes: &[u8]) -> ValidationReport {
    let dir = Dir::new();
    check(&Media::Path(dir.file("image", bytes)))
}

/// Each problem as (rule, value), to compare with what a case expects.
fn rules_and_values(report: &ValidationReport) -> Vec<(String, Option<String>)> {
    report
        .problems()
        .iter()
        .map(|p| (p.rule.clone(), measured(p)))
        .collect()
}

/// A problem's measurement without the local file it names (`width 14 px of /tmp/.../image`,
/// or `file /tmp/...` without one), which each problem of a file says.
fn measured(problem: &Problem) -> Option<String> {
    let value = problem.value.as_deref()?;
    if value.starts_with("file /") {
        return None;
    }
    match value.rsplit_once(" of /") {
        Some((measured, _)) => Some(measured.to_owned()),
        None => Some(value.to_owned()),
    }
}

fn one_error(report: &ValidationReport) -> &Problem {
    assert_eq!(report.problems().len(), 1, "{report}");
    let problem = &report.problems()[0];
    assert_eq!(problem.severity, Severity::Error);
    assert_eq!(problem.path, "images[0]");
    problem
}

fn assert_one_rule_error(bytes: &[u8], rule: &str, value: &str, message: &str) {
    let report = check_file(bytes);
    let problem = one_error(&report);
    assert_eq!(problem.rule, rule, "{report}");
    assert_eq!(measured(problem).as_deref(), Some(value), "{report}");
    assert!(
        problem
            .value
            .as_deref()
            .is_some_and(|v| v.ends_with("/image")),
        "the file is named: {report}"
    );
    assert_eq!(problem.message, message);
}

fn assert_valid(bytes: &[u8]) {
    let report = check_file(bytes);
    assert!(report.problems().is_empty(), "{report}");
}

#[test]
fn images_inside_every_bound_pass() {
    for bytes in [
        png(15, 15),
        png(5999, 2000),
        png(2000, 5999),
        png(1000, 3000),
        png(2999, 1000),
        jpeg(15, 15),
        jpeg(2000, 1000),
    ] {
        assert_valid(&bytes);
    }
}

#[test]
fn width_and_height_must_exceed_14_px() {
    assert_one_rule_error(&png(14, 15), "width_pixels>", "width 14 px", MIN_MESSAGE);
    assert_one_rule_error(&png(15, 14), "height_pixels>", "height 14 px", MIN_MESSAGE);
    assert_one_rule_error(&jpeg(14, 15), "width_pixels>", "width 14 px", MIN_MESSAGE);
    assert_one_rule_error(&jpeg(15, 14), "height_pixels>", "height 14 px", MIN_MESSAGE);
    assert_valid(&jpeg(15, 15));
}

#[test]
fn width_and_height_must_stay_below_6000_px() {
    let (wide, tall) = (png(6000, 2001), png(2001, 6000));
    assert_one_rule_error(&wide, "width_pixels<", "width 6000 px", MAX_MESSAGE);
    assert_one_rule_error(&tall, "height_pixels<", "height 6000 px", MAX_MESSAGE);
    assert_valid(&png(5999, 2000));
    assert_valid(&png(2000, 5999));
}

#[test]
fn aspect_ratio_bounds_are_strict() {
    // Exactly 3:1 fails `width/height< 3`; 1:3 is 0.333…, above 0.33.
    let below = "width/height<";
    let above = "width/height>";
    assert_one_rule_error(
        &png(3000, 1000),
        below,
        "aspect ratio 3.00 (3000x1000)",
        RATIO_MESSAGE,
    );
    assert_one_rule_error(
        &jpeg(3000, 1000),
        below,
        "aspect ratio 3.00 (3000x1000)",
        RATIO_MESSAGE,
    );
    assert_one_rule_error(
        &png(4000, 1000),
        below,
        "aspect ratio 4.00 (4000x1000)",
        RATIO_MESSAGE,
    );
    assert_one_rule_error(
        &png(1000, 4000),
        above,
        "aspect ratio 0.25 (1000x4000)",
        RATIO_MESSAGE,
    );
    // Exactly 0.33 fails `width/height> 0.33`.
    assert_one_rule_error(
        &png(33, 100),
        above,
        "aspect ratio 0.33 (33x100)",
        RATIO_MESSAGE,
    );
    assert_valid(&png(1000, 3000));
    assert_valid(&png(34, 100));
}

#[test]
fn file_size_must_be_below_10_mib() {
    const MIB: usize = 1_048_576;
    let image = png(100, 100);
    assert_one_rule_error(
        &padded(image.clone(), 10 * MIB),
        "file_size_mb<",
        "size 10.00 MB (10485760 bytes)",
        SIZE_MESSAGE,
    );
    assert_one_rule_error(
        &padded(image.clone(), 11 * MIB),
        "file_size_mb<",
        "size 11.00 MB (11534336 bytes)",
        SIZE_MESSAGE,
    );
    assert_valid(&padded(image, 10 * MIB - 1));
}

#[test]
fn every_failing_rule_is_reported_once_in_rule_order() {
    let report = check_file(&padded(png(6200, 10), 11 * 1_048_576));
    assert_eq!(
        rules_and_values(&report),
        [
            ("file_size_mb<", "size 11.00 MB (11534336 bytes)"),
            ("width/height<", "aspect ratio 620.00 (6200x10)"),
            ("height_pixels>", "height 10 px"),
            ("width_pixels<", "width 6200 px"),
        ]
        .map(|(rule, value)| (rule.to_owned(), Some(value.to_owned())))
    );
    assert!(report.problems().iter().all(|p| p.path == "images[0]"));
}

#[test]
fn a_jpeg_with_large_metadata_before_its_frame_is_measured() {
    // 300 KB of ICC profile in APP2 segments sits between the file start and the frame header.
    let icc: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let bytes = jpeg_with_icc(3000, 1000, &icc);
    assert!(bytes.len() > 300_000);
    assert_one_rule_error(
        &bytes,
        "width/height<",
        "aspect ratio 3.00 (3000x1000)",
        RATIO_MESSAGE,
    );
    assert_valid(&jpeg_with_icc(2999, 1000, &icc));
}

/// Every form of the same bytes gives the same problems.
#[test]
fn bytes_and_data_uris_measure_like_files() {
    let dir = Dir::new();
    let cases = [
        png(15, 15),
        png(14, 6000),
        png(3000, 1000),
        jpeg(1000, 4000),
        padded(png(100, 100), 10 * 1_048_576),
        padded(png(100, 100), 10 * 1_048_576 - 1),
        webp(200, 100),
        gif(10, 10),
        b"just text, not an image".to_vec(),
        png(100, 100)[..20].to_vec(),
    ];
    for (i, bytes) in cases.iter().enumerate() {
        // The same problems, measured alike; only a file's name the file's.
        let said = |report: ValidationReport| -> Vec<_> {
            report
                .problems()
                .iter()
                .map(|p| (p.severity, p.rule.clone(), measured(p), p.message.clone()))
                .collect()
        };
        let from_file = said(check(&Media::Path(dir.file(&format!("case-{i}"), bytes))));
        let from_bytes = said(check(&Media::bytes(bytes.clone())));
        let from_uri = said(check(&Media::DataUri(data_uri(bytes))));
        assert_eq!(from_bytes, from_file, "case {i}");
        assert_eq!(from_uri, from_file, "case {i}");
    }
}

#[test]
fn data_uris_in_percent_encoding_are_measured_too() {
    let bytes = png(3000, 1000);
    let escaped: String = bytes.iter().map(|b| format!("%{b:02X}")).collect();
    let report = check(&Media::DataUri(format!("data:image/png,{escaped}")));
    assert_eq!(
        rules_and_values(&report),
        [(
            "width/height<".to_owned(),
            Some("aspect ratio 3.00 (3000x1000)".to_owned())
        )]
    );
}

#[test]
fn unreadable_and_refused_files_give_an_error_naming_the_field() {
    let dir = Dir::new();
    let good_png = png(100, 100);
    let files: [(&str, Vec<u8>); 8] = [
        ("ok.png", good_png.clone()),
        ("ok.jpg", jpeg(100, 100)),
        ("corrupt.png", {
            let mut bytes = good_png.clone();
            bytes[12..16].copy_from_slice(b"XXXX");
            bytes
        }),
        ("truncated.png", good_png[..20].to_vec()),
        // Cut inside the frame header, where the dimensions are: a file cut after its header
        // reads as whole, since nothing past the header is read.
        ("truncated.jpg", cut_in_frame_header(jpeg(100, 100))),
        ("empty.png", Vec::new()),
        ("image.webp", webp(100, 100)),
        ("image.gif", gif(100, 100)),
    ];
    let mut media: Vec<Media> = files
        .iter()
        .map(|(name, bytes)| Media::Path(dir.file(name, bytes)))
        .collect();
    media.push(Media::Path(
        dir.file("notes.txt", b"Generate 3 images of a cat.\n"),
    ));
    // Headers that say 0×0: damaged, not a size each dimension rule would fail on.
    let mut no_pixels = good_png.clone();
    no_pixels[16..24].fill(0);
    media.push(Media::Path(dir.file("no-pixels.png", &no_pixels)));
    let mut bmp = b"BM".to_vec();
    bmp.resize(100, 0);
    media.push(Media::Path(dir.file("zeros.bmp", &bmp)));
    let mut report = ValidationReport::new();
    for (i, item) in media.iter().enumerate() {
        report.extend(check_at(item, &SEED, i));
    }
    let found: Vec<(String, Option<String>, String)> = report
        .problems()
        .iter()
        .map(|p| (p.path.clone(), measured(p), p.message.clone()))
        .collect();
    let corrupt = |format: &str| {
        format!("is a corrupt or truncated {format} image: its dimensions cannot be read")
    };
    let want = [
        ("images[2]", "format png", corrupt("png")),
        ("images[3]", "format png", corrupt("png")),
        ("images[4]", "format jpeg", corrupt("jpeg")),
        (
            "images[5]",
            "size 0 bytes",
            "is empty: expected a jpeg or png image".to_owned(),
        ),
        ("images[6]", "format webp", "must be jpeg or png".to_owned()),
        ("images[7]", "format gif", "must be jpeg or png".to_owned()),
        (
            "images[8]",
            "unknown format",
            "is not a jpeg or png image".to_owned(),
        ),
        ("images[9]", "format png", corrupt("png")),
        ("images[10]", "format bmp", "must be jpeg or png".to_owned()),
    ]
    .map(|(path, value, message)| (path.to_owned(), Some(value.to_owned()), message));
    assert_eq!(found, want, "{report}");
    assert!(report.errors().all(|p| p.rule == "format"));
    assert!(
        report
            .to_string()
            .contains("images[6]: must be jpeg or png")
    );
    // Each names its file: with eight of them, the index alone leaves the user counting.
    let webp = dir.0.path().join("image.webp");
    let shown = format!("(format; format webp of {})", webp.display());
    assert!(report.to_string().contains(&shown), "{report}");
}

#[test]
fn a_tilde_no_shell_expanded_says_so() {
    let report = check(&Media::Path("~/no-such-runcomfy-image.png".into()));
    let problem = one_error(&report);
    assert!(
        problem.message.contains("`~` is expanded by a shell"),
        "{report}"
    );
}

#[test]
fn a_missing_file_names_its_path() {
    let dir = Dir::new();
    let missing = dir.0.path().join("no-such-image.png");
    let report = check(&Media::Path(missing.clone()));
    let problem = one_error(&report);
    assert_eq!(problem.rule, "file");
    assert!(
        problem.message.contains(&missing.display().to_string()),
        "{}",
        problem.message
    );
    // No path at all says so, rather than "cannot read : ...".
    let report = check(&Media::Path(PathBuf::new()));
    let problem = one_error(&report);
    assert_eq!(problem.rule, "file");
    assert_eq!(
        problem.message,
        "is empty: give a file's path, an https URL or a data: URI"
    );
}

#[test]
fn a_directory_is_not_an_image() {
    let dir = Dir::new();
    let report = check(&Media::Path(dir.0.path().to_path_buf()));
    let problem = one_error(&report);
    assert_eq!(problem.rule, "file");
    assert!(problem.message.contains("not a regular file"), "{problem}");
}

/// Opening a FIFO waits for a writer: it is refused before it is opened, at once.
#[cfg(unix)]
#[test]
fn a_fifo_is_not_an_image_and_does_not_hang() {
    let dir = Dir::new();
    let fifo = dir.0.path().join("cat.png");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let started = std::time::Instant::now();
    let report = check(&Media::Path(fifo));
    assert!(one_error(&report).message.contains("not a regular file"));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn urls_must_be_https_and_are_not_measured() {
    for url in [
        "https://example.com/cat.png",
        "https://example.com/huge.webp",
    ] {
        let report = check(&Media::url(url));
        assert!(report.problems().is_empty(), "{url}: {report}");
    }
    for (url, value) in [
        ("http://example.com/cat.png", Some("scheme http")),
        ("ftp://example.com/cat.png", Some("scheme ftp")),
        // Another machine's file (this machine's is its path).
        ("file://host/tmp/cat.png", Some("scheme file")),
        ("https://", None),
        ("https://exa mple.com/x.png", None),
    ] {
        let report = check(&Media::parse(url));
        let problem = one_error(&report);
        assert_eq!(problem.rule, "format", "{url}");
        assert_eq!(problem.value.as_deref(), value, "{url}");
    }
}

#[test]
fn malformed_data_uris_are_clear_errors() {
    let cases = [
        ("data:image/png;base64", "no `,`"),
        (
            "data:image/png;base64,iVBO@@==",
            "not base64 ('@') at offset 4",
        ),
        ("data:image/png;base64,iVBORw0", "not a multiple of 4"),
        (
            "data:image/png;base64,iV=BORw0",
            "`=` padding before its end",
        ),
        ("data:image;base64,iVBORw0K", "not of the form type/subtype"),
        ("data:image/png,%GG", "invalid percent escape"),
    ];
    for (uri, needle) in cases {
        let report = check(&Media::parse(uri));
        let problem = one_error(&report);
        assert_eq!(problem.rule, "format", "{uri}");
        assert!(
            problem.message.starts_with("is not a valid data: URI: "),
            "{uri}: {problem}"
        );
        assert!(problem.message.contains(needle), "{uri}: {problem}");
    }
}

#[test]
fn an_empty_data_uri_is_empty() {
    let report = check(&Media::parse("data:image/png;base64,"));
    assert_eq!(one_error(&report).value.as_deref(), Some("size 0 bytes"));
}

#[test]
fn a_data_uri_declaring_another_type_warns() {
    let uri = data_uri(&png(100, 100)).replacen("image/png", "image/jpeg", 1);
    let report = check(&Media::DataUri(uri));
    assert!(report.is_valid(), "{report}");
    let warnings: Vec<_> = report.warnings().collect();
    assert_eq!(warnings.len(), 1, "{report}");
    assert_eq!(
        warnings[0].value.as_deref(),
        Some("declared image/jpeg, content png")
    );
    // `image/jpg` is a common alias and no mistake.
    let uri = data_uri(&jpeg(100, 100)).replacen("image/jpeg", "image/jpg", 1);
    assert!(check(&Media::DataUri(uri)).problems().is_empty());
}

#[test]
fn without_formats_any_measurable_image_passes() {
    static ANY_IMAGE: MediaSpec = MediaSpec {
        kind: MediaKind::Image,
        formats: &[],
        rules: &SEED_RULES,
    };
    let report = check_with(&Media::bytes(webp(200, 100)), &ANY_IMAGE);
    assert!(report.problems().is_empty(), "{report}");
    let report = check_with(&Media::bytes(webp(10, 100)), &ANY_IMAGE);
    assert_eq!(
        rules_and_values(&report),
        [
            (
                "width/height>".to_owned(),
                Some("aspect ratio 0.10 (10x100)".to_owned())
            ),
            ("width_pixels>".to_owned(), Some("width 10 px".to_owned())),
        ]
    );
    let report = check_with(&Media::bytes(b"plain text".to_vec()), &ANY_IMAGE);
    assert_eq!(one_error(&report).message, "is not an image");
}
