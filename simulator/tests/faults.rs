//! Every fault kind, as a client sees it on the wire.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use runcomfy_simulator::{Endpoint, FaultKind, Faults, SimConfig, Simulator};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn with_script(
    endpoint: Endpoint,
    kinds: Vec<FaultKind>,
) -> Result<Simulator, runcomfy_simulator::SimError> {
    start(SimConfig {
        faults: Faults::none().script(endpoint, kinds),
        ..config()
    })
    .await
}

/// Sends one raw HTTP/1.1 request and reads until the server closes; returns what was read
/// and how the read ended.
async fn raw(
    sim: &Simulator,
    request: &str,
) -> Result<(Vec<u8>, std::io::Result<usize>), Box<dyn std::error::Error>> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", sim.port())).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await? {
            Ok(0) => break Ok(0),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(err) => break Err(err),
        }
    };
    Ok((got, end))
}

fn raw_get(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    )
}

fn raw_submit(model: &str, body: &Value) -> String {
    let body = body.to_string();
    format!(
        "POST /v1/models/{model} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Submits without faults and waits for the end; returns the request id.
async fn finished_job(sim: &Simulator) -> Result<String, Box<dyn std::error::Error>> {
    let c = client();
    let id = request_id(&submit(&c, sim, EDIT, &valid_body(EDIT)).await?);
    wait_terminal(&c, sim, &id).await?;
    Ok(id)
}

#[tokio::test]
async fn http_5xx_faults() -> TestResult {
    let sim = with_script(
        Endpoint::Status,
        vec![FaultKind::Http500, FaultKind::Http502, FaultKind::Http503],
    )
    .await?;
    let c = client();
    let id = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    let path = format!("/v1/requests/{id}/status");
    expect_error(
        get(&c, &sim, &path).await?,
        StatusCode::INTERNAL_SERVER_ERROR,
        500001,
    )
    .await?;
    let gateway = get(&c, &sim, &path).await?;
    assert_eq!(gateway.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(gateway.headers()["content-type"], "text/html");
    assert!(gateway.text().await?.contains("502 Bad Gateway"));
    expect_error(
        get(&c, &sim, &path).await?,
        StatusCode::SERVICE_UNAVAILABLE,
        500001,
    )
    .await?;
    // The script is used up: the next call is normal.
    assert_eq!(get(&c, &sim, &path).await?.status(), StatusCode::OK);
    let stats = sim.stats();
    assert_eq!(stats.faults_injected, 3);
    assert_eq!(stats.faults_of(Endpoint::Status, "http502"), 1);
    assert_eq!(stats.status_calls_for(&id), 4);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn rate_limits_send_retry_after_and_early_retries_are_counted() -> TestResult {
    let sim = with_script(
        Endpoint::Result,
        vec![FaultKind::RateLimited {
            retry_after_secs: 1,
        }],
    )
    .await?;
    let c = client();
    let id = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    let path = format!("/v1/requests/{id}/result");
    let limited = get(&c, &sim, &path).await?;
    assert_eq!(limited.headers()["retry-after"], "1");
    expect_error(limited, StatusCode::TOO_MANY_REQUESTS, 429001).await?;
    // Too early: served, but counted.
    assert_eq!(get(&c, &sim, &path).await?.status(), StatusCode::OK);
    assert_eq!(sim.stats().retry_after_violations, 1);
    // Other requests and endpoints are not affected.
    assert_eq!(
        get(&c, &sim, &format!("/v1/requests/{id}/status"))
            .await?
            .status(),
        StatusCode::OK
    );
    assert_eq!(sim.stats().retry_after_violations, 1);
    // After the wait: fine.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get(&c, &sim, &path).await?.status(), StatusCode::OK);
    assert_eq!(get(&c, &sim, &path).await?.status(), StatusCode::OK);
    assert_eq!(sim.stats().retry_after_violations, 1);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn rate_limited_submits_are_tracked_per_token() -> TestResult {
    let sim = start(SimConfig {
        faults: Faults::none().script(
            Endpoint::Submit,
            vec![FaultKind::RateLimited {
                retry_after_secs: 30,
            }],
        ),
        ..SimConfig::default()
    })
    .await?;
    let c = client();
    let url = format!("{}/v1/models/{SEQUENTIAL}", sim.base_url());
    let first = c
        .post(&url)
        .bearer_auth("alice")
        .json(&valid_body(SEQUENTIAL))
        .send()
        .await?;
    assert_eq!(first.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(first.headers()["retry-after"], "30");
    assert_eq!(sim.stats().submissions, 0);
    let other = c
        .post(&url)
        .bearer_auth("bob")
        .json(&valid_body(SEQUENTIAL))
        .send()
        .await?;
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(sim.stats().retry_after_violations, 0);
    let again = c
        .post(&url)
        .bearer_auth("alice")
        .json(&valid_body(SEQUENTIAL))
        .send()
        .await?;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(sim.stats().retry_after_violations, 1);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn reset_closes_the_connection_with_rst_and_creates_nothing() -> TestResult {
    let sim = with_script(Endpoint::Submit, vec![FaultKind::Reset, FaultKind::Reset]).await?;
    // Raw: the server resets without a byte.
    let (got, end) = raw(&sim, &raw_submit(SEQUENTIAL, &valid_body(SEQUENTIAL))).await?;
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    let err = end.err().ok_or("expected a reset, got a clean close")?;
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    // reqwest: an error, no status.
    let c = client();
    let sent = post(
        &c,
        &sim,
        &format!("/v1/models/{SEQUENTIAL}"),
        &valid_body(SEQUENTIAL),
    )
    .await;
    assert!(sent.is_err(), "{sent:?}");
    let stats = sim.stats();
    assert_eq!((stats.submit_calls, stats.submissions), (2, 0));
    // The simulator still serves.
    submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?;
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn accepted_then_dropped_creates_the_job_and_a_retry_is_a_duplicate() -> TestResult {
    let sim = with_script(Endpoint::Submit, vec![FaultKind::AcceptedThenDropped]).await?;
    let c = client();
    let text = "Generate 2 images of a red kite";
    let mut first = serde_json::Map::new();
    first.insert("text".into(), text.into());
    first.insert("sequential_image_generation_options".into(), 2.into());
    let sent = post(
        &c,
        &sim,
        &format!("/v1/models/{SEQUENTIAL}"),
        &Value::Object(first),
    )
    .await;
    assert!(sent.is_err(), "{sent:?}");
    let stats = sim.stats();
    assert_eq!((stats.submissions, stats.duplicate_submissions), (1, 0));
    // The client retries the same input (keys in another order): the job now exists twice.
    let mut retry = serde_json::Map::new();
    retry.insert("sequential_image_generation_options".into(), 2.into());
    retry.insert("text".into(), text.into());
    submit(&c, &sim, SEQUENTIAL, &Value::Object(retry)).await?;
    let stats = sim.stats();
    assert_eq!((stats.submissions, stats.duplicate_submissions), (2, 1));
    // A different input is no duplicate.
    submit(
        &c,
        &sim,
        SEQUENTIAL,
        &serde_json::json!({"text": text, "sequential_image_generation_options": 3}),
    )
    .await?;
    assert_eq!(sim.stats().duplicate_submissions, 1);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn accepted_then_dropped_on_cancel_still_cancels() -> TestResult {
    let sim = start(SimConfig {
        workers: 1,
        run_time: runcomfy_simulator::RunTime::Fixed(Duration::from_millis(500)),
        ..config()
    })
    .await?;
    let c = client();
    let _running = submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?;
    let queued = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    sim.set_faults(Faults::none().script(Endpoint::Cancel, vec![FaultKind::AcceptedThenDropped]));
    let sent = post(
        &c,
        &sim,
        &format!("/v1/requests/{queued}/cancel"),
        &Value::Null,
    )
    .await;
    assert!(sent.is_err());
    assert_eq!(status(&c, &sim, &queued).await?["status"], "cancelled");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn slow_responses_arrive_late_but_whole() -> TestResult {
    let sim = with_script(
        Endpoint::Catalog,
        vec![FaultKind::Slow(Duration::from_millis(300))],
    )
    .await?;
    let c = client();
    let started = std::time::Instant::now();
    let resp = get(&c, &sim, "/v1/models").await?;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await?;
    assert!(body["total"].as_u64().is_some_and(|t| t >= 3));
    // A client with a shorter timeout gives up.
    sim.set_faults(Faults::none().script(
        Endpoint::Catalog,
        vec![FaultKind::Slow(Duration::from_millis(500))],
    ));
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()?;
    let sent = impatient
        .get(format!("{}/v1/models", sim.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await;
    assert!(sent.is_err_and(|e| e.is_timeout()));
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn malformed_json_is_a_200_that_does_not_parse() -> TestResult {
    let sim = with_script(Endpoint::Status, vec![FaultKind::MalformedJson]).await?;
    let c = client();
    let id = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    let resp = get(&c, &sim, &format!("/v1/requests/{id}/status")).await?;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let text = resp.text().await?;
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn error_with_200_carries_an_error_body() -> TestResult {
    let sim = with_script(Endpoint::Submit, vec![FaultKind::ErrorWith200]).await?;
    let c = client();
    let resp = post(
        &c,
        &sim,
        &format!("/v1/models/{SEQUENTIAL}"),
        &valid_body(SEQUENTIAL),
    )
    .await?;
    let body = expect_error(resp, StatusCode::OK, 500001).await?;
    assert!(body.get("request_id").is_none());
    assert_eq!(sim.stats().submissions, 0);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn truncated_replies_promise_more_than_they_send() -> TestResult {
    let sim = with_script(
        Endpoint::Result,
        vec![FaultKind::Truncated, FaultKind::Truncated],
    )
    .await?;
    let id = finished_job(&sim).await?;
    // Raw: a Content-Length larger than the body that arrives before the close.
    let (got, end) = raw(&sim, &raw_get(&format!("/v1/requests/{id}/result"))).await?;
    assert!(end.is_ok(), "a clean close, not a reset: {end:?}");
    let text = String::from_utf8_lossy(&got);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no header end")?;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .ok_or("no content-length")?
        .trim()
        .parse()?;
    assert!(
        !body.is_empty() && body.len() < length,
        "{} of {length}: {body}",
        body.len()
    );
    assert!(body.starts_with("{\"request_id\""), "{body}");
    // reqwest: reading the body fails.
    let c = client();
    let resp = get(&c, &sim, &format!("/v1/requests/{id}/result")).await?;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.bytes().await.is_err());
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn download_faults_and_counts() -> TestResult {
    let sim = start(config()).await?;
    let id = finished_job(&sim).await?;
    sim.set_faults(Faults::none().script(
        Endpoint::Download,
        vec![
            FaultKind::Truncated,
            FaultKind::Reset,
            FaultKind::MalformedJson,
            FaultKind::Http503,
        ],
    ));
    let c = client();
    let url = format!("{}/files/{id}/0.png", sim.base_url());
    let truncated = c.get(&url).send().await?;
    assert_eq!(truncated.status(), StatusCode::OK);
    assert!(truncated.bytes().await.is_err());
    assert!(c.get(&url).send().await.is_err());
    let garbage = c.get(&url).send().await?.bytes().await?;
    assert!(png_size(&garbage).is_err());
    assert_eq!(
        c.get(&url).send().await?.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let whole = c.get(&url).send().await?.bytes().await?;
    assert_eq!(png_size(&whole)?, (2048, 2048));
    let stats = sim.stats();
    assert_eq!((stats.download_calls, stats.downloads), (5, 1));
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn rates_draw_faults_deterministically_for_a_seed() -> TestResult {
    async fn codes(seed: u64) -> Result<Vec<u16>, Box<dyn std::error::Error>> {
        let sim = start(SimConfig {
            seed,
            faults: Faults::none().with(
                Endpoint::Catalog,
                0.4,
                &[
                    FaultKind::Http500,
                    FaultKind::Http503,
                    FaultKind::RateLimited {
                        retry_after_secs: 0,
                    },
                ],
            ),
            ..config()
        })
        .await?;
        let c = client();
        let mut codes = Vec::new();
        for _ in 0..60 {
            codes.push(get(&c, &sim, "/v1/models").await?.status().as_u16());
        }
        assert_eq!(
            sim.stats().faults_injected as usize,
            codes.iter().filter(|&&c| c != 200).count()
        );
        sim.shutdown().await;
        Ok(codes)
    }
    let a = codes(3).await?;
    let faults = a.iter().filter(|&&c| c != 200).count();
    assert!((10..=40).contains(&faults), "{faults} of 60: {a:?}");
    for code in [500, 503, 429] {
        assert!(a.contains(&code), "{code} never drawn: {a:?}");
    }
    assert_eq!(a, codes(3).await?);
    assert_ne!(a, codes(4).await?);
    Ok(())
}

#[tokio::test]
async fn a_rate_of_one_fails_everything_until_faults_are_cleared() -> TestResult {
    let sim = start(SimConfig {
        faults: "status=1:503".parse()?,
        ..config()
    })
    .await?;
    let c = client();
    let id = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    for _ in 0..5 {
        assert_eq!(
            get(&c, &sim, &format!("/v1/requests/{id}/status"))
                .await?
                .status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    sim.set_faults(Faults::none());
    assert_eq!(
        get(&c, &sim, &format!("/v1/requests/{id}/status"))
            .await?
            .status(),
        StatusCode::OK
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn default_fault_mix_keeps_the_simulator_consistent() -> TestResult {
    // Every endpoint faulty at once, with the default kinds (short slow delays aside).
    let sim = start(SimConfig {
        faults: "submit=0.3,status=0.3,result=0.3,cancel=0.3,catalog=0.3".parse()?,
        seed: 8,
        ..config()
    })
    .await?;
    let c = client();
    let mut created = 0;
    for _ in 0..20 {
        let sent = post(
            &c,
            &sim,
            &format!("/v1/models/{SEQUENTIAL}"),
            &valid_body(SEQUENTIAL),
        )
        .await;
        if let Ok(resp) = sent
            && resp.status() == StatusCode::OK
            && let Ok(body) = resp.json::<Value>().await
            && body.get("request_id").is_some()
        {
            created += 1;
        }
    }
    let stats = sim.stats();
    assert_eq!(stats.submit_calls, 20);
    assert!(stats.faults_injected > 0);
    // Whole replies (slow ones included) are jobs; "accepted then dropped" and truncated
    // replies are jobs the client never heard of.
    let unheard = stats.faults_of(Endpoint::Submit, "accepted_then_dropped")
        + stats.faults_of(Endpoint::Submit, "truncated");
    assert_eq!(stats.submissions, created + unheard);
    assert_eq!(
        stats.duplicate_submissions,
        stats.submissions.saturating_sub(1)
    );
    sim.shutdown().await;
    Ok(())
}
