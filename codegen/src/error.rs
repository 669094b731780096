//! Generator errors: each names the file, the JSON pointer, what is wrong and how to fix it.

use std::fmt;
use std::path::PathBuf;

/// One problem found in the catalog.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not valid JSON.
    #[error("{}:{line}:{column}: invalid JSON: {message}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// The schema (or overlay) is inconsistent or uses something the generator cannot map.
    #[error("{}: at {}: {problem}{}", path.display(), display_pointer(pointer), hint_suffix(hint))]
    Schema {
        /// The file.
        path: PathBuf,
        /// JSON pointer to the offending value (`/properties/images/maxItems`).
        pointer: String,
        /// What is wrong.
        problem: String,
        /// How to fix it, when there is an obvious way.
        hint: Option<String>,
    },
}

impl Error {
    pub(crate) fn schema(
        path: impl Into<PathBuf>,
        pointer: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        Error::Schema {
            path: path.into(),
            pointer: pointer.into(),
            problem: problem.into(),
            hint: None,
        }
    }

    /// Adds a hint on how to fix the problem.
    pub(crate) fn hint(mut self, text: impl Into<String>) -> Self {
        if let Error::Schema { hint, .. } = &mut self {
            *hint = Some(text.into());
        }
        self
    }

    pub(crate) fn json(path: impl Into<PathBuf>, err: &serde_json::Error) -> Self {
        Error::Json {
            path: path.into(),
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
        }
    }
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() { "/" } else { pointer }
}

fn hint_suffix(hint: &Option<String>) -> String {
    hint.as_ref()
        .map(|h| format!("\n  hint: {h}"))
        .unwrap_or_default()
}

/// Every problem found in a catalog; the generator reports them all, not just the first.
#[derive(Debug)]
pub struct Errors(pub Vec<Error>);

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, err) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {err}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Errors {}

impl From<Error> for Errors {
    fn from(err: Error) -> Self {
        Errors(vec![err])
    }
}

/// Escapes one JSON pointer token (RFC 6901).
pub(crate) fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
