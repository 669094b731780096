//! Writing a model's `input.json`, `output.json` and `upstream.json` into a catalog folder,
//! byte-stable.
//!
//! Files are pretty JSON with 2-space indents, non-ASCII kept and a trailing newline: the same
//! bytes as Python's `json.dumps(indent=2, ensure_ascii=False)`, so that every tool (and every
//! language of a doc page) writes identical files. `overlay.json` is never touched.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use runcomfy_codegen::catalog::{UPSTREAM_FILE, Upstream};
use serde_json::Value;

/// A write that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The id cannot be a catalog folder.
    #[error("{0}")]
    BadId(String),
    /// A file or folder could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What writing a model did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The folder had no `input.json` before.
    New,
    /// These files changed.
    Updated(Vec<&'static str>),
    /// Every file already held these bytes.
    Unchanged,
}

/// One model written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelChange {
    /// The model id.
    pub id: String,
    /// What happened.
    pub status: Status,
}

impl fmt::Display for ModelChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.status {
            Status::New => write!(f, "new model  {}", self.id),
            Status::Updated(files) => write!(f, "updated    {} ({})", self.id, files.join(", ")),
            Status::Unchanged => write!(f, "unchanged  {}", self.id),
        }
    }
}

/// Pretty JSON as the catalog stores it.
pub fn to_pretty(value: &Value) -> String {
    // Serializing a `Value` cannot fail: its map keys are strings.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// Writes `<root>/<id>/input.json`, and `output.json` and `upstream.json` when given, each
/// only when its bytes differ. `overlay.json` is never touched.
pub fn write_model(
    root: &Path,
    id: &str,
    input: &Value,
    output: Option<&Value>,
    upstream: Option<&Upstream>,
) -> Result<ModelChange, StoreError> {
    let dir = root.join(id);
    runcomfy_codegen::catalog::check_model_id(id, &dir)
        .map_err(|e| StoreError::BadId(e.to_string()))?;
    let is_new = !dir.join("input.json").exists();
    fs::create_dir_all(&dir).map_err(|source| StoreError::Write {
        path: dir.clone(),
        source,
    })?;
    let upstream = upstream
        .filter(|u| !u.is_empty())
        .map(|u| serde_json::to_value(u).unwrap_or_default());
    let files = [
        ("input.json", Some(input)),
        ("output.json", output),
        (UPSTREAM_FILE, upstream.as_ref()),
    ];
    let mut changed = Vec::new();
    for (name, value) in files {
        let Some(value) = value else {
            continue;
        };
        let path = dir.join(name);
        let text = to_pretty(value);
        if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            fs::write(&path, text).map_err(|source| StoreError::Write { path, source })?;
            changed.push(name);
        }
    }
    let status = if is_new {
        Status::New
    } else if changed.is_empty() {
        Status::Unchanged
    } else {
        Status::Updated(changed)
    };
    Ok(ModelChange {
        id: id.to_owned(),
        status,
    })
}
