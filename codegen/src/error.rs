//! Generator errors: each names the file, the JSON pointer, what is wrong and how to fix it.

use std::fmt;
use std::path::{Path, PathBuf};

/// A file that cannot be read or is not JSON: the generator's, and xtask's catalog files'.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// A file or folder could not be read.
    #[error("{}: cannot read: {source}", clean(&path.display().to_string()))]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not valid JSON.
    #[error("{}:{line}:{column}: invalid JSON: {}", clean(&path.display().to_string()), clean(message))]
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
}

/// What the JSON parser said, without its ` at line L column C`: errors name the place
/// themselves, as `file:line:column`.
pub fn json_message(err: &serde_json::Error) -> String {
    let message = err.to_string();
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message,
    }
}

impl FileError {
    /// `path` could not be read.
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
        move |source| FileError::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// `path` is not JSON; `message` is what to say of `err`.
    pub fn json(path: &Path, err: &serde_json::Error, message: String) -> FileError {
        FileError::Json {
            path: path.to_owned(),
            line: err.line(),
            column: err.column(),
            message,
        }
    }
}

/// One problem found in the catalog.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file that cannot be read or is not JSON.
    #[error(transparent)]
    File(#[from] FileError),
    /// The schema (or overlay) is inconsistent or uses something the generator cannot map.
    #[error("{}: at {}: {}{}", clean(&path.display().to_string()), clean(display_pointer(pointer)), clean(problem), hint_suffix(hint))]
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

    pub(crate) fn json(path: &Path, err: &serde_json::Error) -> Self {
        Error::File(FileError::json(path, err, json_message(err)))
    }
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() { "/" } else { pointer }
}

fn hint_suffix(hint: &Option<String>) -> String {
    hint.as_ref()
        .map(|h| format!("\n  hint: {}", clean(h)))
        .unwrap_or_default()
}

/// Text from a catalog made safe for one line of a terminal: control and bidi characters (a
/// `\n` in a property name, an escape sequence, in a folder name too) are shown escaped.
fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let invisible = matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}');
        if c.is_control() || invisible {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
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

/// The kinds of warning, each with a stable code (`warning[empty-description]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// A `description` that is empty: the generated docs have nothing to say.
    EmptyDescription,
    /// A property with no `description`: its docs say only its type and bounds.
    NoDescription,
    /// `validations` on a field with no media `format`: its kind is guessed from its name.
    GuessedMedia,
    /// A `pricing` word this version does not know: read as other pricing, with no estimate.
    UnknownPricing,
    /// A `type` outside JSON Schema (`float`, `int`, ...), read as the JSON type it means.
    NonStandardType,
    /// A number written as a string (`"minimum": "0"`, `"enum": ["1"]` of an integer).
    NumberAsString,
    /// A title or description not in English.
    LocalizedText,
    /// An output schema unlike the one most models share.
    UncommonOutput,
    /// Enum values whose Rust names collided, so the generator appended a suffix.
    DisambiguatedEnum,
    /// A required field with a default, which never applies.
    RequiredWithDefault,
    /// No display name: `runcomfy models` shows the bare id.
    NoDisplayName,
    /// A default that is not a valid value of its field: shown, never used.
    DefaultMismatch,
    /// A refused keyword the overlay accepts unchecked: nothing enforces it.
    Unchecked,
    /// An `enum` value its `type` refuses (`null` among strings): never valid, so not offered
    /// as a choice.
    UnreachableChoice,
    /// A keyword that means nothing where it is (`then` or `else` without `if`): not checked.
    Ignored,
    /// Property names that read as one Rust name (`prompt text`, `promptText`): all but the
    /// first get a suffix, which tells them apart only by order.
    NameClash,
}

impl WarningKind {
    /// Every kind.
    pub const ALL: &'static [WarningKind] = &[
        WarningKind::EmptyDescription,
        WarningKind::NoDescription,
        WarningKind::GuessedMedia,
        WarningKind::UnknownPricing,
        WarningKind::NonStandardType,
        WarningKind::NumberAsString,
        WarningKind::LocalizedText,
        WarningKind::UncommonOutput,
        WarningKind::DisambiguatedEnum,
        WarningKind::RequiredWithDefault,
        WarningKind::NoDisplayName,
        WarningKind::DefaultMismatch,
        WarningKind::Unchecked,
        WarningKind::UnreachableChoice,
        WarningKind::Ignored,
        WarningKind::NameClash,
    ];

    /// The code printed in `warning[...]`.
    pub fn code(self) -> &'static str {
        match self {
            WarningKind::EmptyDescription => "empty-description",
            WarningKind::NoDescription => "no-description",
            WarningKind::GuessedMedia => "guessed-media",
            WarningKind::UnknownPricing => "unknown-pricing",
            WarningKind::NonStandardType => "non-standard-type",
            WarningKind::NumberAsString => "number-as-string",
            WarningKind::LocalizedText => "localized-text",
            WarningKind::UncommonOutput => "uncommon-output",
            WarningKind::DisambiguatedEnum => "disambiguated-enum",
            WarningKind::RequiredWithDefault => "required-with-default",
            WarningKind::NoDisplayName => "no-display-name",
            WarningKind::DefaultMismatch => "default-mismatch",
            WarningKind::Unchecked => "unchecked",
            WarningKind::UnreachableChoice => "unreachable-choice",
            WarningKind::Ignored => "ignored-keyword",
            WarningKind::NameClash => "name-clash",
        }
    }
}

/// Problems that do not stop generation (a default that does not fit its field, a keyword an
/// overlay accepts unchecked): `cargo xtask lint` shows them.
#[derive(Debug, Default, Clone)]
pub struct Warnings(pub Vec<Warning>);

/// One warning, with the file and JSON pointer it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// What kind of smell.
    pub kind: WarningKind,
    /// The file.
    pub path: PathBuf,
    /// JSON pointer to the value.
    pub pointer: String,
    /// What is off.
    pub problem: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "warning[{}]: {}: at {}: {}",
            self.kind.code(),
            self.path.display(),
            clean(display_pointer(&self.pointer)),
            clean(&self.problem)
        )
    }
}
