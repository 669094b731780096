//! What media inputs become on the wire.

// Tests fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use runcomfy::Media;
use runcomfy::media::{MediaError, data_uri};

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer
        .write_image_data(&vec![7; (width * height) as usize])
        .unwrap();
    writer.finish().unwrap();
    out
}

fn jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut out, 80);
    let pixels = vec![200u8; width as usize * height as usize];
    encoder
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Luma)
        .unwrap();
    out
}

/// The payload of a base64 `data:` URI, decoded, and its MIME type.
fn decode(uri: &str) -> (String, Vec<u8>) {
    let rest = uri.strip_prefix("data:").unwrap();
    let (header, payload) = rest.split_once(',').unwrap();
    let mime = header.strip_suffix(";base64").unwrap();
    (mime.to_owned(), STANDARD.decode(payload).unwrap())
}

#[test]
fn local_files_are_sent_as_base64_data_uris_with_their_real_type() {
    let dir = tempfile::tempdir().unwrap();
    // The extension lies: the type comes from the magic bytes.
    let cases = [
        ("a.png", png(20, 10), "image/png"),
        ("b.png", jpeg(20, 10), "image/jpeg"),
    ];
    for (name, bytes, mime) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let json = serde_json::to_value(Media::path(&path)).unwrap();
        let (sent_mime, sent) = decode(json.as_str().unwrap());
        assert_eq!(sent_mime, mime);
        assert_eq!(sent, bytes);
    }
}

#[test]
fn bytes_are_sent_as_data_uris_and_unknown_bytes_as_octet_streams() {
    let bytes = png(3, 3);
    let json = serde_json::to_value(Media::bytes(bytes.clone())).unwrap();
    assert_eq!(
        decode(json.as_str().unwrap()),
        ("image/png".to_owned(), bytes)
    );
    let uri = data_uri(b"hello");
    assert_eq!(uri, "data:application/octet-stream;base64,aGVsbG8=");
    assert_eq!(data_uri(b""), "data:application/octet-stream;base64,");
}

#[test]
fn urls_and_data_uris_are_sent_as_they_are() {
    for text in ["https://example.com/a.png", "data:image/png;base64,AAAA"] {
        let media = Media::parse(text);
        assert_eq!(serde_json::to_value(&media).unwrap(), text);
        let back: Media = serde_json::from_value(serde_json::json!(text)).unwrap();
        assert_eq!(back, media);
    }
}

#[test]
fn an_unreadable_file_fails_serialization_naming_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("gone.png");
    let media = Media::path(&missing);
    let err = serde_json::to_string(&media).unwrap_err();
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );
    match media.to_wire() {
        Err(MediaError::Read {
            path,
            failure: source,
        }) => {
            assert_eq!(path, missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected a read error, got {other:?}"),
    }
}

/// Serialized without being validated first, a path naming a FIFO or a device fails at once:
/// opening or reading it would wait, or never end.
#[cfg(unix)]
#[test]
fn a_path_to_no_regular_file_fails_serialization_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for path in [fifo, "/dev/zero".into()] {
        let media = Media::path(&path);
        let err = serde_json::to_string(&media).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert!(media.to_wire().is_err());
    }
}

#[test]
fn plain_strings_in_json_are_local_paths() {
    let media: Media = serde_json::from_str("\"photos/cat.png\"").unwrap();
    assert_eq!(
        media.as_path(),
        Some(std::path::Path::new("photos/cat.png"))
    );
}

/// A file is written a piece at a time: the same text as encoding it whole, at every length
/// around the pieces' edges.
#[test]
fn a_file_streamed_into_its_data_uri_is_the_same_as_encoded_whole() {
    let dir = tempfile::tempdir().unwrap();
    let piece = 3 * 16 * 1024;
    for len in [0, 1, 2, 3, piece - 1, piece, piece + 1, 2 * piece + 2] {
        // A PNG's start (its type is sniffed from it), cut or padded to `len`.
        let mut bytes = png(4, 4);
        bytes.resize(len, 0x5a);
        let path = dir.path().join("f");
        std::fs::write(&path, &bytes).unwrap();
        let sent = serde_json::to_string(&Media::path(&path)).unwrap();
        assert_eq!(sent, format!("\"{}\"", data_uri(&bytes)), "{len} bytes");
    }
}

/// A file past what a request can carry is refused by validation from its size, unread, naming
/// it, from the size whose base64 alone fills a request (QA repro41 L4: that one passed, to
/// be refused unnamed once encoded); and a body limit stops a file's encoding where it passes
/// it.
#[test]
fn a_file_too_large_to_send_is_refused_from_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.png");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(runcomfy::media::MAX_INLINE_FILE_BYTES)
        .unwrap();
    drop(file);
    let model = runcomfy::catalog::find("openai/gpt-image-2/edit").unwrap();
    let input = serde_json::json!({"prompt": "p", "images": [path.display().to_string()]});
    let err = model.decode(&input).expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("huge.png"), "{text}");
    assert!(text.contains("64 MiB"), "{text}");

    // Below that, a client's own smaller limit ends the encoding there.
    std::fs::write(&path, png(4, 4)).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .set_len(3 << 20)
        .unwrap();
    let decoded = model.decode(&input).unwrap();
    assert!(matches!(
        decoded.encode(1 << 20),
        Err(runcomfy::Error::BodyTooLarge { .. })
    ));
}

/// Files that each fit but together pass what a request can carry are refused by validation,
/// from their sizes, unread, each named with its size, the largest first.
#[test]
fn files_too_large_together_are_refused_naming_each() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, mib: u64| {
        let path = dir.path().join(name);
        std::fs::write(&path, png(4, 4)).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .set_len(mib << 20)
            .unwrap();
        path.display().to_string()
    };
    let (a, b, c) = (file("a.png", 18), file("b.png", 20), file("c.png", 12));
    let model = runcomfy::catalog::find("openai/gpt-image-2/edit").unwrap();

    // 38 MiB, 50.7 as base64: sent.
    let two = serde_json::json!({"prompt": "p", "images": [&a, &b]});
    model.decode(&two).unwrap();

    // 50 MiB, 66.7 as base64: refused at the input's root, naming each file.
    let three = serde_json::json!({"prompt": "p", "images": [&a, &b, &c]});
    let err = model.decode(&three).expect_err("refused");
    let problem = &err.report.problems()[0];
    assert_eq!((problem.path.as_str(), problem.rule.as_str()), ("", "size"));
    let text = &problem.message;
    let at = |name: &str| text.find(name).unwrap_or_else(|| panic!("{name}: {text}"));
    assert!(
        at("b.png") < at("a.png") && at("a.png") < at("c.png"),
        "{text}"
    );
    assert!(text.contains("images[1]: "), "{text}");
    assert!(
        text.contains("66.7 MiB") && text.contains("64 MiB"),
        "{text}"
    );

    // The same file given twice is sent twice.
    let twice = serde_json::json!({"prompt": "p", "images": [&b, &b, &b, &b]});
    assert!(model.decode(&twice).is_err());
}
