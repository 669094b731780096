//! Shared setup of the transport tests: a simulator, a client pointed at it, seed inputs.

#![allow(dead_code)] // Each test file uses a different part.

use std::path::Path;
use std::time::Duration;

use runcomfy::media::Media;
use runcomfy::models::bytedance::seedream_4_0::edit::EditInput;
use runcomfy::models::bytedance::seedream_4_0::edit_sequential::EditSequentialInput;
use runcomfy::models::bytedance::seedream_4_0::sequential::SequentialInput;
use runcomfy::{Client, ClientBuilder, PollPolicy, RetryPolicy};
use runcomfy_simulator::{RunTime, SimConfig, Simulator};
use sha2::{Digest, Sha256};

/// Any error, so tests can use `?`.
pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The token the simulator accepts.
pub const TOKEN: &str = "sim-token-5b0c7e1d9a";

/// A simulator with the test token and jobs of `run_time`.
pub async fn simulator(config: SimConfig) -> TestResult<Simulator> {
    Ok(Simulator::start(SimConfig {
        token: Some(TOKEN.to_owned()),
        ..config
    })
    .await?)
}

/// Jobs that run this long, otherwise defaults.
pub fn config(run_time: Duration) -> SimConfig {
    SimConfig {
        run_time: RunTime::Fixed(run_time),
        ..SimConfig::default()
    }
}

/// Retries that keep tests fast: 6 retries of at most 50 ms (plus `Retry-After`).
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_retries(6)
        .with_min_delay(Duration::from_millis(10))
        .with_max_delay(Duration::from_millis(50))
}

/// A builder for the simulator with fast retries and 20 ms polls.
pub fn builder(sim: &Simulator) -> ClientBuilder {
    Client::builder()
        .token(TOKEN)
        .base_url(sim.base_url())
        .retry_policy(fast_retries())
        .poll_policy(PollPolicy::fixed(Duration::from_millis(20)))
}

/// A client of the simulator.
pub fn client(sim: &Simulator) -> TestResult<Client> {
    Ok(builder(sim).build()?)
}

/// An https URL the simulator accepts as a reference image (it never fetches it).
pub const IMAGE_URL: &str = "https://example.com/reference.png";

pub fn edit_input() -> EditInput {
    EditInput::new("make the cat wear a hat", vec![Media::url(IMAGE_URL)])
}

/// A distinct edit input per `n`, so the simulator does not count duplicates.
pub fn edit_input_n(n: usize) -> EditInput {
    EditInput::new(
        format!("make cat number {n} wear a hat"),
        vec![Media::url(IMAGE_URL)],
    )
}

pub fn edit_sequential_input() -> EditSequentialInput {
    EditSequentialInput::new(
        vec![Media::url(IMAGE_URL)],
        "the cat in three seasons: spring, summer, autumn",
    )
}

pub fn sequential_input() -> SequentialInput {
    SequentialInput::new("a comic strip of a cat learning to fly")
}

/// The SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> TestResult<String> {
    Ok(hex(&Sha256::digest(std::fs::read(path)?)))
}

/// The SHA-256 of bytes, hex.
pub fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Fetches a URL with a plain HTTP client (no token, no faults expected).
pub async fn fetch(url: &str) -> TestResult<Vec<u8>> {
    let response = reqwest::get(url).await?.error_for_status()?;
    Ok(response.bytes().await?.to_vec())
}
