//! A catalog folder as of a git revision (`REV:path`), copied into a temporary folder.
//!
//! Uses `git ls-tree` and one `git cat-file --batch`, so it works in any clone without
//! touching the working tree or the index.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A failure to read a revision.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// git could not be run.
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    /// git said no.
    #[error("`git {command}` failed: {stderr}")]
    Failed {
        /// The git arguments.
        command: String,
        /// What git printed.
        stderr: String,
    },
    /// The revision has no files under the path.
    #[error("{spec}: no files (is `{path}` the catalog folder at that revision?)")]
    Empty {
        /// `REV:path`.
        spec: String,
        /// The path.
        path: String,
    },
    /// A revision git would read as an option (`--output=...`).
    #[error("`{0}` is not a revision: it starts with `-`")]
    NotARevision(String),
    /// git's output was not as documented.
    #[error("unexpected output from `git cat-file --batch`: {0}")]
    Protocol(String),
    /// A file could not be written to the temporary folder.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// A catalog read from git: the folder lives as long as this value.
#[derive(Debug)]
pub struct Checkout {
    _dir: tempfile::TempDir,
    /// The catalog folder inside the temporary folder.
    pub root: PathBuf,
}

/// Splits `REV:path`; `None` when `text` has no revision part.
pub fn split_spec(text: &str) -> Option<(&str, &str)> {
    let (rev, path) = text.split_once(':')?;
    (!rev.is_empty()).then_some((rev, path))
}

/// Copies `path` (relative to the repository root `repo`) as of `rev` into a temporary folder.
pub fn checkout(repo: &Path, rev: &str, path: &str) -> Result<Checkout, GitError> {
    // Given to git as an argument: one starting with `-` would be an option (QA repro36 L10).
    if rev.starts_with('-') {
        return Err(GitError::NotARevision(rev.to_owned()));
    }
    let path = path.trim_matches('/');
    let spec = format!("{rev}:{path}");
    let listing = git(repo, &["ls-tree", "-r", "-z", rev, "--", path], None)?;
    let mut files = Vec::new();
    for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, file)) = entry.split_once('\t') else {
            return Err(GitError::Protocol(format!("ls-tree entry `{entry}`")));
        };
        let meta: Vec<&str> = meta.split(' ').collect();
        // Blobs only: symlinks (120000) and submodules are not catalog files.
        if let [mode, "blob", object] = meta.as_slice()
            && *mode != "120000"
        {
            files.push((object.to_string(), file.to_owned()));
        }
    }
    if files.is_empty() {
        return Err(GitError::Empty {
            spec,
            path: path.to_owned(),
        });
    }
    let dir = tempfile::tempdir().map_err(|source| GitError::Write {
        path: std::env::temp_dir(),
        source,
    })?;
    let root = dir.path().join("catalog");
    let request: String = files.iter().map(|(o, _)| format!("{o}\n")).collect();
    let blobs = git(repo, &["cat-file", "--batch"], Some(request.into_bytes()))?;
    let mut reader = BufReader::new(blobs.as_slice());
    for (object, file) in &files {
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .map_err(|e| GitError::Protocol(e.to_string()))?;
        let size = match header.trim_end().split(' ').collect::<Vec<_>>().as_slice() {
            [o, "blob", size] if o == object => size
                .parse::<usize>()
                .map_err(|_| GitError::Protocol(header.clone()))?,
            _ => return Err(GitError::Protocol(header)),
        };
        let mut content = vec![0; size + 1];
        reader
            .read_exact(&mut content)
            .map_err(|e| GitError::Protocol(e.to_string()))?;
        content.pop();
        let relative = Path::new(file)
            .strip_prefix(path)
            .unwrap_or(Path::new(file));
        let target = root.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|source| GitError::Write {
                path: parent.to_owned(),
                source,
            })?;
        }
        std::fs::write(&target, content).map_err(|source| GitError::Write {
            path: target.clone(),
            source,
        })?;
    }
    Ok(Checkout { _dir: dir, root })
}

fn git(repo: &Path, args: &[&str], input: Option<Vec<u8>>) -> Result<Vec<u8>, GitError> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(GitError::Spawn)?;
    // Feed stdin from a thread: git answers while it reads, and a full pipe would deadlock.
    let feeder = match (input, child.stdin.take()) {
        (Some(bytes), Some(mut stdin)) => Some(std::thread::spawn(move || {
            let _ = stdin.write_all(&bytes);
        })),
        _ => None,
    };
    let output = child.wait_with_output().map_err(GitError::Spawn)?;
    if let Some(feeder) = feeder {
        let _ = feeder.join();
    }
    if !output.status.success() {
        return Err(GitError::Failed {
            command: args.join(" "),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(output.stdout)
}
