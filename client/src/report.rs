//! What validation finds: every [`Problem`] of an input, errors and warnings apart, in a
//! [`ValidationReport`], and the [`ValidationError`] an invalid input is refused with.
//!
//! Below the validator and the media checks, which both write into a report; re-exported as
//! `runcomfy::validate::{Problem, Severity, ValidationReport, ValidationError}`.

use std::collections::HashSet;
use std::fmt;

use runcomfy_vocab::pointer::Path;
use serde::Serialize;

use crate::printable::printable;

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The request would be refused or wasted: nothing is sent.
    Error,
    /// Likely a mistake, but the request may still be sent.
    Warning,
}

/// One problem found in an input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// Path of the field, `images[2]` for an item; empty for the input itself.
    pub path: String,
    /// The same place as a JSON pointer (`/images/2`).
    pub pointer: String,
    /// The rule that failed: a JSON Schema keyword (`maxLength`), a `validations` rule
    /// (`width_pixels<`) or an overlay rule (`max_total`).
    pub rule: String,
    /// What was measured, e.g. `width 6200 px`, when there is a measurement.
    pub value: Option<String>,
    /// What is wrong: the schema's own `validation_error` text for `validations` rules.
    pub message: String,
}

impl fmt::Display for Problem {
    /// Each part through [`printable`]: an input's paths, keys and values are someone's text
    /// (a batch file, an `--input` or a record sent by someone else) and reach a terminal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "input"
        } else {
            &self.path
        };
        let shown = |text| printable(text, PROBLEM_CHARS);
        write!(f, "{}: {}", shown(path), shown(&self.message))?;
        match &self.value {
            Some(value) => write!(f, " ({}; {})", shown(&self.rule), shown(value)),
            None => write!(f, " ({})", shown(&self.rule)),
        }
    }
}

/// Characters of each part of a problem shown: more than any schema's message.
const PROBLEM_CHARS: usize = 2000;

/// Every problem found in one input, errors and warnings apart, each once.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ValidationReport {
    problems: Vec<Problem>,
    /// The problems held, to keep each once: a value two schemas check alike (a property an
    /// input's `allOf` member and the input both list) fails both the same way.
    #[serde(skip)]
    held: HashSet<Problem>,
}

impl ValidationReport {
    /// An empty report.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a problem, unless the report holds it already.
    pub fn push(&mut self, problem: Problem) {
        if self.held.insert(problem.clone()) {
            self.problems.push(problem);
        }
    }

    /// Adds an error.
    pub fn error(
        &mut self,
        path: &Path,
        rule: impl Into<String>,
        value: Option<String>,
        message: impl Into<String>,
    ) {
        self.add(Severity::Error, path, rule.into(), value, message.into());
    }

    /// Adds a warning.
    pub fn warning(
        &mut self,
        path: &Path,
        rule: impl Into<String>,
        value: Option<String>,
        message: impl Into<String>,
    ) {
        self.add(Severity::Warning, path, rule.into(), value, message.into());
    }

    fn add(
        &mut self,
        severity: Severity,
        path: &Path,
        rule: String,
        value: Option<String>,
        message: String,
    ) {
        self.push(Problem {
            severity,
            path: path.as_str().to_owned(),
            pointer: path.pointer().as_str().to_owned(),
            rule,
            value,
            message,
        });
    }

    /// Adds every problem of `other`.
    pub fn extend(&mut self, other: ValidationReport) {
        for problem in other.problems {
            self.push(problem);
        }
    }

    /// Every problem, in the order found.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    /// The warnings only.
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
    }

    /// The problems as people read them ([`said`]).
    pub fn said(&self) -> Vec<Problem> {
        said(&self.problems)
    }

    /// True when there is no error (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.errors().next().is_none()
    }

    /// `Ok` with the warnings when there is no error, else the whole report as an error.
    pub fn into_result(self) -> Result<Vec<Problem>, ValidationError> {
        if self.is_valid() {
            Ok(self.problems)
        } else {
            Err(ValidationError { report: self })
        }
    }
}

/// Problems as people read them: those of one place that say the same thing (a rule on an
/// image's width and one on its height, which share their message) as one, their rules and
/// values joined. [`ValidationReport::problems`] keeps each rule apart, for programs.
pub fn said(problems: &[Problem]) -> Vec<Problem> {
    let mut said: Vec<Problem> = Vec::with_capacity(problems.len());
    for problem in problems {
        let same = said.iter_mut().find(|p| {
            (p.severity, &p.pointer, &p.path, &p.message)
                == (
                    problem.severity,
                    &problem.pointer,
                    &problem.path,
                    &problem.message,
                )
        });
        match same {
            Some(same) => {
                same.rule = format!("{}, {}", same.rule, problem.rule);
                same.value = match (same.value.take(), &problem.value) {
                    (Some(a), Some(b)) => Some(format!("{a}, {b}")),
                    (a, b) => a.or_else(|| b.clone()),
                };
            }
            None => said.push(problem.clone()),
        }
    }
    said
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.said().iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let tag = match problem.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            write!(f, "{tag}: {problem}")?;
        }
        Ok(())
    }
}

/// An input failed validation; nothing was sent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid input ({} error(s)):\n{report}", report.errors().count())]
pub struct ValidationError {
    /// Every problem found, warnings included.
    pub report: ValidationReport,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_reaches_a_terminal_escaped() {
        let mut report = ValidationReport::new();
        let evil = "/tmp/\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[31mRED\u{202e}.png";
        report.error(
            &Path::root().key("images").index(0),
            "file",
            Some(format!("enum; {evil:?}")),
            format!("cannot read {evil}: not found"),
        );
        let text = report.to_string();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'),
            "{text:?}"
        );
        assert!(text.contains("cannot read /tmp/\\u{1b}]52"), "{text}");
    }

    #[test]
    fn rules_of_one_place_that_say_the_same_are_said_once() {
        let mut report = ValidationReport::new();
        let image = Path::root().key("images").index(0);
        let message = "width and height must exceed 14 pixels";
        report.error(&image, "width_pixels>", Some("width 10 px".into()), message);
        report.error(
            &image,
            "height_pixels>",
            Some("height 10 px".into()),
            message,
        );
        report.error(
            &Path::root().key("images").index(1),
            "width_pixels>",
            None,
            message,
        );
        report.warning(&image, "other", None, message);
        let said = report.said();
        assert_eq!(said.len(), 3, "{said:?}");
        assert_eq!(said[0].rule, "width_pixels>, height_pixels>");
        assert_eq!(said[0].value.as_deref(), Some("width 10 px, height 10 px"));
        // For programs, each rule stays apart.
        assert_eq!(report.problems().len(), 4);
        assert_eq!(report.to_string().lines().count(), 3);
    }
}
