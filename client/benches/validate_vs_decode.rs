//! Validating ten local 9 MB images against decoding them with the `image` crate (issue 9,
//! target 5), and whether validation's cost grows with image size.
//!
//! The fixtures are real noise PNGs (incompressible, so a 2048x1536 RGB image is about 9 MB of
//! real image data, unlike a padded file). `cargo bench -p runcomfy --bench validate_vs_decode`
//! runs divan; `-- --report` times both alternately in one process, then measures bytes read
//! (`/proc/self/io` rchar) and peak RSS (`VmHWM`, reset through `/proc/self/clear_refs`) of
//! validating images of 2, 9 and 37 MB, and prints `BENCH {json}` lines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use runcomfy::Media;
use runcomfy::media::Files;
use runcomfy::schema::{MediaFormat, MediaKind, MediaRule, MediaSpec, Rule, Schema, Types};
use runcomfy::validate::{self, ValidationReport};
use runcomfy::vocab::pointer::Path;
use serde_json::json;
use support::*;

const FILES: usize = 10;

/// The Seedream 4.0 image rules, as the generator emits them (size limit raised so the 37 MB
/// image of the memory check passes too).
static SPEC: Schema = Schema {
    types: Types::STRING,
    media: Some(&MediaSpec {
        kind: MediaKind::Image,
        formats: &[MediaFormat::Jpeg, MediaFormat::Png],
        rules: &[
            rule(Rule::FileSizeMbBelow, 50.0),
            rule(Rule::AspectRatioAbove, 0.33),
            rule(Rule::AspectRatioBelow, 3.0),
            rule(Rule::WidthAbove, 14.0),
            rule(Rule::HeightAbove, 14.0),
            rule(Rule::WidthBelow, 6000.0),
            rule(Rule::HeightBelow, 6000.0),
        ],
    }),
    ..Schema::ANY
};

const fn rule(rule: Rule, limit: f64) -> MediaRule {
    MediaRule {
        rule,
        limit,
        message: "rule failed",
    }
}

struct Fixtures {
    _dir: tempfile::TempDir,
    /// Ten copies of a 2048x1536 noise PNG.
    nine_mb: Vec<PathBuf>,
    /// One image per size, for the memory check: (label, path).
    sizes: Vec<(String, PathBuf)>,
}

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut sizes = Vec::new();
        for (w, h) in [(1024, 768), (2048, 1536), (4096, 3072)] {
            let path = dir.path().join(format!("noise-{w}x{h}.png"));
            std::fs::write(&path, noise_png(w, h)).unwrap();
            let mb = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;
            sizes.push((format!("{w}x{h} ({mb:.1} MB)"), path));
        }
        let source = sizes[1].1.clone();
        let nine_mb = (0..FILES)
            .map(|i| {
                let path = dir.path().join(format!("image-{i}.png"));
                std::fs::copy(&source, &path).unwrap();
                path
            })
            .collect();
        Fixtures {
            _dir: dir,
            nine_mb,
            sizes,
        }
    })
}

/// An RGB PNG of xorshift noise: deflate cannot shrink it, so the file is the full bitmap.
fn noise_png(width: u32, height: u32) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let data: Vec<u8> = (0..width as usize * height as usize * 3)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&data).unwrap();
    writer.finish().unwrap();
    out
}

fn validate(paths: &[PathBuf]) -> ValidationReport {
    let mut report = ValidationReport::new();
    for (i, path) in paths.iter().enumerate() {
        report.extend(validate::value(
            &SPEC,
            &Media::Path(path.clone()),
            &Path::root().key("images").index(i),
            Files::Local,
        ));
    }
    report
}

fn decode(paths: &[PathBuf]) -> u64 {
    paths
        .iter()
        .map(|path| {
            let image = image::open(path).unwrap();
            u64::from(image.width()) * u64::from(image.height())
        })
        .sum()
}

#[divan::bench(sample_count = 20)]
fn validate_ten_9mb() -> ValidationReport {
    validate(divan::black_box(&fixtures().nine_mb))
}

#[divan::bench(sample_count = 3)]
fn image_decode_ten_9mb() -> u64 {
    decode(divan::black_box(&fixtures().nine_mb))
}

fn bytes_read() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    io.lines()
        .find_map(|line| line.strip_prefix("rchar:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Bytes read and peak RSS growth of `f`.
fn footprint(f: impl FnOnce()) -> (u64, u64) {
    let (read, rss) = (bytes_read(), status_bytes("VmRSS"));
    reset_peak_rss();
    f();
    (
        bytes_read() - read,
        status_bytes("VmHWM").saturating_sub(rss),
    )
}

fn report() {
    let fixtures = fixtures();
    let paths = &fixtures.nine_mb;
    assert!(validate(paths).is_valid(), "{}", validate(paths));
    decode(paths);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..20 {
            std::hint::black_box(validate(paths));
        }
        ours.push(start.elapsed().as_secs_f64() / 20.0);
        let start = Instant::now();
        std::hint::black_box(decode(paths));
        theirs.push(start.elapsed().as_secs_f64());
    }
    let (ours, theirs) = (median(ours), median(theirs));
    println!(
        "validate ten 9 MB PNGs: {:.3} ms; image::open + decode: {:.0} ms; {:.0}x",
        ours * 1e3,
        theirs * 1e3,
        theirs / ours
    );
    emit(json!({
        "target": "5 validation",
        "what": "ten 9 MB PNGs (ms)",
        "ours": ours * 1e3,
        "peer_name": "image 0.25 decode",
        "peer": theirs * 1e3,
        "ratio": theirs / ours,
        "note": "ratio = decode/validate (>= 100 passes); medians of 5 alternating rounds",
        "pass": theirs / ours >= 100.0,
    }));
    let mut reads = Vec::new();
    let mut peaks = Vec::new();
    for (label, path) in &fixtures.sizes {
        let one = std::slice::from_ref(path);
        let (read, peak) = footprint(|| {
            std::hint::black_box(validate(one));
        });
        let (decode_read, decode_peak) = footprint(|| {
            std::hint::black_box(decode(one));
        });
        println!(
            "  {label}: validation read {read} B, peak RSS +{} KB; decode read {:.1} MB, peak RSS +{:.1} MB",
            peak / 1024,
            decode_read as f64 / 1e6,
            decode_peak as f64 / 1e6
        );
        reads.push(read);
        peaks.push(peak);
        emit(json!({
            "target": "5 validation",
            "what": format!("bytes read / peak RSS growth, one {label}"),
            "ours": read,
            "peer_name": "image decode bytes read",
            "peer": decode_read,
            "note": format!(
                "validation peak RSS +{} KB; decode peak RSS +{:.1} MB",
                peak / 1024,
                decode_peak as f64 / 1e6
            ),
        }));
    }
    // Constant: the same header bytes whatever the size (page-granular RSS noise allowed).
    let flat = reads.iter().all(|r| *r == reads[0]) && peaks.iter().all(|p| *p < 1 << 20);
    emit(json!({
        "target": "5 validation",
        "what": "validation memory flat across 2/9/37 MB images",
        "ours": f64::from(u8::from(flat)),
        "peer_name": "goal",
        "peer": 1,
        "note": format!("bytes read {reads:?}; peak RSS growth {peaks:?} B (under 1 MiB each)"),
        "pass": flat,
    }));
}

fn main() {
    if std::env::args().any(|a| a == "--report") {
        report();
    } else {
        divan::main();
    }
}
