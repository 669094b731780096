//! The generated code of every seed model (and of a deliberately messy catalog) as reviewable
//! snapshots: a catalog or generator change shows up as a diff.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn snapshot_catalog(root: &Path, prefix: &str) {
    let models = match runcomfy_codegen::generate_models(root) {
        Ok(models) => models,
        Err(errors) => panic!("{errors}"),
    };
    assert!(!models.is_empty());
    for (id, code) in models {
        let name = format!("{prefix}__{}", id.replace(['/', '.'], "_"));
        insta::assert_snapshot!(name, code);
    }
}

#[test]
fn seed_models() {
    snapshot_catalog(&workspace().join("schemas"), "seed");
}

#[test]
fn messy_catalog() {
    snapshot_catalog(&workspace().join("codegen/tests/fixtures/messy"), "messy");
}

#[test]
fn seed_outputs_are_one_shared_type() {
    let catalog = match runcomfy_codegen::load(&workspace().join("schemas")) {
        Ok(catalog) => catalog,
        Err(errors) => panic!("{errors}"),
    };
    assert_eq!(catalog.models.len(), 3);
    assert_eq!(catalog.outputs.len(), 1);
    assert_eq!(catalog.outputs[0].name, "MediaOutput");
}
