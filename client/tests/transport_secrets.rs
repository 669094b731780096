//! The token never shows up: not in `Debug`, errors, saved jobs, nor TRACE-level logs of a
//! whole session (submits, retries, polls, cancels, downloads, failures).

mod transport_support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use runcomfy::models::bytedance::seedream_4_0::edit::Edit;
use runcomfy::{Client, Error, WaitOptions};
use runcomfy_simulator::{Endpoint, FaultKind, Faults, SimConfig};
use transport_support::*;

/// A log sink the test can read back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut buf) = self.0.lock() {
            buf.extend_from_slice(data);
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        self.0
            .lock()
            .map(|buf| String::from_utf8_lossy(&buf).into_owned())
            .unwrap_or_default()
    }
}

const WRONG_TOKEN: &str = "wrong-token-7f3e9c2a41";

#[tokio::test]
async fn the_token_never_appears_in_logs_debug_or_errors() -> TestResult {
    let logs = Captured::default();
    // The only test in this binary, so the global subscriber (which also takes `log` records
    // from the HTTP stack) sees every thread.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .try_init()?;

    let sim = simulator(SimConfig {
        workers: 1,
        faults: Faults::none()
            .script(Endpoint::Result, vec![FaultKind::Http503, FaultKind::Reset])
            .script(Endpoint::Download, vec![FaultKind::Http502]),
        ..config(Duration::from_millis(50))
    })
    .await?;
    let client = client(&sim)?;
    let dir = tempfile::tempdir()?;

    // A whole job, through retries, then its files.
    let job = client.submit::<Edit>(&edit_input_n(0)).await?;
    let output = job.wait().await?;
    client.download(&output, dir.path()).await?;

    // A queued job given up on (and cancelled), and a resumed one.
    let _busy = client.submit::<Edit>(&edit_input_n(1)).await?;
    let queued = client.submit::<Edit>(&edit_input_n(2)).await?;
    let timeout = queued
        .wait_with(
            WaitOptions::new().timeout(Duration::from_millis(30)),
            |_| {},
        )
        .await;
    let resumed = client.job::<Edit>(job.id());
    resumed.result().await?;

    // A refused token.
    let wrong = Client::builder()
        .token(WRONG_TOKEN)
        .base_url(sim.base_url())
        .build()?;
    let refused = wrong.submit::<Edit>(&edit_input_n(3)).await;
    assert!(
        matches!(refused, Err(Error::Unauthorized { .. })),
        "{refused:?}"
    );

    // Missing and invalid configuration.
    let bad = Client::builder().token(format!("{TOKEN}\r\nX: y")).build();

    let shown = format!(
        "{client:?} {job:?} {queued:?} {timeout:?} {refused:?} {bad:?} {} {} {}",
        serde_json::to_string(&job)?,
        timeout
            .as_ref()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default(),
        refused
            .as_ref()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default(),
    );
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(!shown.contains(WRONG_TOKEN), "{shown}");

    let text = logs.text();
    // The capture works: the logs name the job and carry TRACE-level HTTP detail.
    assert!(text.contains(job.id()), "no job id in the logs");
    assert!(text.contains("TRACE"), "no TRACE events captured");
    assert!(!text.contains(TOKEN), "token in the logs");
    assert!(!text.contains(WRONG_TOKEN), "wrong token in the logs");
    sim.shutdown().await;
    Ok(())
}
