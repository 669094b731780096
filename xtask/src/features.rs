//! `cargo xtask features [--check]`: keeps the model features in `client/Cargo.toml` in step
//! with the catalog.
//!
//! The table (see `runcomfy_codegen::features`) sits between two marker comments in the
//! `[features]` section; everything outside them is left as written.

use std::fs;
use std::path::Path;

use runcomfy_codegen::features::FeatureTable;

/// The line opening the generated table.
pub const BEGIN: &str =
    "# BEGIN model features: written by `cargo xtask features` from the catalog; do not edit.";
/// The line closing it.
pub const END: &str = "# END model features";

/// Whether a manifest's table was already current, or has been (or would be) rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sync {
    /// The manifest already matched the catalog.
    Current,
    /// The manifest did not match (and was rewritten unless checking).
    Stale,
}

/// The features of the catalog at `schemas`.
pub fn table(schemas: &Path) -> Result<FeatureTable, String> {
    runcomfy_codegen::load(schemas)
        .map(|catalog| catalog.features)
        .map_err(|errors| format!("the catalog in {} is invalid:\n{errors}", schemas.display()))
}

/// `manifest` with the table between its markers replaced by `table`.
pub fn splice(manifest: &str, table: &FeatureTable) -> Result<String, String> {
    let begin = manifest
        .find(BEGIN)
        .ok_or_else(|| format!("no `{BEGIN}` line in [features]"))?;
    let body = begin + BEGIN.len();
    let end = manifest[body..]
        .find(END)
        .map(|at| body + at)
        .ok_or_else(|| format!("no `{END}` line after the `# BEGIN model features` line"))?;
    Ok(format!(
        "{}\n{}{}",
        &manifest[..body],
        table.to_toml(),
        &manifest[end..]
    ))
}

/// Brings `manifest`'s table in step with the catalog at `schemas`; with `check`, only tells.
pub fn sync(manifest: &Path, schemas: &Path, check: bool) -> Result<Sync, String> {
    let table = table(schemas)?;
    let text = fs::read_to_string(manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let updated = splice(&text, &table).map_err(|e| format!("{}: {e}", manifest.display()))?;
    if updated == text {
        return Ok(Sync::Current);
    }
    if !check {
        fs::write(manifest, updated).map_err(|e| format!("{}: {e}", manifest.display()))?;
    }
    Ok(Sync::Stale)
}

/// The command: exit code 0 when current (or rewritten), 1 when stale under `--check` or on
/// errors.
pub fn run(manifest: &Path, schemas: &Path, check: bool) -> u8 {
    match sync(manifest, schemas, check) {
        Ok(Sync::Current) => {
            println!(
                "{} is in step with {}",
                manifest.display(),
                schemas.display()
            );
            0
        }
        Ok(Sync::Stale) if check => {
            eprintln!(
                "{}'s model features differ from the catalog in {}: run `cargo xtask features`",
                manifest.display(),
                schemas.display()
            );
            1
        }
        Ok(Sync::Stale) => {
            println!("updated the model features in {}", manifest.display());
            0
        }
        Err(message) => {
            eprintln!("error: {message}");
            1
        }
    }
}

/// After `import` or `pull` changed the workspace's own catalog, keeps the manifest current;
/// other catalog folders have no manifest to keep.
pub fn after_catalog_change(schemas: &Path) -> Result<(), String> {
    let root = crate::workspace_root();
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(schemas, &root.join("schemas")) {
        return Ok(());
    }
    let manifest = root.join("client/Cargo.toml");
    if sync(&manifest, schemas, false)? == Sync::Stale {
        println!("updated the model features in {}", manifest.display());
    }
    Ok(())
}
