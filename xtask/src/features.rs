//! `cargo xtask features [--check]`: keeps the model features in `client/Cargo.toml` in step
//! with the catalog.
//!
//! The table (see `runcomfy_codegen::features`) sits between two marker comments in the
//! `[features]` section; everything outside them is left as written.

use std::fs;
use std::path::{Path, PathBuf};

use runcomfy_codegen::Errors;
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

/// Why the features could not be brought in step.
#[derive(Debug, thiserror::Error)]
pub enum FeaturesError {
    /// The generator refuses the catalog.
    #[error("the catalog in {} is invalid:\n{errors}", schemas.display())]
    Catalog {
        /// The catalog folder.
        schemas: PathBuf,
        /// What the generator said.
        errors: Errors,
    },
    /// The manifest could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The manifest.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A marker line is missing from the manifest.
    #[error("{}: no `{marker}` line in [features]{}", path.display(), if *marker == END { " after the BEGIN line" } else { "" })]
    Marker {
        /// The manifest.
        path: PathBuf,
        /// The missing line ([`BEGIN`] or [`END`]).
        marker: &'static str,
    },
    /// With `--check`: the manifest does not match the catalog.
    #[error("{}'s model features differ from the catalog in {}: run `cargo xtask features`", manifest.display(), schemas.display())]
    Stale {
        /// The manifest.
        manifest: PathBuf,
        /// The catalog folder.
        schemas: PathBuf,
    },
}

/// The features of the catalog at `schemas`.
pub fn table(schemas: &Path) -> Result<FeatureTable, FeaturesError> {
    runcomfy_codegen::load(schemas)
        .map(|catalog| catalog.features)
        .map_err(|errors| FeaturesError::Catalog {
            schemas: schemas.to_owned(),
            errors,
        })
}

/// `manifest` with the table between its markers replaced by `table`; `Err` names the marker
/// line that is missing.
pub fn splice(manifest: &str, table: &FeatureTable) -> Result<String, &'static str> {
    let begin = manifest.find(BEGIN).ok_or(BEGIN)?;
    let body = begin + BEGIN.len();
    let end = manifest[body..].find(END).map(|at| body + at).ok_or(END)?;
    // In the manifest's own line endings: a checkout with CRLF (Windows' autocrlf) is no
    // stale table.
    let newline = if manifest.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    Ok(format!(
        "{}{newline}{}{}",
        &manifest[..body],
        table.to_toml().replace('\n', newline),
        &manifest[end..]
    ))
}

/// Brings `manifest`'s table in step with the catalog at `schemas`; with `check`, only tells.
pub fn sync(manifest: &Path, schemas: &Path, check: bool) -> Result<Sync, FeaturesError> {
    sync_table(manifest, &table(schemas)?, check)
}

/// [`sync`] with a catalog's table already in hand.
fn sync_table(manifest: &Path, table: &FeatureTable, check: bool) -> Result<Sync, FeaturesError> {
    let io = |source| FeaturesError::Io {
        path: manifest.to_owned(),
        source,
    };
    let text = fs::read_to_string(manifest).map_err(io)?;
    let updated = splice(&text, table).map_err(|marker| FeaturesError::Marker {
        path: manifest.to_owned(),
        marker,
    })?;
    if updated == text {
        return Ok(Sync::Current);
    }
    if !check {
        fs::write(manifest, updated).map_err(io)?;
    }
    Ok(Sync::Stale)
}

/// The command: the manifest current (or rewritten); with `check`, a stale one is an error.
pub fn run(manifest: &Path, schemas: &Path, check: bool) -> Result<Sync, FeaturesError> {
    let state = sync(manifest, schemas, check)?;
    match state {
        Sync::Current => outln!(
            "{} is in step with {}",
            manifest.display(),
            schemas.display()
        ),
        Sync::Stale if check => {
            return Err(FeaturesError::Stale {
                manifest: manifest.to_owned(),
                schemas: schemas.to_owned(),
            });
        }
        Sync::Stale => outln!("updated the model features in {}", manifest.display()),
    }
    Ok(state)
}

/// After `import` or `pull` changed the workspace's own catalog, keeps the manifest current;
/// other catalog folders have no manifest to keep.
pub fn after_catalog_change(schemas: &Path, table: &FeatureTable) -> Result<(), FeaturesError> {
    let root = crate::workspace_root();
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(schemas, &root.join("schemas")) {
        return Ok(());
    }
    let manifest = root.join("client/Cargo.toml");
    if sync_table(&manifest, table, false)? == Sync::Stale {
        outln!("updated the model features in {}", manifest.display());
    }
    Ok(())
}
