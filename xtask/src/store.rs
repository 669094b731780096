//! Writing a model's `input.json`, `output.json` and `upstream.json` into a catalog folder,
//! byte-stable.
//!
//! Files are pretty JSON with 2-space indents, non-ASCII kept and a trailing newline: the same
//! bytes as Python's `json.dumps(indent=2, ensure_ascii=False)`, so that every tool (and every
//! language of a doc page) writes identical files. `overlay.json` is never touched.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use runcomfy_codegen::catalog::{INPUT_FILE, OUTPUT_FILE, UPSTREAM_FILE, Upstream};
use serde_json::Value;

/// A write that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The id cannot be a catalog folder.
    #[error("{0}")]
    BadId(String),
    /// A synthetic catalog was to be written into a folder of other files.
    #[error(
        "{} holds files no synth wrote (a real catalog?): synth writes into an empty folder, or \
         an earlier synth's (with {})",
        .0.display(),
        crate::synth::MARKER
    )]
    NotSynthetic(PathBuf),
    /// A file or folder of the model is a symbolic link: writing through it could change a
    /// file outside the catalog (a contributed catalog can hold one; git keeps links).
    #[error(
        "{}: is a symbolic link; not written through (replace it with the file or folder it \
         names)",
        .0.display()
    )]
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

/// What writes to a catalog folder changed, to put back when the catalog they make does not
/// generate: `import` and `pull` leave the folder as it was then.
#[derive(Debug, Default)]
pub struct Written {
    /// Each file written, with its bytes before (`None`: it did not exist).
    files: Vec<(PathBuf, Option<Vec<u8>>)>,
    /// Folders created, outermost first.
    dirs: Vec<PathBuf>,
}

impl Written {
    /// Puts every file back as it was and removes the folders created; returns what could
    /// not be put back.
    pub fn undo(self) -> Vec<String> {
        let mut failures = Vec::new();
        for (path, before) in self.files.into_iter().rev() {
            let undone = match before {
                Some(bytes) => fs::write(&path, bytes),
                None => fs::remove_file(&path),
            };
            if let Err(err) = undone {
                failures.push(format!("{}: {err}", path.display()));
            }
        }
        for dir in self.dirs.into_iter().rev() {
            if let Err(err) = fs::remove_dir(&dir) {
                failures.push(format!("{}: {err}", dir.display()));
            }
        }
        failures
    }
}

/// The first of `root/rel`'s paths below `root` (`root/a`, `root/a/b`, ...) that is a symbolic
/// link: writing or removing through it could reach outside `root`.
pub fn first_link(root: &Path, rel: &str) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    rel.split('/').find_map(|segment| {
        path.push(segment);
        fs::symlink_metadata(&path)
            .is_ok_and(|m| m.file_type().is_symlink())
            .then(|| path.clone())
    })
}

/// Removes `from` and each folder above it, up to `root` (kept), while it is empty: what a
/// removed model leaves. One not empty (or gone) ends it: the others stay.
pub fn remove_empty_folders(root: &Path, from: &Path) {
    let mut folder = Some(from);
    while let Some(dir) = folder.filter(|dir| *dir != root) {
        if fs::remove_dir(dir).is_err() {
            break;
        }
        folder = dir.parent();
    }
}

/// One model's files to write.
#[derive(Debug, Clone, Copy)]
pub struct ModelFiles<'a> {
    /// The model id (its folder below the catalog root).
    pub id: &'a str,
    /// `input.json`.
    pub input: &'a Value,
    /// `output.json`, when the source has one.
    pub output: Option<&'a Value>,
    /// `upstream.json`, when the source says anything of the model besides its schemas.
    pub upstream: Option<&'a Upstream>,
}

/// Writes `<root>/<id>/input.json`, and `output.json` and `upstream.json` when given, each
/// only when its bytes differ, noting in `written` what it changed. `overlay.json` is never
/// touched.
pub fn write_model(
    root: &Path,
    model: &ModelFiles<'_>,
    written: &mut Written,
) -> Result<ModelChange, StoreError> {
    let ModelFiles {
        id,
        input,
        output,
        upstream,
    } = *model;
    let dir = root.join(id);
    runcomfy_codegen::catalog::check_model_id(id, &dir)
        .map_err(|e| StoreError::BadId(e.to_string()))?;
    // Every folder of the id and every file written (QA repro36 M5: an `input.json` linking
    // out of the catalog was written through).
    let names = [INPUT_FILE, OUTPUT_FILE, UPSTREAM_FILE];
    let linked = names
        .iter()
        .find_map(|name| first_link(root, &format!("{id}/{name}")));
    if let Some(path) = linked {
        return Err(StoreError::Symlink(path));
    }
    let is_new = !dir.join(INPUT_FILE).exists();
    let mut missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| !d.exists())
        .map(Path::to_path_buf)
        .collect();
    missing.reverse();
    let created = fs::create_dir_all(&dir);
    // Those it made before it failed too, so an undo removes them.
    written
        .dirs
        .extend(missing.into_iter().take_while(|d| d.is_dir()));
    created.map_err(|source| StoreError::Write {
        path: dir.clone(),
        source,
    })?;
    let upstream = upstream
        .filter(|u| !u.is_empty())
        .map(|u| serde_json::to_value(u).unwrap_or_default());
    let files = [
        (INPUT_FILE, Some(input)),
        (OUTPUT_FILE, output),
        (UPSTREAM_FILE, upstream.as_ref()),
    ];
    let mut changed = Vec::new();
    for (name, value) in files {
        let Some(value) = value else {
            continue;
        };
        let path = dir.join(name);
        let text = to_pretty(value);
        let before = fs::read(&path).ok();
        if before.as_deref() != Some(text.as_bytes()) {
            fs::write(&path, text).map_err(|source| StoreError::Write {
                path: path.clone(),
                source,
            })?;
            written.files.push((path, before));
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
