//! `cargo xtask codegen`: the generated Rust of a catalog folder, written for review.

use std::fs;
use std::path::{Path, PathBuf};

use runcomfy_codegen::Errors;

/// Why nothing (or not everything) was written.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// The generator refuses the catalog.
    #[error("the catalog does not generate:\n{0}")]
    Catalog(Errors),
    /// A file or folder could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Generates the whole file and one file per model; errors are the generator's own.
pub fn run(schemas: &Path, out: &Path) -> Result<(), CodegenError> {
    let code = runcomfy_codegen::generate(schemas).map_err(CodegenError::Catalog)?;
    let models = runcomfy_codegen::generate_models(schemas).map_err(CodegenError::Catalog)?;
    let write = |path: &Path, text: &str| -> Result<(), CodegenError> {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|source| CodegenError::Write {
                path: parent.to_owned(),
                source,
            })?;
        }
        fs::write(path, text).map_err(|source| CodegenError::Write {
            path: path.to_owned(),
            source,
        })
    };
    let whole = out.join("runcomfy_models.rs");
    write(&whole, &code)?;
    for (id, module) in &models {
        write(&out.join("models").join(format!("{id}.rs")), module)?;
    }
    println!(
        "wrote {} and {} model file{} under {}",
        whole.display(),
        models.len(),
        if models.len() == 1 { "" } else { "s" },
        out.join("models").display()
    );
    Ok(())
}
