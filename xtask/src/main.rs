//! Maintainer tasks, run as `cargo xtask <command>` (see `.cargo/config.toml`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::{codegen, import, lint, pull, workspace_root};

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
    /// Adds or updates models from RunComfy API doc pages saved as text (any language).
    ///
    /// Writes `<model id>/input.json` and `output.json` with localized text normalized to
    /// English; overlays are never touched. Exit code 1 when a page cannot be read (nothing is
    /// written then) or the catalog no longer generates.
    Import {
        /// The doc pages.
        #[arg(required = true)]
        pages: Vec<PathBuf>,
        /// The catalog folder.
        #[arg(long, default_value_os_t = workspace_root().join("schemas"))]
        schemas: PathBuf,
    },
    /// Fetches model schemas from the Model API (token from RUNCOMFY_TOKEN).
    Pull {
        /// The API base URL.
        #[arg(long, default_value = pull::DEFAULT_BASE_URL)]
        base_url: String,
        /// A model id to pull (repeatable).
        #[arg(
            long = "model",
            value_name = "ID",
            required_unless_present = "all",
            conflicts_with = "all"
        )]
        models: Vec<String>,
        /// Pull every model the API lists.
        #[arg(long)]
        all: bool,
        /// The catalog folder.
        #[arg(long, default_value_os_t = workspace_root().join("schemas"))]
        schemas: PathBuf,
    },
    /// Checks a catalog like the generator does, and warns about schema smells.
    ///
    /// Exit code 1 on errors, or on warnings with --deny-warnings.
    Lint {
        /// The catalog folder.
        #[arg(long, default_value_os_t = workspace_root().join("schemas"))]
        schemas: PathBuf,
        /// Fail on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Codegen { schemas, out } => match codegen::run(&schemas, &out) {
            Ok(()) => 0,
            Err(message) => {
                eprintln!("{message}");
                1
            }
        },
        Command::Import { pages, schemas } => import::run(&schemas, &pages),
        Command::Pull {
            base_url,
            models,
            all,
            schemas,
        } => {
            let selection = if all {
                pull::Selection::All
            } else {
                pull::Selection::Models(models)
            };
            let options = pull::PullOptions {
                base_url,
                token: std::env::var("RUNCOMFY_TOKEN")
                    .ok()
                    .filter(|t| !t.is_empty()),
                selection,
                page_size: pull::PAGE_SIZE,
            };
            pull::run(&schemas, &options)
        }
        Command::Lint {
            schemas,
            deny_warnings,
        } => lint::run(&schemas, deny_warnings),
    };
    ExitCode::from(code)
}
