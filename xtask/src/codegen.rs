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
    /// A file to write, or a folder on its way, is a symbolic link: not written through (QA
    /// repro38 N4).
    #[error("{}: is a symbolic link; not written through", .0.display())]
    Symlink(PathBuf),
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
        let rel = path.strip_prefix(out).unwrap_or(path).to_string_lossy();
        if let Some(link) = crate::store::first_link(out, &rel) {
            return Err(CodegenError::Symlink(link));
        }
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
    let models_dir = out.join("models");
    let mut written = std::collections::BTreeSet::new();
    for (id, module) in &models {
        let name = format!("{id}.rs");
        write(&models_dir.join(&name), module)?;
        written.insert(name);
    }
    // An earlier run's files of models since removed would show in a review as still there;
    // only files a run wrote (its manifest says which) are removed (QA repro36 M4: every
    // `.rs` file under the folder was, a person's own too).
    let manifest = models_dir.join(MANIFEST);
    for stale in written_before(&manifest)?.difference(&written) {
        remove_with_empty_parents(&models_dir, stale)?;
    }
    let listed: String = written.iter().map(|name| format!("{name}\n")).collect();
    write(&manifest, &listed)?;
    outln!(
        "wrote {} and {} model file{} under {}",
        whole.display(),
        models.len(),
        if models.len() == 1 { "" } else { "s" },
        models_dir.display()
    );
    Ok(())
}

/// The file under `models/` listing the model files a run wrote, one path a line.
const MANIFEST: &str = ".runcomfy-codegen-files";

/// The model files the last run wrote, as its manifest lists them; none without one. A line
/// that could leave the folder (`..`, an absolute path) is not a file of ours.
fn written_before(manifest: &Path) -> Result<std::collections::BTreeSet<String>, CodegenError> {
    let text = match fs::read_to_string(manifest) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(source) => {
            return Err(CodegenError::Write {
                path: manifest.to_owned(),
                source,
            });
        }
    };
    Ok(text
        .lines()
        .filter(|line| {
            line.ends_with(".rs")
                && Path::new(line)
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)))
        })
        .map(str::to_owned)
        .collect())
}

/// Removes `dir/name` (gone already is fine), then the folders it leaves empty up to `dir`;
/// nothing through a link, whose target is someone else's.
fn remove_with_empty_parents(dir: &Path, name: &str) -> Result<(), CodegenError> {
    if crate::store::first_link(dir, name).is_some() {
        return Ok(());
    }
    let path = dir.join(name);
    match fs::remove_file(&path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            return Err(CodegenError::Write { path, source: err });
        }
        _ => {}
    }
    if let Some(parent) = path.parent() {
        crate::store::remove_empty_folders(dir, parent);
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
        fs::create_dir_all(out.join("models/mine"))?;
        fs::write(out.join("models/notes.txt"), "mine")?;
        // A person's own Rust there is theirs (QA repro36 M4: it was removed).
        fs::write(out.join("models/mine/lib.rs"), "// mine")?;
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
        assert!(out.join("models/mine/lib.rs").is_file());
        // A listed file behind a link is not removed through it (QA repro38 N4).
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir_all(&elsewhere)?;
        fs::write(elsewhere.join("gone.rs"), "// theirs")?;
        std::os::unix::fs::symlink(&elsewhere, out.join("models/linked"))?;
        let manifest = out.join("models").join(MANIFEST);
        let listed = fs::read_to_string(&manifest)?;
        fs::write(&manifest, format!("{listed}linked/gone.rs\n"))?;
        run(&schemas, &out)?;
        assert!(elsewhere.join("gone.rs").is_file());
        // The folder of the removed model's family is left: its sibling is still there.
        assert!(out.join("models/bytedance/seedream-4-0").is_dir());
        Ok(())
    }
}
