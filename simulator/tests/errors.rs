//! Authentication and every error reply, in RunComfy's shape.

mod common;

use common::*;
use reqwest::StatusCode;
use runcomfy_simulator::SimConfig;
use serde_json::{Value, json};

#[tokio::test]
async fn a_configured_token_is_required_everywhere_but_files_and_stats() -> TestResult {
    let sim = start(config()).await?;
    let c = client();
    let base = sim.base_url();
    let id = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    let calls = [
        c.post(format!("{base}/v1/models/{SEQUENTIAL}"))
            .json(&valid_body(SEQUENTIAL)),
        c.get(format!("{base}/v1/requests/{id}/status")),
        c.get(format!("{base}/v1/requests/{id}/result")),
        c.post(format!("{base}/v1/requests/{id}/cancel")),
        c.get(format!("{base}/v1/models")),
        c.get(format!("{base}/v1/models/{SEQUENTIAL}")),
    ];
    for call in calls {
        // No header, a wrong token, and a wrong scheme.
        expect_error(
            call.try_clone().ok_or("clone")?.send().await?,
            StatusCode::UNAUTHORIZED,
            400004,
        )
        .await?;
        expect_error(
            call.try_clone()
                .ok_or("clone")?
                .bearer_auth("wrong")
                .send()
                .await?,
            StatusCode::UNAUTHORIZED,
            400004,
        )
        .await?;
        expect_error(
            call.header("Authorization", format!("Basic {TOKEN}"))
                .send()
                .await?,
            StatusCode::UNAUTHORIZED,
            400004,
        )
        .await?;
    }
    // Refused calls created nothing.
    assert_eq!(sim.stats().submissions, 1);
    wait_terminal(&c, &sim, &id).await?;
    // Output links and stats need no token.
    let file = c.get(format!("{base}/files/{id}/0.png")).send().await?;
    assert_eq!(file.status(), StatusCode::OK);
    let stats = c.get(format!("{base}/_sim/stats")).send().await?;
    assert_eq!(stats.status(), StatusCode::OK);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn without_a_configured_token_any_bearer_token_works_but_one_is_needed() -> TestResult {
    let sim = start(SimConfig::default()).await?;
    let c = client();
    let url = format!("{}/v1/models/{SEQUENTIAL}", sim.base_url());
    let resp = c
        .post(&url)
        .bearer_auth("anything")
        .json(&valid_body(SEQUENTIAL))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = c.post(&url).json(&valid_body(SEQUENTIAL)).send().await?;
    expect_error(resp, StatusCode::UNAUTHORIZED, 400004).await?;
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn another_tokens_request_is_forbidden() -> TestResult {
    let sim = start(SimConfig::default()).await?;
    let c = client();
    let base = sim.base_url();
    let reply: Value = c
        .post(format!("{base}/v1/models/{SEQUENTIAL}"))
        .bearer_auth("alice")
        .json(&valid_body(SEQUENTIAL))
        .send()
        .await?
        .json()
        .await?;
    let id = request_id(&reply);
    for call in [
        c.get(format!("{base}/v1/requests/{id}/status")),
        c.get(format!("{base}/v1/requests/{id}/result")),
        c.post(format!("{base}/v1/requests/{id}/cancel")),
    ] {
        expect_error(
            call.bearer_auth("bob").send().await?,
            StatusCode::FORBIDDEN,
            403001,
        )
        .await?;
    }
    let own = c
        .get(format!("{base}/v1/requests/{id}/status"))
        .bearer_auth("alice")
        .send()
        .await?;
    assert_eq!(own.status(), StatusCode::OK);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn unknown_request_ids_are_404001() -> TestResult {
    let sim = start(config()).await?;
    let c = client();
    let id = "00000000-0000-4000-8000-000000000000";
    expect_error(
        get(&c, &sim, &format!("/v1/requests/{id}/status")).await?,
        StatusCode::NOT_FOUND,
        404001,
    )
    .await?;
    expect_error(
        get(&c, &sim, &format!("/v1/requests/{id}/result")).await?,
        StatusCode::NOT_FOUND,
        404001,
    )
    .await?;
    expect_error(
        post(&c, &sim, &format!("/v1/requests/{id}/cancel"), &Value::Null).await?,
        StatusCode::NOT_FOUND,
        404001,
    )
    .await?;
    // Unknown paths too.
    expect_error(
        get(&c, &sim, "/v2/whatever").await?,
        StatusCode::NOT_FOUND,
        404001,
    )
    .await?;
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn unknown_models_are_400001() -> TestResult {
    let sim = start(config()).await?;
    let c = client();
    let body = expect_error(
        post(
            &c,
            &sim,
            "/v1/models/bytedance/no-such-model",
            &valid_body(SEQUENTIAL),
        )
        .await?,
        StatusCode::BAD_REQUEST,
        400001,
    )
    .await?;
    assert!(
        body["error_message"]
            .as_str()
            .is_some_and(|m| m.contains("bytedance/no-such-model"))
    );
    expect_error(
        get(&c, &sim, "/v1/models/nope/nope").await?,
        StatusCode::BAD_REQUEST,
        400001,
    )
    .await?;
    assert_eq!(sim.stats().submissions, 0);
    sim.shutdown().await;
    Ok(())
}

async fn expect_422(
    sim: &runcomfy_simulator::Simulator,
    model: &str,
    body: Value,
) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let c = client();
    let resp = post(&c, sim, &format!("/v1/models/{model}"), &body).await?;
    let reply = expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, 422001).await?;
    let detail = reply["detail"].as_array().cloned().unwrap_or_default();
    assert!(!detail.is_empty(), "{reply}");
    for entry in &detail {
        assert!(
            entry["loc"].is_array() && entry["loc"][0] == "body",
            "{entry}"
        );
        assert!(
            entry["path"].is_string() && entry["msg"].is_string() && entry["rule"].is_string(),
            "{entry}"
        );
    }
    Ok(detail)
}

#[tokio::test]
async fn invalid_inputs_are_422001_with_one_detail_per_problem() -> TestResult {
    let sim = start(config()).await?;
    // Two problems at once: no images (minItems 1) and a prompt over 600 characters.
    let detail = expect_422(
        &sim,
        EDIT_SEQUENTIAL,
        json!({"images": [], "text": "x".repeat(601)}),
    )
    .await?;
    let rules: Vec<&str> = detail.iter().filter_map(|d| d["rule"].as_str()).collect();
    assert!(rules.contains(&"minItems"), "{detail:?}");
    assert!(rules.contains(&"maxLength"), "{detail:?}");
    let images = detail
        .iter()
        .find(|d| d["rule"] == "minItems")
        .ok_or("no minItems")?;
    assert_eq!(images["path"], "images");
    assert_eq!(images["loc"], json!(["body", "images"]));

    // A value outside an enum, and a missing required field: the typed decode refuses them.
    expect_422(&sim, SEQUENTIAL, json!({"text": "hi", "image_size": "7:7"})).await?;
    expect_422(&sim, EDIT, json!({"images": ["https://example.com/a.png"]})).await?;
    // Not an object, not JSON.
    expect_422(&sim, SEQUENTIAL, json!([1, 2])).await?;
    let c = client();
    let resp = c
        .post(format!("{}/v1/models/{SEQUENTIAL}", sim.base_url()))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body("{\"text\": ")
        .send()
        .await?;
    let reply = expect_error(resp, StatusCode::UNPROCESSABLE_ENTITY, 422001).await?;
    assert_eq!(reply["detail"][0]["rule"], "json");
    assert_eq!(sim.stats().submissions, 0);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn local_paths_are_refused_not_read_from_the_servers_disk() -> TestResult {
    let sim = start(config()).await?;
    // A file that exists on this machine: the server must still refuse it.
    let here = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let detail = expect_422(
        &sim,
        EDIT,
        json!({"prompt": "p", "images": ["https://example.com/ok.png", here, "cat.png"]}),
    )
    .await?;
    let paths: Vec<&str> = detail.iter().filter_map(|d| d["path"].as_str()).collect();
    assert_eq!(paths, vec!["images[1]", "images[2]"], "{detail:?}");
    assert_eq!(detail[0]["loc"], json!(["body", "images", 1]));
    assert!(
        detail[0]["msg"]
            .as_str()
            .is_some_and(|m| m.contains("local"))
    );
    // Other problems are still reported alongside.
    let detail = expect_422(
        &sim,
        EDIT,
        json!({"prompt": "x".repeat(601), "images": ["cat.png"]}),
    )
    .await?;
    assert_eq!(detail.len(), 2, "{detail:?}");
    assert_eq!(sim.stats().submissions, 0);
    sim.shutdown().await;
    Ok(())
}

fn gray_png(
    width: u32,
    height: u32,
    compression: png::Compression,
) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_compression(compression);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&vec![128; (width * height) as usize])?;
    writer.finish()?;
    Ok(out)
}

#[tokio::test]
async fn data_uris_and_urls_are_accepted() -> TestResult {
    let sim = start(config()).await?;
    let c = client();
    let data_uri = runcomfy::media::data_uri(&gray_png(64, 64, png::Compression::Fast)?);
    assert!(data_uri.starts_with("data:image/png;base64,"));
    let body = json!({"prompt": "p", "images": [data_uri, "https://example.com/b.jpg"]});
    let reply = submit(&c, &sim, EDIT, &body).await?;
    assert!(!request_id(&reply).is_empty());
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn large_data_uri_inputs_fit() -> TestResult {
    let sim = start(config()).await?;
    let c = client();
    // 3 MB of pixels, stored uncompressed: over axum's 2 MB default body limit.
    let png = gray_png(2000, 1500, png::Compression::NoCompression)?;
    assert!(png.len() > 3_000_000);
    let body = json!({"prompt": "p", "images": [runcomfy::media::data_uri(&png)]});
    let reply = submit(&c, &sim, EDIT, &body).await?;
    assert!(!request_id(&reply).is_empty());
    sim.shutdown().await;
    Ok(())
}
