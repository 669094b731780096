//! Helpers shared by the integration tests: start a simulator, talk to it over loopback.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::time::Duration;

use reqwest::{Client, Response, StatusCode};
use runcomfy_simulator::{SimConfig, Simulator};
use serde_json::Value;

pub const EDIT: &str = "bytedance/seedream-4-0/edit";
pub const EDIT_SEQUENTIAL: &str = "bytedance/seedream-4-0/edit-sequential";
pub const SEQUENTIAL: &str = "bytedance/seedream-4-0/sequential";
pub const TOKEN: &str = "test-token";

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub async fn start(config: SimConfig) -> Result<Simulator, runcomfy_simulator::SimError> {
    Simulator::start(config).await
}

/// A client without connection reuse, so a connection a fault dropped never spoils the next
/// request.
pub fn client() -> Client {
    Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap_or_default()
}

/// A valid body for each seed model.
pub fn valid_body(model: &str) -> Value {
    match model {
        EDIT => serde_json::json!({
            "prompt": "Make the sky purple",
            "images": ["https://example.com/reference.png"],
        }),
        EDIT_SEQUENTIAL => serde_json::json!({
            "images": ["https://example.com/reference.png"],
            "text": "Generate 3 images of a beautiful sunset over a calm ocean.",
        }),
        _ => serde_json::json!({
            "text": "Generate 3 images of a beautiful sunset over a calm ocean.",
        }),
    }
}

pub async fn post(
    c: &Client,
    sim: &Simulator,
    path: &str,
    body: &Value,
) -> reqwest::Result<Response> {
    c.post(format!("{}{path}", sim.base_url()))
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await
}

pub async fn get(c: &Client, sim: &Simulator, path: &str) -> reqwest::Result<Response> {
    c.get(format!("{}{path}", sim.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
}

/// Submits and returns the reply, asserting a 200.
pub async fn submit(
    c: &Client,
    sim: &Simulator,
    model: &str,
    body: &Value,
) -> Result<Value, Box<dyn std::error::Error>> {
    let resp = post(c, sim, &format!("/v1/models/{model}"), body).await?;
    let status = resp.status();
    let reply: Value = resp.json().await?;
    assert_eq!(status, StatusCode::OK, "submit {model}: {reply}");
    Ok(reply)
}

pub fn request_id(reply: &Value) -> String {
    reply["request_id"].as_str().unwrap_or_default().to_owned()
}

pub async fn status(
    c: &Client,
    sim: &Simulator,
    id: &str,
) -> Result<Value, Box<dyn std::error::Error>> {
    Ok(get(c, sim, &format!("/v1/requests/{id}/status"))
        .await?
        .json()
        .await?)
}

pub async fn result(
    c: &Client,
    sim: &Simulator,
    id: &str,
) -> Result<Value, Box<dyn std::error::Error>> {
    Ok(get(c, sim, &format!("/v1/requests/{id}/result"))
        .await?
        .json()
        .await?)
}

/// Polls status every 10 ms until it is terminal; returns the last status reply.
pub async fn wait_terminal(
    c: &Client,
    sim: &Simulator,
    id: &str,
) -> Result<Value, Box<dyn std::error::Error>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let reply = status(c, sim, id).await?;
        if matches!(
            reply["status"].as_str(),
            Some("completed" | "failed" | "cancelled")
        ) {
            return Ok(reply);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("{id} still {reply} after 15 s").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Width and height from a PNG's header.
pub fn png_size(bytes: &[u8]) -> Result<(u32, u32), Box<dyn std::error::Error>> {
    let reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info()?;
    Ok((reader.info().width, reader.info().height))
}

/// Downloads every output of a finished job; returns each image's size.
pub async fn output_sizes(
    c: &Client,
    sim: &Simulator,
    id: &str,
) -> Result<Vec<(u32, u32)>, Box<dyn std::error::Error>> {
    let reply = result(c, sim, id).await?;
    assert_eq!(reply["status"], "succeeded", "{reply}");
    let mut sizes = Vec::new();
    for url in reply["output"]["images"]
        .as_array()
        .ok_or("no output images")?
    {
        let url = url.as_str().ok_or("image url is not a string")?;
        assert!(url.starts_with(&sim.base_url()), "{url}");
        let resp = c.get(url).send().await?;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "image/png");
        sizes.push(png_size(&resp.bytes().await?)?);
    }
    Ok(sizes)
}

/// Asserts RunComfy's error shape and returns the body.
pub async fn expect_error(
    resp: Response,
    status: StatusCode,
    code: u64,
) -> Result<Value, Box<dyn std::error::Error>> {
    assert_eq!(resp.status(), status);
    let body: Value = resp.json().await?;
    assert_eq!(body["error_code"], code, "{body}");
    assert!(
        body["error_message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(body["detail"].is_array(), "{body}");
    Ok(body)
}

pub fn config() -> SimConfig {
    SimConfig {
        token: Some(TOKEN.to_owned()),
        ..SimConfig::default()
    }
}
