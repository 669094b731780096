//! The documented job lifecycle: submit, status, result, cancel, over real HTTP.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use runcomfy_simulator::{RunTime, SimConfig};
use serde_json::Value;

fn is_rfc3339(text: &str) -> bool {
    // 2025-01-31T12:34:56.789Z
    let b = text.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && text.ends_with('Z')
        && text[..4].parse::<u32>().is_ok_and(|y| y >= 2020)
}

#[tokio::test]
async fn each_seed_model_runs_the_documented_lifecycle() -> TestResult {
    let sim = start(config()).await?;
    let c = client();
    for model in [EDIT, EDIT_SEQUENTIAL, SEQUENTIAL] {
        let reply = submit(&c, &sim, model, &valid_body(model)).await?;
        let id = request_id(&reply);
        assert!(!id.is_empty(), "{reply}");
        let base = sim.base_url();
        assert_eq!(
            reply["status_url"],
            format!("{base}/v1/requests/{id}/status")
        );
        assert_eq!(
            reply["result_url"],
            format!("{base}/v1/requests/{id}/result")
        );
        assert_eq!(
            reply["cancel_url"],
            format!("{base}/v1/requests/{id}/cancel")
        );

        // The URLs in the reply are the ones to use.
        let status_url = reply["status_url"].as_str().ok_or("no status_url")?;
        let early: Value = c
            .get(status_url)
            .bearer_auth(TOKEN)
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(early["request_id"], id.as_str());
        assert!(
            matches!(
                early["status"].as_str(),
                Some("in_queue" | "in_progress" | "completed")
            ),
            "{early}"
        );
        assert!(early["status_url"].is_string() && early["result_url"].is_string());

        let done = wait_terminal(&c, &sim, &id).await?;
        assert_eq!(done["status"], "completed", "{done}");
        assert!(done.get("queue_position").is_none(), "{done}");

        let res = result(&c, &sim, &id).await?;
        assert_eq!(res["request_id"], id.as_str());
        assert_eq!(res["status"], "succeeded");
        assert!(res.get("error").is_none(), "{res}");
        let created = res["created_at"].as_str().ok_or("no created_at")?;
        let finished = res["finished_at"].as_str().ok_or("no finished_at")?;
        assert!(is_rfc3339(created) && is_rfc3339(finished), "{res}");
        assert!(created <= finished, "{res}");
        let images = res["output"]["images"].as_array().ok_or("no images")?;
        assert!(!images.is_empty());
    }
    let stats = sim.stats();
    assert_eq!(stats.submissions, 3);
    assert_eq!(stats.jobs_succeeded, 3);
    for model in [EDIT, EDIT_SEQUENTIAL, SEQUENTIAL] {
        assert_eq!(stats.submissions_for(model), 1);
    }
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn result_reports_the_current_state_before_the_end() -> TestResult {
    let sim = start(SimConfig {
        workers: 1,
        run_time: RunTime::Fixed(Duration::from_millis(400)),
        ..config()
    })
    .await?;
    let c = client();
    let first = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    let second = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    let running = result(&c, &sim, &first).await?;
    assert_eq!(running["status"], "in_progress");
    assert!(running.get("output").is_none() && running.get("finished_at").is_none());
    assert!(running["created_at"].is_string());
    let queued = result(&c, &sim, &second).await?;
    assert_eq!(queued["status"], "in_queue");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn queue_position_counts_down_with_one_worker() -> TestResult {
    let sim = start(SimConfig {
        workers: 1,
        run_time: RunTime::Fixed(Duration::from_millis(400)),
        ..config()
    })
    .await?;
    let c = client();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(request_id(
            &submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?,
        ));
    }
    let s0 = status(&c, &sim, &ids[0]).await?;
    assert_eq!(s0["status"], "in_progress");
    assert!(s0.get("queue_position").is_none());
    let s1 = status(&c, &sim, &ids[1]).await?;
    let s2 = status(&c, &sim, &ids[2]).await?;
    assert_eq!(s1["status"], "in_queue");
    assert_eq!(s1["queue_position"], 0);
    assert_eq!(s2["queue_position"], 1);

    wait_terminal(&c, &sim, &ids[0]).await?;
    let s2 = status(&c, &sim, &ids[2]).await?;
    assert_eq!(s2["status"], "in_queue");
    assert_eq!(s2["queue_position"], 0);
    assert_eq!(
        wait_terminal(&c, &sim, &ids[2]).await?["status"],
        "completed"
    );
    sim.shutdown().await;
    Ok(())
}

async fn cancel(
    c: &reqwest::Client,
    sim: &runcomfy_simulator::Simulator,
    id: &str,
) -> Result<Value, Box<dyn std::error::Error>> {
    let resp = post(c, sim, &format!("/v1/requests/{id}/cancel"), &Value::Null).await?;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let body: Value = resp.json().await?;
    assert_eq!(body["request_id"], id);
    Ok(body)
}

#[tokio::test]
async fn cancel_works_only_while_queued() -> TestResult {
    let sim = start(SimConfig {
        workers: 1,
        run_time: RunTime::Fixed(Duration::from_millis(800)),
        ..config()
    })
    .await?;
    let c = client();
    let running = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    let queued = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    let behind = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    assert_eq!(status(&c, &sim, &behind).await?["queue_position"], 1);

    // Queued: cancelled, and the job behind moves up.
    let reply = cancel(&c, &sim, &queued).await?;
    assert_eq!(reply["outcome"], "cancelled");
    assert_eq!(reply["status"], "cancelled");
    assert_eq!(status(&c, &sim, &queued).await?["status"], "cancelled");
    assert_eq!(status(&c, &sim, &behind).await?["queue_position"], 0);
    let res = result(&c, &sim, &queued).await?;
    assert_eq!(res["status"], "cancelled");
    assert!(res.get("output").is_none());

    // Cancelled again: still cancelled.
    assert_eq!(cancel(&c, &sim, &queued).await?["outcome"], "cancelled");

    // Running: not cancellable, and it goes on to complete.
    let reply = cancel(&c, &sim, &running).await?;
    assert_eq!(reply["outcome"], "not_cancellable");
    assert_eq!(reply["status"], "in_progress");
    assert_eq!(
        wait_terminal(&c, &sim, &running).await?["status"],
        "completed"
    );

    // Completed: not cancellable.
    let reply = cancel(&c, &sim, &running).await?;
    assert_eq!(reply["outcome"], "not_cancellable");
    assert_eq!(reply["status"], "completed");

    // The cancelled job never runs.
    wait_terminal(&c, &sim, &behind).await?;
    assert_eq!(status(&c, &sim, &queued).await?["status"], "cancelled");
    let stats = sim.stats();
    assert_eq!((stats.jobs_succeeded, stats.jobs_cancelled), (2, 1));
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn failed_jobs_report_an_error_object_and_cannot_be_cancelled() -> TestResult {
    let sim = start(SimConfig {
        fail_rate: 1.0,
        ..config()
    })
    .await?;
    let c = client();
    let id = request_id(&submit(&c, &sim, EDIT, &valid_body(EDIT)).await?);
    assert_eq!(wait_terminal(&c, &sim, &id).await?["status"], "failed");
    let res = result(&c, &sim, &id).await?;
    assert_eq!(res["status"], "failed");
    assert!(res.get("output").is_none(), "{res}");
    assert_eq!(res["error"]["error_code"], 500001);
    assert!(res["error"]["error_message"].is_string());
    assert!(res["finished_at"].is_string());
    assert_eq!(cancel(&c, &sim, &id).await?["outcome"], "not_cancellable");
    // A failed job has no files.
    let resp = c
        .get(format!("{}/files/{id}/0.png", sim.base_url()))
        .send()
        .await?;
    expect_error(resp, StatusCode::NOT_FOUND, 404001).await?;
    assert_eq!(sim.stats().jobs_failed, 1);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn fail_rate_fails_about_that_fraction() -> TestResult {
    let sim = start(SimConfig {
        fail_rate: 0.5,
        workers: 16,
        run_time: RunTime::Fixed(Duration::from_millis(5)),
        seed: 11,
        ..config()
    })
    .await?;
    let c = client();
    let mut ids = Vec::new();
    for i in 0..40 {
        let body = serde_json::json!({"text": format!("Generate 1 image, variant {i}"), "sequential_image_generation_options": 1});
        ids.push(request_id(&submit(&c, &sim, SEQUENTIAL, &body).await?));
    }
    let mut outcomes: HashMap<String, usize> = HashMap::new();
    for id in &ids {
        let s = wait_terminal(&c, &sim, id).await?;
        *outcomes
            .entry(s["status"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    let failed = outcomes.get("failed").copied().unwrap_or(0);
    let completed = outcomes.get("completed").copied().unwrap_or(0);
    assert_eq!(failed + completed, 40, "{outcomes:?}");
    assert!((8..=32).contains(&failed), "{outcomes:?}");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn per_model_run_times_override_the_default() -> TestResult {
    let sim = start(SimConfig {
        run_time: RunTime::Fixed(Duration::from_millis(20)),
        model_run_time: HashMap::from([(
            EDIT.to_owned(),
            RunTime::Fixed(Duration::from_millis(600)),
        )]),
        ..config()
    })
    .await?;
    let c = client();
    let slow = request_id(&submit(&c, &sim, EDIT, &valid_body(EDIT)).await?);
    let fast = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    assert_eq!(wait_terminal(&c, &sim, &fast).await?["status"], "completed");
    assert_eq!(status(&c, &sim, &slow).await?["status"], "in_progress");
    assert_eq!(wait_terminal(&c, &sim, &slow).await?["status"], "completed");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn run_time_ranges_are_honoured() -> TestResult {
    let sim = start(SimConfig {
        run_time: RunTime::Range(Duration::from_millis(150), Duration::from_millis(250)),
        ..config()
    })
    .await?;
    let c = client();
    let started = tokio::time::Instant::now();
    let id = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    wait_terminal(&c, &sim, &id).await?;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(150), "{took:?}");
    assert!(took < Duration::from_millis(2000), "{took:?}");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn the_same_seed_gives_the_same_ids_and_images() -> TestResult {
    let c = client();
    let mut runs = Vec::new();
    for seed in [5, 5, 6] {
        let sim = start(SimConfig { seed, ..config() }).await?;
        let id = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
        wait_terminal(&c, &sim, &id).await?;
        let url = format!("{}/files/{id}/0.png", sim.base_url());
        let bytes = c.get(url).send().await?.bytes().await?;
        runs.push((id, bytes));
        sim.shutdown().await;
    }
    assert_eq!(runs[0], runs[1]);
    assert_ne!(runs[0].0, runs[2].0);
    assert_ne!(runs[0].1, runs[2].1);
    Ok(())
}

#[tokio::test]
async fn starts_fast_and_shuts_down() -> TestResult {
    let started = std::time::Instant::now();
    let sim = start(config()).await?;
    assert!(started.elapsed() < Duration::from_millis(500));
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    assert_ne!(sim.port(), 0);
    let url = sim.base_url();
    sim.shutdown().await;
    // Nothing listens any more.
    assert!(
        client()
            .get(format!("{url}/_sim/stats"))
            .send()
            .await
            .is_err()
    );
    Ok(())
}
