//! `cargo xtask import FILE...`: models from RunComfy's API doc pages and catalog files into
//! the catalog folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use runcomfy_codegen::Errors;
use runcomfy_codegen::catalog::Upstream;
use runcomfy_codegen::ir::Catalog;

use crate::catalog_file::{self, CatalogFileError};
use crate::features::FeaturesError;
use crate::normalize;
use crate::page::{self, PageError};
use crate::store::{self, ModelChange, ModelFiles, StoreError, Written};

/// Why nothing (or not everything) was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Pages that could not be read; nothing was written.
    #[error("{}", lines(.0))]
    Pages(Vec<PageError>),
    /// Catalog files that could not be read; nothing was written.
    #[error("{}", lines(.0))]
    Catalogs(Vec<CatalogFileError>),
    /// Two files of one model disagree once normalized; nothing was written.
    #[error("{} and {} give different {what} for `{id}` (after normalizing localized text)", first.display(), second.display())]
    Conflict {
        /// The model id.
        id: String,
        /// What they disagree on: `schemas`, or `catalog facts` (name, price, kind).
        what: &'static str,
        /// The file read first.
        first: PathBuf,
        /// The file that disagrees.
        second: PathBuf,
    },
    /// A file could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// With the imported schemas the catalog would not generate; nothing was written.
    #[error(transparent)]
    Check(#[from] CheckError),
}

/// What is wrong with a catalog that `import` or `pull` would write.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// With the new schemas the catalog would not generate (an overlay names a field the new
    /// schema dropped, the source states a price that is none, an id takes another's feature):
    /// they were not written (or were put back).
    #[error(
        "{}\nnothing was written: with these schemas the catalog would not generate (the errors \
         name the files as they would be): fix the source, or the overlay.json named, then run \
         again (see schemas/README.md){}",
        lines(&errors.0),
        not_undone(undo_failures)
    )]
    Invalid {
        /// What the generator said.
        errors: Errors,
        /// Files that could not be put back as they were.
        undo_failures: Vec<String>,
    },
    /// The workspace's model features could not be brought in step.
    #[error("the catalog is fine, but its cargo features are not: {0}")]
    Features(#[from] FeaturesError),
}

/// The files an undo left changed, as the end of a message.
fn not_undone(failures: &[String]) -> String {
    if failures.is_empty() {
        String::new()
    } else {
        format!(
            "\nthese could not be put back as they were: {}",
            failures.join("; ")
        )
    }
}

/// Several errors, one a line, for a caller that writes `error: ` before the first.
fn lines(errors: &[impl std::fmt::Display]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\nerror: ")
}

/// One model to write, and the file it came from.
struct Source {
    file: PathBuf,
    input: serde_json::Value,
    output: Option<serde_json::Value>,
    upstream: Option<Upstream>,
}

/// What an import (or a pull) wrote, and the catalog it was checked by.
#[derive(Debug)]
pub struct Imported {
    /// Each model written, by id.
    pub changes: Vec<ModelChange>,
    /// The catalog loaded after the write, as the generator reads it.
    pub catalog: Catalog,
}

/// Imports doc pages and catalog files into the catalog folder `schemas`, in model id order.
///
/// A catalog file is told from a doc page by its content (JSON). Every file is read before
/// anything is written, so a broken one leaves the catalog as it was. Files of the same model
/// (pages in several languages) must agree once normalized.
pub fn import(schemas: &Path, files: &[PathBuf]) -> Result<Imported, ImportError> {
    let mut models: BTreeMap<String, Source> = BTreeMap::new();
    let mut page_errors = Vec::new();
    let mut catalog_errors = Vec::new();
    for path in files {
        let is_catalog =
            std::fs::read_to_string(path).is_ok_and(|text| catalog_file::is_catalog_file(&text));
        if is_catalog {
            match read_catalog_file(path) {
                // Said, as `pull` says an empty listing (QA repro36 L7: "catalog OK" alone).
                Ok(read) if read.is_empty() => {
                    errln!(
                        "warning: {} lists no models: nothing imported from it",
                        path.display()
                    );
                }
                Ok(read) => add(&mut models, read)?,
                Err(err) => catalog_errors.push(err),
            }
        } else {
            match read_page(path) {
                Ok(read) => add(&mut models, read)?,
                Err(err) => page_errors.push(err),
            }
        }
    }
    if !catalog_errors.is_empty() {
        return Err(ImportError::Catalogs(catalog_errors));
    }
    if !page_errors.is_empty() {
        return Err(ImportError::Pages(page_errors));
    }
    write(schemas, &models)
}

/// The models of a catalog file.
fn read_catalog_file(path: &Path) -> Result<Vec<(String, Source)>, CatalogFileError> {
    let entries = catalog_file::read(path)?;
    let models = entries.into_iter().map(|m| {
        let source = Source {
            file: path.to_owned(),
            input: m.input,
            output: m.output,
            upstream: Some(m.upstream),
        };
        (m.id, source)
    });
    Ok(models.collect())
}

/// The model of a doc page, its localized text normalized.
fn read_page(path: &Path) -> Result<Vec<(String, Source)>, PageError> {
    let page = page::read_page(path)?;
    let source = Source {
        file: path.to_owned(),
        input: normalize::input(page.input),
        output: Some(normalize::output(page.output)),
        upstream: None,
    };
    Ok(vec![(page.id, source)])
}

/// Adds the models read from one file. A model read before must have the same schemas and
/// catalog facts, where both files give them; what only one gives (a page has no facts, a
/// catalog entry may have no output schema) is taken from it, so the order of the files does
/// not matter.
fn add(
    models: &mut BTreeMap<String, Source>,
    read: Vec<(String, Source)>,
) -> Result<(), ImportError> {
    for (id, source) in read {
        let Some(first) = models.get_mut(&id) else {
            models.insert(id, source);
            continue;
        };
        let what = if first.input != source.input || disagree(&first.output, &source.output) {
            Some("schemas")
        } else if disagree(&first.upstream, &source.upstream) {
            Some("catalog facts")
        } else {
            None
        };
        if let Some(what) = what {
            return Err(ImportError::Conflict {
                id,
                what,
                first: first.file.clone(),
                second: source.file,
            });
        }
        if first.output.is_none() {
            first.output = source.output;
        }
        if first.upstream.is_none() {
            first.upstream = source.upstream;
        }
    }
    Ok(())
}

/// Whether two files both give a thing, and differently.
fn disagree<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a != b)
}

/// Writes the models, once every id is known to be good: a bad one is found before anything
/// is written, like a broken file.
fn write(schemas: &Path, models: &BTreeMap<String, Source>) -> Result<Imported, ImportError> {
    for id in models.keys() {
        runcomfy_codegen::catalog::check_model_id(id, &schemas.join(id))
            .map_err(|e| StoreError::BadId(e.to_string()))?;
    }
    write_checked(
        schemas,
        models.iter().map(|(id, source)| ModelFiles {
            id,
            input: &source.input,
            output: source.output.as_ref(),
            upstream: source.upstream.as_ref(),
        }),
    )
}

/// Writes the models, then loads the catalog as the generator does; when a write fails or the
/// catalog does not generate, puts back what was written. Shared with `pull`.
pub(crate) fn write_checked<'a, E: From<StoreError> + From<CheckError>>(
    schemas: &Path,
    models: impl IntoIterator<Item = ModelFiles<'a>>,
) -> Result<Imported, E> {
    let mut written = Written::default();
    let mut changes = Vec::new();
    for model in models {
        match store::write_model(schemas, &model, &mut written) {
            Ok(change) => changes.push(change),
            Err(err) => {
                written.undo();
                return Err(err.into());
            }
        }
    }
    match runcomfy_codegen::load(schemas) {
        Ok(catalog) => Ok(Imported { changes, catalog }),
        Err(errors) => Err(CheckError::Invalid {
            errors,
            undo_failures: written.undo(),
        }
        .into()),
    }
}

/// The command: imports, prints what changed, then checks that the catalog still generates
/// (an overlay may name a field the new schema dropped).
pub fn run(schemas: &Path, files: &[PathBuf]) -> Result<Imported, ImportError> {
    let imported = import(schemas, files)?;
    for change in &imported.changes {
        outln!("{change}");
    }
    finish(schemas, &imported.catalog)?;
    Ok(imported)
}

/// After a write that was checked ([`write_checked`]), with the catalog it loaded: keeps the
/// workspace's model features current and says how many models the catalog has; shared with
/// `pull`.
pub(crate) fn finish(schemas: &Path, catalog: &Catalog) -> Result<(), CheckError> {
    crate::features::after_catalog_change(schemas, &catalog.features)?;
    outln!(
        "catalog OK: {} model(s); `cargo xtask lint` for warnings; a rebuild compiles it in (then `runcomfy models` lists it)",
        catalog.models.len()
    );
    Ok(())
}
