//! `cargo xtask import PAGE...`: models from RunComfy API doc pages into the catalog.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use runcomfy_codegen::Errors;

use crate::features::FeaturesError;
use crate::normalize;
use crate::page::{self, PageError};
use crate::store::{self, ModelChange, StoreError};

/// Why nothing (or not everything) was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Pages that could not be read; nothing was written.
    #[error("{}", lines(.0))]
    Pages(Vec<PageError>),
    /// Two pages of one model disagree once normalized; nothing was written.
    #[error("{} and {} give different schemas for `{id}` (after normalizing localized text)", first.display(), second.display())]
    Conflict {
        /// The model id.
        id: String,
        /// The page read first.
        first: PathBuf,
        /// The page that disagrees.
        second: PathBuf,
    },
    /// A file could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The schemas were written, but the catalog is not right.
    #[error(transparent)]
    Check(#[from] CheckError),
}

/// What is wrong with a catalog that `import` or `pull` just wrote.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The catalog no longer generates (an overlay names a field the new schema dropped).
    #[error("{}\nthe schemas were written, but the catalog no longer generates: fix the overlay.json named above (see schemas/README.md)", lines(&.0.0))]
    Invalid(Errors),
    /// The workspace's model features could not be brought in step.
    #[error("the catalog is fine, but its cargo features are not: {0}")]
    Features(#[from] FeaturesError),
}

/// Several errors, one a line, for a caller that writes `error: ` before the first.
fn lines(errors: &[impl std::fmt::Display]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\nerror: ")
}

/// Imports pages into the catalog folder `schemas`, in model id order.
///
/// Every page is read before anything is written, so a broken page leaves the catalog as it
/// was. Pages of the same model in several languages must agree once normalized.
pub fn import(schemas: &Path, pages: &[PathBuf]) -> Result<Vec<ModelChange>, ImportError> {
    let mut models: BTreeMap<String, (PathBuf, serde_json::Value, serde_json::Value)> =
        BTreeMap::new();
    let mut errors = Vec::new();
    for path in pages {
        let page = match page::read_page(path) {
            Ok(page) => page,
            Err(err) => {
                errors.push(err);
                continue;
            }
        };
        let input = normalize::input(page.input);
        let output = normalize::output(page.output);
        match models.get(&page.id) {
            Some((first, i, o)) if *i != input || *o != output => {
                return Err(ImportError::Conflict {
                    id: page.id,
                    first: first.clone(),
                    second: path.clone(),
                });
            }
            Some(_) => {}
            None => {
                models.insert(page.id, (path.clone(), input, output));
            }
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Pages(errors));
    }
    let mut changes = Vec::new();
    for (id, (_, input, output)) in &models {
        changes.push(store::write_model(schemas, id, input, output)?);
    }
    Ok(changes)
}

/// The command: imports, prints what changed, then checks that the catalog still generates
/// (an overlay may name a field the new schema dropped).
pub fn run(schemas: &Path, pages: &[PathBuf]) -> Result<Vec<ModelChange>, ImportError> {
    let changes = import(schemas, pages)?;
    for change in &changes {
        println!("{change}");
    }
    finish(schemas)?;
    Ok(changes)
}

/// Checks the catalog with the generator's loader after a write, and keeps the workspace's
/// model features current; shared with `pull`.
pub(crate) fn finish(schemas: &Path) -> Result<(), CheckError> {
    let catalog = runcomfy_codegen::load(schemas).map_err(CheckError::Invalid)?;
    crate::features::after_catalog_change(schemas)?;
    println!(
        "catalog OK: {} model(s); `cargo xtask lint` for warnings; a rebuild compiles it in (then `runcomfy models` lists it)",
        catalog.models.len()
    );
    Ok(())
}
