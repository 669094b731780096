//! Generates the typed models from the catalog (`schemas/`) into `OUT_DIR`.

use std::path::PathBuf;

fn main() {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    // Placeholder until the generator lands.
    let code = "/// Generated models.\npub mod models {}\n/// Shared outputs.\npub mod outputs {}\nstatic GENERATED_MODELS: &[&crate::catalog::ModelInfo] = &[];\n";
    if let Err(err) = std::fs::write(out_dir.join("runcomfy_models.rs"), code) {
        eprintln!("error: cannot write generated code: {err}");
        std::process::exit(1);
    }
}
