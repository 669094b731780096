//! A hostile or broken server, written here on 127.0.0.1: replies far larger than any real one,
//! bodies that never end, silence, a job queued forever whose cancel hangs, redirects to
//! another origin and in circles, output URLs full of `../`, lying content types, bytes that
//! are not UTF-8, and a server that echoes the token back. Each gives a typed error or safe
//! behaviour within a bound: every test runs under a timeout, so a hang is a failure.

mod transport_support;

use std::future::Future;
use std::time::{Duration, Instant};

use runcomfy::error::DownloadFailure;
use runcomfy::models::bytedance::seedream_4_0::edit::Edit;
use runcomfy::{Client, DownloadOptions, Error, RetryPolicy, WaitOptions};
use runcomfy_hostile::{Act, Hostile, Seen, json, redirect};
use transport_support::*;

/// A client of `server` with fast retries and short time limits.
fn builder(server: &Hostile) -> runcomfy::ClientBuilder {
    Client::builder()
        .token(TOKEN)
        .base_url(server.base_url())
        .retry_policy(fast_retries().with_max_retries(2))
        .request_timeout(Duration::from_millis(500))
        .submit_timeout(Duration::from_millis(500))
        .download_idle_timeout(Duration::from_millis(500))
}

fn client(server: &Hostile) -> Client {
    builder(server).build().unwrap()
}

/// A client of `server` that tries each call once.
fn without_retries(server: &Hostile) -> Client {
    builder(server)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

/// [`builder`], fetching output files from any server on 127.0.0.1 (the tests' file hosts).
fn files_from_loopback(server: &Hostile) -> runcomfy::ClientBuilder {
    builder(server).allow_output_host("127.0.0.1")
}

/// Runs a test body; a hang past `limit` is a failure.
async fn within<T>(limit: Duration, body: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, body).await {
        Ok(value) => value,
        Err(_) => panic!("hung for more than {limit:?}"),
    }
}

const ID: &str = "hostile-job-1";

/// An API whose every job has succeeded with one image, at `path` on the `files` host.
async fn serving_one_image(files: &Hostile, path: &str) -> Hostile {
    let url = format!("{}{path}", files.base_url());
    Hostile::start(move |_, _| {
        json(
            200,
            serde_json::json!({"request_id": ID, "status": "succeeded",
                "output": {"images": [url]}}),
        )
    })
    .await
}

/// The reply `server` gives to every request, given to a submit: the job may exist, so the
/// outcome is unknown (an invalid response) and the submit is not sent again.
async fn submit_is_unknown_and_sent_once(client: &Client, server: &Hostile) {
    match client.submit::<Edit>(&edit_input()).await {
        Err(Error::SubmitOutcomeUnknown {
            failure: source, ..
        }) => {
            assert!(
                matches!(*source, Error::InvalidResponse { .. }),
                "{source:?}"
            );
        }
        other => panic!("expected SubmitOutcomeUnknown, got {other:?}"),
    }
    let posts = server.seen().iter().filter(|s| s.method == "POST").count();
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn replies_larger_than_any_real_one_are_cut_off() {
    // 256 MiB of JSON whitespace, as fast as loopback goes: valid JSON if read to the end.
    let server = Hostile::start(|_, _| Act::Stream {
        content_type: "application/json".into(),
        chunk: vec![b' '; 64 * 1024],
        total: 256 << 20,
        every: Duration::ZERO,
    })
    .await;
    let client = without_retries(&server);
    within(Duration::from_secs(20), async {
        let started = Instant::now();
        match client.job::<Edit>(ID).status().await {
            Err(Error::InvalidResponse {
                request_id, reason, ..
            }) => {
                assert_eq!(request_id.as_deref(), Some(ID));
                assert!(reason.contains("larger than"), "{reason}");
            }
            other => panic!("expected InvalidResponse, got {other:?}"),
        }
        // Cut off at the cap, not read to the end.
        assert!(started.elapsed() < Duration::from_secs(10));
        submit_is_unknown_and_sent_once(&client, &server).await;
    })
    .await;
}

#[tokio::test]
async fn replies_of_more_values_than_any_real_one_are_refused_unread() {
    // 4 MiB, under the byte cap: two million numbers, which took `runcomfy result` to 589 MB
    // when read as a JSON tree.
    let zeros = vec!["0"; 2_000_000].join(",");
    let body = format!(
        r#"{{"request_id": "{ID}", "status": "succeeded", "output": {{"images": [{zeros}]}}}}"#
    );
    let server = Hostile::start(move |_, _| Act::Reply {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.clone().into_bytes(),
    })
    .await;
    let client = without_retries(&server);
    within(Duration::from_secs(20), async {
        match client.job::<Edit>(ID).result().await {
            Err(Error::InvalidResponse { reason, .. }) => {
                assert!(reason.contains("JSON values"), "{reason}");
            }
            other => panic!("expected InvalidResponse, got {other:?}"),
        }
        submit_is_unknown_and_sent_once(&client, &server).await;
    })
    .await;
}

#[tokio::test]
async fn a_body_that_never_ends_or_never_comes_is_cut_by_the_timeout() {
    let server = Hostile::start(|seen, _| {
        if seen.path.ends_with("/status") {
            // One byte every 50 ms, forever.
            Act::Stream {
                content_type: "application/json".into(),
                chunk: b" ".to_vec(),
                total: usize::MAX,
                every: Duration::from_millis(50),
            }
        } else {
            Act::Hang
        }
    })
    .await;
    let client = client(&server);
    within(Duration::from_secs(20), async {
        for call in ["status", "result"] {
            let job = client.job::<Edit>(ID);
            let outcome = if call == "status" {
                job.status().await.map(|_| ())
            } else {
                job.result().await.map(|_| ())
            };
            match outcome {
                Err(err @ Error::Transport { .. }) => {
                    let Error::Transport {
                        request_id,
                        failure: source,
                    } = &err
                    else {
                        unreachable!()
                    };
                    assert!(source.is_timeout(), "{call}: {source}");
                    assert_eq!(request_id.as_deref(), Some(ID));
                    // Called what it is, not "error decoding response body".
                    let text = err.to_string();
                    assert!(text.contains("timed out"), "{call}: {text}");
                    assert!(!text.contains("decoding"), "{call}: {text}");
                }
                other => panic!("{call}: expected a timeout, got {other:?}"),
            }
        }
        // A submit met with silence: maybe accepted, so unknown, and sent once.
        match client.submit::<Edit>(&edit_input()).await {
            Err(Error::SubmitOutcomeUnknown { .. }) => {}
            other => panic!("expected SubmitOutcomeUnknown, got {other:?}"),
        }
    })
    .await;
    let posts = server.seen().iter().filter(|s| s.method == "POST").count();
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn a_job_queued_forever_ends_at_the_deadline_even_when_cancel_hangs() {
    let server = Hostile::start(|seen, _| {
        if seen.path.ends_with("/cancel") {
            Act::Hang
        } else {
            json(
                200,
                serde_json::json!({"request_id": ID, "status": "in_queue", "queue_position": 7}),
            )
        }
    })
    .await;
    let client = client(&server);
    let started = Instant::now();
    let outcome = within(
        Duration::from_secs(20),
        client.job::<Edit>(ID).wait_with(
            WaitOptions::new().timeout(Duration::from_millis(400)),
            |_| {},
        ),
    )
    .await;
    match outcome {
        Err(Error::Timeout {
            request_id, cancel, ..
        }) => {
            assert_eq!(request_id, ID);
            // The best-effort cancel was tried, and its failure reported rather than waited on.
            assert!(
                matches!(cancel, Some(runcomfy::error::CancelAttempt::Failed(_))),
                "{cancel:?}"
            );
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(server.seen().iter().any(|s| s.path.ends_with("/cancel")));
}

#[tokio::test]
async fn redirects_never_carry_the_token_to_another_origin_and_loops_end() {
    // The other origin: another port of 127.0.0.1, answering like the API would.
    let other = Hostile::start(|_, _| {
        json(
            200,
            serde_json::json!({"request_id": ID, "status": "in_progress"}),
        )
    })
    .await;
    let elsewhere = other.base_url().to_owned();
    let api = Hostile::start(move |seen, base| {
        if seen.path.ends_with("/status") {
            redirect(format!("{elsewhere}{}", seen.path))
        } else if seen.path.ends_with("/result") {
            // In circles, on the API's own origin.
            redirect(format!("{base}{}", seen.path))
        } else {
            // A submit sent away: 307 keeps the method and the body.
            redirect(format!("{elsewhere}/v1/models/x"))
        }
    })
    .await;
    let client = client(&api);
    within(Duration::from_secs(20), async {
        let status = client.job::<Edit>(ID).status().await;
        assert!(status.is_ok(), "{status:?}");
        match client.job::<Edit>(ID).result().await {
            Err(Error::Transport {
                failure: source, ..
            }) => assert!(source.is_redirect(), "{source}"),
            other => panic!("expected a redirect error, got {other:?}"),
        }
        // A POST follows no redirect: the submit was received, so its outcome is unknown.
        match client.submit::<Edit>(&edit_input()).await {
            // Said as a redirect, with where to, not as a refusal with no message.
            Err(err @ Error::SubmitOutcomeUnknown { .. }) => {
                let text = err.to_string();
                assert!(text.contains("answered with a redirect to"), "{text}");
                assert!(!text.contains("refused"), "{text}");
            }
            other => panic!("expected SubmitOutcomeUnknown, got {other:?}"),
        }
    })
    .await;
    // The API's origin got the token; the other origin never did, nor the submit.
    assert!(
        api.seen()
            .iter()
            .all(|s| s.token().as_deref() == Some(TOKEN))
    );
    let away = other.seen();
    assert!(!away.is_empty(), "{away:?}");
    assert!(away.iter().all(|s| s.method != "POST"), "{away:?}");
    for seen in &away {
        assert_eq!(seen.token(), None, "{}", seen.head);
        assert!(!seen.head.contains(TOKEN), "{}", seen.head);
    }
    // The loop was given up after a few hops, and a redirect error is not retried.
    let loops = api
        .seen()
        .iter()
        .filter(|s| s.path.ends_with("/result"))
        .count();
    assert!(loops <= 11, "{loops} hops");
}

#[tokio::test]
async fn output_urls_full_of_dot_dots_land_inside_the_folder_under_safe_names() {
    // The files live on another origin, as on a CDN.
    let files = Hostile::start(|_, _| Act::Reply {
        status: 200,
        headers: vec![("Content-Type".into(), "image/png".into())],
        body: whole_png(32, 32),
    })
    .await;
    let cdn = files.base_url().to_owned();
    let api = Hostile::start(move |_, _| {
        let file = |path: &str| format!("{cdn}{path}");
        json(
            200,
            serde_json::json!({
                "request_id": ID,
                "status": "succeeded",
                "output": {
                    "images": [
                        file("/../../../../etc/passwd"),
                        file("/files/..%2f..%2f..%2fescape.sh"),
                        file("/files/%2e%2e/%2e%2e/x.png"),
                        file("//etc/cron.d/evil"),
                        file("/C:/Windows/System32/evil.dll"),
                    ],
                    "../../outside": file("/files/../../up.png"),
                    "/abs/path": file("/files/a.png"),
                }
            }),
        )
    })
    .await;
    let client = client(&api);
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let saved = within(Duration::from_secs(20), async {
        let output = client.job::<Edit>(ID).result().await.unwrap();
        client.download(&output, &out).await.unwrap()
    })
    .await;
    assert_eq!(saved.len(), 7);
    for file in &saved {
        assert_eq!(file.path.parent(), Some(out.as_path()), "{file:?}");
        let name = file.path.file_name().unwrap().to_str().unwrap();
        assert!(!name.starts_with('.') && !name.contains(".."), "{name}");
        assert!(name.ends_with(".png"), "{name}");
    }
    // Nothing outside the folder, nothing left half-written inside it.
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 7);
    // The file host never saw the token.
    assert_eq!(files.seen().len(), 7);
    assert!(files.seen().iter().all(|s| s.token().is_none()));
}

#[tokio::test]
async fn a_file_that_never_ends_is_cut_at_the_limit_and_leaves_nothing() {
    let files = Hostile::start(|_, _| Act::Stream {
        content_type: "application/octet-stream".into(),
        chunk: vec![0x42; 64 * 1024],
        total: usize::MAX,
        every: Duration::ZERO,
    })
    .await;
    // A name that claims no format: bytes of none are then taken on trust, up to the limit.
    let api = serving_one_image(&files, "/files/0").await;
    let client = client(&api);
    let dir = tempfile::tempdir().unwrap();
    within(Duration::from_secs(20), async {
        let output = client.job::<Edit>(ID).result().await.unwrap();
        let options = DownloadOptions::new().max_bytes(4 << 20);
        match client.download_with(&output, dir.path(), &options).await {
            Err(Error::Download {
                reason: DownloadFailure::TooLarge(limit),
                ..
            }) => assert_eq!(limit, 4 << 20),
            other => panic!("expected TooLarge, got {other:?}"),
        }
    })
    .await;
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "left a file"
    );
    // Too large is final: not fetched again.
    assert_eq!(files.seen().len(), 1);
}

#[tokio::test]
async fn lying_content_types_and_bytes_that_are_not_utf8_give_typed_errors() {
    let server = Hostile::start(|seen, base| match seen.path.as_str() {
        // Valid JSON labelled HTML: the body is what counts.
        "/v1/requests/html/status" => Act::Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: br#"{"request_id": "html", "status": "in_progress"}"#.to_vec(),
        },
        "/v1/requests/binary/status" => Act::Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: b"\xff\xfe\x00\x1b[31m{\"status\": \xc3\x28}".to_vec(),
        },
        "/v1/requests/binary500/status" => Act::Reply {
            status: 500,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: b"\xff\xfe\x00 gateway \x80\x81".to_vec(),
        },
        "/v1/requests/fake-png/result" => json(
            200,
            serde_json::json!({"request_id": "fake-png", "status": "succeeded",
                "output": {"images": [format!("{base}/files/0.png")]}}),
        ),
        // An error page sent as a PNG.
        _ => Act::Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "image/png".into())],
            body: b"<html><body>Access denied</body></html>".to_vec(),
        },
    })
    .await;
    let client = client(&server);
    within(Duration::from_secs(20), async {
        let status = client.job::<Edit>("html").status().await.unwrap();
        assert_eq!(status.raw, "in_progress");

        match client.job::<Edit>("binary").status().await {
            Err(err @ Error::InvalidResponse { .. }) => {
                assert_eq!(err.request_id(), Some("binary"));
                let text = err.to_string();
                assert!(!text.contains('\u{1b}') && !text.contains('\0'), "{text:?}");
            }
            other => panic!("expected InvalidResponse, got {other:?}"),
        }
        match client.job::<Edit>("binary500").status().await {
            Err(err @ Error::Server { .. }) => assert_eq!(err.request_id(), Some("binary500")),
            other => panic!("expected Server, got {other:?}"),
        }

        let dir = tempfile::tempdir().unwrap();
        let output = client.job::<Edit>("fake-png").result().await.unwrap();
        match client
            .download_with(&output, dir.path(), &DownloadOptions::new())
            .await
        {
            Err(Error::Download {
                reason: DownloadFailure::Mismatch(claimed),
                ..
            }) => assert_eq!(claimed, "image/png"),
            other => panic!("expected a content mismatch, got {other:?}"),
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "left a file"
        );
    })
    .await;
}

#[tokio::test]
async fn a_server_echoing_the_token_back_never_gets_it_into_an_error() {
    // Every reply quotes the bearer token it was sent, in every place a reply has text.
    let server = Hostile::start(|seen, _| {
        let token = seen.token().unwrap_or_default();
        if seen.method == "POST" {
            json(
                422,
                serde_json::json!({"error_code": 422001, "error_message": format!("bad token {token}"),
                    "detail": [{"loc": ["header", token], "msg": format!("got {token}"), "input": {token.clone(): [token]}}]}),
            )
        } else if seen.path.ends_with("/status") {
            json(200, serde_json::json!({"status": 3, "queue_position": token}))
        } else if seen.path.ends_with("/cancel") {
            json(200, serde_json::json!({"error_code": token, "error_message": token}))
        } else {
            json(
                200,
                serde_json::json!({"request_id": ID, "status": "succeeded", "output": {"images": token}}),
            )
        }
    })
    .await;
    let client = client(&server);
    let errors = within(Duration::from_secs(20), async {
        let job = client.job::<Edit>(ID);
        vec![
            client.submit::<Edit>(&edit_input()).await.err(),
            job.status().await.err(),
            job.result().await.err(),
            job.cancel().await.err(),
        ]
    })
    .await;
    let errors: Vec<Error> = errors.into_iter().map(|e| e.expect("an error")).collect();
    // The server did get it (that is its job), and echoed it.
    assert!(
        server
            .seen()
            .iter()
            .all(|s| s.token().as_deref() == Some(TOKEN))
    );
    for err in &errors {
        let shown = format!("{err} | {err:?} | {:?}", std::error::Error::source(err));
        assert!(!shown.contains(TOKEN), "the token leaked: {shown}");
        // Nor through a panic message that formats the error.
        let payload =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| panic!("{err:?} {err}")))
                .unwrap_err();
        let message = payload.downcast_ref::<String>().unwrap();
        assert!(!message.contains(TOKEN), "{message}");
    }
}

#[tokio::test]
async fn a_token_echoed_escaped_or_across_an_excerpts_cut_never_shows() {
    // Bodies that are not what the client expects are quoted, cut, in its errors: the token
    // lies across the cut of a 500's text, and JSON-escaped in a 200 that does not decode.
    let server = Hostile::start(|seen, _| {
        let token = seen.token().unwrap_or_default();
        let raw = |status: u16, body: String| Act::Reply {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: body.into_bytes(),
        };
        if seen.path.ends_with("/status") {
            // All but its last character before the cut at 200.
            let before = "x".repeat(201 - token.len());
            raw(500, format!("{before}{token}{}", "y".repeat(100)))
        } else {
            let (first, rest) = token.split_at(1);
            let escaped = format!("\\u{:04x}{rest}", u32::from(first.as_bytes()[0]));
            raw(200, format!(r#"{{"status": 3, "note": "{escaped}"}}"#))
        }
    })
    .await;
    let client = client(&server);
    let job = client.job::<Edit>(ID);
    let errors = within(Duration::from_secs(20), async {
        [job.status().await.err(), job.result().await.err()]
    })
    .await;
    let shown: Vec<String> = errors
        .iter()
        .map(|err| format!("{:?}", err.as_ref().expect("an error")))
        .collect();
    for (shown, quoted) in shown.iter().zip(["xxxxx", "note"]) {
        // The body is quoted, and not a prefix of the token with it.
        assert!(shown.contains(quoted), "{shown}");
        assert!(
            !shown.contains(&TOKEN[..TOKEN.len() - 1]),
            "the token leaked: {shown}"
        );
        assert!(
            !shown.contains(&TOKEN[1..]),
            "the token leaked escaped: {shown}"
        );
    }
}

#[tokio::test]
async fn a_submit_answered_with_a_redirect_is_sent_once_and_its_outcome_is_unknown() {
    // 303 ("created, see there") and 307, each to a port nothing listens on: the server has
    // the submit, so a target that cannot be reached must not read as "nothing was sent".
    for status in [303, 307] {
        let server = Hostile::start(move |seen, _| {
            if seen.method == "POST" {
                Act::Reply {
                    status,
                    headers: vec![(
                        "Location".into(),
                        format!("http://127.0.0.1:1/v1/requests/{ID}/status"),
                    )],
                    body: Vec::new(),
                }
            } else {
                Act::Drop
            }
        })
        .await;
        let client = client(&server);
        within(Duration::from_secs(20), async {
            match client.submit::<Edit>(&edit_input()).await {
                Err(Error::SubmitOutcomeUnknown { .. }) => {}
                other => panic!("{status}: expected SubmitOutcomeUnknown, got {other:?}"),
            }
        })
        .await;
        let posts = server.seen().iter().filter(|s| s.method == "POST").count();
        assert_eq!(posts, 1, "{status}");
    }
}

#[tokio::test]
async fn the_token_as_a_request_id_a_redirect_or_an_output_url_never_shows() {
    let server = Hostile::start(|seen, base| {
        let token = seen.token().unwrap_or_else(|| TOKEN.to_owned());
        let path = seen.path.as_str();
        if seen.method == "POST" {
            json(200, serde_json::json!({"request_id": token}))
        } else if path.ends_with("/failed/result") {
            json(
                200,
                serde_json::json!({"status": "failed", "error": {"message": format!("boom {token}")}}),
            )
        } else if path.ends_with("/loop/status") || path.starts_with("/loop") {
            redirect(format!("{base}/loop?t={TOKEN}"))
        } else if path.ends_with("/files/result") {
            json(
                200,
                serde_json::json!({"status": "succeeded", "output": {"images": [
                    format!("{base}/files/{token}.png"),
                    format!("{base}/hop.png"),
                ]}}),
            )
        } else if path == "/hop.png" {
            // The file host is the API's own, so the first hop carries the token; the next
            // one names it and then drops the connection.
            redirect(format!("{base}/drop?t={TOKEN}"))
        } else if path.starts_with("/drop") {
            Act::Drop
        } else {
            json(404, serde_json::json!({"error_code": 404001, "error_message": path}))
        }
    })
    .await;
    let client = client(&server);
    let dir = tempfile::tempdir().unwrap();
    let errors = within(Duration::from_secs(20), async {
        let files = client.job_json("files").result().await.unwrap();
        let options = DownloadOptions::new().concurrency(1);
        let mut errors = vec![
            client.submit::<Edit>(&edit_input()).await.err(),
            client.job::<Edit>("failed").result().await.err(),
            client.job::<Edit>("loop").status().await.err(),
            client
                .download_with(&files, dir.path(), &options)
                .await
                .err(),
        ];
        // The second file alone: its redirect is what fails.
        let second = runcomfy::dynamic::DynOutput(
            serde_json::json!({"images": [files.0["images"][1].clone()]})
                .as_object()
                .unwrap()
                .clone(),
        );
        errors.push(client.download(&second, dir.path()).await.err());
        errors
    })
    .await;
    let errors: Vec<Error> = errors.into_iter().map(|e| e.expect("an error")).collect();
    assert!(
        matches!(&errors[0], Error::SubmitOutcomeUnknown { .. }),
        "a request id holding the token cannot be followed: {:?}",
        errors[0]
    );
    assert!(
        matches!(&errors[1], Error::JobFailed { .. }),
        "{:?}",
        errors[1]
    );
    assert!(
        matches!(&errors[2], Error::Transport { failure: source, .. } if source.is_redirect()),
        "{:?}",
        errors[2]
    );
    for err in &errors {
        let shown = format!("{err} | {err:?} | {:?}", std::error::Error::source(err));
        assert!(!shown.contains(TOKEN), "the token leaked: {shown}");
    }
    // The scrubbed output URL was asked for, never the token's.
    assert!(server.seen().iter().all(|s| !s.path.contains(TOKEN)
        || s.path.starts_with("/loop")
        || s.path.starts_with("/drop")));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_token_echoed_where_it_is_read_lower_cased_never_shows() {
    // A MIME type and a host name come out of parsing lower-cased: the echo is found in any
    // case.
    const MIXED: &str = "Sim-Token-5B0c7E1d9A";
    let server = Hostile::start(|seen, base| {
        let token = seen.token().unwrap_or_default();
        match seen.path.as_str() {
            "/v1/requests/files/result" => json(
                200,
                serde_json::json!({"status": "succeeded", "output": {"images": [
                    format!("{base}/files/a.png"),
                    format!("{base}/files/b.png"),
                ]}}),
            ),
            "/files/a.png" => runcomfy_hostile::file(&format!("text/x-{token}"), "not an image"),
            "/files/b.png" => redirect(format!("https://{token}.evil.example/x.png")),
            path => json(
                404,
                serde_json::json!({"error_code": 404001, "error_message": path}),
            ),
        }
    })
    .await;
    let client = builder(&server).token(MIXED).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let errors = within(Duration::from_secs(20), async {
        let files = client.job_json("files").result().await.unwrap();
        let mut errors = Vec::new();
        for at in 0..2 {
            let one = runcomfy::dynamic::DynOutput(
                serde_json::json!({"images": [files.0["images"][at].clone()]})
                    .as_object()
                    .unwrap()
                    .clone(),
            );
            errors.push(client.download(&one, dir.path()).await.err());
        }
        errors
    })
    .await;
    let shown: Vec<String> = errors
        .into_iter()
        .map(|err| {
            let err = err.expect("an error");
            format!("{err} | {err:?}").to_ascii_lowercase()
        })
        .collect();
    for shown in &shown {
        assert!(
            !shown.contains(&MIXED.to_ascii_lowercase()),
            "the token leaked: {shown}"
        );
    }
    // The content type is told, scrubbed; the redirect's target, scrubbed, is no URL.
    assert!(shown[0].contains("text/x-[redacted]"), "{}", shown[0]);
    assert!(
        shown[1].contains("redirected to something that is not a url"),
        "{}",
        shown[1]
    );
}

#[tokio::test]
async fn server_text_is_shown_without_terminal_sequences_and_bounded() {
    // Clear screen, window title, OSC 52 (clipboard), CR over the line, BEL, an 8-bit CSI, a
    // right-to-left override, a line separator, then 100 KB.
    let nasty = format!(
        "\u{1b}[2J\u{1b}]0;owned\u{7}\u{1b}]52;c;Y3VybCBldmlsIHwgc2g=\u{7}\rfake\u{9b}31m\u{202e}gnp.exe\u{2028}{}",
        "x".repeat(100_000)
    );
    let server = Hostile::start({
        let nasty = nasty.clone();
        move |seen, _| {
            let path = seen.path.as_str();
            if path.ends_with("/failed/result") {
                json(200, serde_json::json!({"status": "failed", "error": nasty}))
            } else if path.ends_with("/object/result") {
                json(200, serde_json::json!({"status": "failed", "error": {"code": nasty}}))
            } else if path.ends_with("/odd/result") {
                json(200, serde_json::json!({"status": nasty}))
            } else if path.ends_with("/cancel") {
                json(200, serde_json::json!({"outcome": nasty}))
            } else {
                json(
                    400,
                    serde_json::json!({"error_code": 400001, "error_message": nasty, "detail": [nasty]}),
                )
            }
        }
    })
    .await;
    let client = client(&server);
    let shown = within(Duration::from_secs(20), async {
        let result_error = async |id: &str| {
            client
                .job::<Edit>(id)
                .result()
                .await
                .unwrap_err()
                .to_string()
        };
        let any = || client.job::<Edit>("any");
        vec![
            result_error("failed").await,
            result_error("object").await,
            result_error("odd").await,
            any().status().await.unwrap_err().to_string(),
            any().cancel().await.unwrap().to_string(),
        ]
    })
    .await;
    for text in shown {
        let raw: Vec<char> = text
            .chars()
            .filter(|c| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2028}'))
            .collect();
        assert!(raw.is_empty(), "raw {raw:?} in {text:?}");
        assert!(text.chars().count() < 3_000, "{} characters", text.len());
        // Shown escaped (`\u{1b}`, or `\u001b` inside JSON), not dropped.
        assert!(text.contains("]52;c;"), "{}", &text[..200]);
    }
}

#[tokio::test]
async fn a_server_clock_that_disagrees_with_the_polls_is_not_learned() {
    // Each job ends 300 ms after its submit; its timestamps say it ran five hours.
    let submitted = std::sync::Arc::new(std::sync::Mutex::new(None::<Instant>));
    let server = Hostile::start({
        let submitted = submitted.clone();
        move |seen, _| {
            if seen.method == "POST" {
                *submitted.lock().unwrap() = Some(Instant::now());
                return json(200, serde_json::json!({"request_id": ID}));
            }
            let since = submitted.lock().unwrap().map(|t| t.elapsed()).unwrap_or_default();
            if since < Duration::from_millis(300) {
                json(200, serde_json::json!({"status": "in_progress"}))
            } else {
                json(
                    200,
                    serde_json::json!({"status": "succeeded", "output": {"image": "https://x.runcomfy.net/0.png"},
                        "created_at": "2025-01-01T00:00:00.000Z", "finished_at": "2025-01-01T05:00:00.000Z"}),
                )
            }
        }
    })
    .await;
    let polling = runcomfy::poll::AdaptivePolling::default()
        .with_cold(Duration::from_millis(100), Duration::from_millis(100));
    let client = builder(&server)
        .poll_policy(runcomfy::PollPolicy::Adaptive(polling))
        .build()
        .unwrap();
    within(Duration::from_secs(20), async {
        client
            .submit::<Edit>(&edit_input())
            .await
            .unwrap()
            .wait()
            .await
            .unwrap();
        let learned =
            &client.poll_history().models[runcomfy::models::bytedance::seedream_4_0::edit::INFO.id];
        assert_eq!(learned.len(), 1);
        // What the polls around the end saw (it ended between them), not the server's word.
        assert!(
            (100..=2_000).contains(&learned[0]),
            "learned {learned:?} ms, not the server's 5 h"
        );
        // The next job plans on it: done within a second, not hours.
        let started = Instant::now();
        client
            .submit::<Edit>(&edit_input())
            .await
            .unwrap()
            .wait()
            .await
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    })
    .await;
}

/// A placeholder under a name that sounds like a file (`"thumbnail_url": "n/a"`) is a value,
/// not a download that fails every time; a path there still names a file, whose download
/// fails, and the job's other files are saved all the same.
/// Text under a file-like name that is no URL (`"n/a"`) is a value, not a file; a path there
/// (`/files/cover.png`) is a file on the API's own origin, fetched from it with the token, as
/// any file of that origin (QA repro33 F1: it was listed as a file and never fetched).
#[tokio::test]
async fn text_under_a_file_like_name_is_no_file_but_a_path_is() {
    let files = Hostile::start(|_, _| Act::Reply {
        status: 200,
        headers: vec![("Content-Type".into(), "image/png".into())],
        body: whole_png(32, 32),
    })
    .await;
    let image = format!("{}/files/a.png", files.base_url());
    // The extra fields come first, in whatever order the output's map keeps.
    let output = move |mut extra: serde_json::Value| {
        if let Some(fields) = extra.as_object_mut() {
            fields.insert("images".into(), serde_json::json!([image.clone()]));
        }
        extra
    };
    let placeholders = output(serde_json::json!({
        "thumbnail_url": "n/a",
        "preview_image": "pending",
        "video": {"url": "none"},
    }));
    let path = output(serde_json::json!({"cover_image": "/files/../files/cover.png"}));
    for (output, fields) in [
        (placeholders, vec!["images"]),
        (path, vec!["cover_image", "images"]),
    ] {
        let api = Hostile::start(move |seen, _| {
            if seen.path == "/files/cover.png" {
                return runcomfy_hostile::file("image/png", whole_png(16, 16));
            }
            json(
                200,
                serde_json::json!({"request_id": ID, "status": "succeeded", "output": output}),
            )
        })
        .await;
        let client = files_from_loopback(&api).build().unwrap();
        // Where each is fetched from, as a program shows it.
        assert_eq!(
            client
                .output_url("/files/../files/cover.png")
                .map(String::from),
            Some(format!("{}/files/cover.png", api.base_url()))
        );
        assert_eq!(client.output_url("n/a"), None);
        let out = tempfile::tempdir().unwrap();
        let saved = within(Duration::from_secs(20), async {
            let output = client.job_json(ID).result().await.unwrap();
            client.download(&output, out.path()).await
        })
        .await
        .unwrap();
        let mut saved: Vec<&str> = saved.iter().map(|f| f.field.as_str()).collect();
        saved.sort_unstable();
        assert_eq!(saved, fields);
        // The path was asked of the API, with its token, once.
        let asked: Vec<Seen> = api
            .seen()
            .into_iter()
            .filter(|s| s.path.starts_with("/files/"))
            .collect();
        assert_eq!(asked.len(), fields.len() - 1, "{asked:?}");
        assert!(asked.iter().all(|s| s.token().is_some()), "{asked:?}");
    }
}

/// An output URL longer than any file host takes is refused as such, before any request, and
/// the reason shows past the URL; not a network error that looks worth retrying.
#[tokio::test]
async fn an_output_url_too_long_to_fetch_is_refused_saying_so() {
    let files = Hostile::start(|_, _| runcomfy_hostile::file("image/png", whole_png(8, 8))).await;
    let url = format!(
        "{}/files/a.png?sig={}",
        files.base_url(),
        "A".repeat(70_000)
    );
    let output = runcomfy::dynamic::DynOutput(
        [("images".to_owned(), serde_json::json!([url]))]
            .into_iter()
            .collect(),
    );
    let client = files_from_loopback(&files).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = within(
        Duration::from_secs(20),
        client.download(&output, dir.path()),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, Error::Download { reason: DownloadFailure::UrlTooLong(len), .. } if *len > 70_000),
        "{err:?}"
    );
    assert!(
        err.to_string().ends_with("more than any file host takes"),
        "{err}"
    );
    assert!(files.seen().is_empty());
}

/// A reply about another job is not taken for this one's: its state, and its files above all.
#[tokio::test]
async fn a_reply_about_another_job_is_refused() {
    let server = Hostile::start(|seen, _| {
        let status = if seen.path.ends_with("/status") {
            "completed"
        } else {
            "succeeded"
        };
        json(
            200,
            serde_json::json!({"request_id": "someone-else", "status": status,
                "output": {"images": ["https://cdn.runcomfy.net/theirs.png"]}}),
        )
    })
    .await;
    let client = without_retries(&server);
    within(Duration::from_secs(20), async {
        let job = client.job_json(ID);
        for (what, err) in [
            ("status", job.status().await.map(|_| ()).unwrap_err()),
            ("result", job.result().await.map(|_| ()).unwrap_err()),
        ] {
            match err {
                Error::InvalidResponse { reason, .. } => assert_eq!(
                    reason,
                    format!("the {what} reply is for request `someone-else`")
                ),
                other => panic!("{what}: {other:?}"),
            }
        }
    })
    .await;
}

#[tokio::test]
async fn an_odd_optional_field_is_ignored() {
    let server = Hostile::start(|seen, _| {
        if seen.path.ends_with("/status") {
            json(200, serde_json::json!({"status": "in_queue", "queue_position": "abc"}))
        } else {
            json(
                200,
                serde_json::json!({"status": "cancelled", "created_at": 12, "finished_at": {"x": 1}}),
            )
        }
    })
    .await;
    let client = client(&server);
    within(Duration::from_secs(20), async {
        let status = client.job::<Edit>(ID).status().await.unwrap();
        assert_eq!(
            (status.raw.as_str(), status.queue_position),
            ("in_queue", None)
        );
        let result = client.job::<Edit>(ID).result_state().await.unwrap();
        // A number is kept as its text, for a record to say what it could not read.
        assert_eq!(result.created_at.as_deref(), Some("12"));
        assert_eq!(result.finished_at, None);
    })
    .await;
}

/// A record's `finished` is a time it could read, written in UTC; anything else the server
/// said is kept apart, as it wrote it, in `finished_unread`.
#[tokio::test]
async fn a_record_keeps_an_unreadable_finish_time_apart() {
    for (said, finished, unread) in [
        (
            serde_json::json!("2025-01-01T05:00:00+02:00"),
            Some("2025-01-01T03:00:00.000Z"),
            None,
        ),
        (serde_json::json!("soon"), None, Some("soon")),
        (serde_json::json!(1796586811.6), None, Some("1796586811.6")),
    ] {
        let server = Hostile::start(move |_, _| {
            json(
                200,
                serde_json::json!({"status": "cancelled", "finished_at": said}),
            )
        })
        .await;
        let client = client(&server);
        within(Duration::from_secs(20), async {
            let job = client.job::<Edit>(ID);
            job.result_state().await.unwrap();
            let timings =
                runcomfy::provenance::Timings::ended(&job, None, std::time::SystemTime::now());
            assert_eq!(timings.finished.as_deref(), finished);
            assert_eq!(timings.finished_unread.as_deref(), unread);
        })
        .await;
    }
}

#[tokio::test]
async fn a_dripping_file_host_is_stalled_and_a_slow_one_ends_at_the_deadline() {
    let files = Hostile::start(|seen, _| {
        if seen.path.starts_with("/drip") {
            // One byte every 50 ms: never silent for the idle time, yet far below a KiB in it.
            Act::Stream {
                content_type: "image/png".into(),
                chunk: whole_png(8, 8)[..1].to_vec(),
                total: usize::MAX,
                every: Duration::from_millis(50),
            }
        } else {
            // 25 KB/s: not a stall, but endless.
            Act::Stream {
                content_type: "application/octet-stream".into(),
                chunk: vec![0; 256],
                total: usize::MAX,
                every: Duration::from_millis(10),
            }
        }
    })
    .await;
    let cdn = files.base_url().to_owned();
    let api = Hostile::start(move |seen, _| {
        let name = if seen.path.contains("drip") { "drip" } else { "slow" };
        json(200, serde_json::json!({"status": "succeeded", "output": {"images": [format!("{cdn}/{name}/0")]}}))
    })
    .await;
    let client = builder(&api)
        .download_idle_timeout(Duration::from_millis(300))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    within(Duration::from_secs(20), async {
        let output = client.job::<Edit>("drip").result().await.unwrap();
        let started = Instant::now();
        match client.download(&output, dir.path()).await {
            Err(Error::Download {
                reason: DownloadFailure::Stalled(_),
                ..
            }) => {}
            other => panic!("expected a stall, got {other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );

        let output = client.job::<Edit>("slow").result().await.unwrap();
        let options = DownloadOptions::new().timeout(Duration::from_millis(700));
        let started = Instant::now();
        match client.download_with(&output, dir.path(), &options).await {
            Err(Error::Download {
                reason: DownloadFailure::TimedOut(after),
                ..
            }) => {
                assert_eq!(after, Duration::from_millis(700));
            }
            other => panic!("expected the deadline, got {other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    })
    .await;
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "left a partial file"
    );
}

#[tokio::test]
async fn a_body_that_is_not_what_it_claims_is_refused_at_its_first_bytes() {
    // 512 MiB said to be a PNG, as fast as loopback goes.
    let files = Hostile::start(|_, _| Act::Stream {
        content_type: "image/png".into(),
        chunk: vec![b'<'; 64 * 1024],
        total: 512 << 20,
        every: Duration::ZERO,
    })
    .await;
    let api = serving_one_image(&files, "/0.png").await;
    let client = client(&api);
    let dir = tempfile::tempdir().unwrap();
    within(Duration::from_secs(20), async {
        let output = client.job::<Edit>(ID).result().await.unwrap();
        match client.download(&output, dir.path()).await {
            Err(Error::Download {
                reason: DownloadFailure::Mismatch(claimed),
                ..
            }) => {
                assert_eq!(claimed, "image/png");
            }
            other => panic!("expected a mismatch, got {other:?}"),
        }
    })
    .await;
    // Fetched again as the retry policy allows (an error page may be a passing fault), but
    // each attempt ends at its first bytes: what the host wrote is socket buffers, not 512 MiB
    // a time.
    let attempts = files.seen().len() as u64;
    assert_eq!(attempts, 3, "the first try and two retries");
    assert!(
        files.body_bytes() < attempts * (16 << 20),
        "{} bytes sent",
        files.body_bytes()
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn output_files_come_only_from_runcomfy_or_the_api_host_unless_allowed() {
    // `localhost` is another host than the API's `127.0.0.1`.
    let files = Hostile::start(|_, _| runcomfy_hostile::file("image/png", whole_png(8, 8))).await;
    let elsewhere = files.base_url().replace("127.0.0.1", "localhost");
    let api = Hostile::start(move |seen, base| {
        if seen.path == "/hop.png" {
            // A hop from the API's own host to another is checked too.
            return redirect(format!("{elsewhere}/hop.png"));
        }
        json(
            200,
            serde_json::json!({"status": "succeeded", "output": {
                "image": format!("{elsewhere}/0.png"),
                "hop": format!("{base}/hop.png"),
                "plain": "http://example.com/0.png",
            }}),
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    within(Duration::from_secs(20), async {
        let client = client(&api);
        let output = client.job_json(ID).result().await.unwrap();
        for field in ["image", "hop", "plain"] {
            let one = runcomfy::dynamic::DynOutput(
                [(field.to_owned(), output.0[field].clone())]
                    .into_iter()
                    .collect(),
            );
            let reason = match client.download(&one, dir.path()).await {
                Err(Error::Download { reason, .. }) => reason,
                other => panic!("{field}: expected a refusal, got {other:?}"),
            };
            match field {
                "plain" => assert!(matches!(reason, DownloadFailure::BadUrl), "{reason:?}"),
                _ => assert!(
                    matches!(&reason, DownloadFailure::HostNotAllowed(host) if host == "localhost"),
                    "{field}: {reason:?}"
                ),
            }
        }
        assert!(
            files.seen().is_empty(),
            "the other host was asked: {:?}",
            files.seen()
        );

        // Allowed: fetched, without the token.
        let allowed = builder(&api)
            .allow_output_host("localhost")
            .build()
            .unwrap();
        let one = runcomfy::dynamic::DynOutput(
            [("hop".to_owned(), output.0["hop"].clone())]
                .into_iter()
                .collect(),
        );
        let saved = allowed.download(&one, dir.path()).await.unwrap();
        assert_eq!(saved.len(), 1);
    })
    .await;
    assert_eq!(files.seen().len(), 1);
    assert!(files.seen()[0].token().is_none());
}

#[tokio::test]
async fn a_submit_dropped_after_it_was_sent_is_unknown_and_sent_once() {
    let server = Hostile::start(|seen, _| {
        if seen.path.ends_with("/edit") {
            Act::Drop
        } else {
            json(502, serde_json::json!({}))
        }
    })
    .await;
    let client = client(&server);
    within(Duration::from_secs(20), async {
        match client.submit::<Edit>(&edit_input()).await {
            Err(Error::SubmitOutcomeUnknown {
                failure: source, ..
            }) => {
                assert!(matches!(*source, Error::Transport { .. }), "{source:?}");
            }
            other => panic!("expected SubmitOutcomeUnknown, got {other:?}"),
        }
    })
    .await;
    assert_eq!(server.count("POST", "/edit"), 1);
}

/// A server whose result replies, one after the other, are `replies` (the last one again
/// after that), and whose status call always says `status`.
async fn results_in_turn(status: &'static str, replies: Vec<serde_json::Value>) -> Hostile {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    Hostile::start(move |seen, _| {
        if seen.path.ends_with("/status") {
            return json(200, serde_json::json!({"request_id": ID, "status": status}));
        }
        let n = calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        json(200, replies[n.min(replies.len() - 1)].clone())
    })
    .await
}

fn polling_fast(server: &Hostile) -> Client {
    builder(server)
        .poll_policy(runcomfy::PollPolicy::fixed(Duration::from_millis(20)))
        .build()
        .unwrap()
}

#[tokio::test]
async fn odd_but_readable_ends_are_read_as_what_they_mean() {
    let image = serde_json::json!({"images": ["https://cdn.runcomfy.net/a.png"]});
    let reply = |status: &str, more: serde_json::Value| {
        let mut reply = serde_json::json!({"request_id": ID, "status": status});
        reply
            .as_object_mut()
            .unwrap()
            .extend(more.as_object().unwrap().clone());
        reply
    };
    within(Duration::from_secs(20), async {
        // The status call says completed while the result still says running: the wait
        // goes on to the output, rather than ending on a job that is "not finished".
        let server = results_in_turn(
            "completed",
            vec![
                reply("pending", serde_json::json!({})),
                reply("in_progress", serde_json::json!({})),
                reply("succeeded", serde_json::json!({"output": image})),
            ],
        )
        .await;
        let job = polling_fast(&server).job::<Edit>(ID);
        let output = job
            .wait()
            .await
            .expect("the output, once the result has it");
        assert_eq!(output.images.len(), 1);
        // "pending" is a queue: the next poll asked the status call, for the position.
        assert!(server.seen().iter().any(|s| s.path.ends_with("/status")));

        // "completed" with an output and an empty error (or `false`) succeeded.
        for none in [serde_json::json!(""), serde_json::json!(false)] {
            let server = results_in_turn(
                "completed",
                vec![reply(
                    "completed",
                    serde_json::json!({"output": image, "error": none}),
                )],
            )
            .await;
            let job = polling_fast(&server).job::<Edit>(ID);
            assert!(job.wait().await.is_ok(), "error {none}");
        }

        // A status this client does not know, with an error, failed.
        let server = results_in_turn(
            "oops",
            vec![reply("oops", serde_json::json!({"error": "out of memory"}))],
        )
        .await;
        let job = polling_fast(&server).job::<Edit>(ID);
        match job.wait().await {
            Err(Error::JobFailed { error, .. }) => assert_eq!(error.0, "out of memory"),
            other => panic!("{other:?}"),
        }

        // A status this client does not know, with an output, succeeded; with an empty one
        // it is still running.
        let server = results_in_turn(
            "ready",
            vec![
                reply("ready", serde_json::json!({"output": {}})),
                reply("ready", serde_json::json!({"output": image})),
            ],
        )
        .await;
        let job = polling_fast(&server).job::<Edit>(ID);
        let output = job.wait().await.expect("the output of a `ready` job");
        assert_eq!(output.images.len(), 1);
        assert!(
            server.count("GET", "/result") >= 2,
            "the empty output was not an end"
        );

        // Another server's spelling of the same states (fal's upper case): read as they mean.
        let server = results_in_turn(
            "IN_PROGRESS",
            vec![
                reply("IN_PROGRESS", serde_json::json!({})),
                reply("COMPLETED", serde_json::json!({"output": image})),
            ],
        )
        .await;
        let job = polling_fast(&server).job::<Edit>(ID);
        let output = job.wait().await.expect("the output of a `COMPLETED` job");
        assert_eq!(output.images.len(), 1);
        let server =
            results_in_turn("CANCELED", vec![reply("CANCELED", serde_json::json!({}))]).await;
        let job = polling_fast(&server).job::<Edit>(ID);
        assert!(
            matches!(
                tokio::time::timeout(Duration::from_secs(10), job.wait()).await,
                Ok(Err(Error::Cancelled { .. }))
            ),
            "a job cancelled in capitals is not polled until its deadline"
        );

        // Succeeded without an output: an unreadable reply, not kept as the job's end, and
        // ridden out by the wait as an outage is, so polling again finds the output once the
        // server has it.
        let server = results_in_turn(
            "completed",
            vec![
                reply("succeeded", serde_json::json!({"output": null})),
                reply("succeeded", serde_json::json!({"output": image})),
            ],
        )
        .await;
        let job = polling_fast(&server).job::<Edit>(ID);
        let output = job.wait().await.expect("the output, asked again");
        assert_eq!(output.images.len(), 1);
        assert!(server.count("GET", "/result") >= 2, "no second look");
    })
    .await;
}

#[tokio::test]
async fn error_pages_json_errors_and_empty_bodies_are_not_saved_as_outputs() {
    let png = whole_png(64, 48);
    let files = Hostile::start(move |seen, _| {
        let reply = |content_type: &str, body: &[u8]| Act::Reply {
            status: 200,
            headers: if content_type.is_empty() {
                vec![]
            } else {
                vec![("Content-Type".into(), content_type.into())]
            },
            body: body.to_vec(),
        };
        match seen.path.as_str() {
            "/page" => reply("text/html", b"\n<!DOCTYPE html><title>Error</title>"),
            "/json" => reply("application/json", br#"{"error_code": 500001}"#),
            "/untyped" => reply("", b"  <html>busy</html>"),
            "/empty" => reply("image/png", b""),
            // Media with no type, or a type this crate does not know: taken.
            "/png" => reply("", &png),
            _ => reply("audio/aiff", b"FORM\0\0\0\x10AIFF"),
        }
    })
    .await;
    let api = Hostile::start({
        let base = files.base_url().to_owned();
        move |seen, _| {
            let name = seen.path.split('/').nth(3).unwrap_or_default().to_owned();
            json(
                200,
                serde_json::json!({"request_id": name, "status": "succeeded",
                    "output": {"images": [format!("{base}/{name}")]}}),
            )
        }
    })
    .await;
    let client = files_from_loopback(&api)
        .retry_policy(fast_retries().with_max_retries(0))
        .build()
        .unwrap();
    within(Duration::from_secs(20), async {
        for (id, expected) in [
            ("page", "text/html"),
            ("json", "text, sent as application/json"),
            ("untyped", "text, with no Content-Type"),
            ("empty", "an empty body"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let output = client.job::<Edit>(id).result().await.unwrap();
            match client.download(&output, dir.path()).await {
                Err(Error::Download { reason, .. }) => {
                    let reason = reason.to_string();
                    assert!(reason.contains(expected), "{id}: {reason}");
                }
                other => panic!("{id}: expected a refused download, got {other:?}"),
            }
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{id}");
        }
        for (id, name) in [("png", "images-0.png"), ("aiff", "images-0.bin")] {
            let dir = tempfile::tempdir().unwrap();
            let output = client.job::<Edit>(id).result().await.unwrap();
            let saved = client.download(&output, dir.path()).await.unwrap();
            assert_eq!(saved[0].path.file_name().unwrap(), name, "{id}");
        }
    })
    .await;
}

#[tokio::test]
async fn output_keys_that_clean_to_one_name_are_saved_as_many_files() {
    // Keys a file name cannot tell apart: a space and an underscore, and two lists under a key
    // longer than a file name may be.
    let long = "k".repeat(150);
    let png = whole_png(64, 48);
    let files = Hostile::start(move |seen, _| Act::Reply {
        status: 200,
        headers: vec![("Content-Type".into(), "image/png".into())],
        // Each file's bytes say which it is.
        body: [png.as_slice(), seen.path.as_bytes()].concat(),
    })
    .await;
    let api = Hostile::start({
        let base = files.base_url().to_owned();
        move |_, _| {
            json(
                200,
                serde_json::json!({"request_id": ID, "status": "succeeded", "output": {
                    "a b": format!("{base}/1"), "a_b": format!("{base}/2"),
                    long.clone(): [format!("{base}/3"), format!("{base}/4")]}}),
            )
        }
    })
    .await;
    let client = files_from_loopback(&api).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    within(Duration::from_secs(20), async {
        let job = client.job_json(ID);
        let output = job.result().await.unwrap();
        // As a batch saves them: replacing what is there.
        let options = DownloadOptions::new().overwrite(true);
        let saved = job.download(&output, dir.path(), &options).await.unwrap();
        assert_eq!(saved.len(), 4);
        for file in &saved {
            let bytes = std::fs::read(&file.path).unwrap();
            assert!(bytes.ends_with(file.url.rsplit('/').next().unwrap().as_bytes()));
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
    })
    .await;
}

#[tokio::test]
async fn an_output_listing_more_files_than_any_job_makes_is_refused_whole() {
    let api = Hostile::start(|_, base| {
        let urls: Vec<String> = (0..1001).map(|i| format!("{base}/f/{i}.png")).collect();
        json(
            200,
            serde_json::json!({"request_id": ID, "status": "succeeded", "output": {"images": urls}}),
        )
    })
    .await;
    let client = files_from_loopback(&api).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    within(Duration::from_secs(20), async {
        let output = client.job::<Edit>(ID).result().await.unwrap();
        match client.download(&output, dir.path()).await {
            Err(err @ Error::TooManyFiles { listed: 1001, .. }) => {
                // Refused for good: fetching again would be refused again.
                assert!(!err.is_transient() && err.may_have_been_billed(), "{err}");
            }
            other => panic!("expected a refused output, got {other:?}"),
        }
    })
    .await;
    // Nothing was fetched.
    assert!(api.seen().iter().all(|s| !s.path.starts_with("/f/")));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_listing_whose_pages_are_shorter_than_asked_is_read_to_its_total() {
    // A server that gives at most 20 models a page, whatever `limit` asks (QA repro29 #2).
    const TOTAL: usize = 69;
    let server = Hostile::start(|seen, _| {
        let offset = offset(seen);
        let page: Vec<_> = (offset..TOTAL.min(offset + 20))
            .map(|n| serde_json::json!({"model_id": format!("paged/model-{n}"), "base_price_usd": 0.01}))
            .collect();
        json(200, serde_json::json!({"models": page, "total": TOTAL}))
    })
    .await;
    let client = client(&server);
    let listed = within(Duration::from_secs(20), client.live_models())
        .await
        .unwrap();
    let ids: Vec<String> = listed.into_iter().map(|m| m.id).collect();
    let expected: Vec<String> = (0..TOTAL).map(|n| format!("paged/model-{n}")).collect();
    assert_eq!(ids, expected, "every model once, in order");
    assert_eq!(
        server.count("GET", "/v1/models"),
        4,
        "pages of 20, 20, 20 and 9"
    );
}

#[tokio::test]
async fn a_model_listing_that_never_ends_is_cut_after_its_last_page() {
    // Every page full of new models: a listing that always says there is more.
    let server = Hostile::start(|seen, _| {
        let offset = offset(seen);
        let page: Vec<_> = (offset..offset + 100)
            .map(|n| serde_json::json!({"model_id": format!("endless/model-{n}"), "base_price_usd": 0.01}))
            .collect();
        json(200, serde_json::json!({"models": page}))
    })
    .await;
    let client = client(&server);
    let listed = within(Duration::from_secs(60), client.model_prices())
        .await
        .unwrap();
    assert_eq!(server.count("GET", "/v1/models"), 100, "100 pages, no more");
    assert_eq!(listed.len(), 100 * 100);
}

#[tokio::test]
async fn a_listing_that_ignores_its_offset_ends_at_the_first_page_again() {
    // The same full page whatever the offset: its models once, and no endless paging.
    let server = Hostile::start(|_, _| {
        let page: Vec<_> = (0..100)
            .map(|n| serde_json::json!({"model_id": format!("same/model-{n}"), "base_price_usd": 0.01}))
            .collect();
        json(200, serde_json::json!({"models": page, "total": 1000}))
    })
    .await;
    let client = client(&server);
    let listed = within(Duration::from_secs(20), client.live_models())
        .await
        .unwrap();
    assert_eq!(listed.len(), 100);
    assert_eq!(server.count("GET", "/v1/models"), 2);
}

/// The `offset` a listing's request asks for.
fn offset(seen: &runcomfy_hostile::Seen) -> usize {
    seen.query
        .split('&')
        .find_map(|pair| pair.strip_prefix("offset="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_stopped_submit_sends_nothing_more_and_answers_the_attempt_on_the_wire() {
    use runcomfy::SubmitControl;
    // Refused for a while: the next attempt would come 5 s later.
    let limited = Hostile::start(|_, _| Act::Reply {
        status: 429,
        headers: vec![("Retry-After".into(), "5".into())],
        body: Vec::new(),
    })
    .await;
    let limited_client = client(&limited);
    let control = SubmitControl::new();
    let input = edit_input();
    let submit = limited_client.submit_with::<Edit>(&input, &control);
    tokio::pin!(submit);
    within(Duration::from_secs(10), async {
        let started = Instant::now();
        while limited.count("POST", "") == 0 {
            tokio::select! {
                _ = &mut submit => panic!("ended before its first attempt was answered"),
                () = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
        }
        // Answered 429 and waiting to be sent again: nothing on the wire.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!control.on_wire());
        control.stop();
        match submit.await {
            Err(Error::SubmitStopped { model_id }) => {
                assert_eq!(model_id, "bytedance/seedream-4-0/edit")
            }
            other => panic!("{other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the pause was cut short"
        );
    })
    .await;
    assert_eq!(limited.count("POST", ""), 1, "nothing sent after the stop");

    // An attempt on the wire is not abandoned by a stop: its answer (here none, so the
    // submit's own timeout) decides.
    let silent = Hostile::start(|_, _| Act::Hang).await;
    let client = client(&silent);
    let control = SubmitControl::new();
    let submit = client.submit_with::<Edit>(&input, &control);
    tokio::pin!(submit);
    within(Duration::from_secs(10), async {
        while silent.count("POST", "") == 0 {
            tokio::select! {
                _ = &mut submit => panic!("ended before it was sent"),
                () = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
        }
        assert!(control.on_wire());
        control.stop();
        match submit.await {
            Err(Error::SubmitOutcomeUnknown { .. }) => {}
            other => panic!("{other:?}"),
        }
        assert!(!control.on_wire());
    })
    .await;
    assert_eq!(silent.count("POST", ""), 1);
}

#[tokio::test]
async fn a_file_cut_short_by_a_closed_connection_is_fetched_again() {
    // A reply with no length ends when the connection closes, cut or not: the file's own end
    // tells. The first request for each file is cut 100 bytes short; a whole MP4 with no
    // length is taken as it is; `/always` is cut every time.
    let mut png = png_header(64, 48);
    png.extend_from_slice(&4000u32.to_be_bytes());
    png.extend_from_slice(b"IDAT");
    png.resize(png.len() + 4004, 0x42); // The data and its CRC.
    png.extend_from_slice(b"\0\0\0\0IEND\xae\x42\x60\x82");
    let mut mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isommp41\0\0\0\x10moov\0\0\0\x08free".to_vec();
    mp4.extend_from_slice(&5008u32.to_be_bytes());
    mp4.extend_from_slice(b"mdat");
    mp4.resize(mp4.len() + 5000, 0x17);
    let asked = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let files = Hostile::start({
        let (png, mp4) = (png.clone(), mp4.clone());
        move |seen, _| {
            let first = asked.lock().unwrap().insert(seen.path.clone());
            let (content_type, body) = match seen.path.as_str() {
                "/clip.mp4" => ("video/mp4", &mp4),
                _ => ("image/png", &png),
            };
            let cut = seen.path == "/always" || (first && seen.path != "/clip.mp4");
            Act::Stream {
                content_type: content_type.into(),
                chunk: body.clone(),
                total: body.len() - if cut { 100 } else { 0 },
                every: Duration::ZERO,
            }
        }
    })
    .await;
    let api = Hostile::start({
        let base = files.base_url().to_owned();
        move |seen, _| {
            let name = seen.path.split('/').nth(3).unwrap_or_default().to_owned();
            let urls: Vec<String> = match name.as_str() {
                "always" => vec![format!("{base}/always")],
                _ => vec![format!("{base}/0.png"), format!("{base}/clip.mp4")],
            };
            json(
                200,
                serde_json::json!({"request_id": name, "status": "succeeded",
                    "output": {"images": urls}}),
            )
        }
    })
    .await;
    let client = files_from_loopback(&api).build().unwrap();
    within(Duration::from_secs(20), async {
        let dir = tempfile::tempdir().unwrap();
        let output = client.job::<Edit>("both").result().await.unwrap();
        let saved = client.download(&output, dir.path()).await.unwrap();
        assert_eq!(std::fs::read(&saved[0].path).unwrap(), png);
        assert_eq!(std::fs::read(&saved[1].path).unwrap(), mp4);
        assert_eq!(
            files.count("GET", "/0.png"),
            2,
            "the cut PNG is fetched again"
        );
        assert_eq!(files.count("GET", "/clip.mp4"), 1);

        let dir = tempfile::tempdir().unwrap();
        let output = client.job::<Edit>("always").result().await.unwrap();
        match client.download(&output, dir.path()).await {
            Err(Error::Download {
                reason: DownloadFailure::CutShort(why),
                ..
            }) => assert!(why.contains("IEND"), "{why}"),
            other => panic!("expected a cut file, got {other:?}"),
        }
        assert_eq!(
            files.count("GET", "/always"),
            3,
            "tried, then retried twice"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_file_cut_short_with_a_length_that_says_so_is_refused() {
    // A host that serves a cut file with the length of what is left (a broken CDN copy): the
    // reply is whole, the file is not.
    let mut png = png_header(64, 48);
    png.extend_from_slice(&4000u32.to_be_bytes());
    png.extend_from_slice(b"IDAT");
    png.resize(png.len() + 2000, 0x42);
    let files = Hostile::start({
        let png = png.clone();
        move |_, _| runcomfy_hostile::file("image/png", png.clone())
    })
    .await;
    let api = Hostile::start({
        let base = files.base_url().to_owned();
        move |_, _| {
            json(
                200,
                serde_json::json!({"request_id": ID, "status": "succeeded",
                    "output": {"images": [format!("{base}/0.png")]}}),
            )
        }
    })
    .await;
    let client = files_from_loopback(&api).build().unwrap();
    within(Duration::from_secs(20), async {
        let dir = tempfile::tempdir().unwrap();
        let output = client.job::<Edit>(ID).result().await.unwrap();
        match client.download(&output, dir.path()).await {
            Err(Error::Download {
                reason: DownloadFailure::CutShort(why),
                ..
            }) => assert!(why.contains("IEND"), "{why}"),
            other => panic!("expected a cut file, got {other:?}"),
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing saved"
        );
    })
    .await;
}

/// A wait rate limited for longer than it rides an outage out gives up at once with that
/// error, not after polling against it for a minute (QA repro37 L3: `Retry-After` 2100).
#[tokio::test]
async fn a_rate_limit_longer_than_the_ride_out_ends_the_wait_at_once() {
    let server = Hostile::start(|_, _| Act::Reply {
        status: 429,
        headers: vec![("Retry-After".into(), "Fri, 01 Jan 2100 00:00:00 GMT".into())],
        body: Vec::new(),
    })
    .await;
    let job = polling_fast(&server).job::<Edit>(ID);
    let started = std::time::Instant::now();
    let waited = tokio::time::timeout(Duration::from_secs(20), job.wait()).await;
    assert!(
        matches!(waited, Ok(Err(Error::RateLimited { .. }))),
        "{waited:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
