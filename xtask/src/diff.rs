//! `cargo xtask diff OLD NEW`: what changed between two catalogs, classified by its effect on
//! the generated Rust API, and the version bump that calls for.
//!
//! Both sides go through `runcomfy_codegen::load`; the classification is
//! `runcomfy_codegen::compat`'s, beside the emitter whose API it describes. This module finds
//! the catalogs (folders, or `REV:path` read from git), prints the changes and suggests a bump.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use runcomfy_codegen::compat::{self, Change, Impact};
use runcomfy_codegen::ir::Catalog;

use crate::bump;
use crate::gitrev::{self, GitError};

/// A diff that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// A side does not load; the generator's errors follow.
    #[error("the {side} catalog ({source_name}) does not load:\n{errors}")]
    Load {
        /// `old` or `new`.
        side: &'static str,
        /// Its folder or `REV:path`.
        source_name: String,
        /// What the loader said, files of a git revision named `REV:path/...`.
        errors: String,
    },
    /// A git revision could not be read.
    #[error(transparent)]
    Git(#[from] GitError),
}

/// Where a catalog comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A folder.
    Dir(PathBuf),
    /// `path` (relative to the repository root) as of `rev`.
    Git {
        /// The revision.
        rev: String,
        /// The folder in the repository.
        path: String,
    },
}

impl Source {
    /// A folder when `text` names one, else `REV:path` when it has that shape.
    pub fn parse(text: &str) -> Source {
        if Path::new(text).exists() {
            return Source::Dir(text.into());
        }
        match gitrev::split_spec(text) {
            Some((rev, path)) => Source::Git {
                rev: rev.to_owned(),
                path: if path.is_empty() { "schemas" } else { path }.to_owned(),
            },
            None => Source::Dir(text.into()),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Dir(path) => write!(f, "{}", path.display()),
            Source::Git { rev, path } => write!(f, "{rev}:{path}"),
        }
    }
}

/// Loads a source; a git revision is read into a temporary folder (kept alive by the guard).
fn load(
    repo: &Path,
    source: &Source,
    side: &'static str,
) -> Result<(Catalog, Option<gitrev::Checkout>), DiffError> {
    let (root, guard) = match source {
        Source::Dir(path) => (path.clone(), None),
        Source::Git { rev, path } => {
            let checkout = gitrev::checkout(repo, rev, path)?;
            (checkout.root.clone(), Some(checkout))
        }
    };
    let catalog = runcomfy_codegen::load(&root).map_err(|errors| {
        let mut errors = errors.to_string();
        if let Source::Git { .. } = source {
            // Name files as in the repository, not in the temporary folder.
            errors = errors.replace(&root.display().to_string(), &source.to_string());
        }
        DiffError::Load {
            side,
            source_name: source.to_string(),
            errors,
        }
    })?;
    Ok((catalog, guard))
}

/// Diffs two catalogs; `repo` is the git repository `REV:path` sources are read from.
pub fn diff_sources(repo: &Path, old: &Source, new: &Source) -> Result<Vec<Change>, DiffError> {
    let (old, _old_guard) = load(repo, old, "old")?;
    let (new, _new_guard) = load(repo, new, "new")?;
    Ok(compat::diff_catalogs(&old, &new))
}

/// Diffs two catalog folders.
pub fn diff_dirs(old: &Path, new: &Path) -> Result<Vec<Change>, DiffError> {
    diff_sources(
        Path::new("."),
        &Source::Dir(old.to_owned()),
        &Source::Dir(new.to_owned()),
    )
}

/// The command: prints the changes by model and the suggested bump, and returns the worst
/// impact (`None`: nothing changed).
pub fn run(
    repo: &Path,
    old: &Source,
    new: &Source,
    version: Option<&str>,
) -> Result<Option<Impact>, DiffError> {
    let changes = diff_sources(repo, old, new)?;
    outln!("diff {old} → {new}");
    let mut current = None;
    for change in &changes {
        if current != Some(&change.model) {
            outln!("{}", change.model);
            current = Some(&change.model);
        }
        outln!("  {change}");
    }
    let count = |i: Impact| changes.iter().filter(|c| c.impact == i).count();
    let models: BTreeSet<&str> = changes.iter().map(|c| c.model.as_str()).collect();
    outln!(
        "{} breaking, {} additive, {} notable change(s) in {} model(s)",
        count(Impact::Breaking),
        count(Impact::Additive),
        count(Impact::Notable),
        models.len()
    );
    let worst = compat::worst(&changes);
    let version = version
        .map(str::to_owned)
        .or_else(|| bump::workspace_version(repo));
    outln!("{}", suggestion(version.as_deref(), worst));
    Ok(worst)
}

/// The suggested version bump from `version` (when known) for changes of `worst` impact.
pub fn suggestion(version: Option<&str>, worst: Option<Impact>) -> String {
    let Some(parsed) = version.and_then(bump::parse) else {
        return format!(
            "suggested version bump: {} for 0.x, {} from 1.0 on (pass --version to be exact)",
            bump::bump_for(0, worst),
            bump::bump_for(1, worst)
        );
    };
    let suggested = bump::bump_for(parsed.0, worst);
    let (a, b, c) = bump::apply(parsed, suggested);
    let why = match (worst, parsed.0) {
        (None, _) => "nothing changed",
        (Some(Impact::Breaking), 0) => {
            "breaking changes, and before 1.0 the minor digit is the breaking one"
        }
        (Some(Impact::Breaking), _) => "breaking changes",
        (Some(Impact::Additive), 0) => "no breaking changes (before 1.0 additions are a patch)",
        (Some(Impact::Additive), _) => "additions only",
        (Some(Impact::Notable), _) => "notable changes only (docs, defaults, messages, prices)",
    };
    if suggested == bump::Bump::None {
        format!("suggested version bump: none ({why})")
    } else {
        let from = version.unwrap_or_default();
        format!("suggested version bump: {suggested} ({from} → {a}.{b}.{c}): {why}")
    }
}
