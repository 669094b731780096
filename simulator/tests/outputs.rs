//! Output images: real PNGs, of the size and count the input asks for.

mod common;

use common::*;
use reqwest::StatusCode;
use runcomfy_simulator::SimConfig;
use serde_json::json;

async fn sizes_for(
    model: &str,
    body: serde_json::Value,
) -> Result<Vec<(u32, u32)>, Box<dyn std::error::Error>> {
    let sim = start(config()).await?;
    let c = client();
    let id = request_id(&submit(&c, &sim, model, &body).await?);
    wait_terminal(&c, &sim, &id).await?;
    let sizes = output_sizes(&c, &sim, &id).await?;
    sim.shutdown().await;
    Ok(sizes)
}

#[tokio::test]
async fn sequential_defaults_to_three_16_9_images() -> TestResult {
    let sizes = sizes_for(SEQUENTIAL, valid_body(SEQUENTIAL)).await?;
    assert_eq!(sizes, vec![(2560, 1440); 3]);
    Ok(())
}

#[tokio::test]
async fn sequential_follows_count_and_image_size() -> TestResult {
    let body = json!({
        "text": "Generate 5 images of a lighthouse",
        "sequential_image_generation_options": 5,
        "image_size": "1440:2560 (9:16)",
    });
    assert_eq!(sizes_for(SEQUENTIAL, body).await?, vec![(1440, 2560); 5]);
    Ok(())
}

#[tokio::test]
async fn edit_sequential_keeps_references_plus_outputs_within_15() -> TestResult {
    let images: Vec<String> = (0..10)
        .map(|i| format!("https://example.com/ref{i}.png"))
        .collect();
    let sim = start(config()).await?;
    let c = client();
    // 10 references and up to 15 outputs: refused up front by the overlay's rule.
    let too_many = json!({
        "images": images,
        "text": "Generate 15 images of the same cat",
        "sequential_image_generation_options": 15,
    });
    let resp = post(
        &c,
        &sim,
        &format!("/v1/models/{EDIT_SEQUENTIAL}"),
        &too_many,
    )
    .await?;
    let body = expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, 422001).await?;
    assert!(body["detail"].to_string().contains("max_total"), "{body}");
    // 10 references and 5 outputs fit.
    let fits = json!({
        "images": images,
        "text": "Generate 5 images of the same cat",
        "sequential_image_generation_options": 5,
        "image_size": "2304:1728 (4:3)",
    });
    let id = request_id(&submit(&c, &sim, EDIT_SEQUENTIAL, &fits).await?);
    wait_terminal(&c, &sim, &id).await?;
    assert_eq!(output_sizes(&c, &sim, &id).await?, vec![(2304, 1728); 5]);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn sequential_generation_disabled_makes_one_image() -> TestResult {
    let body = json!({
        "text": "Generate 4 images of a fox",
        "sequential_image_generation_options": 4,
        "sequential_image_generation": "disabled",
    });
    assert_eq!(sizes_for(SEQUENTIAL, body).await?, vec![(2560, 1440)]);
    Ok(())
}

#[tokio::test]
async fn edit_sequential_defaults() -> TestResult {
    let sizes = sizes_for(EDIT_SEQUENTIAL, valid_body(EDIT_SEQUENTIAL)).await?;
    assert_eq!(sizes, vec![(2560, 1440); 3]);
    Ok(())
}

#[tokio::test]
async fn edit_makes_one_image_at_its_default_resolution() -> TestResult {
    assert_eq!(sizes_for(EDIT, valid_body(EDIT)).await?, vec![(2048, 2048)]);
    Ok(())
}

#[tokio::test]
async fn edit_resolutions_k_and_wxh() -> TestResult {
    for (resolution, size) in [
        ("1K", (1024, 1024)),
        ("4K", (4096, 4096)),
        ("3024x1296 (21:9)", (3024, 1296)),
    ] {
        let body = json!({
            "prompt": "Make it night",
            "images": ["https://example.com/reference.png"],
            "resolution": resolution,
        });
        assert_eq!(sizes_for(EDIT, body).await?, vec![size], "{resolution}");
    }
    Ok(())
}

#[tokio::test]
async fn downloads_are_counted_and_cached_bytes_are_stable() -> TestResult {
    let sim = start(config()).await?;
    let c = client();
    let id = request_id(&submit(&c, &sim, EDIT, &valid_body(EDIT)).await?);
    wait_terminal(&c, &sim, &id).await?;
    let url = format!("{}/files/{id}/0.png", sim.base_url());
    let first = c.get(&url).send().await?.bytes().await?;
    let second = c.get(&url).send().await?.bytes().await?;
    assert_eq!(first, second);
    assert!(first.starts_with(b"\x89PNG\r\n\x1a\n"));
    let stats = sim.stats();
    assert_eq!(stats.downloads, 2);
    assert_eq!(stats.downloads_by_request.get(&id), Some(&2));
    // Files that do not exist.
    for bad in ["1.png", "0.jpg", "x.png"] {
        let resp = c
            .get(format!("{}/files/{id}/{bad}", sim.base_url()))
            .send()
            .await?;
        expect_error(resp, StatusCode::NOT_FOUND, 404001).await?;
    }
    let resp = c
        .get(format!("{}/files/nope/0.png", sim.base_url()))
        .send()
        .await?;
    expect_error(resp, StatusCode::NOT_FOUND, 404001).await?;
    assert_eq!(sim.stats().downloads, 2);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn output_files_take_the_configured_size_and_stay_pngs() -> TestResult {
    let sim = start(SimConfig {
        output_bytes: Some(3 << 20),
        ..config()
    })
    .await?;
    let c = client();
    let id = request_id(&submit(&c, &sim, EDIT, &valid_body(EDIT)).await?);
    wait_terminal(&c, &sim, &id).await?;
    let url = format!("{}/files/{id}/0.png", sim.base_url());
    let reply = c.get(&url).send().await?;
    assert_eq!(reply.content_length(), Some(3 << 20));
    let first = reply.bytes().await?;
    assert_eq!(first.len(), 3 << 20);
    assert!(first.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(first.ends_with(b"IEND\xaeB`\x82"));
    assert_eq!(
        c.get(&url).send().await?.bytes().await?,
        first,
        "the same bytes"
    );
    let reader = png::Decoder::new(std::io::Cursor::new(&first[..])).read_info()?;
    // Its pixels are the ones asked for (the default 2K), the padding beside them.
    assert_eq!((reader.info().width, reader.info().height), (2048, 2048));
    sim.shutdown().await;
    Ok(())
}

/// The status URL of a submit sent to `origin`, naming `host` in its `Host` header if given.
async fn status_url_of(
    c: &reqwest::Client,
    origin: &str,
    host: Option<&str>,
) -> Result<(String, String), Box<dyn std::error::Error>> {
    let mut request = c.post(format!("{origin}/v1/models/{SEQUENTIAL}"));
    if let Some(host) = host {
        request = request.header("host", host);
    }
    let reply: serde_json::Value = request
        .bearer_auth(TOKEN)
        .json(&valid_body(SEQUENTIAL))
        .send()
        .await?
        .json()
        .await?;
    let url = reply["status_url"].as_str().ok_or("no status_url")?;
    Ok((request_id(&reply), url.to_owned()))
}

/// The URLs a reply gives are on the origin the client called (its `Host`): one that called
/// `localhost` is not sent to `127.0.0.1`, a host it was not told of (QA repro41 L15: the CLI
/// refused such files as another host's, after the job was paid for). A `Host` that names no
/// loopback host gets the simulator's own address (QA repro42 N3: copied as given).
#[tokio::test]
async fn urls_are_on_the_origin_the_client_called() -> TestResult {
    let sim = start(config()).await?;
    let c = client();
    let own = sim.base_url();
    let called = own.replace("127.0.0.1", "localhost");
    let (id, url) = status_url_of(&c, &called, None).await?;
    assert!(url.starts_with(&called), "{url}");
    wait_terminal(&c, &sim, &id).await?;
    let result: serde_json::Value = c
        .get(format!("{called}/v1/requests/{id}/result"))
        .bearer_auth(TOKEN)
        .send()
        .await?
        .json()
        .await?;
    let images = result["output"]["images"].as_array().ok_or("no images")?;
    assert!(!images.is_empty());
    for url in images {
        assert!(
            url.as_str().is_some_and(|u| u.starts_with(&called)),
            "{url}"
        );
    }
    for host in [Some("evil.example"), None] {
        let (_, url) = status_url_of(&c, &own, host).await?;
        assert!(url.starts_with(&own), "{host:?}: {url}");
    }
    sim.shutdown().await;
    Ok(())
}
