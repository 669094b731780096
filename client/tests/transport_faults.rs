//! Every fault the simulator injects, on every endpoint: reads are retried through it, a submit
//! is never sent twice when its fate is unknown, and `Retry-After` is honoured.

mod transport_support;

use std::time::{Duration, Instant};

use runcomfy::models::bytedance::seedream_4_0::edit::Edit;
use runcomfy::models::bytedance::seedream_4_0::edit_sequential::EditSequential;
use runcomfy::{CancelOutcome, Client, Error, JobState, Model, Output};
use runcomfy_simulator::{Endpoint, FaultKind, Faults, SimConfig};
use transport_support::*;

/// The faults a read (status, result, cancel) can meet.
fn read_faults() -> Vec<FaultKind> {
    vec![
        FaultKind::Http500,
        FaultKind::Http502,
        FaultKind::Http503,
        FaultKind::RateLimited {
            retry_after_secs: 1,
        },
        FaultKind::Reset,
        FaultKind::MalformedJson,
        FaultKind::Truncated,
        FaultKind::ErrorWith200,
        // Last: a slow reply is still a reply, and ends the retries.
        FaultKind::Slow(Duration::from_millis(150)),
    ]
}

fn assert_each_injected(
    sim: &runcomfy_simulator::Simulator,
    endpoint: Endpoint,
    kinds: &[FaultKind],
) {
    let stats = sim.stats();
    for kind in kinds {
        assert_eq!(
            stats.faults_of(endpoint, kind.name()),
            1,
            "{endpoint}:{} not injected once: {:?}",
            kind.name(),
            stats.faults_by_kind
        );
    }
}

#[tokio::test]
async fn result_polls_retry_through_every_fault() -> TestResult {
    let sim = simulator(config(Duration::from_millis(30))).await?;
    // Enough retries to outlast every scripted fault in a row.
    let client = builder(&sim)
        .retry_policy(fast_retries().with_max_retries(12))
        .build()?;
    let job = client.submit::<Edit>(&edit_input()).await?;
    sim.set_faults(Faults::none().script(Endpoint::Result, read_faults()));
    let started = Instant::now();
    let output = job.wait().await?;
    assert!(!output.files().is_empty());
    // The 429 asked for a second's pause.
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_each_injected(&sim, Endpoint::Result, &read_faults());
    let stats = sim.stats();
    assert_eq!(stats.retry_after_violations, 0);
    assert_eq!(stats.submissions, 1);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn status_calls_retry_through_every_fault() -> TestResult {
    let sim = simulator(config(Duration::from_millis(30))).await?;
    let client = builder(&sim)
        .retry_policy(fast_retries().with_max_retries(12))
        .build()?;
    let job = client.submit::<Edit>(&edit_input()).await?;
    sim.set_faults(Faults::none().script(Endpoint::Status, read_faults()));
    // One call gets through all the scripted faults.
    let status = job.status().await?;
    assert!(status.state != JobState::Unknown, "{status:?}");
    assert_each_injected(&sim, Endpoint::Status, &read_faults());
    assert_eq!(sim.stats().retry_after_violations, 0);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn cancel_retries_through_faults() -> TestResult {
    let sim = simulator(SimConfig {
        workers: 1,
        ..config(Duration::from_secs(30))
    })
    .await?;
    let client = client(&sim)?;
    let _running = client.submit::<Edit>(&edit_input_n(0)).await?;
    let queued = client.submit::<Edit>(&edit_input_n(1)).await?;
    let kinds = vec![
        FaultKind::Http503,
        FaultKind::Reset,
        FaultKind::MalformedJson,
        FaultKind::ErrorWith200,
        FaultKind::Truncated,
    ];
    sim.set_faults(Faults::none().script(Endpoint::Cancel, kinds.clone()));
    assert_eq!(queued.cancel().await?, CancelOutcome::Cancelled);
    assert_each_injected(&sim, Endpoint::Cancel, &kinds);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn downloads_retry_through_every_fault_and_arrive_whole() -> TestResult {
    let sim = simulator(config(Duration::from_millis(20))).await?;
    let client = client(&sim)?;
    let output = client
        .run::<EditSequential>(&edit_sequential_input())
        .await?;
    let kinds = vec![
        FaultKind::Http500,
        FaultKind::Http502,
        FaultKind::Http503,
        FaultKind::RateLimited {
            retry_after_secs: 1,
        },
        FaultKind::Reset,
        FaultKind::Slow(Duration::from_millis(100)),
        FaultKind::MalformedJson,
        FaultKind::Truncated,
    ];
    sim.set_faults(Faults::none().script(Endpoint::Download, kinds.clone()));
    let dir = tempfile::tempdir()?;
    let saved = client
        .download_with(
            &output,
            dir.path(),
            // One at a time, so the scripted faults do not all land on one file.
            &runcomfy::DownloadOptions::new().concurrency(1),
        )
        .await?;
    assert_each_injected(&sim, Endpoint::Download, &kinds);
    sim.set_faults(Faults::none());
    assert_eq!(saved.len(), output.files().len());
    for file in &saved {
        assert_eq!(sha256_file(&file.path)?, sha256(&fetch(&file.url).await?));
    }
    assert_eq!(std::fs::read_dir(dir.path())?.count(), saved.len());
    assert_eq!(sim.stats().retry_after_violations, 0);
    sim.shutdown().await;
    Ok(())
}

/// Submits once with `kind` injected; returns the outcome and the simulator's stats.
async fn submit_with(
    kind: FaultKind,
) -> TestResult<(Result<String, Error>, runcomfy_simulator::Stats)> {
    let sim = simulator(SimConfig {
        faults: Faults::none().script(Endpoint::Submit, vec![kind]),
        ..config(Duration::from_millis(20))
    })
    .await?;
    let client = client(&sim)?;
    let outcome = client
        .submit::<Edit>(&edit_input())
        .await
        .map(|job| job.id().to_owned());
    let stats = sim.stats();
    sim.shutdown().await;
    Ok((outcome, stats))
}

#[tokio::test]
async fn an_ambiguous_submit_is_never_sent_twice() -> TestResult {
    let ambiguous = [
        FaultKind::Http500,
        FaultKind::Http502,
        FaultKind::Http503,
        FaultKind::Reset,
        FaultKind::MalformedJson,
        FaultKind::Truncated,
        FaultKind::ErrorWith200,
        FaultKind::AcceptedThenDropped,
    ];
    for kind in ambiguous {
        let (outcome, stats) = submit_with(kind).await?;
        match outcome {
            Err(Error::SubmitOutcomeUnknown { model_id, .. }) => assert_eq!(model_id, Edit::ID),
            other => panic!("{kind}: expected SubmitOutcomeUnknown, got {other:?}"),
        }
        assert_eq!(stats.submit_calls, 1, "{kind}: resubmitted");
        assert_eq!(stats.duplicate_submissions, 0, "{kind}");
    }
    // The job was created for these, and still only once.
    for kind in [FaultKind::AcceptedThenDropped, FaultKind::Truncated] {
        let (_, stats) = submit_with(kind).await?;
        assert_eq!(stats.submissions, 1, "{kind}");
    }
    Ok(())
}

#[tokio::test]
async fn a_rate_limited_submit_waits_and_goes_through_once() -> TestResult {
    let started = Instant::now();
    let (outcome, stats) = submit_with(FaultKind::RateLimited {
        retry_after_secs: 1,
    })
    .await?;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(stats.submit_calls, 2);
    assert_eq!(stats.submissions, 1);
    assert_eq!(stats.retry_after_violations, 0);
    assert_eq!(stats.duplicate_submissions, 0);
    Ok(())
}

/// Calls held by a `Retry-After` do not all go when it ends: one goes first, and when it is
/// rate limited again the others wait for the new `Retry-After` rather than reach the server
/// before it passed.
#[tokio::test]
async fn after_a_rate_limit_one_call_goes_first() -> TestResult {
    let sim = simulator(config(Duration::from_millis(30))).await?;
    let client = builder(&sim)
        .retry_policy(fast_retries().with_max_retries(12))
        .build()?;
    let limited = FaultKind::RateLimited {
        retry_after_secs: 1,
    };
    sim.set_faults(Faults::none().script(Endpoint::Submit, vec![limited, limited]));
    let later = |n| {
        let client = &client;
        async move {
            // After the first submit closed the gate.
            tokio::time::sleep(Duration::from_millis(300)).await;
            client.submit::<Edit>(&edit_input_n(n)).await
        }
    };
    let input = edit_input_n(0);
    let started = Instant::now();
    let (first, second, third) = tokio::join!(client.submit::<Edit>(&input), later(1), later(2));
    for outcome in [&first, &second, &third] {
        assert!(outcome.is_ok(), "{outcome:?}");
    }
    // Two pauses of a second, one after the other.
    assert!(started.elapsed() >= Duration::from_secs(2));
    let stats = sim.stats();
    assert_eq!(stats.submit_calls, 5);
    assert_eq!(stats.submissions, 3);
    assert_eq!(stats.retry_after_violations, 0);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_slow_submit_is_just_slow() -> TestResult {
    let (outcome, stats) = submit_with(FaultKind::Slow(Duration::from_millis(200))).await?;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(stats.submissions, 1);
    Ok(())
}

#[tokio::test]
async fn a_submit_that_cannot_connect_is_retried_and_reported_as_not_sent() -> TestResult {
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let client = Client::builder()
        .token(TOKEN)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(fast_retries().with_max_retries(2))
        .build()?;
    match client.submit::<Edit>(&edit_input()).await {
        // Provably never sent: a plain transport error, safe to submit again.
        Err(Error::Transport {
            failure: source, ..
        }) => assert!(source.is_connect(), "{source}"),
        other => panic!("expected a connect error, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn a_request_timeout_on_reads_is_retried() -> TestResult {
    let sim = simulator(config(Duration::from_millis(20))).await?;
    let client = builder(&sim)
        .request_timeout(Duration::from_millis(200))
        .build()?;
    let job = client.submit::<Edit>(&edit_input()).await?;
    sim.set_faults(Faults::none().script(
        Endpoint::Result,
        vec![FaultKind::Slow(Duration::from_secs(2))],
    ));
    let started = Instant::now();
    job.wait().await?;
    assert!(started.elapsed() < Duration::from_secs(2));
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn random_faults_everywhere_still_finish_every_job() -> TestResult {
    let kinds = [
        FaultKind::Http500,
        FaultKind::Http502,
        FaultKind::Http503,
        FaultKind::Reset,
        FaultKind::MalformedJson,
        FaultKind::Truncated,
        FaultKind::ErrorWith200,
    ];
    let sim = simulator(SimConfig {
        seed: 7,
        faults: Faults::none()
            .with(Endpoint::Status, 0.3, &kinds)
            .with(Endpoint::Result, 0.3, &kinds)
            .with(Endpoint::Download, 0.3, &kinds[..6]),
        ..config(Duration::from_millis(50))
    })
    .await?;
    let client = builder(&sim)
        .retry_policy(fast_retries().with_max_retries(12))
        .build()?;
    let dir = tempfile::tempdir()?;
    let mut jobs = Vec::new();
    for n in 0..4 {
        jobs.push(client.submit::<Edit>(&edit_input_n(n)).await?);
    }
    for job in &jobs {
        let output = job.wait().await?;
        let saved = client
            .download_with(
                &output,
                dir.path(),
                &runcomfy::DownloadOptions::new().prefix(job.id()),
            )
            .await?;
        assert_eq!(saved.len(), output.files().len());
    }
    let stats = sim.stats();
    assert!(stats.faults_injected > 0);
    assert_eq!(stats.submissions, 4);
    assert_eq!(stats.duplicate_submissions, 0);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_submit_that_times_out_after_sending_is_unknown_and_not_resent() -> TestResult {
    let sim = simulator(SimConfig {
        faults: Faults::none().script(
            Endpoint::Submit,
            vec![FaultKind::Slow(Duration::from_millis(600))],
        ),
        ..config(Duration::from_millis(20))
    })
    .await?;
    let client = builder(&sim)
        .submit_timeout(Duration::from_millis(150))
        .build()?;
    match client.submit::<Edit>(&edit_input()).await {
        Err(Error::SubmitOutcomeUnknown {
            failure: source, ..
        }) => {
            assert!(matches!(*source, Error::Transport { .. }), "{source:?}");
        }
        other => panic!("expected SubmitOutcomeUnknown, got {other:?}"),
    }
    // Whatever the server made of it, nothing was sent again.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let stats = sim.stats();
    assert_eq!(stats.submit_calls, 1);
    assert_eq!(stats.duplicate_submissions, 0);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_wait_riding_out_failing_polls_says_so_in_its_updates() -> TestResult {
    let sim = simulator(config(Duration::from_millis(200))).await?;
    let client = client(&sim)?;
    let job = client.submit::<Edit>(&edit_input()).await?;
    // Every read fails past its retries for a while, then answers again.
    sim.set_faults(Faults::none().with(Endpoint::Result, 1.0, &[FaultKind::Http503]));
    let sim_ref = &sim;
    let heal = async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        sim_ref.set_faults(Faults::none());
    };
    let mut updates = Vec::new();
    let waited = async {
        job.wait_with(
            runcomfy::WaitOptions::new().ride_out(Duration::from_secs(30)),
            |update| updates.push(update.clone()),
        )
        .await
    };
    let (output, ()) = tokio::join!(waited, heal);
    output?;
    let outage = updates
        .iter()
        .find_map(|u| u.outage.clone())
        .ok_or("no update told of the outage")?;
    // No poll answered before the outage: no state was seen.
    assert_eq!(updates[0].state, JobState::Unknown, "{updates:?}");
    assert!(outage.error.contains("503"), "{}", outage.error);
    assert!(outage.gives_up_in <= Duration::from_secs(30));
    assert!(!outage.error.contains(TOKEN));
    // The wait ended on an answer, which cleared it.
    let last = updates.last().ok_or("no update")?;
    assert_eq!((last.state, &last.outage), (JobState::Succeeded, &None));
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_pause_longer_than_the_policy_waits_fails_each_call_at_once() -> TestResult {
    let sim = simulator(config(Duration::from_millis(30))).await?;
    let client = client(&sim)?;
    let hour = FaultKind::RateLimited {
        retry_after_secs: 3600,
    };
    sim.set_faults(Faults::none().script(Endpoint::Submit, vec![hour]));
    let started = Instant::now();
    let first = client.submit::<Edit>(&edit_input()).await;
    assert!(
        matches!(first, Err(Error::RateLimited { retry_after: Some(after), .. }) if after == Duration::from_secs(3600)),
        "{first:?}"
    );
    // The server asked for an hour: the next call is not held a minute (the policy's longest
    // wait) to ask early, but told at once, unsent, with the time left.
    let second = client.submit::<Edit>(&edit_input()).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    match second {
        Err(Error::RateLimited {
            retry_after: Some(left),
            ..
        }) => assert!(left > Duration::from_secs(3590), "{left:?}"),
        other => panic!("expected a rate limit, got {other:?}"),
    }
    assert_eq!(sim.stats().submit_calls, 1);
    sim.shutdown().await;
    Ok(())
}
