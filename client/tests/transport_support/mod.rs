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

/// A tiny HTTP/1.1 server on another loopback port (another origin than the simulator): it
/// answers every request with `response(path)` and records each request's head.
pub struct OtherHost {
    pub base_url: String,
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for OtherHost {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One canned reply.
pub struct Canned {
    pub status: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl OtherHost {
    pub async fn start(
        response: impl Fn(&str) -> Canned + Send + Sync + 'static,
    ) -> TestResult<OtherHost> {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = requests.clone();
        let response = std::sync::Arc::new(response);
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let seen = seen.clone();
                let response = response.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    if let Ok(mut seen) = seen.lock() {
                        seen.push(head);
                    }
                    let canned = response(&path);
                    let mut reply = format!(
                        "HTTP/1.1 {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                        canned.status,
                        canned.body.len()
                    );
                    for (name, value) in &canned.headers {
                        reply.push_str(&format!("{name}: {value}\r\n"));
                    }
                    reply.push_str("\r\n");
                    let mut bytes = reply.into_bytes();
                    bytes.extend_from_slice(&canned.body);
                    let _ = socket.write_all(&bytes).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Ok(OtherHost {
            base_url,
            requests,
            task,
        })
    }

    /// Every request head received so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// A whole PNG of `width` x `height` as far as a download can tell: its header, and its end
/// (`IEND`) right after it.
pub fn whole_png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png_header(width, height);
    bytes.extend_from_slice(b"\0\0\0\0IEND\xae\x42\x60\x82");
    bytes
}

/// The first bytes of a PNG of `width` x `height`: enough for any header reader.
pub fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}
