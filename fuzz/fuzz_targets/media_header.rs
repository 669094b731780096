//! Image header validation (`Media::Bytes` through `ValidationReport::check_media`) on any
//! bytes, against the seed models' image rules and against any format: a report, never a
//! panic, and the same report for the bytes as a `data:` URI.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runcomfy::Media;
use runcomfy::catalog::{MediaFormat, MediaKind, MediaSpec};
use runcomfy::validate::{MediaCheck, MediaRule, ValidationReport};

const fn rule(check: MediaCheck, value: f64) -> MediaRule {
    MediaRule {
        check,
        value,
        message: "rule failed",
    }
}

static RULES: [MediaRule; 7] = [
    rule(MediaCheck::FileSizeMbBelow, 10.0),
    rule(MediaCheck::AspectRatioAbove, 0.33),
    rule(MediaCheck::AspectRatioBelow, 3.0),
    rule(MediaCheck::WidthAbove, 14.0),
    rule(MediaCheck::HeightAbove, 14.0),
    rule(MediaCheck::WidthBelow, 6000.0),
    rule(MediaCheck::HeightBelow, 6000.0),
];

static SPECS: [MediaSpec; 3] = [
    MediaSpec {
        kind: MediaKind::Image,
        formats: &[MediaFormat::Jpeg, MediaFormat::Png],
        rules: &RULES,
    },
    MediaSpec {
        kind: MediaKind::Image,
        formats: &[],
        rules: &RULES,
    },
    MediaSpec {
        kind: MediaKind::Video,
        formats: &[],
        rules: &RULES,
    },
];

fuzz_target!(|data: &[u8]| {
    for spec in &SPECS {
        let mut from_bytes = ValidationReport::new();
        from_bytes.check_media("images[0]", &Media::bytes(data.to_vec()), spec);
        let mut from_uri = ValidationReport::new();
        from_uri.check_media(
            "images[0]",
            &Media::DataUri(runcomfy::media::data_uri(data)),
            spec,
        );
        assert_eq!(from_bytes, from_uri);
    }
});
