//! `cargo xtask lint`: every check the generator makes, and every warning it gives.
//!
//! Both come from `runcomfy_codegen::load`, on the generator's own pass over the schemas
//! (overlay patches applied, so a smell an overlay fixes is not reported): lint and the build
//! never disagree. Each names the file and the JSON pointer.

use std::path::Path;

use runcomfy_codegen::error::Warning;

/// Everything lint found.
#[derive(Debug, Default)]
pub struct LintReport {
    /// The generator's errors: the catalog does not load (and has no warnings then).
    pub errors: Vec<runcomfy_codegen::Error>,
    /// The generator's warnings, in model id and schema order.
    pub warnings: Vec<Warning>,
}

/// Why `lint` fails.
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    /// The generator refuses the catalog.
    #[error("the catalog has {0} error(s)")]
    Errors(usize),
    /// Warnings, with `--deny-warnings`.
    #[error("{0} warning(s), denied by --deny-warnings")]
    Warnings(usize),
}

/// Lints a catalog folder.
pub fn lint(schemas: &Path) -> LintReport {
    match runcomfy_codegen::load(schemas) {
        Ok(catalog) => LintReport {
            errors: Vec::new(),
            warnings: catalog.warnings,
        },
        Err(errors) => LintReport {
            errors: errors.0,
            warnings: Vec::new(),
        },
    }
}

/// The command: prints the warnings (stdout), the errors (stderr) and a count; fails on
/// errors, or on warnings with `deny_warnings`.
pub fn run(schemas: &Path, deny_warnings: bool) -> Result<LintReport, LintError> {
    let report = lint(schemas);
    for warning in &report.warnings {
        outln!("{warning}");
    }
    for error in &report.errors {
        errln!("error: {error}");
    }
    outln!(
        "{} error(s), {} warning(s)",
        report.errors.len(),
        report.warnings.len()
    );
    if !report.errors.is_empty() {
        Err(LintError::Errors(report.errors.len()))
    } else if deny_warnings && !report.warnings.is_empty() {
        Err(LintError::Warnings(report.warnings.len()))
    } else {
        Ok(report)
    }
}
