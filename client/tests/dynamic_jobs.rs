//! The dynamic path (models chosen at run time, as the CLI and batches use it) learns run
//! times per model, like the typed path.

use std::time::Duration;

use runcomfy::Client;
use runcomfy_simulator::{RunTime, SimConfig, Simulator};
use serde_json::json;

#[tokio::test]
async fn dynamic_jobs_learn_run_times_per_model() {
    let sim = Simulator::start(SimConfig {
        token: Some("t".into()),
        run_time: RunTime::Fixed(Duration::from_millis(30)),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = Client::builder()
        .base_url(sim.base_url())
        .token("t")
        .build()
        .unwrap();
    let sequential = runcomfy::catalog::find("bytedance/seedream-4-0/sequential").unwrap();
    let edit = runcomfy::catalog::find("bytedance/seedream-4-0/edit").unwrap();
    let pixel = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAAAAAA6mKC9AAAAEUlEQVR4nGP8z4APMP7/PwMACmgD/c6G1gAAAAAASUVORK5CYII=";
    let jobs = [
        client
            .submit_json(sequential, &json!({"text": "Generate 1 image of a fox", "sequential_image_generation_options": 1}))
            .await
            .unwrap(),
        client
            .submit_json(edit, &json!({"prompt": "a fox", "images": [pixel]}))
            .await
            .unwrap(),
    ];
    for job in &jobs {
        job.wait().await.unwrap();
    }
    let history = client.poll_history();
    let learned: Vec<&str> = history.models.keys().map(String::as_str).collect();
    assert_eq!(learned, [edit.id, sequential.id]);
}
