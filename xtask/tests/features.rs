//! `cargo xtask features`: `client/Cargo.toml` declares a feature for every model of the catalog.

use std::fs;
use std::path::Path;

use xtask::features::{self, FeaturesError, Sync};
use xtask::workspace_root;

#[test]
fn the_client_manifest_is_in_step_with_the_catalog() {
    let root = workspace_root();
    let state =
        features::sync(&root.join("client/Cargo.toml"), &root.join("schemas"), true).unwrap();
    assert_eq!(
        state,
        Sync::Current,
        "client/Cargo.toml's model features are stale: run `cargo xtask features`"
    );
}

fn model(root: &Path, id: &str) {
    let dir = root.join(id);
    fs::create_dir_all(&dir).unwrap();
    let input = r#"{"type": "object", "properties": {"prompt": {"type": "string"}}, "required": ["prompt"]}"#;
    fs::write(dir.join("input.json"), input).unwrap();
    let output =
        r#"{"type": "object", "properties": {"image": {"type": "string", "format": "uri"}}}"#;
    fs::write(dir.join("output.json"), output).unwrap();
}

#[test]
fn a_new_model_makes_the_manifest_stale_until_synced() {
    let dir = tempfile::tempdir().unwrap();
    let schemas = dir.path().join("schemas");
    model(&schemas, "acme/painter/v1");
    let manifest = dir.path().join("Cargo.toml");
    let text = format!(
        "[package]\nname = \"x\"\n\n[features]\ndefault = [\"all-models\"]\n{}\nall-models = []\n{}\n\n[dependencies]\n",
        features::BEGIN,
        features::END
    );
    fs::write(&manifest, &text).unwrap();

    assert_eq!(
        features::sync(&manifest, &schemas, true).unwrap(),
        Sync::Stale
    );
    assert_eq!(
        fs::read_to_string(&manifest).unwrap(),
        text,
        "--check writes nothing"
    );
    assert_eq!(
        features::sync(&manifest, &schemas, false).unwrap(),
        Sync::Stale
    );
    let written = fs::read_to_string(&manifest).unwrap();
    assert!(
        written.contains("all-models = [\"acme-painter-v1\"]\nacme-painter-v1 = []\n"),
        "{written}"
    );
    assert!(written.starts_with("[package]") && written.ends_with("\n\n[dependencies]\n"));
    assert_eq!(
        features::sync(&manifest, &schemas, true).unwrap(),
        Sync::Current
    );

    model(&schemas, "acme/painter/v2");
    assert_eq!(
        features::sync(&manifest, &schemas, false).unwrap(),
        Sync::Stale
    );
    let written = fs::read_to_string(&manifest).unwrap();
    assert!(
        written.contains("all-models = [\"acme-painter\"]\nacme-painter = [\"acme-painter-v1\", \"acme-painter-v2\"]\n"),
        "{written}"
    );
}

#[test]
fn a_manifest_without_markers_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let schemas = dir.path().join("schemas");
    model(&schemas, "acme/painter/v1");
    let manifest = dir.path().join("Cargo.toml");
    fs::write(&manifest, "[package]\nname = \"x\"\n").unwrap();
    let err = features::sync(&manifest, &schemas, false).unwrap_err();
    assert!(
        matches!(&err, FeaturesError::Marker { path, marker } if *path == manifest && *marker == features::BEGIN),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("Cargo.toml") && text.contains("BEGIN model features"),
        "{text}"
    );
}

/// A manifest checked out with CRLF line endings is written in them, and is then current.
#[test]
fn a_crlf_manifest_keeps_its_line_endings() {
    let dir = tempfile::tempdir().unwrap();
    let schemas = dir.path().join("schemas");
    model(&schemas, "acme/painter/v1");
    let manifest = dir.path().join("Cargo.toml");
    let text = format!(
        "[package]\r\nname = \"x\"\r\n\r\n[features]\r\n{}\r\nall-models = []\r\n{}\r\n",
        features::BEGIN,
        features::END
    );
    fs::write(&manifest, &text).unwrap();
    assert_eq!(
        features::sync(&manifest, &schemas, false).unwrap(),
        Sync::Stale
    );
    let written = fs::read_to_string(&manifest).unwrap();
    assert_eq!(
        written.matches('\n').count(),
        written.matches("\r\n").count(),
        "{written:?}"
    );
    assert_eq!(
        features::sync(&manifest, &schemas, true).unwrap(),
        Sync::Current
    );
}
