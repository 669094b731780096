//! `cargo xtask import PAGE...`: models from RunComfy API doc pages into the catalog.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::normalize;
use crate::page::{self, PageError};
use crate::store::{self, ModelChange, StoreError};

/// Why nothing (or not everything) was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Pages that could not be read; nothing was written.
    #[error("{}", list(.0))]
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
}

fn list(errors: &[PageError]) -> String {
    errors
        .iter()
        .map(|e| format!("error: {e}"))
        .collect::<Vec<_>>()
        .join("\n")
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
/// (an overlay may name a field the new schema dropped). Returns the exit code.
pub fn run(schemas: &Path, pages: &[PathBuf]) -> u8 {
    let changes = match import(schemas, pages) {
        Ok(changes) => changes,
        Err(err) => {
            eprintln!("{}", prefixed(&err));
            return 1;
        }
    };
    for change in &changes {
        println!("{change}");
    }
    finish(schemas)
}

fn prefixed(err: &ImportError) -> String {
    match err {
        ImportError::Pages(_) => err.to_string(),
        other => format!("error: {other}"),
    }
}

/// Checks the catalog with the generator's loader after a write, and keeps the workspace's
/// model features current; shared with `pull`.
pub(crate) fn finish(schemas: &Path) -> u8 {
    match runcomfy_codegen::load(schemas) {
        Ok(catalog) => {
            if let Err(message) = crate::features::after_catalog_change(schemas) {
                eprintln!("error: the catalog is fine, but its cargo features are not: {message}");
                return 1;
            }
            println!(
                "catalog OK: {} model(s); `cargo xtask lint` for warnings; a rebuild compiles it in (then `runcomfy models` lists it)",
                catalog.models.len()
            );
            0
        }
        Err(errors) => {
            eprintln!(
                "{errors}\nthe schemas were written, but the catalog no longer generates: fix the overlay.json named above (see schemas/README.md)"
            );
            1
        }
    }
}
