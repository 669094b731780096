//! Maintainer tasks, run as `cargo xtask <command>` (see `.cargo/config.toml`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use runcomfy_codegen::compat::Impact;
use xtask::{
    bench, codegen, console, diff, errln, features, import, lint, pull, synth, workspace_root,
};

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
        /// Where to write `runcomfy_models.rs` and one file per model under `models/` (with a
        /// list of them, so a model removed since the last run loses its file; no other file
        /// there is touched).
        #[arg(long)]
        out: PathBuf,
    },
    /// Writes the model features of `client/Cargo.toml` from the catalog (one per model, one
    /// per family, `all-models`).
    ///
    /// `import` and `pull` run it for the workspace's catalog. Exit code 1 with --check when
    /// the manifest is stale.
    Features {
        /// The catalog folder.
        #[arg(long, default_value_os_t = workspace_root().join("schemas"))]
        schemas: PathBuf,
        /// The manifest to write.
        #[arg(long, default_value_os_t = workspace_root().join("client/Cargo.toml"))]
        manifest: PathBuf,
        /// Only check; write nothing.
        #[arg(long)]
        check: bool,
    },
    /// Adds or updates models from RunComfy API doc pages saved as text (any language) and
    /// catalog files (the API's `GET /v1/models?include_schema=true` reply, one model, or the
    /// partner nodes' `models.json`).
    ///
    /// Writes `<model id>/input.json`, `output.json` when the source has one, and
    /// `upstream.json` (display name, output kind, categories, prices); localized text is
    /// normalized to English; overlays are never touched. Prints each model as new, updated or
    /// unchanged. Exit code 1 when a file cannot be read or the catalog would not generate
    /// with the new schemas; nothing is written then.
    Import {
        /// Doc pages and catalog files.
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
    /// Shows the generator's errors and warnings about a catalog, with file and JSON pointer.
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
    /// Classifies the changes between two catalogs as breaking or not for the generated API.
    ///
    /// OLD and NEW are folders or `REV:path` (git). Exit code 0 when nothing breaks, 1 when
    /// something does, 2 on errors.
    Diff {
        /// The old and new catalogs.
        #[arg(num_args = 2, value_names = ["OLD", "NEW"], required_unless_present = "git")]
        catalogs: Vec<String>,
        /// Compare `REV1:schemas` with `REV2:schemas`, or with the working tree's `schemas/`
        /// when REV2 is left out.
        #[arg(long, num_args = 1..=2, value_names = ["REV1", "REV2"], conflicts_with = "catalogs")]
        git: Option<Vec<String>>,
        /// The current crate version, for the suggested bump (default: the workspace's).
        #[arg(long)]
        version: Option<String>,
    },
    /// Runs the benchmarks (issue 9) and prints each figure beside its peer or goal.
    ///
    /// Takes several minutes (real 20 s jobs, 10,000-job batch); not part of CI.
    Bench {
        /// Exit code 1 when a goal is missed or a benchmark does not run.
        #[arg(long)]
        check: bool,
        /// Fewer rounds and jobs.
        #[arg(long)]
        quick: bool,
        /// Only these benchmarks: generator, transport, validation, downloads, polling,
        /// scale, builds, real-builds (the shipped catalog vs the 3 seeds; only when named)
        /// (repeatable).
        #[arg(long, value_name = "NAME")]
        only: Vec<String>,
        /// Also time builds of `runcomfy` with every model enabled, against synthetic catalogs
        /// of these sizes (default 1,3,100,1000); without it, only the one-model builds of
        /// the goal.
        #[arg(long, value_name = "N,..", num_args = 0..=1, value_delimiter = ',', default_missing_value = "")]
        builds: Option<Vec<String>>,
    },
    /// Writes a synthetic catalog of N realistic models, deterministic for a seed.
    Synth {
        /// How many models.
        n: usize,
        /// The folder to write.
        #[arg(long)]
        out: PathBuf,
        /// The seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(match run(cli.command) {
        Ok(_) if let Some(err) = console::failure() => {
            errln!("error: cannot write the report on stdout: {err}");
            1
        }
        Ok(code) => code,
        Err(failure) => {
            errln!("error: {}", failure.error);
            failure.code
        }
    })
}

/// A command that failed: what to print, and its documented exit code.
struct Failure {
    error: Box<dyn std::error::Error>,
    code: u8,
}

impl Failure {
    fn new(error: impl std::error::Error + 'static, code: u8) -> Self {
        Self {
            error: Box::new(error),
            code,
        }
    }
}

/// Every command but `diff` exits 1 on failure.
fn fail(error: impl std::error::Error + 'static) -> Failure {
    Failure::new(error, 1)
}

/// A usage mistake clap cannot catch (exit code 2, as clap's own).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

/// Runs a command: `Ok` with the exit code of a success (`diff` exits 1 when something
/// breaks), `Err` with the error and the exit code of a failure.
fn run(command: Command) -> Result<u8, Failure> {
    match command {
        Command::Codegen { schemas, out } => codegen::run(&schemas, &out).map_err(fail)?,
        Command::Features {
            schemas,
            manifest,
            check,
        } => {
            features::run(&manifest, &schemas, check).map_err(fail)?;
        }
        Command::Import { pages, schemas } => {
            import::run(&schemas, &pages).map_err(fail)?;
        }
        Command::Pull {
            base_url,
            models,
            all,
            schemas,
        } => {
            let options = pull_options(base_url, models, all).map_err(fail)?;
            pull::run(&schemas, &options).map_err(fail)?;
        }
        Command::Lint {
            schemas,
            deny_warnings,
        } => {
            lint::run(&schemas, deny_warnings).map_err(fail)?;
        }
        Command::Diff {
            catalogs,
            git,
            version,
        } => {
            let root = workspace_root();
            let (old, new) = diff_sources(&root, git, &catalogs)?;
            // 0 when nothing breaks, 1 when something does, 2 when there is no diff.
            let worst = diff::run(&root, &old, &new, version.as_deref())
                .map_err(|error| Failure::new(error, 2))?;
            return Ok(u8::from(worst == Some(Impact::Breaking)));
        }
        Command::Synth { n, out, seed } => {
            synth::run(&out, n, seed).map_err(fail)?;
        }
        Command::Bench {
            check,
            quick,
            only,
            builds,
        } => {
            let options = bench::Options {
                check,
                quick,
                only,
                builds: build_sizes(builds)?,
            };
            bench::run(&workspace_root(), &options).map_err(fail)?;
        }
    }
    Ok(0)
}

/// What `pull` fetches (`models`, or `all`) and from where, with the token RUNCOMFY_TOKEN
/// holds (an empty one is none; one a header cannot carry is refused, unshown).
fn pull_options(
    base_url: String,
    models: Vec<String>,
    all: bool,
) -> Result<pull::PullOptions, pull::PullError> {
    let selection = if all {
        pull::Selection::All
    } else {
        pull::Selection::Models(models)
    };
    let token = std::env::var("RUNCOMFY_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .map(runcomfy::secret::Token::new)
        .transpose()
        .map_err(pull::PullError::Token)?;
    Ok(pull::PullOptions {
        base_url,
        token,
        selection,
        page_size: pull::PAGE_SIZE,
        timeouts: pull::Timeouts::default(),
    })
}

/// The catalogs `diff` compares: two revisions' `schemas/` (or one and the working tree's),
/// or two folders or `REV:path`s.
fn diff_sources(
    root: &Path,
    git: Option<Vec<String>>,
    catalogs: &[String],
) -> Result<(diff::Source, diff::Source), Failure> {
    let usage = |text: &str| Failure::new(Usage(text.to_owned()), 2);
    match (git, catalogs) {
        (Some(revs), _) => {
            let at = |rev: &String| diff::Source::Git {
                rev: rev.clone(),
                path: "schemas".into(),
            };
            match revs.as_slice() {
                [old] => Ok((at(old), diff::Source::Dir(root.join("schemas")))),
                [old, new] => Ok((at(old), at(new))),
                _ => Err(usage("--git takes one or two revisions")),
            }
        }
        (None, [old, new]) => Ok((diff::Source::parse(old), diff::Source::parse(new))),
        (None, _) => Err(usage("give OLD and NEW, or --git REV1 [REV2]")),
    }
}

/// `--builds N,..` as model counts (`--builds` alone: an empty list, the default sizes).
fn build_sizes(builds: Option<Vec<String>>) -> Result<Option<Vec<usize>>, Failure> {
    builds
        .map(|sizes| {
            sizes
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<usize>())
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()
        .map_err(|err| Failure::new(Usage(format!("--builds takes model counts: {err}")), 2))
}
