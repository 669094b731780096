//! `pull` against the simulator's catalog endpoints, over loopback HTTP.
//!
//! The simulator serves each model's schemas as the generator saw them, i.e. with the
//! overlay's `patch` applied (`ModelInfo::input_schema`). So a pull from it gives back
//! `input.json` with the overlay patch merged in, and `output.json` as committed. The round
//! trip is checked two ways: byte for byte against the committed files with their overlay
//! patches applied, and semantically: with the committed overlays next to the pulled files,
//! the generator loads exactly the same catalog (JSON merge patches are idempotent).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use runcomfy::secret::Token;
use runcomfy_hostile::{Act, Hostile, Seen, json};
use runcomfy_simulator::{SimConfig, Simulator};
use serde_json::{Value, json as j};
use xtask::pull::{self, ListingDoubt, PullError, PullOptions, Selection, Timeouts};
use xtask::store::{self, Status};

fn schemas() -> PathBuf {
    xtask::workspace_root().join("schemas")
}

async fn simulator() -> Simulator {
    Simulator::start(SimConfig {
        token: Some("t".into()),
        ..Default::default()
    })
    .await
    .unwrap()
}

fn options(sim: &Simulator, selection: Selection) -> PullOptions {
    PullOptions {
        base_url: sim.base_url().to_string(),
        token: Some(Token::new("t").unwrap()),
        selection,
        page_size: 2,
        timeouts: Timeouts::default(),
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Copies every overlay.json of the committed catalog into `dir`.
fn copy_overlays(dir: &Path) {
    for src in runcomfy_codegen::catalog::read_catalog(&schemas()).unwrap() {
        if let Some(overlay) = &src.overlay_path {
            fs::copy(overlay, dir.join(&src.id).join("overlay.json")).unwrap();
        }
    }
}

#[tokio::test]
async fn pulling_everything_round_trips_the_committed_catalog() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    // A page size of 2 makes the listing take several pages.
    let report = pull::pull(dir.path(), &options(&sim, Selection::All))
        .await
        .unwrap();
    let committed = runcomfy_codegen::catalog::read_catalog(&schemas()).unwrap();
    let ids: Vec<&str> = report
        .imported
        .changes
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    let expected: Vec<&str> = committed.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, expected);
    assert!(
        report
            .imported
            .changes
            .iter()
            .all(|c| c.status == Status::New)
    );
    assert!(report.not_served.is_empty());
    assert_eq!(report.doubt, None);
    for src in &committed {
        let model = dir.path().join(&src.id);
        if src.output_path.exists() {
            assert_eq!(
                read(&model.join("output.json")),
                read(&src.output_path),
                "{}: output.json",
                src.id
            );
        } else {
            // No output.json: the model has the output RunComfy documents for every model,
            // which the server serves and the pull writes (in the docs' `{"output": ...}`).
            let pulled: serde_json::Value =
                serde_json::from_str(&read(&model.join("output.json"))).unwrap();
            assert_eq!(pulled["output"], src.output, "{}: output.json", src.id);
        }
        // `src.input` is input.json with the overlay patch merged in.
        assert_eq!(
            read(&model.join("input.json")),
            store::to_pretty(&src.input),
            "{}: input.json",
            src.id
        );
        if src.overlay.patch.is_none() {
            assert_eq!(read(&model.join("input.json")), read(&src.input_path));
        }
    }
    copy_overlays(dir.path());
    // The same catalog, warnings included, whatever folder it is read from.
    let load = |root: &Path| {
        let mut catalog = runcomfy_codegen::load(root).unwrap();
        for warning in &mut catalog.warnings {
            warning.path = warning.path.strip_prefix(root).unwrap().to_owned();
        }
        catalog
    };
    let (mut pulled, committed) = (load(dir.path()), load(&schemas()));
    assert_eq!(pulled.models.len(), committed.models.len());
    for (got, want) in pulled.models.iter_mut().zip(&committed.models) {
        // The server states every model's output kind and categories; the committed catalog
        // only where RunComfy's files did. Where both say, they agree.
        let (got_up, want_up) = (&got.upstream, &want.upstream);
        assert!(got_up.output_kind.is_some(), "{}", got.id);
        assert!(want_up.output_kind.is_none() || got_up.output_kind == want_up.output_kind);
        assert!(!got_up.categories.is_empty(), "{}", got.id);
        assert!(want_up.categories.is_empty() || got_up.categories == want_up.categories);
        got.upstream = want.upstream.clone();
    }
    assert_eq!(pulled, committed);
    // A second pull changes nothing.
    let again = pull::pull(dir.path(), &options(&sim, Selection::All))
        .await
        .unwrap();
    assert!(
        again
            .imported
            .changes
            .iter()
            .all(|c| c.status == Status::Unchanged)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn pulling_one_model_writes_only_it() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let id = "bytedance/seedream-4-0/edit-sequential";
    let report = pull::pull(
        dir.path(),
        &options(&sim, Selection::Models(vec![id.into()])),
    )
    .await
    .unwrap();
    assert_eq!(report.imported.changes.len(), 1);
    assert_eq!(report.imported.changes[0].id, id);
    assert!(dir.path().join(id).join("input.json").exists());
    assert!(!dir.path().join("bytedance/seedream-4-0/edit").exists());
    sim.shutdown().await;
}

#[tokio::test]
async fn models_the_api_no_longer_lists_are_reported_not_deleted() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("acme/retired");
    fs::create_dir_all(&stale).unwrap();
    fs::write(stale.join("input.json"), "{}\n").unwrap();
    let report = pull::pull(dir.path(), &options(&sim, Selection::All))
        .await
        .unwrap();
    assert_eq!(report.not_served, ["acme/retired"]);
    assert!(stale.join("input.json").exists());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_an_http_error_that_never_shows_the_token() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(&sim, Selection::All);
    opts.token = None;
    let err = pull::pull(dir.path(), &opts).await.unwrap_err();
    assert!(matches!(err, PullError::Api { status: 401, .. }), "{err:?}");
    assert!(err.to_string().contains("set RUNCOMFY_TOKEN"), "{err}");
    opts.token = Some(Token::new("wrong-secret-token").unwrap());
    let err = pull::pull(dir.path(), &opts).await.unwrap_err();
    assert!(matches!(err, PullError::Api { .. }), "{err:?}");
    assert!(!err.to_string().contains("wrong-secret-token"), "{err}");
    assert!(!format!("{opts:?}").contains("wrong-secret-token"));
    assert!(
        fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing written"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unknown_model_is_an_error() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let err = pull::pull(
        dir.path(),
        &options(&sim, Selection::Models(vec!["acme/nope".into()])),
    )
    .await
    .unwrap_err();
    // The simulator, like the API, answers 400 for an unknown id; the message says why.
    assert!(
        matches!(
            err,
            PullError::Api {
                status: 400..=499,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("/v1/models/acme/nope"), "{message}");
    assert!(message.contains("Unknown model id"), "{message}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_server_that_ignores_offset_is_an_error_not_an_endless_listing() {
    let server = Hostile::start(|_, _| {
        json(
            200,
            j!({
                "models": [{"model_id": "acme/one", "input_schema": {"type": "object"}}],
                "total": 100_000,
            }),
        )
    })
    .await;
    let options = hostile_options(&server, Selection::All, 1);
    let err = pull::fetch(&options).await.unwrap_err();
    assert!(err.to_string().contains("ignore `offset`"), "{err}");
    assert_eq!(server.count("GET", ""), 2, "the second page told");
}

// Against a hostile server on loopback: what a broken or malicious API can send.

/// A token with characters that percent-encoding and base64 change.
const TOKEN: &str = "rc_LIVE_SECRET_TOKEN_0123456789+/=";

fn hostile_options(server: &Hostile, selection: Selection, page_size: usize) -> PullOptions {
    PullOptions {
        base_url: server.base_url().to_owned(),
        token: Some(Token::new(TOKEN).unwrap()),
        selection,
        page_size,
        timeouts: Timeouts::default(),
    }
}

/// Every form an echo of [`TOKEN`] takes: whole, cut, percent-encoded, base64.
fn echoes() -> Vec<String> {
    use base64::Engine as _;
    let percent: String = TOKEN
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    vec![
        TOKEN.to_owned(),
        TOKEN[..20].to_owned(),
        TOKEN[6..30].to_owned(),
        percent,
        base64::engine::general_purpose::STANDARD.encode(TOKEN),
        base64::engine::general_purpose::URL_SAFE.encode(format!("k={TOKEN}")),
    ]
}

/// Whether `text` shows any piece of [`TOKEN`] of 8 characters or more, as it is or as the
/// echoes write it.
fn shows_token(text: &str) -> bool {
    echoes().iter().any(|echo| {
        echo.as_bytes()
            .windows(8)
            .any(|piece| text.contains(std::str::from_utf8(piece).unwrap()))
    })
}

/// The query parameter `name` of a request.
fn param(seen: &Seen, name: &str) -> usize {
    seen.query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn entry(id: &str, input: Value) -> Value {
    j!({"model_id": id, "input_schema": input})
}

fn object() -> Value {
    j!({"type": "object", "properties": {"prompt": {"type": "string"}}})
}

/// A listing of `count` models, paged by the request's `offset` and `limit` (at most `cap`),
/// with `total`.
fn listing_capped(
    count: usize,
    cap: usize,
    total: impl Fn(usize) -> Option<usize> + Send + Sync + 'static,
) -> impl Fn(&Seen, &str) -> Act + Send + Sync + 'static {
    move |seen, _| {
        let (offset, limit) = (param(seen, "offset"), param(seen, "limit").min(cap));
        let models: Vec<Value> = (offset..count.min(offset + limit))
            .map(|i| entry(&format!("qa-vendor/m{i:05}"), object()))
            .collect();
        let mut body = j!({"models": models});
        if let Some(total) = total(offset) {
            body["total"] = j!(total);
        }
        json(200, body)
    }
}

fn listing(
    count: usize,
    total: impl Fn(usize) -> Option<usize> + Send + Sync + 'static,
) -> impl Fn(&Seen, &str) -> Act + Send + Sync + 'static {
    listing_capped(count, usize::MAX, total)
}

fn is_empty_dir(dir: &Path) -> bool {
    fs::read_dir(dir).map_or(true, |mut d| d.next().is_none())
}

#[tokio::test]
async fn an_echoed_token_in_an_error_is_scrubbed_whatever_its_form() {
    let message = format!("bad token {}", echoes().join(" / "));
    for act in [
        json(401, j!({"error_code": 400004, "error_message": message})),
        json(200, j!({"error_code": 400004, "error_message": message})),
        json(500, j!({"detail": message})),
        Act::Reply {
            status: 502,
            headers: Vec::new(),
            body: message.clone().into_bytes(),
        },
    ] {
        let server = Hostile::start(move |_, _| act.clone()).await;
        for selection in [
            Selection::All,
            Selection::Models(vec!["qa-vendor/echo".into()]),
        ] {
            let err = pull::fetch(&hostile_options(&server, selection, 100))
                .await
                .unwrap_err();
            let shown = err.to_string();
            assert!(!shows_token(&shown), "{shown}");
            assert!(!shows_token(&format!("{err:?}")), "{err:?}");
            // The rest of the message is shown.
            assert!(shown.contains("bad token [redacted]"), "{shown}");
        }
    }
}

#[tokio::test]
async fn a_reply_holding_the_token_is_refused_and_nothing_is_written() {
    let mut bodies: Vec<Vec<u8>> = echoes()
        .into_iter()
        .flat_map(|echo| {
            let described = j!({"type": "object", "properties": {"prompt": {"type": "string", "description": format!("your key: {echo}")}}});
            [
                j!({"models": [entry("qa-vendor/echo", described)], "total": 1}),
                j!({"models": [{"model_id": "qa-vendor/echo", "display_name": format!("Echo {echo}"), "input_schema": object()}], "total": 1}),
                j!({"models": [entry("qa-vendor/echo", j!({"type": "object", "properties": {echo: {"type": "string"}}}))], "total": 1}),
            ]
        })
        .map(|body| body.to_string().into_bytes())
        .collect();
    // Written with JSON escapes, which the reply's raw text does not show.
    let escaped: String = TOKEN
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    bodies.push(
        format!(r#"{{"models": [{{"model_id": "qa-vendor/echo", "display_name": "{escaped}", "input_schema": {{"type": "object"}}}}]}}"#)
            .into_bytes(),
    );
    for body in bodies {
        let (pulled, dir) = pull_all_from(body).await;
        let err = pulled.unwrap_err();
        assert!(matches!(err, PullError::TokenEchoed { .. }), "{err:?}");
        assert!(!shows_token(&err.to_string()), "{err}");
        assert!(is_empty_dir(dir.path()), "nothing written");
    }
}

/// `pull --all` into a new folder from a server that answers every request with `body`.
async fn pull_all_from(body: Vec<u8>) -> (Result<pull::PullReport, PullError>, tempfile::TempDir) {
    let server = Hostile::start(move |_, _| Act::Reply {
        status: 200,
        headers: Vec::new(),
        body: body.clone(),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let pulled = pull::pull(dir.path(), &hostile_options(&server, Selection::All, 100)).await;
    (pulled, dir)
}

/// A reply is read as strictly as `import` reads a file: one that is not UTF-8 (its text
/// would be written as U+FFFD: wire values no server takes) or gives a key twice (which was
/// meant?) is refused, nothing written; a byte order mark is skipped (QA repro36 M1, M2, L3).
#[tokio::test]
async fn a_reply_read_strictly_as_a_file_is() {
    let latin1 = br#"{"models": [{"model_id": "qa/x", "input_schema": {"type": "object", "properties": {"mode": {"type": "string", "enum": ["caf"#;
    let refused: [(Vec<u8>, &str); 2] = [
        ([latin1.as_slice(), b"\xe9\"]}}}}]}"].concat(), "not JSON"),
        (
            format!(
                r#"{{"models": [{}], "models": [{}]}}"#,
                entry("qa/a", object()),
                entry("qa/b", object())
            )
            .into_bytes(),
            "given twice",
        ),
    ];
    for (body, said) in refused {
        let (pulled, dir) = pull_all_from(body).await;
        let err = pulled.unwrap_err();
        assert!(err.to_string().contains(said), "{err}");
        assert!(is_empty_dir(dir.path()), "nothing written");
    }
    let body = [
        b"\xef\xbb\xbf".as_slice(),
        j!({"models": [entry("qa/x", object())], "total": 1})
            .to_string()
            .as_bytes(),
    ]
    .concat();
    let (pulled, dir) = pull_all_from(body).await;
    if let Err(err) = pulled {
        panic!("{err}");
    }
    assert!(dir.path().join("qa/x/input.json").is_file());
}

#[tokio::test]
async fn an_endless_reply_is_refused_at_the_cap() {
    let chunk = format!("{},", entry("qa/x", object())).repeat(2000);
    let server = Hostile::start(move |_, _| Act::Stream {
        content_type: "application/json".into(),
        chunk: [b"{\"models\": [".as_slice(), chunk.as_bytes()].concat(),
        total: usize::MAX,
        every: Duration::ZERO,
    })
    .await;
    let err = pull::fetch(&hostile_options(&server, Selection::All, 100))
        .await
        .unwrap_err();
    assert!(matches!(err, PullError::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("larger than 8 MiB"), "{err}");
    // What the server wrote past the cap sits in socket buffers: loopback's grow to several MB
    // under load (17 MB seen while the whole suite ran), never an endless reply's.
    let written = server.body_bytes();
    assert!(written < (pull::MAX_REPLY_BYTES as u64) * 4, "{written}");
}

#[tokio::test]
async fn a_silent_or_dripping_server_times_out_naming_the_url() {
    let timeouts = Timeouts {
        connect: Duration::from_secs(5),
        read: Duration::from_millis(300),
        request: Duration::from_secs(2),
    };
    let silent = Hostile::start(|_, _| Act::Hang).await;
    // A byte every 100 ms: never silent long enough for the read timeout.
    let dripping = Hostile::start(|_, _| Act::Stream {
        content_type: "application/json".into(),
        chunk: b" ".to_vec(),
        total: usize::MAX,
        every: Duration::from_millis(100),
    })
    .await;
    for (server, within) in [(&silent, 1.5), (&dripping, 3.5)] {
        let mut options = hostile_options(server, Selection::Models(vec!["a/b".into()]), 100);
        options.timeouts = timeouts;
        let start = Instant::now();
        let err = pull::fetch(&options).await.unwrap_err();
        let took = start.elapsed().as_secs_f64();
        assert!(matches!(err, PullError::Timeout { .. }), "{err:?}");
        assert!(took < within, "{took} s");
        let shown = err.to_string();
        assert!(
            shown.contains("/v1/models/a/b: no reply in time"),
            "{shown}"
        );
    }
}

#[tokio::test]
async fn paging_goes_on_to_an_empty_page_or_one_short_of_a_page_at_total() {
    // The models served, at most this many a page, the `total` stated; the requests made.
    for (count, cap, total, requests) in [
        // No `total`: pages of 2, 2 and 1, then an empty one to be sure.
        (5, usize::MAX, None, 4),
        // A short page that reaches `total` ends the listing.
        (5, usize::MAX, Some(5), 3),
        // A full page at `total` takes one more request, answered by an empty page.
        (4, usize::MAX, Some(4), 3),
        // A server that gives fewer a page than asked for, without or with `total`.
        (5, 1, None, 6),
        (5, 1, Some(5), 5),
    ] {
        let server = Hostile::start(listing_capped(count, cap, move |_| total)).await;
        let listed = pull::fetch(&hostile_options(&server, Selection::All, 2))
            .await
            .unwrap();
        let case = (count, cap, total);
        assert_eq!(listed.models.len(), count, "{case:?}");
        assert_eq!(listed.doubt, None, "{case:?}");
        assert_eq!(server.seen().len(), requests, "{case:?}");
    }
    // A `total` that says fewer than listed is no reason to stop, but a reason to doubt.
    let server = Hostile::start(listing(5, |_| Some(2))).await;
    let listed = pull::fetch(&hostile_options(&server, Selection::All, 2))
        .await
        .unwrap();
    assert_eq!(listed.models.len(), 5);
    assert_eq!(
        listed.doubt,
        Some(ListingDoubt::CountMismatch {
            stated: 2,
            listed: 5
        })
    );
}

/// A catalog folder of `n` models, `local/m{i}`.
fn local_catalog(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..n {
        let model = dir.path().join(format!("local/m{i}"));
        fs::create_dir_all(&model).unwrap();
        fs::write(model.join("input.json"), format!("{}\n", object())).unwrap();
    }
    dir
}

#[tokio::test]
async fn a_listing_that_looks_wrong_reports_no_model_as_unserved() {
    for (server, doubt) in [
        // Promises 300, ends after 4.
        (
            Hostile::start(listing(4, |_| Some(300))).await,
            ListingDoubt::CountMismatch {
                stated: 300,
                listed: 4,
            },
        ),
        // Says nothing at all.
        (
            Hostile::start(listing(0, |_| Some(0))).await,
            ListingDoubt::Empty,
        ),
        // Its count changes between pages.
        (
            Hostile::start(listing(3, |offset| Some(3 + offset))).await,
            ListingDoubt::TotalChanged { first: 3, then: 5 },
        ),
        // Lists a model where the folder has four.
        (
            Hostile::start(listing(1, |_| Some(1))).await,
            ListingDoubt::Shrunk {
                listed: 1,
                local: 4,
            },
        ),
    ] {
        let dir = local_catalog(4);
        let report = pull::pull(dir.path(), &hostile_options(&server, Selection::All, 2))
            .await
            .unwrap();
        assert_eq!(report.doubt.as_ref(), Some(&doubt));
        assert!(report.not_served.is_empty(), "{:?}", report.not_served);
        for i in 0..4 {
            assert!(dir.path().join(format!("local/m{i}/input.json")).exists());
        }
    }
    // A listing that looks right names the local models it leaves out.
    let server = Hostile::start(listing(3, |_| Some(3))).await;
    let dir = local_catalog(1);
    let report = pull::pull(dir.path(), &hostile_options(&server, Selection::All, 2))
        .await
        .unwrap();
    assert_eq!(
        (report.doubt, report.not_served),
        (None, vec!["local/m0".to_owned()])
    );
}

#[tokio::test]
async fn a_listing_that_never_ends_is_refused() {
    // Each page full of new models, `total` always a page ahead.
    let server = Hostile::start(|seen: &Seen, _: &str| {
        let (offset, limit) = (param(seen, "offset"), param(seen, "limit"));
        let models: Vec<Value> = (offset..offset + limit)
            .map(|i| entry(&format!("qa-vendor/m{i:07}"), j!({"type": "object"})))
            .collect();
        json(200, j!({"models": models, "total": offset + limit + 1}))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let err = pull::pull(dir.path(), &hostile_options(&server, Selection::All, 1000))
        .await
        .unwrap_err();
    assert!(matches!(err, PullError::TooManyModels { .. }), "{err:?}");
    assert_eq!(server.seen().len(), pull::MAX_MODELS / 1000 + 1);
    assert!(is_empty_dir(dir.path()), "nothing written");
}

#[tokio::test]
async fn a_model_listed_twice_with_other_schemas_is_an_error_naming_it() {
    let required =
        j!({"type": "object", "required": ["seed"], "properties": {"seed": {"type": "integer"}}});
    for (again, differs) in [(object(), false), (required, true)] {
        let server = Hostile::start(move |seen: &Seen, _: &str| {
            let models = match param(seen, "offset") {
                0 => j!([
                    entry("qa-vendor/m1", object()),
                    entry("qa-vendor/m2", object())
                ]),
                2 => j!([
                    entry("qa-vendor/m2", again.clone()),
                    entry("qa-vendor/m3", object())
                ]),
                _ => j!([]),
            };
            json(200, j!({"models": models}))
        })
        .await;
        let result = pull::fetch(&hostile_options(&server, Selection::All, 2)).await;
        match result {
            Err(err) if differs => {
                assert!(matches!(err, PullError::Duplicate { .. }), "{err:?}");
                let shown = err.to_string();
                assert!(shown.contains("`qa-vendor/m2` is listed again"), "{shown}");
            }
            Ok(listed) if !differs => {
                let ids: Vec<&str> = listed.models.iter().map(|m| m.id.as_str()).collect();
                assert_eq!(ids, ["qa-vendor/m1", "qa-vendor/m2", "qa-vendor/m3"]);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn an_error_sent_with_200_is_the_servers_error() {
    let server = Hostile::start(|_, _| {
        json(
            200,
            j!({"error_code": 400004, "error_message": "Invalid or expired token", "detail": []}),
        )
    })
    .await;
    for selection in [Selection::All, Selection::Models(vec!["qa/x".into()])] {
        let err = pull::fetch(&hostile_options(&server, selection, 100))
            .await
            .unwrap_err();
        assert!(matches!(err, PullError::Api { status: 200, .. }), "{err:?}");
        let shown = err.to_string();
        assert!(
            shown.contains("error 400004: Invalid or expired token (set RUNCOMFY_TOKEN"),
            "{shown}"
        );
    }
}

#[tokio::test]
async fn terminal_escapes_from_the_server_are_shown_escaped() {
    const SEQUENCES: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}";
    let server = Hostile::start(|seen: &Seen, _: &str| match seen.path.as_str() {
        "/v1/models/qa/a" => Act::Reply {
            status: 500,
            headers: Vec::new(),
            body: format!("{SEQUENCES}Internal error").into_bytes(),
        },
        "/v1/models/qa/b" => json(200, entry(&format!("qa/b{SEQUENCES}"), object())),
        "/v1/models/qa/c" => json(
            200,
            j!({"error_code": SEQUENCES, "error_message": SEQUENCES}),
        ),
        _ => json(
            200,
            j!({"models": [entry(&format!("qa/x{SEQUENCES}"), object())]}),
        ),
    })
    .await;
    for selection in [
        Selection::Models(vec!["qa/a".into()]),
        Selection::Models(vec!["qa/b".into()]),
        Selection::Models(vec!["qa/c".into()]),
        Selection::All,
    ] {
        let err = pull::fetch(&hostile_options(&server, selection, 100))
            .await
            .unwrap_err();
        let shown = err.to_string();
        assert!(
            !shown.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{shown:?}"
        );
        assert!(shown.contains(r"\u{1b}]0;pwned\u{7}"), "{shown}");
    }
}

#[tokio::test]
async fn a_model_id_that_would_leave_the_models_path_is_refused_before_any_request() {
    let server = Hostile::start(|_, _| json(404, j!({}))).await;
    for id in [
        "../../admin/x",
        "%2e%2e/x",
        "a/b?limit=1",
        "a/b#c",
        "a/./b",
        "a",
        "a\u{1b}[2J/b",
    ] {
        let options = hostile_options(
            &server,
            Selection::Models(vec!["ok/one".into(), id.into()]),
            100,
        );
        let err = pull::fetch(&options).await.unwrap_err();
        assert!(matches!(err, PullError::BadId(_)), "{id}: {err:?}");
        let shown = err.to_string();
        assert!(shown.contains("is not a model id"), "{shown}");
        assert!(!shown.contains('\u{1b}'), "{shown:?}");
    }
    assert!(server.seen().is_empty(), "{:?}", server.seen());
}

// The binary: what reaches the terminal.

fn xtask_pull(token: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("pull")
        .args(args)
        .env("RUNCOMFY_TOKEN", token)
        .output()
        .unwrap()
}

#[test]
fn the_command_never_prints_the_token_and_warns_of_a_listing_that_looks_wrong() {
    let echo = format!("bad token {}", echoes().join(" / "));
    let server = Hostile::start_in_background(move |seen, _| {
        if seen.path == "/v1/models" {
            json(200, j!({"models": [], "total": 0}))
        } else {
            json(401, j!({"error_code": 400004, "error_message": echo}))
        }
    });
    let dir = local_catalog(2);
    let schemas = dir.path().to_str().unwrap();
    let base = ["--base-url", server.base_url(), "--schemas", schemas];
    let out = xtask_pull(TOKEN, &[&["--model", "qa/echo"], &base[..]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("bad token [redacted]"), "{stderr}");
    assert!(!shows_token(&stderr) && !shows_token(&String::from_utf8_lossy(&out.stdout)));
    // An empty listing: a warning, and no model called unserved.
    let out = xtask_pull(TOKEN, &[&["--all"], &base[..]].concat());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: the server listed no models"),
        "{stderr}"
    );
    assert!(!stdout.contains("not served"), "{stdout}");
}

#[test]
fn a_token_a_header_cannot_carry_is_refused_unshown_before_any_request() {
    let server = Hostile::start_in_background(|_, _| json(200, j!({"models": []})));
    let dir = tempfile::tempdir().unwrap();
    let secret = "rc_SECRET\nTOKEN_abcdef";
    let out = xtask_pull(
        secret,
        &[
            "--all",
            "--base-url",
            server.base_url(),
            "--schemas",
            dir.path().to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("RUNCOMFY_TOKEN holds a character an HTTP header cannot carry"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("SECRET") && !stderr.contains("abcdef"),
        "{stderr}"
    );
    assert!(server.seen().is_empty());
}

#[test]
fn a_base_url_the_token_may_not_go_to_is_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let schemas = dir.path().to_str().unwrap();
    for (url, said) in [
        // In clear over the network.
        (
            "http://example.com",
            "plain http is only allowed to loopback addresses",
        ),
        // Credentials in the URL: refused, and never shown.
        ("https://user:hunter2@example.com", "credentials in the URL"),
    ] {
        let out = xtask_pull(TOKEN, &["--all", "--base-url", url, "--schemas", schemas]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(said), "{stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
    // The token in the URL's path (QA repro36 H2: asked, and every error repeated it).
    let server = Hostile::start_in_background(|_, _| json(500, j!({})));
    let url = format!("{}/{}", server.base_url(), TOKEN.replace('/', ""));
    let token = TOKEN.replace('/', "");
    let out = xtask_pull(&token, &["--all", "--base-url", &url, "--schemas", schemas]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("it holds the API token"), "{stderr}");
    assert!(!stderr.contains(&token), "{stderr}");
    assert!(server.seen().is_empty(), "{:?}", server.seen());
}
