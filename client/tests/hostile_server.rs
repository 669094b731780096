//! A hostile or broken server, written here on 127.0.0.1: replies far larger than any real one,
//! bodies that never end, silence, a job queued forever whose cancel hangs, redirects to
//! another origin and in circles, output URLs full of `../`, lying content types, bytes that
//! are not UTF-8, and a server that echoes the token back. Each gives a typed error or safe
//! behaviour within a bound: every test runs under a timeout, so a hang is a failure.

mod transport_support;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use runcomfy::error::DownloadFailure;
use runcomfy::models::bytedance::seedream_4_0::edit::Edit;
use runcomfy::{Client, DownloadOptions, Error, RetryPolicy, WaitOptions};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use transport_support::*;

/// What the hostile server does with one request.
enum Act {
    /// A whole reply.
    Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// `200` with no length, then `chunk` again and again until `total` bytes (or the client
    /// hangs up), one chunk every `every`.
    Stream {
        chunk: Vec<u8>,
        total: usize,
        every: Duration,
    },
    /// Reads the request and never answers.
    Hang,
}

fn json(status: u16, body: serde_json::Value) -> Act {
    Act::Reply {
        status,
        headers: vec![("Content-Type", "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

fn redirect(to: String) -> Act {
    Act::Reply {
        status: 307,
        headers: vec![("Location", to)],
        body: Vec::new(),
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    /// The whole head, headers included.
    head: String,
}

impl Seen {
    /// The bearer token sent, if any.
    fn token(&self) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            let value = value.trim();
            (name.eq_ignore_ascii_case("authorization"))
                .then(|| value.strip_prefix("Bearer ").unwrap_or(value).to_owned())
        })
    }
}

/// A raw HTTP/1.1 server on a loopback port, one connection per request.
struct Hostile {
    base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hostile {
    async fn start(act: impl Fn(&Seen, &str) -> Act + Send + Sync + 'static) -> Hostile {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (log, act, base) = (seen.clone(), Arc::new(act), base_url.clone());
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (log, act, base) = (log.clone(), act.clone(), base.clone());
                tokio::spawn(async move { serve(socket, &log, &*act, &base).await });
            }
        });
        Hostile {
            base_url,
            seen,
            task,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn client(&self) -> Client {
        self.builder().build().unwrap()
    }

    fn builder(&self) -> runcomfy::ClientBuilder {
        Client::builder()
            .token(TOKEN)
            .base_url(&self.base_url)
            .retry_policy(fast_retries().with_max_retries(2))
            .request_timeout(Duration::from_millis(500))
            .submit_timeout(Duration::from_millis(500))
            .download_idle_timeout(Duration::from_millis(500))
    }
}

async fn serve(
    mut socket: tokio::net::TcpStream,
    log: &Mutex<Vec<Seen>>,
    act: &(dyn Fn(&Seen, &str) -> Act + Send + Sync),
    base: &str,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    // Read (and drop) the body, so the client is never left writing into a closed socket.
    let length: usize = text
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut read = head.len() - end;
    while read < length {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => read += n,
        }
    }
    let mut words = text.split_whitespace();
    let seen = Seen {
        method: words.next().unwrap_or("").to_owned(),
        path: words.next().unwrap_or("/").to_owned(),
        head: text.clone(),
    };
    log.lock().unwrap().push(seen.clone());
    match act(&seen, base) {
        Act::Reply {
            status,
            headers,
            body,
        } => {
            let mut reply = format!(
                "HTTP/1.1 {status} Hostile\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                reply.push_str(&format!("{name}: {value}\r\n"));
            }
            reply.push_str("\r\n");
            let mut bytes = reply.into_bytes();
            bytes.extend_from_slice(&body);
            let _ = socket.write_all(&bytes).await;
            let _ = socket.shutdown().await;
        }
        Act::Stream {
            chunk,
            total,
            every,
        } => {
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut sent = 0;
            while sent < total {
                if socket.write_all(&chunk).await.is_err() {
                    return; // The client hung up: what a cap or a timeout does.
                }
                sent += chunk.len();
                if !every.is_zero() {
                    tokio::time::sleep(every).await;
                }
            }
            let _ = socket.shutdown().await;
        }
        Act::Hang => std::future::pending::<()>().await,
    }
}

/// Runs a test body; a hang past `limit` is a failure.
async fn within<T>(limit: Duration, body: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, body).await {
        Ok(value) => value,
        Err(_) => panic!("hung for more than {limit:?}"),
    }
}

const ID: &str = "hostile-job-1";

#[tokio::test]
async fn replies_larger_than_any_real_one_are_cut_off() {
    // 256 MiB of JSON whitespace, as fast as loopback goes: valid JSON if read to the end.
    let server = Hostile::start(|_, _| Act::Stream {
        chunk: vec![b' '; 64 * 1024],
        total: 256 << 20,
        every: Duration::ZERO,
    })
    .await;
    let client = server
        .builder()
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
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
        // The same reply to a submit: the job may exist, so it is unknown and not sent again.
        let submitted = client.submit::<Edit>(&edit_input()).await;
        match submitted {
            Err(Error::SubmitOutcomeUnknown { source, .. }) => {
                assert!(
                    matches!(*source, Error::InvalidResponse { .. }),
                    "{source:?}"
                );
            }
            other => panic!("expected SubmitOutcomeUnknown, got {other:?}"),
        }
    })
    .await;
    let posts = server.seen().iter().filter(|s| s.method == "POST").count();
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn a_body_that_never_ends_or_never_comes_is_cut_by_the_timeout() {
    let server = Hostile::start(|seen, _| {
        if seen.path.ends_with("/status") {
            // One byte every 50 ms, forever.
            Act::Stream {
                chunk: b" ".to_vec(),
                total: usize::MAX,
                every: Duration::from_millis(50),
            }
        } else {
            Act::Hang
        }
    })
    .await;
    let client = server.client();
    within(Duration::from_secs(20), async {
        for call in ["status", "result"] {
            let job = client.job::<Edit>(ID);
            let outcome = if call == "status" {
                job.status().await.map(|_| ())
            } else {
                job.result().await.map(|_| ())
            };
            match outcome {
                Err(Error::Transport { request_id, source }) => {
                    assert!(source.is_timeout(), "{call}: {source}");
                    assert_eq!(request_id.as_deref(), Some(ID));
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
    let client = server.client();
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
    let elsewhere = other.base_url.clone();
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
    let client = api.client();
    within(Duration::from_secs(20), async {
        let status = client.job::<Edit>(ID).status().await;
        assert!(status.is_ok(), "{status:?}");
        match client.job::<Edit>(ID).result().await {
            Err(Error::Transport { source, .. }) => assert!(source.is_redirect(), "{source}"),
            other => panic!("expected a redirect error, got {other:?}"),
        }
        let _ = client.submit::<Edit>(&edit_input()).await;
    })
    .await;
    // The API's origin got the token; the other origin never did.
    assert!(
        api.seen()
            .iter()
            .all(|s| s.token().as_deref() == Some(TOKEN))
    );
    let away = other.seen();
    assert!(away.len() >= 2, "{away:?}");
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
        headers: vec![("Content-Type", "image/png".into())],
        body: png_header(32, 32),
    })
    .await;
    let cdn = files.base_url.clone();
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
    let client = api.client();
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
        chunk: vec![0x42; 64 * 1024],
        total: usize::MAX,
        every: Duration::ZERO,
    })
    .await;
    let cdn = files.base_url.clone();
    let api = Hostile::start(move |_, _| {
        json(
            200,
            serde_json::json!({"request_id": ID, "status": "succeeded",
                "output": {"images": [format!("{cdn}/files/0.png")]}}),
        )
    })
    .await;
    let client = api.client();
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
            headers: vec![("Content-Type", "text/html".into())],
            body: br#"{"request_id": "html", "status": "in_progress"}"#.to_vec(),
        },
        "/v1/requests/binary/status" => Act::Reply {
            status: 200,
            headers: vec![("Content-Type", "application/json".into())],
            body: b"\xff\xfe\x00\x1b[31m{\"status\": \xc3\x28}".to_vec(),
        },
        "/v1/requests/binary500/status" => Act::Reply {
            status: 500,
            headers: vec![("Content-Type", "application/json".into())],
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
            headers: vec![("Content-Type", "image/png".into())],
            body: b"<html><body>Access denied</body></html>".to_vec(),
        },
    })
    .await;
    let client = server.client();
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
    let client = server.client();
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
