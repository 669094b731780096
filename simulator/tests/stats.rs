//! Counters: the library's `Stats` and `GET /_sim/stats`.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use runcomfy_simulator::{Endpoint, FaultKind, Faults, RunTime, SimConfig};
use serde_json::Value;

#[tokio::test]
async fn stats_endpoint_has_the_documented_keys_and_matches_the_library() -> TestResult {
    let sim = start(config()).await?;
    let c = client();
    let id = request_id(&submit(&c, &sim, EDIT, &valid_body(EDIT)).await?);
    wait_terminal(&c, &sim, &id).await?;
    result(&c, &sim, &id).await?;
    // No token needed.
    let resp = c
        .get(format!("{}/_sim/stats", sim.base_url()))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let json: Value = resp.json().await?;
    for key in [
        "submissions",
        "duplicate_submissions",
        "status_calls",
        "result_calls",
        "downloads",
        "retry_after_violations",
        "notice_delay_ms_p50",
        "notice_delay_ms_p95",
        "submissions_by_model",
    ] {
        assert!(json.get(key).is_some(), "missing {key}: {json}");
    }
    assert_eq!(json, serde_json::to_value(sim.stats())?);
    assert_eq!(json["submissions"], 1);
    assert_eq!(json["submissions_by_model"][EDIT], 1);
    assert_eq!(json["result_calls"], 1);
    assert!(json["status_calls"].as_u64().is_some_and(|n| n >= 1));
    // Stats calls are not API calls.
    assert_eq!(
        sim.stats().status_calls,
        json["status_calls"].as_u64().unwrap_or(0)
    );
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn calls_are_counted_per_request() -> TestResult {
    let sim = start(config()).await?;
    let c = client();
    let a = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    let b = request_id(&submit(&c, &sim, EDIT, &valid_body(EDIT)).await?);
    for _ in 0..3 {
        status(&c, &sim, &a).await?;
    }
    status(&c, &sim, &b).await?;
    result(&c, &sim, &b).await?;
    result(&c, &sim, &b).await?;
    let stats = sim.stats();
    assert_eq!(
        (stats.status_calls_for(&a), stats.status_calls_for(&b)),
        (3, 1)
    );
    assert_eq!(
        (stats.result_calls_for(&a), stats.result_calls_for(&b)),
        (0, 2)
    );
    assert_eq!((stats.status_calls, stats.result_calls), (4, 2));
    assert_eq!(stats.submissions_for(SEQUENTIAL), 1);
    assert_eq!(stats.duplicate_submissions, 0);
    sim.reset_stats();
    assert_eq!(sim.stats().status_calls, 0);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn notice_delay_measures_how_late_a_client_learns_the_end() -> TestResult {
    let sim = start(SimConfig {
        run_time: RunTime::Fixed(Duration::from_millis(50)),
        faults: Faults::none().script(Endpoint::Result, vec![FaultKind::Truncated]),
        ..config()
    })
    .await?;
    let c = client();
    let id = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    // Nobody asks for 300 ms after the end.
    tokio::time::sleep(Duration::from_millis(350)).await;
    let stats = sim.stats();
    assert_eq!((stats.jobs_succeeded, stats.unnoticed_jobs), (1, 1));
    assert_eq!(stats.notice_delay_ms_p50, None);
    // A reply that never arrives whole does not count.
    let truncated = get(&c, &sim, &format!("/v1/requests/{id}/result")).await?;
    assert!(truncated.bytes().await.is_err());
    assert_eq!(sim.stats().unnoticed_jobs, 1);
    // The first whole reply does; later ones do not add to it.
    assert_eq!(result(&c, &sim, &id).await?["status"], "succeeded");
    status(&c, &sim, &id).await?;
    let stats = sim.stats();
    assert_eq!(stats.unnoticed_jobs, 0);
    assert_eq!(stats.notice_delays_ms.len(), 1);
    let p50 = stats.notice_delay_ms_p50.ok_or("no p50")?;
    assert!((250.0..5000.0).contains(&p50), "{p50}");
    assert_eq!(stats.notice_delay_ms_p95, Some(p50));

    // A client polling every 10 ms notices within a few tens of milliseconds.
    let quick = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    wait_terminal(&c, &sim, &quick).await?;
    let stats = sim.stats();
    let delays = &stats.notice_delays_ms;
    assert_eq!(delays.len(), 2);
    assert!(delays[1] < 250.0, "{delays:?}");
    assert_eq!(stats.notice_delay_ms_p50, Some(delays[1]));
    sim.shutdown().await;
    Ok(())
}
