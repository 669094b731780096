//! Media header validation (`Media::Bytes` through `validate::value`) on any bytes, against
//! the seed models' image rules, any image format and video: a report, never a panic, and the
//! same report for the bytes as a `data:` URI.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runcomfy::Media;
use runcomfy::media::{Files, data_uri};
use runcomfy::schema::{MediaFormat, MediaKind, MediaRule, MediaSpec, Rule, Schema, Types};
use runcomfy::validate;
use runcomfy::vocab::pointer::Path;

const fn rule(rule: Rule, limit: f64) -> MediaRule {
    MediaRule {
        rule,
        limit,
        message: "rule failed",
    }
}

static RULES: [MediaRule; 7] = [
    rule(Rule::FileSizeMbBelow, 10.0),
    rule(Rule::AspectRatioAbove, 0.33),
    rule(Rule::AspectRatioBelow, 3.0),
    rule(Rule::WidthAbove, 14.0),
    rule(Rule::HeightAbove, 14.0),
    rule(Rule::WidthBelow, 6000.0),
    rule(Rule::HeightBelow, 6000.0),
];

const fn media(spec: &'static MediaSpec) -> Schema {
    Schema {
        types: Types::STRING,
        media: Some(spec),
        ..Schema::ANY
    }
}

static SCHEMAS: [Schema; 3] = [
    media(&MediaSpec {
        kind: MediaKind::Image,
        formats: &[MediaFormat::Jpeg, MediaFormat::Png],
        rules: &RULES,
    }),
    media(&MediaSpec {
        kind: MediaKind::Image,
        formats: &[],
        rules: &RULES,
    }),
    media(&MediaSpec {
        kind: MediaKind::Video,
        formats: &[],
        rules: &RULES,
    }),
];

fuzz_target!(|data: &[u8]| {
    let path = Path::root().key("images").index(0);
    for schema in &SCHEMAS {
        let from_bytes = validate::value(schema, &Media::bytes(data.to_vec()), &path, Files::Local);
        let from_uri = validate::value(
            schema,
            &Media::DataUri(data_uri(data)),
            &path,
            Files::Local,
        );
        assert_eq!(from_bytes, from_uri);
    }
});
