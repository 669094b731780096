//! `cargo xtask codegen`: the generated Rust of a catalog folder, written for review.

use std::fs;
use std::path::Path;

/// Generates the whole file and one file per model; errors are the generator's own.
pub fn run(schemas: &Path, out: &Path) -> Result<(), String> {
    let code = runcomfy_codegen::generate(schemas).map_err(|e| e.to_string())?;
    let models = runcomfy_codegen::generate_models(schemas).map_err(|e| e.to_string())?;
    let write = |path: &Path, text: &str| -> Result<(), String> {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let whole = out.join("runcomfy_models.rs");
    write(&whole, &code)?;
    for (id, module) in &models {
        write(&out.join("models").join(format!("{id}.rs")), module)?;
    }
    println!(
        "wrote {} and {} model file(s) under {}",
        whole.display(),
        models.len(),
        out.join("models").display()
    );
    Ok(())
}
