//! Maintainer tasks, run as `cargo xtask <command>` (see `.cargo/config.toml`).

mod codegen;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Maintainer tasks for runcomfy-rs.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes the Rust generated from a catalog folder, for review.
    Codegen {
        /// The catalog folder (`<model id>/{input,output,overlay}.json`).
        #[arg(long, default_value_os_t = workspace_root().join("schemas"))]
        schemas: PathBuf,
        /// Where to write `runcomfy_models.rs` and one file per model under `models/`.
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Codegen { schemas, out } => codegen::run(&schemas, &out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives one level below it.
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
