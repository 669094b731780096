//! The opt-in remote preflight: media URLs are measured from their first bytes and checked
//! against the model's rules before a paid submit.

mod transport_support;

use runcomfy::media::Media;
use runcomfy::models::bytedance::seedream_4_0::edit::{Edit, EditInput};
use runcomfy::preflight::validate_remote;
use runcomfy::{Severity, ValidationReport};
use runcomfy_simulator::SimConfig;
use transport_support::*;

async fn media_host() -> TestResult<OtherHost> {
    OtherHost::start(|path| {
        let partial = |total: u64, body: Vec<u8>| Canned {
            status: "206 Partial Content",
            headers: vec![(
                "Content-Range",
                format!("bytes 0-{}/{total}", body.len().saturating_sub(1)),
            )],
            body,
        };
        let whole = |body: Vec<u8>| Canned {
            status: "200 OK",
            headers: Vec::new(),
            body,
        };
        match path {
            "/ok.png" => partial(2_048_000, png_header(1024, 768)),
            "/tiny.png" => whole(png_header(10, 10)),
            "/huge.png" => partial(20 * 1024 * 1024, png_header(1000, 1000)),
            "/wide.png" => whole(png_header(4000, 1000)),
            "/page" => whole(b"<html>not an image</html>".to_vec()),
            "/anim.gif" => whole(b"GIF89a\x20\x00\x20\x00\x00\x00\x00".to_vec()),
            "/loop.png" => Canned {
                status: "302 Found",
                headers: vec![("Location", "/loop.png".to_owned())],
                body: Vec::new(),
            },
            "/packed.png" => Canned {
                status: "200 OK",
                headers: vec![("Content-Encoding", "gzip".to_owned())],
                body: b"\x1f\x8b\x08\x00\x00\x00\x00\x00".to_vec(),
            },
            _ => Canned {
                status: "404 Not Found",
                headers: Vec::new(),
                body: Vec::new(),
            },
        }
    })
    .await
}

fn rules_at<'a>(report: &'a ValidationReport, path: &str) -> Vec<&'a str> {
    report
        .problems()
        .iter()
        .filter(|p| p.path == path && p.severity == Severity::Error)
        .map(|p| p.rule.as_str())
        .collect()
}

#[tokio::test]
async fn remote_media_is_measured_against_the_models_rules() -> TestResult {
    let sim = simulator(SimConfig::default()).await?;
    let client = client(&sim)?;
    let host = media_host().await?;
    let url = |path: &str| Media::url(format!("{}{path}", host.base_url));
    let input = EditInput::new(
        "a cat",
        vec![
            url("/ok.png"),
            url("/tiny.png"),
            url("/huge.png"),
            url("/wide.png"),
            url("/page"),
            url("/anim.gif"),
            url("/missing.png"),
            url("/packed.png"),
            url("/loop.png"),
        ],
    );
    let report = validate_remote::<Edit>(&client, &input).await?;

    assert!(rules_at(&report, "images[0]").is_empty(), "{report}");
    assert_eq!(
        rules_at(&report, "images[1]"),
        ["width_pixels>", "height_pixels>"],
        "{report}"
    );
    assert_eq!(
        rules_at(&report, "images[2]"),
        ["file_size_mb<"],
        "{report}"
    );
    assert_eq!(
        rules_at(&report, "images[3]"),
        ["width/height<"],
        "{report}"
    );
    assert_eq!(rules_at(&report, "images[4]"), ["format"], "{report}");
    assert_eq!(rules_at(&report, "images[5]"), ["format"], "{report}");
    assert_eq!(rules_at(&report, "images[6]"), ["remote"], "{report}");
    // Sent compressed unasked: its bytes are not the file's, so it is not judged by them; the
    // server that fetches it may undo the compression, so it is said, not refused.
    assert!(rules_at(&report, "images[7]").is_empty(), "{report}");
    assert!(
        report.problems().iter().any(|p| p.path == "images[7]"
            && p.severity == Severity::Warning
            && p.message.contains("compressed (gzip)")),
        "{report}"
    );
    // A redirect loop is said as one, not as "cannot fetch" alone.
    assert!(
        report.problems().iter().any(|p| p.path == "images[8]"
            && p.message.contains("its redirects were not followed")),
        "{report}"
    );
    // The measurements are in the report, in the words local validation uses.
    for value in [
        "size 20.00 MB (20971520 bytes)",
        "width 10 px",
        "aspect ratio 4.00 (4000x1000)",
        "format gif",
        "unknown format",
    ] {
        assert!(
            report
                .problems()
                .iter()
                .any(|p| p.value.as_deref() == Some(value)),
            "{value:?} missing:\n{report}"
        );
    }

    // Each URL was asked for its first 64 KiB only, and never with the token.
    let requests = host.requests();
    let looped = requests.iter().filter(|r| r.contains("/loop.png")).count();
    assert_eq!((requests.len() - looped, looped), (8, 6));
    for request in &requests {
        assert!(request.contains("range: bytes=0-65535"), "{request}");
        assert!(
            !request.to_ascii_lowercase().contains("authorization"),
            "{request}"
        );
    }
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_plain_http_client_works_too_and_local_media_is_skipped() -> TestResult {
    let host = media_host().await?;
    let input = EditInput::new(
        "a cat",
        vec![
            Media::url(format!("{}/ok.png", host.base_url)),
            Media::bytes(png_header(2, 2)),
        ],
    );
    let report = validate_remote::<Edit>(&reqwest::Client::new(), &input).await?;
    assert!(report.problems().is_empty(), "{report}");
    assert_eq!(host.requests().len(), 1);
    Ok(())
}
