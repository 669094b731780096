//! `SimConfig::state_file`: a simulator started again on the same file knows the earlier jobs.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use runcomfy_simulator::{RunTime, SimConfig};

fn state_config(path: &std::path::Path, run_time: Duration) -> SimConfig {
    SimConfig {
        state_file: Some(path.to_owned()),
        run_time: RunTime::Fixed(run_time),
        seed: 11,
        ..config()
    }
}

#[tokio::test]
async fn jobs_outlive_the_simulator() -> TestResult {
    let dir = std::env::temp_dir().join(format!("runcomfy-sim-persist-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("state.json");
    let c = client();

    let sim = start(state_config(&path, Duration::from_millis(30))).await?;
    let done = request_id(&submit(&c, &sim, EDIT, &valid_body(EDIT)).await?);
    wait_terminal(&c, &sim, &done).await?;
    sim.shutdown().await;

    // A long job, left running when its simulator goes away.
    let sim = start(state_config(&path, Duration::from_millis(400))).await?;
    let running = request_id(&submit(&c, &sim, SEQUENTIAL, &valid_body(SEQUENTIAL)).await?);
    assert_ne!(running, done, "ids continue, never repeat");
    sim.shutdown().await;

    let saved = std::fs::read_to_string(&path)?;
    assert!(!saved.contains(TOKEN), "the token is not saved");

    let sim = start(state_config(&path, Duration::from_millis(400))).await?;
    assert_eq!(status(&c, &sim, &done).await?["status"], "completed");
    assert_eq!(output_sizes(&c, &sim, &done).await?.len(), 1);
    // Picked up again and finished, as the real service would have.
    assert_eq!(
        wait_terminal(&c, &sim, &running).await?["status"],
        "completed"
    );
    assert_eq!(output_sizes(&c, &sim, &running).await?.len(), 3);
    // Another token is still refused.
    let other = c
        .get(format!("{}/v1/requests/{done}/status", sim.base_url()))
        .bearer_auth("someone-else")
        .send()
        .await?;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
    // Submissions and duplicates count across runs.
    submit(&c, &sim, EDIT, &valid_body(EDIT)).await?;
    let stats = sim.stats();
    assert_eq!(stats.submissions, 3);
    assert_eq!(stats.duplicate_submissions, 1);
    sim.shutdown().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
