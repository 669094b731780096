//! The job lifecycle against the simulator over loopback HTTP: submit, wait, result, download,
//! cancel, failure, deadlines, resume.

mod transport_support;

use std::time::Duration;

use futures::StreamExt as _;
use runcomfy::error::CancelAttempt;
use runcomfy::media::Media;
use runcomfy::models::bytedance::seedream_4_0::edit::{Edit, EditInput};
use runcomfy::models::bytedance::seedream_4_0::edit_sequential::{
    EditSequential, EditSequentialInput,
};
use runcomfy::models::bytedance::seedream_4_0::sequential::Sequential;
use runcomfy::{CancelOutcome, Client, Error, JobRecord, JobState, Model, Output, WaitOptions};
use runcomfy_simulator::{Endpoint, FaultKind, Faults, SimConfig, Simulator};
use transport_support::*;

/// Runs a model end to end and checks every output file arrives whole.
async fn full_lifecycle<M: Model>(input: M::Input) -> TestResult {
    let sim = simulator(config(Duration::from_millis(60))).await?;
    let client = client(&sim)?;
    let dir = tempfile::tempdir()?;

    let output = client.run::<M>(&input).await?;
    let files = output.files();
    assert!(!files.is_empty(), "{} gave no files", M::ID);

    let saved = client.download(&output, dir.path()).await?;
    assert_eq!(saved.len(), files.len());
    for (file, saved) in files.iter().zip(&saved) {
        assert_eq!(saved.url, file.url);
        assert_eq!(saved.field, file.field);
        assert_eq!(saved.path.parent(), Some(dir.path()));
        let name = saved
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        let expected = match file.index {
            Some(i) => format!("{}-{i}.png", file.field),
            None => format!("{}.png", file.field),
        };
        assert_eq!(name, expected);
        let original = fetch(file.url).await?;
        assert_eq!(saved.bytes, original.len() as u64);
        assert_eq!(sha256_file(&saved.path)?, sha256(&original));
        assert_eq!(saved.sha256, sha256(&original), "hashed as it streamed");
    }
    // Nothing but the files is left in the directory (no temporary files).
    assert_eq!(std::fs::read_dir(dir.path())?.count(), saved.len());

    let stats = sim.stats();
    assert_eq!(stats.submissions, 1);
    assert_eq!(stats.duplicate_submissions, 0);
    assert_eq!(stats.submissions_for(M::ID), 1);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn edit_runs_end_to_end() -> TestResult {
    full_lifecycle::<Edit>(edit_input()).await
}

#[tokio::test]
async fn edit_sequential_runs_end_to_end() -> TestResult {
    full_lifecycle::<EditSequential>(edit_sequential_input()).await
}

#[tokio::test]
async fn sequential_runs_end_to_end() -> TestResult {
    full_lifecycle::<Sequential>(sequential_input()).await
}

#[tokio::test]
async fn result_after_wait_needs_no_more_calls() -> TestResult {
    let sim = simulator(config(Duration::from_millis(40))).await?;
    let client = client(&sim)?;
    let job = client.submit::<Edit>(&edit_input()).await?;
    let waited = job.wait().await?;
    let calls = sim.stats().result_calls + sim.stats().status_calls;
    let again = job.result().await?;
    assert_eq!(waited, again);
    assert_eq!(sim.stats().result_calls + sim.stats().status_calls, calls);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn invalid_input_is_refused_without_a_call() -> TestResult {
    let sim = simulator(SimConfig::default()).await?;
    let client = client(&sim)?;
    let input = EditSequentialInput::new(Vec::new(), "no images at all");
    match client.submit::<EditSequential>(&input).await {
        Err(Error::Validation(err)) => assert!(!err.report.is_valid()),
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(sim.stats().submit_calls, 0);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_sending() -> TestResult {
    let sim = simulator(SimConfig::default()).await?;
    let client = builder(&sim).max_body_bytes(4 * 1024).build()?;
    // A 16 KiB PNG-looking file, sent as a data: URI.
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x02\0\0\0\x02\0\x08\x02\0\0\0".to_vec();
    png.resize(16 * 1024, 0);
    let input = EditSequentialInput::new(vec![Media::bytes(png)], "a cat");
    match client.submit::<EditSequential>(&input).await {
        Err(Error::BodyTooLarge { limit }) => assert_eq!(limit, 4 * 1024),
        Err(Error::Validation(report)) => panic!("validation refused the test image: {report}"),
        other => panic!("expected BodyTooLarge, got {other:?}"),
    }
    assert_eq!(sim.stats().submit_calls, 0);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_failed_job_reports_the_servers_error() -> TestResult {
    let sim = simulator(SimConfig {
        fail_rate: 1.0,
        ..config(Duration::from_millis(30))
    })
    .await?;
    let client = client(&sim)?;
    let job = client.submit::<Edit>(&edit_input()).await?;
    match job.wait().await {
        Err(Error::JobFailed { request_id, error }) => {
            assert_eq!(request_id, job.id());
            assert!(
                error.message().is_some_and(|m| m.contains("failed")),
                "{error}"
            );
        }
        other => panic!("expected JobFailed, got {other:?}"),
    }
    // The reply that ended the wait answers: a finished job's state cannot change.
    let calls = sim.stats().result_calls;
    let state = job.result_state().await?;
    assert_eq!(state.state, JobState::Failed);
    assert!(state.output.is_none());
    assert_eq!(sim.stats().result_calls, calls, "no call after the end");
    sim.shutdown().await;
    Ok(())
}

/// A simulator with one worker and 30 s jobs: the second job submitted stays queued.
async fn one_busy_worker() -> TestResult<Simulator> {
    simulator(SimConfig {
        workers: 1,
        ..config(Duration::from_secs(30))
    })
    .await
}

#[tokio::test]
async fn cancel_while_queued_and_not_cancellable_while_running() -> TestResult {
    let sim = one_busy_worker().await?;
    let client = client(&sim)?;
    let running = client.submit::<Edit>(&edit_input()).await?;
    let queued = client.submit::<Edit>(&edit_input()).await?;

    // The first job occupies the only worker.
    let status = queued.status().await?;
    assert_eq!(status.state, JobState::InQueue);
    assert!(status.queue_position.is_some());

    assert_eq!(queued.cancel().await?, CancelOutcome::Cancelled);
    match queued.wait().await {
        Err(Error::Cancelled { request_id }) => assert_eq!(request_id, queued.id()),
        other => panic!("expected Cancelled, got {other:?}"),
    }
    assert_eq!(running.cancel().await?, CancelOutcome::NotCancellable);
    assert_eq!(sim.stats().jobs_cancelled, 1);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_deadline_cancels_a_queued_job() -> TestResult {
    let sim = one_busy_worker().await?;
    let client = client(&sim)?;
    let _running = client.submit::<Edit>(&edit_input()).await?;
    let queued = client.submit::<Edit>(&edit_input()).await?;
    let started = std::time::Instant::now();
    let outcome = queued
        .wait_with(
            WaitOptions::new().timeout(Duration::from_millis(200)),
            |_| {},
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    match outcome {
        Err(Error::Timeout {
            request_id,
            after,
            cancel,
        }) => {
            assert_eq!(request_id, queued.id());
            assert_eq!(after, Duration::from_millis(200));
            assert!(
                matches!(
                    cancel,
                    Some(CancelAttempt::Answered(CancelOutcome::Cancelled))
                ),
                "{cancel:?}"
            );
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert_eq!(sim.stats().jobs_cancelled, 1);
    sim.shutdown().await;
    Ok(())
}

/// A cancel the server's `Retry-After` holds back well past the deadline is not waited for:
/// the deadline holds, and the timeout says no cancel was sent.
#[tokio::test]
async fn a_deadline_under_a_long_rate_limit_ends_on_time_saying_the_cancel_was_not_sent()
-> TestResult {
    let sim = one_busy_worker().await?;
    let client = client(&sim)?;
    let _running = client.submit::<Edit>(&edit_input()).await?;
    let queued = client.submit::<Edit>(&edit_input()).await?;
    sim.set_faults(Faults::none().script(
        Endpoint::Status,
        vec![FaultKind::RateLimited {
            retry_after_secs: 45,
        }],
    ));
    let started = std::time::Instant::now();
    let outcome = queued
        .wait_with(
            WaitOptions::new().timeout(Duration::from_millis(300)),
            |_| {},
        )
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    match outcome {
        Err(Error::Timeout { cancel, .. }) => assert!(
            matches!(&cancel, Some(CancelAttempt::Failed(err)) if matches!(**err, Error::RateLimited { .. })),
            "{cancel:?}"
        ),
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert_eq!(sim.stats().jobs_cancelled, 0);
    sim.shutdown().await;
    Ok(())
}

/// Fills the one worker of [`one_busy_worker`], then runs a job under a deadline that drops
/// the run while its job waits in the queue.
async fn drop_a_queued_run(client: &Client) -> TestResult {
    let _running = client.submit::<Edit>(&edit_input()).await?;
    let given_up = tokio::time::timeout(
        Duration::from_millis(300),
        client.run::<Edit>(&edit_input()),
    )
    .await;
    assert!(given_up.is_err(), "the run ended: {given_up:?}");
    Ok(())
}

#[tokio::test]
async fn a_run_dropped_while_its_job_is_queued_cancels_it() -> TestResult {
    let sim = one_busy_worker().await?;
    let client = client(&sim)?;
    drop_a_queued_run(&client).await?;
    // The cancel goes in a task of its own.
    for _ in 0..50 {
        if sim.stats().jobs_cancelled == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sim.stats().jobs_cancelled, 1);
    assert_eq!(sim.stats().submissions, 2);
    sim.shutdown().await;
    Ok(())
}

/// A program whose `main` returns as soon as its deadline dropped a run ends the background
/// cancel with its runtime, and the queued job then runs and is billed (QA repro34 #2):
/// `Client::settle` waits for that cancel, so it reaches the server before the runtime ends.
#[test]
fn settle_lets_a_dropped_runs_cancel_reach_the_server_before_the_program_ends() -> TestResult {
    // The simulator on a runtime of its own, as the server is another process.
    let served = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let sim = served.block_on(one_busy_worker())?;
    let client = client(&sim)?;
    // The program: one thread, as `#[tokio::main(flavor = "current_thread")]`.
    let program = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    program.block_on(async {
        drop_a_queued_run(&client).await?;
        client.settle().await;
        // Nothing left to wait for: at once.
        tokio::time::timeout(Duration::from_millis(50), client.settle()).await?;
        TestResult::Ok(())
    })?;
    drop(program);
    assert_eq!(sim.stats().jobs_cancelled, 1);
    served.block_on(sim.shutdown());
    Ok(())
}

#[tokio::test]
async fn updates_stream_reports_the_queue_then_the_end() -> TestResult {
    let sim = simulator(SimConfig {
        workers: 1,
        ..config(Duration::from_millis(150))
    })
    .await?;
    let client = client(&sim)?;
    let first = client.submit::<Edit>(&edit_input()).await?;
    let second = client.submit::<Edit>(&edit_input()).await?;

    let mut updates = Vec::new();
    {
        let stream = second.updates(WaitOptions::new());
        futures::pin_mut!(stream);
        while let Some(update) = stream.next().await {
            updates.push(update?);
        }
    }
    let states: Vec<JobState> = updates.iter().map(|u| u.state).collect();
    assert_eq!(states.first(), Some(&JobState::InQueue), "{states:?}");
    // Once seen queued, polls use the status call, which has the queue position.
    assert!(
        updates
            .iter()
            .any(|u| u.state == JobState::InQueue && u.queue_position.is_some()),
        "{updates:?}"
    );
    assert_eq!(states.last(), Some(&JobState::Succeeded), "{states:?}");
    assert!(states.contains(&JobState::InProgress), "{states:?}");
    assert!(updates.windows(2).all(|w| w[0].elapsed <= w[1].elapsed));
    assert!(updates.windows(2).all(|w| w[0].polls < w[1].polls));
    // The stream left the result behind: no further call for it.
    let calls = sim.stats().result_calls;
    second.result().await?;
    assert_eq!(sim.stats().result_calls, calls);

    let mut seen = 0;
    first.wait_with(WaitOptions::new(), |_| seen += 1).await?;
    assert!(seen >= 1);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_saved_job_resumes_in_another_client() -> TestResult {
    let sim = simulator(config(Duration::from_millis(80))).await?;
    let record_json = {
        let client = client(&sim)?;
        let job = client
            .submit::<EditSequential>(&edit_sequential_input())
            .await?;
        serde_json::to_string(&job)?
    };
    // The ids and the submit time (RFC 3339, to the millisecond) are saved, not the token.
    let value: serde_json::Value = serde_json::from_str(&record_json)?;
    assert_eq!(value["model_id"], EditSequential::ID);
    assert_eq!(value.as_object().map(|o| o.len()), Some(3));
    let submitted = value["submitted_at"].as_str().ok_or("no submitted_at")?;
    assert!(
        submitted.ends_with('Z') && submitted.contains('.'),
        "{submitted}"
    );
    assert!(!record_json.contains(TOKEN));

    let record: JobRecord = serde_json::from_str(&record_json)?;
    let fresh = client(&sim)?;
    let job = fresh.resume::<EditSequential>(&record)?;
    assert_eq!(job.record(), record);
    let output = job.wait().await?;
    assert!(!output.images.is_empty());
    assert_eq!(sim.stats().submissions, 1);

    match fresh.resume::<Edit>(&record) {
        Err(Error::ModelMismatch { found, .. }) => assert_eq!(found, EditSequential::ID),
        other => panic!("expected ModelMismatch, got {other:?}"),
    }
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn unknown_requests_are_not_found_with_their_id() -> TestResult {
    let sim = simulator(SimConfig::default()).await?;
    let client = client(&sim)?;
    let job = client.job::<Edit>("no-such-request");
    match job.status().await {
        Err(err @ Error::NotFound { .. }) => {
            assert_eq!(err.request_id(), Some("no-such-request"));
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_not_retried() -> TestResult {
    let sim = simulator(SimConfig::default()).await?;
    let client = Client::builder()
        .token("not-the-right-token")
        .base_url(sim.base_url())
        .retry_policy(fast_retries())
        .build()?;
    match client.submit::<Edit>(&edit_input()).await {
        Err(Error::Unauthorized { .. }) => {}
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert_eq!(sim.stats().submit_calls, 1);
    assert_eq!(sim.stats().submissions, 0);
    sim.shutdown().await;
    Ok(())
}

/// A hand-written model: its input names its model, as generated inputs do.
mod by_input {
    use runcomfy::catalog::ModelInfo;
    use runcomfy::media::{Files, Media};
    use runcomfy::outputs::MediaOutput;
    use runcomfy::validate::instance::{Instance, Object, View, entries, field};
    use runcomfy::vocab::pointer::Path;
    use runcomfy::{Input, Model, ValidationReport};
    use serde::{Deserialize, Serialize};

    pub struct PlainEdit;

    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub struct PlainEditInput {
        pub prompt: String,
        pub images: Vec<Media>,
    }

    impl Instance for PlainEditInput {
        fn view(&self) -> View<'_> {
            View::Object(self)
        }
    }

    impl Object for PlainEditInput {
        fn entries(&self) -> Vec<(&str, &dyn Instance)> {
            entries(
                [
                    ("prompt", field(&self.prompt)),
                    ("images", field(&self.images)),
                ],
                None,
            )
        }
    }

    impl Input for PlainEditInput {
        type Model = PlainEdit;

        /// The model's checks, and one of its own: a prompt is not empty.
        fn validate(&self) -> ValidationReport {
            let mut report = runcomfy::validate::input(PlainEdit::info(), self, Files::Local);
            if self.prompt.is_empty() {
                let path = Path::root().key("prompt");
                report.error(&path, "minLength", None, "must not be empty");
            }
            report
        }
    }

    impl Model for PlainEdit {
        const ID: &'static str = "bytedance/seedream-4-0/edit";
        type Input = PlainEditInput;
        type Output = MediaOutput;
        fn info() -> &'static ModelInfo {
            <runcomfy::models::bytedance::seedream_4_0::edit::Edit as Model>::info()
        }
    }
}

#[tokio::test]
async fn the_model_follows_from_the_input_type() -> TestResult {
    let sim = simulator(config(Duration::from_millis(20))).await?;
    let client = client(&sim)?;
    let input = by_input::PlainEditInput {
        prompt: "a hat".into(),
        images: vec![Media::url(IMAGE_URL)],
    };
    let output = client.run_input(&input).await?;
    assert_eq!(output.images.len(), 1);
    let job = client.submit_input(&input).await?;
    assert_eq!(job.model_id(), Edit::ID);
    job.wait().await?;
    // Generated inputs name their model too.
    let generated = client.run_input(&edit_sequential_input()).await?;
    assert!(!generated.images.is_empty());
    let empty = by_input::PlainEditInput {
        prompt: String::new(),
        images: vec![Media::url(IMAGE_URL)],
    };
    assert!(matches!(
        client.submit_input(&empty).await,
        Err(Error::Validation(_))
    ));
    sim.shutdown().await;
    Ok(())
}

/// A simulator of 40 ms jobs that prices `model` at $0.03 an output.
async fn priced(model: &str) -> TestResult<runcomfy_simulator::Simulator> {
    let mut config = config(Duration::from_millis(40));
    config.prices.insert(
        model.into(),
        runcomfy_simulator::parse_price("0.03/output")?,
    );
    simulator(config).await
}

/// Today's price from the API, and what a job cost from its result (`include_cost=true`).
#[tokio::test]
async fn prices_are_read_live_and_a_finished_job_says_what_it_cost() -> TestResult {
    let sim = priced(Sequential::ID).await?;
    let client = client(&sim)?;
    let price = client.model_price(Sequential::ID).await?;
    assert_eq!(price.usd, "0.03".parse().ok());
    assert_eq!(price.unit, Some(runcomfy::price::PriceUnit::Output));
    let all = client.model_prices().await?;
    assert_eq!(all.len(), runcomfy::catalog().len(), "every page read");
    assert!(
        all.iter()
            .any(|(id, p)| id == Sequential::ID && *p == price)
    );
    // The whole model as the API states it: name, kind and the schema it serves.
    let live = client.live_model(Sequential::ID).await?;
    assert_eq!(live.price, price);
    assert_eq!(
        live.display_name.as_deref(),
        Some(Sequential::info().display_name)
    );
    assert_eq!(live.kind, Some(runcomfy::schema::MediaKind::Image));
    let schema = live.input_schema.unwrap_or_default();
    assert!(
        schema
            .get("properties")
            .is_some_and(|p| p.get("text").is_some())
    );
    let listed = client.live_models().await?;
    assert!(
        listed
            .iter()
            .any(|m| m.id == Sequential::ID && m.input_schema.is_none())
    );

    let input =
        serde_json::json!({"text": "Generate 2 images.", "sequential_image_generation_options": 2});
    let model = runcomfy::catalog::find(Sequential::ID).ok_or("no model")?;
    let estimate = runcomfy::estimate::estimate(model, &price, &input);
    let job = client.submit_json(model, &input).await?;
    assert_eq!(job.cost(), None, "not before the end");
    job.wait().await?;
    assert_eq!(job.cost(), "0.06".parse().ok());
    assert_eq!(job.cost(), estimate.usd(), "the estimate holds");
    assert_eq!(job.result_state().await?.cost, "0.06".parse().ok());
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_client_without_local_files_refuses_paths_unopened() -> TestResult {
    let sim = simulator(config(Duration::from_millis(50))).await?;
    let client = builder(&sim).local_files(false).build()?;
    let dir = tempfile::tempdir()?;
    let real = dir.path().join("secret.png");
    std::fs::write(&real, whole_png(64, 64))?;
    // As a service would read its users' JSON: any string not a URL is a path.
    for path in [
        real.display().to_string(),
        "/nonexistent/secret.png".to_owned(),
    ] {
        let body = serde_json::json!({"prompt": "make it blue", "images": [path]});
        let input: EditInput = serde_json::from_value(body.clone())?;
        let typed = client.submit::<Edit>(&input).await;
        let dynamic = client
            .submit_json(runcomfy::catalog::find(Edit::ID).ok_or("no model")?, &body)
            .await;
        for outcome in [typed.map(|_| ()), dynamic.map(|_| ())] {
            match outcome {
                Err(Error::Validation(err)) => {
                    let text = err.to_string();
                    // The same words whether the file exists or not.
                    assert!(text.contains("this client sends no local file"), "{text}");
                    assert!(!text.contains("No such file"), "{text}");
                }
                other => panic!("expected a validation error, got {other:?}"),
            }
        }
    }
    // URLs still go.
    client.submit::<Edit>(&edit_input()).await?;
    assert_eq!(sim.stats().submit_calls, 1);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_typed_input_is_priced_without_opening_its_files() -> TestResult {
    let sim = priced(EditSequential::ID).await?;
    let client = client(&sim)?;
    // A file that is not there: pricing never reads it.
    let input = EditSequentialInput::new(
        vec![Media::path("/nonexistent/cat.png")],
        "Generate 2 images of this cat.",
    )
    .with_sequential_image_generation_options(
        runcomfy::models::bytedance::seedream_4_0::edit_sequential::MaxImages::Two,
    );
    let (estimate, unread) = client.estimate(&input).await;
    assert!(unread.is_none(), "{unread:?}");
    assert_eq!(estimate.usd(), "0.06".parse().ok(), "{estimate}");
    // The same as the JSON input's.
    let model = runcomfy::catalog::find(EditSequential::ID).ok_or("no model")?;
    let json = serde_json::json!({"sequential_image_generation_options": 2});
    let price = client.model_price(EditSequential::ID).await?;
    assert_eq!(
        runcomfy::estimate::estimate(model, &price, &json).usd(),
        estimate.usd()
    );
    sim.shutdown().await;
    Ok(())
}
