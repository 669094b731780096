//! The generated code of the seed models, of real models that stand for a class of shapes, and
//! of a deliberately messy catalog as reviewable snapshots: a catalog or generator change
//! shows up as a diff.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn snapshot_catalog(root: &Path, prefix: &str, only: Option<&[&str]>) {
    let models = match runcomfy_codegen::generate_models(root) {
        Ok(models) => models,
        Err(errors) => panic!("{errors}"),
    };
    let mut snapshotted = 0;
    for (id, code) in models {
        if only.is_some_and(|ids| !ids.contains(&id.as_str())) {
            continue;
        }
        let name = format!("{prefix}__{}", id.replace(['/', '.'], "_"));
        insta::assert_snapshot!(name, code);
        snapshotted += 1;
    }
    match only {
        Some(ids) => assert_eq!(snapshotted, ids.len(), "a listed model is missing"),
        None => assert!(snapshotted > 0),
    }
    // The output types the models share: what `files()` lists and the runtime catalog's fields.
    match runcomfy_codegen::generate_outputs(root) {
        Ok(code) => insta::assert_snapshot!(format!("{prefix}__outputs"), code),
        Err(errors) => panic!("{errors}"),
    }
}

/// The seeds, and real models that each stand for a class of shapes.
const CATALOG_SNAPSHOTS: &[&str] = &[
    "bytedance/seedream-4-0/edit",
    "bytedance/seedream-4-0/edit-sequential",
    "bytedance/seedream-4-0/sequential",
    // Media lists of three kinds, with no `items`.
    "bytedance/seedance-2.5/reference-to-video/1080p",
    // `validations` on a media list with no `items`.
    "bytedance/seedream-5.0-pro/image-to-image",
    // Single audio files; an audio output.
    "acestep-ai/ace-step/audio-inpaint",
    // A single video file.
    "wan-ai/wan-2.7/edit-video",
    // The API's raw shape (`"type": "float"`, `"default": null`, `title`).
    "blackforestlabs/flux-2/flash/text-to-image",
    // An id that extends another model's id.
    "blackforestlabs/flux-3/text-to-video/draft",
];

#[test]
fn catalog_models() {
    snapshot_catalog(
        &workspace().join("schemas"),
        "catalog",
        Some(CATALOG_SNAPSHOTS),
    );
}

#[test]
fn messy_catalog() {
    snapshot_catalog(
        &workspace().join("codegen/tests/fixtures/messy"),
        "messy",
        None,
    );
}

/// No model of the catalog publishes an output schema: each has the one RunComfy's docs show,
/// with fields for audio files when it makes audio (QA repro44 F11).
#[test]
fn every_model_of_the_catalog_shares_the_documented_output_of_its_kind() {
    let catalog = match runcomfy_codegen::load(&workspace().join("schemas")) {
        Ok(catalog) => catalog,
        Err(errors) => panic!("{errors}"),
    };
    assert!(catalog.models.len() >= 68, "{}", catalog.models.len());
    let names: Vec<&str> = catalog.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["AudioOutput", "MediaOutput"]);
    for model in &catalog.models {
        let audio = model.upstream.output_kind == Some(runcomfy_vocab::media::MediaKind::Audio);
        assert_eq!(
            catalog.outputs[model.output].name,
            if audio { "AudioOutput" } else { "MediaOutput" },
            "{}",
            model.id
        );
    }
}
