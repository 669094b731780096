//! Media validation never panics, whatever the bytes or strings (random box trees of MP4 and
//! element trees of Matroska among them), and measures bytes and `data:` URIs alike.

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
    b"\0\0\0\x18ftypisom\0\0\x02\0isommp41",
    b"\0\0\0\x14ftypqt  \0\0\0\0qt  ",
    b"\0\0\0\x08wide",
    b"\x1a\x45\xdf\xa3",
    b"\x1a\x45\xdf\xa3\x84\x42\x82\x81\x77\x18\x53\x80\x67\xff",
    b"RIFF\0\0\0\0WAVEfmt ",
    b"ID3\x04\0",
    b"OggS",
];

fn check(media: &Media, schema: &'static Schema) -> ValidationReport {
    let path = Path::root().key("images").index(0);
    validate::value(schema, media, &path, Files::Local)
}

/// Box types on the way to a video's frame size, and a few others.
const BOX_TYPES: &[&[u8; 4]] = &[
    b"moov", b"trak", b"mdia", b"hdlr", b"minf", b"stbl", b"stsd", b"tkhd", b"mdat", b"free",
    b"avc1",
];

/// An ISO BMFF tree of the boxes above, whose sizes are sometimes right and sometimes any
/// number at all (0, 1 for a 64-bit size, larger than the parent).
fn box_tree() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop::collection::vec(any::<u8>(), 0..40);
    leaf.prop_recursive(4, 64, 6, |inner| {
        (
            prop::sample::select(BOX_TYPES),
            prop::collection::vec(inner, 0..4),
            prop::option::weighted(0.2, any::<u32>()),
        )
            .prop_map(|(kind, children, lie)| {
                let payload = children.concat();
                let size = lie.unwrap_or(payload.len() as u32 + 8);
                [&size.to_be_bytes()[..], &kind[..], &payload].concat()
            })
    })
}

/// Matroska elements on the way to a video's frame size, with sizes right or any, as above.
const ELEMENT_IDS: &[&[u8]] = &[
    b"\x18\x53\x80\x67",
    b"\x16\x54\xae\x6b",
    b"\xae",
    b"\x83",
    b"\xe0",
    b"\xb0",
    b"\xba",
    b"\x1f\x43\xb6\x75",
];

fn element_tree() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop::collection::vec(any::<u8>(), 0..12);
    leaf.prop_recursive(5, 64, 6, |inner| {
        (
            prop::sample::select(ELEMENT_IDS),
            prop::collection::vec(inner, 0..4),
            prop::option::weighted(0.2, any::<u8>()),
        )
            .prop_map(|(id, children, lie)| {
                let data = children.concat();
                // An 8-byte size: the marker, then the length (or the lie, or unknown).
                let size = match lie {
                    Some(0xff) => u64::MAX >> 8,
                    Some(lie) => u64::from(lie) << 8,
                    None => data.len() as u64,
                };
                let mut size = size.to_be_bytes();
                size[0] = 0x01;
                [id, &size[..], &data].concat()
            })
    })
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
    fn arbitrary_movies_never_panic_and_match_their_data_uri(
        boxes in prop::collection::vec(box_tree(), 0..4),
    ) {
        let bytes = [&b"\0\0\0\x10ftypisom\0\0\0\0"[..], &boxes.concat()].concat();
        let from_bytes = check(&Media::bytes(bytes.clone()), &VIDEO);
        let from_uri = check(&Media::DataUri(data_uri(&bytes)), &VIDEO);
        prop_assert_eq!(from_bytes, from_uri);
    }

    #[test]
    fn arbitrary_matroska_never_panics_and_matches_its_data_uri(
        elements in prop::collection::vec(element_tree(), 0..4),
    ) {
        let header = b"\x1a\x45\xdf\xa3\x84\x42\x82\x81\x77";
        let bytes = [&header[..], &elements.concat()].concat();
        let from_bytes = check(&Media::bytes(bytes.clone()), &VIDEO);
        let from_uri = check(&Media::DataUri(data_uri(&bytes)), &VIDEO);
        prop_assert_eq!(from_bytes, from_uri);
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
