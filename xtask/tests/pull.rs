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

use runcomfy_simulator::{SimConfig, Simulator};
use xtask::pull::{self, PullError, PullOptions, Selection};
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
        token: Some("t".into()),
        selection,
        page_size: 2,
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
    assert!(
        matches!(err, PullError::Status { status: 401, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("set RUNCOMFY_TOKEN"), "{err}");
    opts.token = Some("wrong-secret-token".into());
    let err = pull::pull(dir.path(), &opts).await.unwrap_err();
    assert!(matches!(err, PullError::Status { .. }), "{err:?}");
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
            PullError::Status {
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
    use runcomfy_hostile::{Hostile, json};
    let server = Hostile::start(|_, _| {
        json(
            200,
            serde_json::json!({
                "models": [{"model_id": "acme/one", "input_schema": {"type": "object"}}],
                "total": 100_000,
            }),
        )
    })
    .await;
    let options = PullOptions {
        base_url: server.base_url().to_owned(),
        token: Some("t".into()),
        selection: Selection::All,
        page_size: 1,
    };
    let err = pull::fetch(&options).await.unwrap_err();
    assert!(err.to_string().contains("ignore `offset`"), "{err}");
    assert_eq!(server.count("GET", ""), 2, "the second page told");
}
