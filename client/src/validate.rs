//! Validation reports and the checks that generated `validate()` methods call.
//!
//! Validation is pure: it reads local files' headers but never the network, keeps no global
//! state, and reports every problem at once.

use std::fmt;

use serde::Serialize;

use crate::catalog::MediaSpec;
use crate::media::Media;

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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// Path of the field, `images[2]` for an item.
    pub path: String,
    /// The rule that failed: a JSON Schema keyword (`maxLength`), a `validations` rule
    /// (`width_pixels<`) or an overlay rule (`max_total`).
    pub rule: String,
    /// What was measured, e.g. `width 6200 px`, when there is a measurement.
    pub value: Option<String>,
    /// What is wrong: the schema's own `validation_error` text for `validations` rules.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        match &self.value {
            Some(value) => write!(f, " ({}; {})", self.rule, value),
            None => write!(f, " ({})", self.rule),
        }
    }
}

/// Every problem found in one input, errors and warnings apart.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ValidationReport {
    problems: Vec<Problem>,
}

impl ValidationReport {
    /// An empty report.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a problem.
    pub fn push(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// Adds an error.
    pub fn error(
        &mut self,
        path: impl Into<String>,
        rule: impl Into<String>,
        value: Option<String>,
        message: impl Into<String>,
    ) {
        self.push(Problem {
            severity: Severity::Error,
            path: path.into(),
            rule: rule.into(),
            value,
            message: message.into(),
        });
    }

    /// Adds a warning.
    pub fn warning(
        &mut self,
        path: impl Into<String>,
        rule: impl Into<String>,
        value: Option<String>,
        message: impl Into<String>,
    ) {
        self.push(Problem {
            severity: Severity::Warning,
            path: path.into(),
            rule: rule.into(),
            value,
            message: message.into(),
        });
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

    /// Checks the length of a string, counted in Unicode scalar values as JSON Schema does.
    pub fn check_length(&mut self, path: &str, value: &str, min: Option<u64>, max: Option<u64>) {
        let len = value.chars().count() as u64;
        if let Some(min) = min.filter(|&min| len < min) {
            self.error(
                path,
                "minLength",
                Some(format!("{len} characters")),
                format!("must be at least {min} characters long"),
            );
        }
        if let Some(max) = max.filter(|&max| len > max) {
            self.error(
                path,
                "maxLength",
                Some(format!("{len} characters")),
                format!("must be at most {max} characters long"),
            );
        }
    }

    /// Checks the number of items of an array.
    pub fn check_items(&mut self, path: &str, len: usize, min: Option<u64>, max: Option<u64>) {
        let len = len as u64;
        if let Some(min) = min.filter(|&min| len < min) {
            self.error(
                path,
                "minItems",
                Some(format!("{len} items")),
                format!("must have at least {min} item{}", plural(min)),
            );
        }
        if let Some(max) = max.filter(|&max| len > max) {
            self.error(
                path,
                "maxItems",
                Some(format!("{len} items")),
                format!("must have at most {max} item{}", plural(max)),
            );
        }
    }

    /// Checks a number against inclusive bounds.
    pub fn check_range(&mut self, path: &str, value: f64, min: Option<f64>, max: Option<f64>) {
        if let Some(min) = min.filter(|&min| value < min) {
            self.error(
                path,
                "minimum",
                Some(value.to_string()),
                format!("must be at least {min}"),
            );
        }
        if let Some(max) = max.filter(|&max| value > max) {
            self.error(
                path,
                "maximum",
                Some(value.to_string()),
                format!("must be at most {max}"),
            );
        }
    }

    /// Checks a URL field (`format: uri`): an absolute `http` or `https` URL.
    pub fn check_uri(&mut self, path: &str, value: &str) {
        match url::Url::parse(value) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            Ok(url) => self.error(
                path,
                "format",
                Some(format!("scheme {}", url.scheme())),
                "must be an http or https URL",
            ),
            Err(err) => self.error(path, "format", None, format!("must be a valid URL ({err})")),
        }
    }

    /// Checks one media input against its field's spec: URL syntax for URLs; for local files,
    /// bytes and `data:` URIs, the format and every `validations` rule, reading only headers.
    pub fn check_media(&mut self, path: &str, media: &Media, spec: &MediaSpec) {
        crate::media::check(self, path, media, spec);
    }

    /// Checks that the items of arrays plus the values of integers add up to at most `max`.
    pub fn check_total(&mut self, path: &str, total: i64, max: i64, message: &str) {
        if total > max {
            self.error(path, "max_total", Some(format!("total {total}")), message);
        }
    }

    /// Warns when the prompt names a number of images that differs from `count`.
    pub fn check_prompt_count(&mut self, path: &str, prompt: &str, count: i64, message: &str) {
        if let Some(stated) = crate::prompt::stated_count(prompt)
            && i64::try_from(stated).ok() != Some(count)
        {
            self.warning(
                path,
                "prompt_count",
                Some(format!("prompt says {stated}, count is {count}")),
                message,
            );
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
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

/// A rule of the schema's `validations` extension, evaluated on each media item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MediaRule {
    /// Which measurement and comparison.
    pub check: MediaCheck,
    /// The schema's `validation_value`.
    pub value: f64,
    /// The schema's `validation_error`, reported verbatim.
    pub message: &'static str,
}

/// The measurements and strict comparisons of the `validations` extension.
///
/// Comparisons are strict, as written: `width_pixels> 14` means at least 15 px. MB means
/// 1,048,576 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaCheck {
    /// `file_size_mb<`: size in MB (1,048,576 bytes) below the value.
    FileSizeMbBelow,
    /// `width/height>`: aspect ratio above the value.
    AspectRatioAbove,
    /// `width/height<`: aspect ratio below the value.
    AspectRatioBelow,
    /// `width_pixels>`.
    WidthAbove,
    /// `width_pixels<`.
    WidthBelow,
    /// `height_pixels>`.
    HeightAbove,
    /// `height_pixels<`.
    HeightBelow,
}

impl MediaCheck {
    /// Every rule, for error messages listing the known ones.
    pub const ALL: [MediaCheck; 7] = [
        MediaCheck::FileSizeMbBelow,
        MediaCheck::AspectRatioAbove,
        MediaCheck::AspectRatioBelow,
        MediaCheck::WidthAbove,
        MediaCheck::WidthBelow,
        MediaCheck::HeightAbove,
        MediaCheck::HeightBelow,
    ];

    /// The rule as the schema writes it (`file_size_mb<`).
    pub fn wire_name(self) -> &'static str {
        match self {
            MediaCheck::FileSizeMbBelow => "file_size_mb<",
            MediaCheck::AspectRatioAbove => "width/height>",
            MediaCheck::AspectRatioBelow => "width/height<",
            MediaCheck::WidthAbove => "width_pixels>",
            MediaCheck::WidthBelow => "width_pixels<",
            MediaCheck::HeightAbove => "height_pixels>",
            MediaCheck::HeightBelow => "height_pixels<",
        }
    }

    /// Parses the schema's `validation_rule`.
    pub fn from_wire(rule: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.wire_name() == rule)
    }
}
