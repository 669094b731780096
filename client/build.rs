//! Generates the typed models from the catalog (`schemas/`) into `OUT_DIR`, like prost-build.
//!
//! In the repository `client/schemas` is a link to the workspace's `schemas/`; a packaged crate
//! carries a copy. Only the models whose cargo feature is enabled are generated (every one with
//! `all-models`, a default feature), so a dependent compiles just the models it uses. The code
//! is left unformatted: the compiler does not need it, and formatting would take most of the
//! generator's time (`cargo xtask codegen` writes the formatted code for people). A catalog
//! error fails the build with the generator's message, which names the file, the JSON pointer
//! and how to fix it; a build with no model enabled does not read the catalog.

use std::env;
use std::path::PathBuf;
use std::process::ExitCode;

use runcomfy_codegen::features::{ALL_MODELS, env_var, model_feature};

fn main() -> ExitCode {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    // `RUNCOMFY_SCHEMAS` points the build at another catalog (benchmarks, scale tests).
    println!("cargo::rerun-if-env-changed=RUNCOMFY_SCHEMAS");
    let schemas = env::var_os("RUNCOMFY_SCHEMAS")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir.join("schemas"));
    println!("cargo::rerun-if-changed={}", schemas.display());
    // Cargo reruns the script when the enabled features change.
    let every = env::var_os(env_var(ALL_MODELS)).is_some();
    let enabled = |id: &str| every || env::var_os(env_var(&model_feature(id))).is_some();
    // As many threads as cargo gives this build (`-j`).
    let threads = env::var("NUM_JOBS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    // The modules of the models left out are declared behind their features, so the compiler
    // says which feature one needs; only for the shipped catalog, whose features are declared.
    let shipped = env::var_os("RUNCOMFY_SCHEMAS").is_none();
    let generator = runcomfy_codegen::Generator::new()
        .pretty(false)
        .threads(threads)
        .select(enabled)
        .gated_modules(shipped);
    // No feature, so no model (every feature is a model's, a family's or `all-models`): the
    // catalog is not read. The maintainer tools use the crate without models (its token
    // scrubber, `printable`); a catalog broken by hand must not stop the tools that show and
    // repair it from building.
    let no_model =
        !env::vars_os().any(|(name, _)| name.to_string_lossy().starts_with("CARGO_FEATURE_"));
    let generated = if no_model {
        runcomfy_codegen::features::FeatureTable::new(std::iter::empty()).map(|features| {
            generator.emit(&runcomfy_codegen::ir::Catalog {
                models: Vec::new(),
                outputs: Vec::new(),
                features,
                warnings: Vec::new(),
            })
        })
    } else {
        generator.generate(&schemas)
    };
    let code = match generated {
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
