//! The dynamic path (models chosen at run time, as the CLI and batches use it) learns run
//! times per model, like the typed path.

mod transport_support;

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

/// A submit whose input names a large local file reads it (to check it, and into the body) on
/// tokio's blocking pool: a task beside it on a one-thread runtime keeps running meanwhile,
/// where reading it on the worker would stop it for as long as the reading takes.
#[test]
fn local_files_are_read_off_the_async_worker() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    // The simulator on a runtime of its own: only the client shares the one thread.
    let served = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = served
        .block_on(Simulator::start(SimConfig {
            token: Some("t".into()),
            ..SimConfig::default()
        }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.png");
    std::fs::write(&path, transport_support::png_header(64, 64)).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .set_len(32 << 20)
        .unwrap();
    let model = runcomfy::catalog::find("openai/gpt-image-2/edit").unwrap();
    let input = json!({"prompt": "p", "images": [path.display().to_string()]});

    // What reading it costs, done here.
    let started = Instant::now();
    model.decode(&input).unwrap().encode(usize::MAX).unwrap();
    let reading = started.elapsed();

    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let longest_pause = client.block_on(async {
        let client = Client::builder()
            .base_url(sim.base_url())
            .token("t")
            .build()
            .unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let ticker = tokio::spawn({
            let done = Arc::clone(&done);
            async move {
                let (mut last, mut longest) = (Instant::now(), Duration::ZERO);
                while !done.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    longest = longest.max(last.elapsed());
                    last = Instant::now();
                }
                longest
            }
        });
        // The ticker running first.
        tokio::time::sleep(Duration::from_millis(20)).await;
        client.submit_json(model, &input).await.unwrap();
        done.store(true, Ordering::Relaxed);
        ticker.await.unwrap()
    });
    assert!(
        longest_pause < reading / 3,
        "the worker stopped for {longest_pause:?}; reading the file takes {reading:?}"
    );
    served.block_on(sim.shutdown());
}

/// The `Unchecked` type is every unchecked model's, with no id of its own: submitted as a
/// model, it is refused before anything is sent (QA repro34 #3: it posted the input to
/// `/v1/models`, the catalog's endpoint), as is asking the API of that id.
#[tokio::test]
async fn the_unchecked_type_itself_is_no_model() {
    use runcomfy::unchecked::{Unchecked, UncheckedInput};
    let sim = transport_support::simulator(SimConfig::default())
        .await
        .unwrap();
    let client = transport_support::client(&sim).unwrap();
    let input: UncheckedInput = serde_json::from_value(json!({"prompt": "x"})).unwrap();
    let err = client.submit::<Unchecked>(&input).await.unwrap_err();
    assert!(matches!(err, runcomfy::Error::InvalidModelId(_)), "{err}");
    let err = client.live_model("").await.unwrap_err();
    assert!(matches!(err, runcomfy::Error::InvalidModelId(_)), "{err}");
    let stats = sim.stats();
    assert_eq!((stats.submit_calls, stats.catalog_calls), (0, 0));
}
