//! Generates the typed models from the catalog (`schemas/`) into `OUT_DIR`, like prost-build.
//!
//! In the repository `client/schemas` is a link to the workspace's `schemas/`; a packaged crate
//! carries a copy. A catalog error fails the build with the generator's message, which names the
//! file, the JSON pointer and how to fix it.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    // `RUNCOMFY_SCHEMAS` points the build at another catalog (benchmarks, scale tests).
    println!("cargo::rerun-if-env-changed=RUNCOMFY_SCHEMAS");
    let schemas = std::env::var_os("RUNCOMFY_SCHEMAS")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir.join("schemas"));
    println!("cargo::rerun-if-changed={}", schemas.display());
    let code = match runcomfy_codegen::generate(&schemas) {
        Ok(code) => code,
        Err(errors) => {
            eprintln!(
                "the model catalog in {} is invalid:\n{errors}",
                schemas.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let target = out_dir.join("runcomfy_models.rs");
    // Rewrite only on change, so an unchanged catalog does not recompile the crate.
    let unchanged = std::fs::read_to_string(&target).ok().as_deref() == Some(code.as_str());
    if !unchanged && let Err(err) = std::fs::write(&target, code) {
        eprintln!("cannot write {}: {err}", target.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
