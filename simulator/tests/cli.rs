//! The `runcomfy-simulator` binary: flags, the ready line, serving.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_runcomfy-simulator");

/// Starts the binary and reads its base URL from the first line of stdout.
async fn spawn(args: &[&str]) -> Result<(Child, String), Box<dyn std::error::Error>> {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("RUNCOMFY_SIM_TOKEN")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        BufReader::new(stdout).read_line(&mut line),
    )
    .await??;
    Ok((child, line.trim().to_owned()))
}

#[tokio::test]
async fn serves_with_the_given_flags() -> TestResult {
    let (mut child, base) = spawn(&[
        "--port",
        "0",
        "--token",
        "cli-token",
        "--workers",
        "1",
        "--run-time",
        "20ms..40ms",
        "--model-run-time",
        &format!("{EDIT}=10ms"),
        "--seed",
        "9",
        "--faults",
        "catalog=1:503",
        "--fail-rate",
        "0",
    ])
    .await?;
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let c = client();
    // The token is enforced.
    let url = format!("{base}/v1/models/{SEQUENTIAL}");
    let denied = c
        .post(&url)
        .bearer_auth("other")
        .json(&valid_body(SEQUENTIAL))
        .send()
        .await?;
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
    let reply: Value = c
        .post(&url)
        .bearer_auth("cli-token")
        .json(&valid_body(SEQUENTIAL))
        .send()
        .await?
        .json()
        .await?;
    let id = request_id(&reply);
    // The fault spec applies.
    let catalog = c
        .get(format!("{base}/v1/models"))
        .bearer_auth("cli-token")
        .send()
        .await?;
    assert_eq!(catalog.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Jobs run.
    let mut done = false;
    for _ in 0..500 {
        let s: Value = c
            .get(format!("{base}/v1/requests/{id}/status"))
            .bearer_auth("cli-token")
            .send()
            .await?
            .json()
            .await?;
        if s["status"] == "completed" {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(done);
    let stats: Value = c
        .get(format!("{base}/_sim/stats"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(stats["submissions"], 1);
    child.kill().await?;
    Ok(())
}

#[tokio::test]
async fn a_fixed_port_and_any_token_without_token_flag() -> TestResult {
    // Find a free port, then ask the binary for it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let (mut child, base) = spawn(&["--port", &port.to_string()]).await?;
    assert_eq!(base, format!("http://127.0.0.1:{port}"));
    let c = client();
    let ok = c
        .get(format!("{base}/v1/models"))
        .bearer_auth("whatever")
        .send()
        .await?;
    assert_eq!(ok.status(), StatusCode::OK);
    let missing = c.get(format!("{base}/v1/models")).send().await?;
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    child.kill().await?;
    Ok(())
}

#[tokio::test]
async fn bad_flags_are_refused() -> TestResult {
    for args in [
        vec!["--run-time", "fast"],
        vec!["--run-time", "10s..2s"],
        vec!["--faults", "status=2"],
        vec!["--faults", "everything=0.1"],
        vec!["--model-run-time", "no-equals-sign"],
        vec!["--workers", "0"],
        vec!["--fail-rate", "1.5"],
    ] {
        let out = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output()
            .await?;
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(out.stdout.is_empty(), "{args:?} printed a URL");
        assert!(!out.stderr.is_empty(), "{args:?} said nothing");
    }
    Ok(())
}
