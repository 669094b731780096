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
    let mut written = std::collections::BTreeSet::new();
    for (id, module) in &models {
        let path = out.join("models").join(format!("{id}.rs"));
        write(&path, module)?;
        written.insert(path);
    }
    // An earlier run's files of models since removed would show in a review as still there.
    remove_others(&out.join("models"), &written)?;
    outln!(
        "wrote {} and {} model file{} under {}",
        whole.display(),
        models.len(),
        if models.len() == 1 { "" } else { "s" },
        out.join("models").display()
    );
    Ok(())
}

/// Removes the `.rs` files under `dir` that are not `kept`, and the folders left empty.
fn remove_others(
    dir: &Path,
    kept: &std::collections::BTreeSet<PathBuf>,
) -> Result<(), CodegenError> {
    let fail = |path: &Path| {
        let path = path.to_owned();
        move |source| CodegenError::Write { path, source }
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(fail(dir)(err)),
    };
    for entry in entries {
        let path = entry.map_err(fail(dir))?.path();
        if path.is_dir() {
            remove_others(&path, kept)?;
            if fs::read_dir(&path).map_err(fail(&path))?.next().is_none() {
                fs::remove_dir(&path).map_err(fail(&path))?;
            }
        } else if path.extension().is_some_and(|ext| ext == "rs") && !kept.contains(&path) {
            fs::remove_file(&path).map_err(fail(&path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model removed from the catalog loses its file at the next run; others are left.
    #[test]
    fn files_of_removed_models_are_removed() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let (schemas, out) = (dir.path().join("schemas"), dir.path().join("out"));
        for id in [
            "bytedance/seedream-4-0/edit",
            "bytedance/seedream-4-0/sequential",
        ] {
            let from = crate::workspace_root().join("schemas").join(id);
            fs::create_dir_all(schemas.join(id))?;
            for entry in fs::read_dir(&from)? {
                let entry = entry?;
                fs::copy(entry.path(), schemas.join(id).join(entry.file_name()))?;
            }
        }
        fs::create_dir_all(out.join("models"))?;
        fs::write(out.join("models/notes.txt"), "mine")?;
        run(&schemas, &out)?;
        let edit = out.join("models/bytedance/seedream-4-0/edit.rs");
        assert!(edit.is_file());
        fs::remove_dir_all(schemas.join("bytedance/seedream-4-0/edit"))?;
        run(&schemas, &out)?;
        assert!(!edit.exists());
        assert!(
            out.join("models/bytedance/seedream-4-0/sequential.rs")
                .is_file()
        );
        assert!(out.join("models/notes.txt").is_file());
        Ok(())
    }
}
