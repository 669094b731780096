//! Media validation never panics, whatever the bytes or strings, and measures bytes and
//! `data:` URIs alike.

use proptest::prelude::*;
use runcomfy::Media;
use runcomfy::media::{Files, data_uri};
use runcomfy::schema::{MediaFormat, MediaKind, MediaRule, MediaSpec, Rule, Schema, Types};
use runcomfy::validate::{self, ValidationReport};
use runcomfy::vocab::pointer::Path;

static IMAGES: Schema = media(&MediaSpec {
    kind: MediaKind::Image,
    formats: &[MediaFormat::Jpeg, MediaFormat::Png],
    rules: &RULES,
});

/// Any measurable format, so every header parser used is reached.
static ANY_IMAGE: Schema = media(&MediaSpec {
    kind: MediaKind::Image,
    formats: &[],
    rules: &RULES,
});

static VIDEO: Schema = media(&MediaSpec {
    kind: MediaKind::Video,
    formats: &[],
    rules: &RULES,
});

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

const fn rule(rule: Rule, limit: f64) -> MediaRule {
    MediaRule {
        rule,
        limit,
        message: "rule failed",
    }
}

/// Magic numbers that send the bytes after them into a format's header parser.
const MAGIC: &[&[u8]] = &[
    b"",
    b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR",
    b"\xff\xd8\xff",
    b"\xff\xd8\xff\xe0\0\x10JFIF\0",
    b"GIF89a",
    b"RIFF\0\0\0\0WEBPVP8X",
    b"RIFF\0\0\0\0WEBPVP8L",
    b"RIFF\0\0\0\0WEBPVP8 ",
    b"II*\0",
    b"MM\0*",
    b"II+\0\x08\0\0\0",
    b"BM",
    b"\0\0\0\x18ftypheic",
    b"\0\0\0\x18ftypmif1\0\0\0\0heic",
    b"\0\0\0\x18ftypavif",
    b"8BPS",
];

fn check(media: &Media, schema: &'static Schema) -> ValidationReport {
    let path = Path::root().key("images").index(0);
    validate::value(schema, media, &path, Files::Local)
}

fn headed_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(MAGIC),
        prop::collection::vec(any::<u8>(), 0..600),
    )
        .prop_map(|(magic, rest)| [magic, &rest[..]].concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_and_match_their_data_uri(bytes in headed_bytes()) {
        for spec in [&IMAGES, &ANY_IMAGE, &VIDEO] {
            let from_bytes = check(&Media::bytes(bytes.clone()), spec);
            let from_uri = check(&Media::DataUri(data_uri(&bytes)), spec);
            prop_assert_eq!(from_bytes, from_uri);
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(text in ".{0,200}") {
        for spec in [&IMAGES, &VIDEO] {
            check(&Media::parse(&text), spec);
            check(&Media::parse(&format!("data:{text}")), spec);
            check(&Media::parse(&format!("data:image/png;base64,{text}")), spec);
            check(&Media::parse(&format!("https://{text}")), spec);
        }
    }

    #[test]
    fn arbitrary_base64_payloads_never_panic(text in "[A-Za-z0-9+/=]{0,64}") {
        check(&Media::parse(&format!("data:image/png;base64,{text}")), &ANY_IMAGE);
    }
}
