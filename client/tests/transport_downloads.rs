//! Downloads from hosts other than the API: no token, safe names, extensions, no clobbering.

mod transport_support;

use runcomfy::error::DownloadFailure;
use runcomfy::outputs::MediaOutput;
use runcomfy::{DownloadOptions, Error};
use runcomfy_simulator::SimConfig;
use transport_support::*;

fn jpeg_bytes() -> Vec<u8> {
    // SOI, then an SOF0 segment of 32 x 16: enough to be recognised.
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x20,
    ];
    bytes.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

/// A host serving `/typed.jpg` (with a Content-Type), `/untyped` (PNG bytes, no type),
/// `/clip.webm?sig=1` (octet-stream, WebM bytes), `/run.sh`, `/script.png` and `/script.mp4` (a script as
/// octet-stream), `/big`, and 404 elsewhere.
async fn other_host() -> TestResult<OtherHost> {
    OtherHost::start(|path| {
        let ok = |headers: Vec<(&'static str, String)>, body: Vec<u8>| Canned {
            status: "200 OK",
            headers,
            body,
        };
        match path {
            "/typed" => ok(vec![("Content-Type", "image/jpeg".into())], jpeg_bytes()),
            "/untyped" => ok(Vec::new(), whole_png(20, 20)),
            "/clip.webm?sig=1" => ok(
                vec![("Content-Type", "application/octet-stream".into())],
                b"\x1a\x45\xdf\xa3 a WebM's EBML header, then its clusters".to_vec(),
            ),
            // Bytes of no format (a program would be refused): saved, under a safe name.
            "/run.sh" => ok(Vec::new(), b"echo hello, world\n".to_vec()),
            "/script.png" | "/script.mp4" => ok(
                vec![("Content-Type", "application/octet-stream".into())],
                b"#!/bin/sh\necho hi\n".to_vec(),
            ),
            "/big" => ok(Vec::new(), vec![7u8; 64 * 1024]),
            _ => Canned {
                status: "404 Not Found",
                headers: Vec::new(),
                body: b"no".to_vec(),
            },
        }
    })
    .await
}

fn output(value: serde_json::Value) -> TestResult<MediaOutput> {
    Ok(serde_json::from_value(value)?)
}

#[tokio::test]
async fn other_hosts_never_see_the_token() -> TestResult {
    let sim = simulator(SimConfig::default()).await?;
    let client = client(&sim)?;
    let host = other_host().await?;
    let base = &host.base_url;
    let out = output(serde_json::json!({
        "image": format!("{base}/typed"),
        "images": [format!("{base}/untyped"), format!("{base}/clip.webm?sig=1")],
        "../../escape": format!("{base}/run.sh"),
    }))?;
    let dir = tempfile::tempdir()?;
    let saved = client.download(&out, dir.path()).await?;

    let requests = host.requests();
    assert_eq!(requests.len(), 4);
    for request in &requests {
        let lower = request.to_ascii_lowercase();
        assert!(!lower.contains("authorization"), "{request}");
        assert!(!request.contains(TOKEN), "{request}");
    }

    let names: Vec<String> = saved
        .iter()
        .map(|f| {
            f.path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "image.jpg",     // from the Content-Type
            "images-0.png",  // from the bytes
            "images-1.webm", // from the URL
            "_._escape.bin", // a hostile field name made safe; `.sh` is not trusted
        ]
    );
    for file in &saved {
        assert_eq!(file.path.parent(), Some(dir.path()));
        assert_eq!(std::fs::metadata(&file.path)?.len(), file.bytes);
    }
    assert_eq!(saved[0].content_type.as_deref(), Some("image/jpeg"));
    Ok(())
}

#[tokio::test]
async fn existing_files_are_kept_unless_overwriting() -> TestResult {
    let sim = simulator(SimConfig::default()).await?;
    let client = client(&sim)?;
    let host = other_host().await?;
    let out = output(serde_json::json!({ "images": [format!("{}/untyped", host.base_url)] }))?;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("images-0.png"), b"mine")?;

    let saved = client.download(&out, dir.path()).await?;
    assert_eq!(saved[0].path, dir.path().join("images-0-1.png"));
    assert_eq!(std::fs::read(dir.path().join("images-0.png"))?, b"mine");
    // The same bytes fetched again (after an interrupted run, say) are not saved twice.
    let again = client.download(&out, dir.path()).await?;
    assert_eq!(again[0].path, saved[0].path);
    assert_eq!(again[0].sha256, saved[0].sha256);
    assert_eq!(std::fs::read_dir(dir.path())?.count(), 2, "no third copy");

    let options = DownloadOptions::new().overwrite(true).prefix("job/1");
    let saved = client.download_with(&out, dir.path(), &options).await?;
    assert_eq!(saved[0].path, dir.path().join("job_1-images-0.png"));
    std::fs::write(&saved[0].path, b"stale")?;
    let again = client.download_with(&out, dir.path(), &options).await?;
    assert_eq!(again[0].path, saved[0].path);
    assert_eq!(std::fs::read(&again[0].path)?, whole_png(20, 20));
    // No temporary files left.
    assert_eq!(std::fs::read_dir(dir.path())?.count(), 3);
    Ok(())
}

#[tokio::test]
async fn a_missing_file_fails_without_retries_and_leaves_nothing() -> TestResult {
    let sim = simulator(SimConfig::default()).await?;
    let client = client(&sim)?;
    let host = other_host().await?;
    let out = output(serde_json::json!({ "image": format!("{}/gone", host.base_url) }))?;
    let dir = tempfile::tempdir()?;
    match client.download(&out, dir.path()).await {
        Err(Error::Download {
            reason: DownloadFailure::Status(404),
            ..
        }) => {}
        other => panic!("expected a 404, got {other:?}"),
    }
    assert_eq!(host.requests().len(), 1);
    assert_eq!(std::fs::read_dir(dir.path())?.count(), 0);
    Ok(())
}

/// A program is no media file: refused (after its retries), not saved as `image.png`, nor as
/// `video.mp4` (QA repro33 F3: a script was saved as a video, exit 0).
#[tokio::test]
async fn a_program_at_a_media_file_s_name_is_refused() -> TestResult {
    let sim = simulator(SimConfig::default()).await?;
    let client = client(&sim)?;
    let host = other_host().await?;
    for (field, path) in [("image", "/script.png"), ("video", "/script.mp4")] {
        let out = output(serde_json::json!({ field: format!("{}{path}", host.base_url) }))?;
        let dir = tempfile::tempdir()?;
        match client.download(&out, dir.path()).await {
            Err(Error::Download {
                reason: DownloadFailure::NotMedia(why),
                ..
            }) => assert!(why.starts_with("a program"), "{why}"),
            other => panic!("expected NotMedia, got {other:?}"),
        }
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 0);
    }
    Ok(())
}

#[tokio::test]
async fn files_over_the_limit_are_refused() -> TestResult {
    let sim = simulator(SimConfig::default()).await?;
    let client = client(&sim)?;
    let host = other_host().await?;
    let out = output(serde_json::json!({ "image": format!("{}/big", host.base_url) }))?;
    let dir = tempfile::tempdir()?;
    let options = DownloadOptions::new().max_bytes(1024);
    match client.download_with(&out, dir.path(), &options).await {
        Err(Error::Download {
            reason: DownloadFailure::TooLarge(1024),
            ..
        }) => {}
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(std::fs::read_dir(dir.path())?.count(), 0);
    Ok(())
}

#[tokio::test]
async fn a_counter_tells_the_bytes_received_as_they_come() -> TestResult {
    let sim = simulator(SimConfig::default()).await?;
    let client = client(&sim)?;
    let host = other_host().await?;
    let base = &host.base_url;
    let out = output(serde_json::json!({
        "images": [format!("{base}/untyped"), format!("{base}/typed")],
    }))?;
    let dir = tempfile::tempdir()?;
    let counter = runcomfy::DownloadCounter::new();
    let options = DownloadOptions::new().counter(counter.clone());
    let saved = client.download_with(&out, dir.path(), &options).await?;
    let total: u64 = saved.iter().map(|f| f.bytes).sum();
    assert!(total > 0);
    assert_eq!(counter.received(), total);
    Ok(())
}
