//! `runcomfy`: run RunComfy Model API models from the command line.
//!
//! The models and their flags come from the runtime catalog of the `runcomfy` crate, so a model
//! added to the catalog is a new `run` subcommand with no code here.

#![warn(clippy::unwrap_used, clippy::expect_used)]

mod batch;
mod cli;
mod conditions;
mod connect;
mod describe;
mod duration;
mod exit;
mod fields;
mod history;
mod interrupt;
mod jobs;
mod logging;
mod output;
mod progress;
mod run;
mod token;

use std::process::ExitCode;

use clap::ArgMatches;
use clap::error::ErrorKind;
use runcomfy::schema::MediaKind;

use crate::exit::CliError;
use crate::progress::eprintln_safe;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let command = cli::command_for(&args);
    let args = cli::join_hyphen_values(&command, args);
    let matches = match command.try_get_matches_from(&args) {
        Ok(matches) => matches,
        Err(err) => {
            let code = match err.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => exit::OK,
                _ => exit::USAGE,
            };
            if code == exit::OK {
                let _ = err.print();
                return ExitCode::from(code);
            }
            // clap would list all the models, or a score of them.
            // Said better than clap's tip would.
            let ours = cli::not_utf8(&err, &args)
                .or_else(|| cli::run_option_before_model(&err, &args))
                .or_else(|| cli::list_values_without_flags(&err, &args))
                .or_else(|| cli::not_a_field_of_the_model(&err, &args));
            let message = match (cli::unknown_model(&err, &args), ours) {
                (Some(id), _) => {
                    let message = unknown_model(&id, &args);
                    eprintln_safe(&format!("error: {message}"));
                    message
                }
                (None, Some(message)) => {
                    eprintln_safe(&format!("error: {message}"));
                    message
                }
                (None, None) => {
                    let _ = err.print();
                    // Its first paragraph, on one line: what is wrong, without the usage.
                    let text = err.render().to_string();
                    let said: Vec<&str> = text
                        .lines()
                        .take_while(|line| !line.trim().is_empty())
                        .map(str::trim)
                        .collect();
                    let said = said.join(" ");
                    said.strip_prefix("error: ").unwrap_or(&said).to_owned()
                }
            };
            if let Some(report) = cli::usage_report(&message, &args) {
                output::json(&report);
            }
            return ExitCode::from(code);
        }
    };
    logging::init(matches.get_count("verbose"));
    // One thread: a command waits on the network, and each worker thread (with the malloc
    // arena it gets) cost about 0.5 MiB of a `run`'s 10 MiB goal (BENCHMARKS.md §8).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln_safe(&format!("error: cannot start the async runtime: {err}"));
            return ExitCode::from(exit::FAILURE);
        }
    };
    let code = match runtime.block_on(dispatch(&matches)) {
        Ok(code) => code,
        Err(err) => {
            eprintln_safe(&format!("error: {err}"));
            let base = connect::base_url(&matches);
            let context = exit::HintContext {
                mock: matches.get_flag("mock"),
                base_url: base.as_deref(),
                job_named: matches!(
                    matches.subcommand_name(),
                    Some("status" | "result" | "cancel")
                ),
            };
            if let Some(hint) = err.hint(context) {
                eprintln_safe(&format!("  {hint}"));
            }
            // `run`, `status`, `result` and `cancel` print their own object with the error.
            if let Some(("models" | "describe" | "batch", sub)) = matches.subcommand()
                && sub.get_flag("json")
            {
                output::json(&serde_json::json!({"status": "error", "error": err.to_string()}));
            }
            err.exit_code()
        }
    };
    // Do not wait for a stray blocking task (stdin, a cancelled download) to end.
    runtime.shutdown_background();
    let code = match output::failure() {
        Some(err) => {
            eprintln_safe(&format!("error: cannot write the output (stdout): {err}"));
            if code == exit::OK { exit::IO_ERR } else { code }
        }
        None => code,
    };
    ExitCode::from(code)
}

async fn dispatch(matches: &ArgMatches) -> Result<u8, CliError> {
    match matches.subcommand() {
        Some(("models", sub)) => {
            let live = if sub.get_flag("live") {
                let connection = connect::connect(matches).await?;
                let listed = connection.client.live_models().await;
                connection.close().await;
                Some(listed?.into_iter().map(|m| (m.id.clone(), m)).collect())
            } else {
                None
            };
            let filter = describe::ModelFilter {
                words: sub
                    .get_many::<String>("search")
                    .map(|words| words.cloned().collect())
                    .unwrap_or_default(),
                kind: sub
                    .get_one::<String>("kind")
                    .and_then(|kind| MediaKind::parse(kind)),
            };
            let any = describe::models(&filter, sub.get_flag("json"), &live);
            Ok(if any { exit::OK } else { exit::FAILURE })
        }
        Some(("describe", sub)) => {
            let id = sub
                .get_one::<String>("model")
                .map(String::as_str)
                .unwrap_or_default();
            let Some(model) = runcomfy::catalog::find(id) else {
                return describe_not_built(matches, sub, id).await;
            };
            let live = if sub.get_flag("live") {
                let connection = connect::connect(matches).await?;
                let price = connection.client.model_price(model.id).await;
                connection.close().await;
                match price {
                    // As `models --live` shows a model the API does not list: the catalog's
                    // price, marked as such.
                    Err(err @ runcomfy::Error::NotFound { .. }) => {
                        eprintln_safe(&format!(
                            "warning: the API gave no price for {} today ({err})",
                            model.id
                        ));
                        Some(runcomfy::price::Price::UNKNOWN)
                    }
                    price => Some(price?),
                }
            } else {
                None
            };
            describe::describe(model, sub.get_flag("json"), live);
            Ok(exit::OK)
        }
        Some(("run", sub)) => match sub.subcommand() {
            Some((id, run_matches)) if run_matches.get_flag("unchecked") => {
                let model = runcomfy::unchecked::unchecked(id)
                    .map_err(|err| CliError::Usage(err.to_string()))?;
                run::run(matches, model, run_matches).await
            }
            Some((id, run_matches)) => {
                // A subcommand clap matched is a catalog model's.
                let model = runcomfy::catalog::find(id)
                    .ok_or_else(|| CliError::Usage(runcomfy_batch::input::unknown_model(id)))?;
                run::run(matches, model, run_matches).await
            }
            None => Err(CliError::Usage(
                "run: which model? (`runcomfy models`)".into(),
            )),
        },
        Some(("batch", sub)) => batch::run(matches, sub).await,
        Some(("status", sub)) => jobs::run(matches, jobs::Action::Status, sub).await,
        Some(("result", sub)) => jobs::run(matches, jobs::Action::Result, sub).await,
        Some(("cancel", sub)) => jobs::run(matches, jobs::Action::Cancel, sub).await,
        Some(("login", _)) => token::login(matches).await,
        Some(("logout", _)) => token::logout(),
        Some(("completions", sub)) => {
            let Some(shell) = sub.get_one::<clap_complete::Shell>("shell").copied() else {
                return Err(CliError::Usage("completions: which shell?".into()));
            };
            let mut cmd = cli::command();
            // Into memory first: clap_complete panics when its writer fails (`| head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "runcomfy", &mut script);
            output::bytes(&script);
            Ok(exit::OK)
        }
        _ => Err(CliError::Usage(
            "unknown command (see `runcomfy --help`)".into(),
        )),
    }
}

/// Why `id`, given to `run` (or `describe`), names no model: with
/// `--unchecked`, why it is no model id; else the catalog's closest ids, and for `run`, how to
/// run a model the catalog lacks.
fn unknown_model(id: &str, args: &[std::ffi::OsString]) -> String {
    let run = args.iter().position(|arg| arg == "run");
    let after_run = run
        .and_then(|run| args.get(run + 1))
        .is_some_and(|word| word == id);
    if !after_run {
        return runcomfy_batch::input::unknown_model(id);
    }
    match runcomfy::unchecked::check_id(id) {
        Err(err) if cli::asks_unchecked(args) => err.to_string(),
        Err(_) => runcomfy_batch::input::unknown_model(id),
        // Near a catalog id (a typo, part of one), the catalog's suggestion alone.
        Ok(()) if runcomfy::catalog::is_near(id) => runcomfy_batch::input::unknown_model(id),
        Ok(_) => format!(
            "{}; to run a model the catalog does not have yet: `runcomfy run {} --unchecked \
             --input JSON`",
            runcomfy_batch::input::unknown_model(id),
            runcomfy_batch::report::shell_word(id)
        ),
    }
}

/// `describe ID` of a model this build lacks: with `--live`, what the API says of it; else
/// refused, saying `--live` asks the API (unless the id is near a catalog id: then only the
/// catalog's suggestion).
async fn describe_not_built(
    matches: &ArgMatches,
    sub: &ArgMatches,
    id: &str,
) -> Result<u8, CliError> {
    let unknown = runcomfy_batch::input::unknown_model(id);
    let api_path = runcomfy::unchecked::check_id(id).is_ok();
    if !sub.get_flag("live") {
        return Err(CliError::Usage(
            if api_path && !runcomfy::catalog::is_near(id) {
                format!(
                    "{unknown}; `runcomfy describe {} --live` asks the API of a model the catalog \
                 does not have yet",
                    runcomfy_batch::report::shell_word(id)
                )
            } else {
                unknown
            },
        ));
    }
    // Not an API path: nothing to ask; the catalog's suggestion.
    if !api_path {
        return Err(CliError::Usage(unknown));
    }
    let connection = connect::connect(matches).await?;
    let listed = connection.client.live_model(id).await;
    connection.close().await;
    let listed = listed.map_err(|err| match err {
        runcomfy::Error::NotFound { .. } => {
            CliError::Usage(format!("{unknown}; the API does not list it either"))
        }
        err => err.into(),
    })?;
    describe::describe_not_built(&listed, sub.get_flag("json"));
    Ok(exit::OK)
}
