//! Validating ten 9 MB images reads their headers only.
//!
//! Each fixture is a real 2048x1536 PNG padded with zeros to 9 MB. `check_media_paths` validates
//! all ten against the Seedream rules; `read_whole_files` reads the same files whole, which is
//! what validation would cost if it read or decoded them. Before the timings, the bytes each
//! pass reads are counted from `/proc/self/io` (Linux), so the difference shows without timing
//! noise. Both passes count the files' full size as their throughput, so the validation's
//! figure is the size it vouches for per second, not bytes it read.
//!
//! Run with `cargo bench -p runcomfy --bench validate_media`.

// A benchmark's setup may stop at the first failure.
#![allow(clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use divan::Bencher;
use divan::counter::BytesCount;
use runcomfy::Media;
use runcomfy::media::Files;
use runcomfy::media::data_uri;
use runcomfy::schema::Schema;
use runcomfy::validate::{self, ValidationReport};
use runcomfy::vocab::pointer::Path;

const FILES: usize = 10;
const FILE_SIZE: usize = 9 * 1024 * 1024;

/// Each image of Seedream 4.0 Edit's `images`, as generated from the catalog: jpeg or png,
/// under 10 MB, each side over 14 and under 6000 px, aspect ratio within [0.33, 3].
fn spec() -> &'static Schema {
    runcomfy::catalog::find("bytedance/seedream-4-0/edit")
        .and_then(|model| model.field("images"))
        .and_then(|images| images.schema.item_schema())
        .expect("the seed model bytedance/seedream-4-0/edit is compiled in, a list of images")
}

struct Fixtures {
    dir: tempfile::TempDir,
    paths: Vec<PathBuf>,
    data_uri: Media,
}

static FIXTURES: OnceLock<Fixtures> = OnceLock::new();

fn fixtures() -> &'static Fixtures {
    FIXTURES.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let image = padded_png(2048, 1536, FILE_SIZE);
        let paths = (0..FILES)
            .map(|i| {
                let path = dir.path().join(format!("image-{i}.png"));
                let mut file = std::fs::File::create(&path).expect("create fixture");
                file.write_all(&image).expect("write fixture");
                path
            })
            .collect();
        let data_uri = Media::DataUri(data_uri(&image));
        Fixtures {
            dir,
            paths,
            data_uri,
        }
    })
}

/// A real PNG of `width` x `height` (one bit per pixel), padded with zeros to `size` bytes.
fn padded_png(width: u32, height: u32, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().expect("png header");
    let row = width.div_ceil(8) as usize;
    writer
        .write_image_data(&vec![0u8; row * height as usize])
        .expect("png data");
    writer.finish().expect("png end");
    out.resize(size, 0);
    out
}

fn validate_all(paths: &[PathBuf]) -> ValidationReport {
    let mut report = ValidationReport::new();
    for (i, path) in paths.iter().enumerate() {
        report.extend(validate::value(
            spec(),
            &Media::Path(path.clone()),
            &Path::root().key("images").index(i),
            Files::Local,
        ));
    }
    report
}

#[divan::bench]
fn check_media_paths(bencher: Bencher) {
    let paths = &fixtures().paths;
    bencher
        .counter(BytesCount::new(FILES * FILE_SIZE))
        .bench_local(|| validate_all(divan::black_box(paths)));
}

#[divan::bench]
fn read_whole_files(bencher: Bencher) {
    let paths = &fixtures().paths;
    bencher
        .counter(BytesCount::new(FILES * FILE_SIZE))
        .bench_local(|| {
            divan::black_box(paths)
                .iter()
                .map(|path| std::fs::read(path).expect("read fixture").len())
                .sum::<usize>()
        });
}

/// A 9 MB image as a data URI: its base64 is checked whole (a scan), never decoded whole.
#[divan::bench]
fn check_media_data_uri(bencher: Bencher) {
    let media = &fixtures().data_uri;
    bencher.bench_local(|| {
        let mut report = ValidationReport::new();
        report.extend(validate::value(
            spec(),
            divan::black_box(media),
            &Path::root().key("images").index(0),
            Files::Local,
        ));
        report
    });
}

/// Bytes this process has read through `read` calls so far, on Linux.
fn bytes_read_so_far() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|line| line.strip_prefix("rchar:"))
        .and_then(|n| n.trim().parse().ok())
}

fn report_bytes_read() {
    let paths = &fixtures().paths;
    let before = bytes_read_so_far();
    let report = validate_all(paths);
    let after_check = bytes_read_so_far();
    let total: usize = paths
        .iter()
        .map(|path| std::fs::read(path).expect("read fixture").len())
        .sum();
    let after_read = bytes_read_so_far();
    assert!(report.is_valid(), "fixtures must pass: {report}");
    match (before, after_check, after_read) {
        (Some(before), Some(after_check), Some(after_read)) => eprintln!(
            "bytes read for {FILES} files of {FILE_SIZE} bytes: validation {}, whole read {} \
             (validation reads {:.4}% of the data)",
            after_check - before,
            after_read - after_check,
            (after_check - before) as f64 * 100.0 / total as f64,
        ),
        _ => eprintln!("bytes read: /proc/self/io not available on this system"),
    }
}

fn main() {
    report_bytes_read();
    divan::main();
    if let Some(fixtures) = FIXTURES.get() {
        // Statics are never dropped: remove the 90 MB of fixtures by hand.
        let _ = std::fs::remove_dir_all(fixtures.dir.path());
    }
}
