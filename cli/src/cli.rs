//! The command line, built with clap's builder API: `run` has one subcommand per model of the
//! runtime catalog, each with one flag per input field.

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, ArgMatches, Command, ValueHint};
use heck::ToKebabCase as _;
use runcomfy::catalog::ModelInfo;
use runcomfy::schema::MediaKind;

use crate::exit::EXIT_CODES_HELP;
use crate::fields::{self, FieldFlag};

/// The whole command line: every model's `run` subcommand (help, completions).
pub fn command() -> Command {
    command_with(runcomfy::catalog().to_vec())
}

/// The command line `args` need: `run MODEL ...` builds the flags of that model alone, not
/// of every model of the catalog (`run MODEL --help` peaked at 9.4 MiB with all 68, 6.8 MiB
/// with one: BENCHMARKS.md §8). Anything else gets the whole command.
pub fn command_for(args: &[std::ffi::OsString]) -> Command {
    let id = args
        .iter()
        .position(|arg| arg == "run")
        .and_then(|run| args.get(run + 1))
        .and_then(|id| id.to_str());
    // `--unchecked`: the model without its fields, whether the catalog has it or not.
    let asked = match id {
        Some(id) if asks_unchecked(args) => runcomfy::unchecked::unchecked(id).ok(),
        Some(id) => runcomfy::catalog::find(id),
        None => None,
    };
    match asked {
        Some(model) => command_with(vec![model]),
        None => command(),
    }
}

/// The command line with each value that starts with `-` joined to its option
/// (`--negative-prompt -blurry` → `--negative-prompt=-blurry`), as clap would otherwise read
/// it as flags. Only where the word is no flag `command` knows and the option takes a value:
/// `--text --json` still lacks its text. Words after `--` are left as they are.
pub fn join_hyphen_values(
    command: &Command,
    args: Vec<std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut takes_value = std::collections::HashSet::new();
    let mut longs = std::collections::HashSet::new();
    let mut shorts = std::collections::HashSet::new();
    let mut pending = vec![command];
    while let Some(command) = pending.pop() {
        for arg in command.get_arguments() {
            let long = arg.get_long().map(str::to_owned);
            if let Some(long) = &long {
                longs.insert(long.clone());
                if arg.get_action().takes_values() {
                    takes_value.insert(long.clone());
                }
            }
            shorts.extend(arg.get_short());
        }
        pending.extend(command.get_subcommands());
    }
    // `--help` and `--version` are clap's own.
    longs.extend(["help".to_owned(), "version".to_owned()]);
    shorts.extend(['h', 'V']);
    // A short flag, or several (`-vv`): every letter one (`-hello` is text, not `-h`).
    let is_flag = |word: &str| match word.strip_prefix("--") {
        Some(long) => longs.contains(long.split('=').next().unwrap_or(long)),
        None => word.strip_prefix('-').is_some_and(|cluster| {
            !cluster.is_empty() && cluster.chars().all(|c| shorts.contains(&c))
        }),
    };
    let mut joined = Vec::with_capacity(args.len());
    let mut words = args.into_iter().peekable();
    while let Some(word) = words.next() {
        if word == "--" {
            joined.push(word);
            joined.extend(words);
            break;
        }
        let option = word
            .to_str()
            .and_then(|w| w.strip_prefix("--"))
            .filter(|name| takes_value.contains(*name));
        let value = words.peek().and_then(|next| next.to_str()).filter(|next| {
            next.starts_with('-') && *next != "-" && *next != "--" && !is_flag(next)
        });
        match (option, value) {
            (Some(name), Some(value)) => {
                joined.push(format!("--{name}={value}").into());
                words.next();
            }
            _ => joined.push(word),
        }
    }
    joined
}

/// The word clap found no place for, when that is the error.
fn unknown_argument(err: &clap::Error) -> Option<&str> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    match (err.kind(), err.get(ContextKind::InvalidArg)) {
        (ErrorKind::UnknownArgument, Some(ContextValue::String(given))) => Some(given),
        _ => None,
    }
}

/// What to say when a run option comes before the model (`run --out d MODEL`, or before `run`:
/// `--max-cost 1 run MODEL`), as `run` alone, or the command, has no such option: clap's own
/// tip names another flag, and the model's check blamed the model (QA repro50 F6).
pub fn run_option_before_model(err: &clap::Error, args: &[std::ffi::OsString]) -> Option<String> {
    let given = unknown_argument(err)?;
    let name = given.strip_prefix("--")?.split('=').next()?;
    let run = args.iter().position(|arg| arg == "run")?;
    let before_run = args[..run].iter().any(|arg| {
        arg.to_str()
            .is_some_and(|arg| arg == given || arg.starts_with(&format!("--{name}=")))
    });
    let misplaced = before_run || args.get(run + 1)?.to_str()?.starts_with('-');
    let is_run_option = run_args().iter().any(|arg| arg.get_long() == Some(name));
    (misplaced && is_run_option).then(|| {
        format!("--{name} is an option of a model's run: give it after the model, as `runcomfy run MODEL --{name} ...`")
    })
}

/// clap's "invalid UTF-8 was detected in one or more arguments", with the one it was: a file
/// name that is not UTF-8 (legal on Linux) cannot be passed, and which one should be said.
pub fn not_utf8(err: &clap::Error, args: &[std::ffi::OsString]) -> Option<String> {
    if err.kind() != clap::error::ErrorKind::InvalidUtf8 {
        return None;
    }
    let (at, arg) = args
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, arg)| arg.to_str().is_none())?;
    let shown = runcomfy::error::printable(&arg.to_string_lossy(), 200).into_owned();
    Some(format!(
        "argument {at} ({shown:?}, its bytes that are not UTF-8 shown as U+FFFD) is not \
         valid UTF-8, which every argument must be: rename the file, or link it under a UTF-8 \
         name (`ln -s`)"
    ))
}

/// What to say when a second value follows a list field's flag (`--images a.png b.png`): each
/// value takes its own flag.
pub fn list_values_without_flags(err: &clap::Error, args: &[std::ffi::OsString]) -> Option<String> {
    let given = unknown_argument(err)?;
    let at = args.iter().position(|arg| arg.to_str() == Some(given))?;
    let flag = args.get(at.checked_sub(2)?)?.to_str()?;
    let name = flag.strip_prefix("--")?;
    let lists = command_for(args);
    let mut commands = vec![&lists];
    while let Some(command) = commands.pop() {
        let appends = command.get_arguments().any(|arg| {
            arg.get_long() == Some(name) && matches!(arg.get_action(), ArgAction::Append)
        });
        if appends {
            return Some(format!(
                "unexpected argument {given:?}: a list takes one value a flag, so repeat it: \
                 {flag} {} {flag} {given}",
                args.get(at - 1)?.to_string_lossy()
            ));
        }
        commands.extend(command.get_subcommands());
    }
    None
}

/// What to say when `run MODEL` is given a flag the model has none of (`--prompt` where its
/// prompt is `text`), or a `field=value` word: the model's text flags, or the flag to write.
pub fn not_a_field_of_the_model(err: &clap::Error, args: &[std::ffi::OsString]) -> Option<String> {
    let given = unknown_argument(err)?;
    let run = args.iter().position(|arg| arg == "run")?;
    if asks_unchecked(args) {
        return Some(format!(
            "unexpected argument {given:?}: with --unchecked, a model's fields are no flags; \
             give them in --input's JSON object (--input '{{\"prompt\": \"...\"}}')"
        ));
    }
    let model = runcomfy::catalog::find(args.get(run + 1)?.to_str()?)?;
    let flags = fields::flags(model);
    if let Some((name, _)) = given.split_once('=').filter(|_| !given.starts_with('-')) {
        // Said in the spelling typed: `sid=5` is `--sid`, not the `--сид` it is an alias of.
        let kebab = name.to_kebab_case();
        let spelled = flags.iter().find_map(|f| match &f.alias {
            Some(alias) if *alias == kebab => Some(alias),
            _ if f.field.name == name || f.long == name => Some(&f.long),
            _ => None,
        })?;
        return Some(format!(
            "unexpected argument {given:?}: a field is given as a flag, --{spelled} VALUE"
        ));
    }
    // A typo of one of the model's flags (`--txt`) is left to clap's tip; a tip of a command
    // option (`--base-url` for `--image-url`, which would send the job and the token elsewhere)
    // is not given.
    if let Some(clap::error::ContextValue::String(tip)) =
        err.get(clap::error::ContextKind::SuggestedArg)
        && flags.iter().any(|f| {
            let tip = tip.strip_prefix("--");
            tip == Some(f.long.as_str()) || tip == f.alias.as_deref()
        })
    {
        return None;
    }
    let name = given.strip_prefix("--")?.split('=').next()?;
    let (texts, others): (Vec<&FieldFlag>, Vec<&FieldFlag>) = flags
        .iter()
        .partition(|f| f.field.kind() == runcomfy::catalog::FieldKind::Text);
    let list = |flags: Vec<&FieldFlag>| {
        flags
            .iter()
            .map(|f| match &f.alias {
                Some(alias) => format!("--{} (--{alias})", f.long),
                None => format!("--{}", f.long),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let listed = match (texts.is_empty(), others.is_empty()) {
        (true, true) => "no field flags".to_owned(),
        (false, true) => format!("its text flags: {}", list(texts)),
        (true, false) => format!("its flags: {}", list(others)),
        (false, false) => format!(
            "its text flags: {}; its other flags: {}",
            list(texts),
            list(others)
        ),
    };
    Some(format!(
        "{} has no --{name}; {listed} (`runcomfy run {} --help` says what each takes)",
        model.id, model.id
    ))
}

/// The model id a parse error is about, when it is one that names no model: `run ID` (an
/// unknown subcommand of `run`; `describe` and `batch --model` check their own).
pub fn unknown_model(err: &clap::Error, args: &[std::ffi::OsString]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let value = |kind| match err.get(kind) {
        Some(ContextValue::String(value)) => Some(value.clone()),
        _ => None,
    };
    match err.kind() {
        ErrorKind::InvalidSubcommand => {
            let id = value(ContextKind::InvalidSubcommand)?;
            let run = args.iter().position(|arg| arg == "run")?;
            (args.get(run + 1)? == id.as_str()).then_some(id)
        }
        _ => None,
    }
}

/// With `--json`, the object a command prints when its command line is refused before it runs,
/// so a script reading stdout gets one either way: `run`'s `not_submitted` (as for any failure
/// before a submit), `status`/`result`/`cancel`'s `error`, or `{"error": ...}`. `None` without
/// `--json`, or for a command that has none (`batch`).
pub fn usage_report(message: &str, args: &[std::ffi::OsString]) -> Option<serde_json::Value> {
    use serde_json::json;
    // The parse stopped at the error, so `--json` is looked for in the words themselves (up to
    // a `--`, after which words are values).
    let json_asked = args
        .iter()
        .skip(1)
        .take_while(|arg| *arg != "--")
        .any(|arg| arg == "--json" || arg.to_str().is_some_and(|a| a.starts_with("--json=")));
    if !json_asked {
        return None;
    }
    // What clap could make of the line before the error: the command and its ids.
    let command = command_for(args);
    let matches = command
        .clone()
        .ignore_errors(true)
        .try_get_matches_from(args)
        .ok()?;
    // A global option refused before the command (`--poll-secs=0 run ...`) leaves clap no
    // command: it is the first word that names one.
    let name = matches.subcommand_name().or_else(|| {
        args.iter()
            .skip(1)
            .filter_map(|arg| arg.to_str())
            .find_map(|arg| command.find_subcommand(arg).map(Command::get_name))
    });
    let sub = matches.subcommand().map(|(_, sub)| sub);
    let Some(name) = name else {
        return Some(json!({"error": message}));
    };
    // The word after the command, when clap did not get that far: an unknown model, or the
    // request id after a refused global option.
    let word_after = |command: &str| {
        args.iter()
            .skip_while(|arg| *arg != command)
            .nth(1)
            .and_then(|id| id.to_str())
            .filter(|id| !id.starts_with('-'))
            .map(str::to_owned)
    };
    Some(match name {
        "run" => {
            let model = match sub.and_then(ArgMatches::subcommand) {
                Some((model, _)) => Some(model.to_owned()),
                None => word_after("run"),
            };
            json!({
                "request_id": null,
                "model": model,
                "status": "not_submitted",
                "error": message,
            })
        }
        "status" | "result" | "cancel" => {
            let id = sub
                .and_then(|sub| sub.try_get_one::<String>("request_id").ok().flatten())
                .cloned()
                .or_else(|| word_after(name));
            json!({"request_id": id, "status": "error", "error": message})
        }
        // As the same commands' errors after the parse: every `--json` error object has a
        // `status` (QA repro41 L7).
        "models" | "describe" | "batch" => json!({"status": "error", "error": message}),
        _ => return None,
    })
}

fn command_with(models: Vec<&'static ModelInfo>) -> Command {
    Command::new("runcomfy")
        .version(env!("CARGO_PKG_VERSION"))
        .about(
            "Run RunComfy Model API models: check inputs locally, submit, follow progress, \
             download the outputs",
        )
        .after_help(format!(
            "Token: --token-file FILE, else RUNCOMFY_TOKEN, else the one `runcomfy login` saved \
             (never printed). Try it without one: runcomfy --mock run MODEL ...\n\
             Run times learned per model are cached (poll-history.json in RUNCOMFY_CACHE_DIR, \
             else the platform's cache folder; set it empty to turn this off), so the next \
             wait polls near the expected end; so are the jobs run submits, so `result --wait` \
             on one polls the same way.\n\n{EXIT_CODES_HELP}"
        ))
        .subcommand_required(true)
        .arg_required_else_help(true)
        .args(global_args())
        .subcommand(
            Command::new("models")
                .about("List the models of the catalog, with their prices")
                .arg(
                    Arg::new("search")
                        .value_name("WORDS")
                        .num_args(0..)
                        .help(
                            "Only the models whose id or name holds every one of these words \
                             (any case): `runcomfy models seedance video`",
                        ),
                )
                .arg(
                    Arg::new("kind")
                        .long("kind")
                        .value_name("KIND")
                        .value_parser(PossibleValuesParser::new(
                            MediaKind::ALL.map(MediaKind::name),
                        ))
                        .help("Only the models that make this kind of output"),
                )
                .arg(json_arg("Print the catalog as JSON"))
                .arg(live_arg()),
        )
        .subcommand(
            Command::new("describe")
                .about("Show a model's price, fields, choices, defaults, bounds and rules")
                .arg(model_arg())
                .arg(json_arg("Print the description as JSON"))
                .arg(live_arg().help(
                    "Ask the API for today's price (GET /v1/models); for a model this build \
                     lacks, also its name, kind and the input schema the API serves",
                )),
        )
        .subcommand(run_command(models))
        .subcommand(crate::batch::command())
        .subcommand(
            Command::new("status")
                .about("Show a job's status")
                .arg(request_id_arg())
                .arg(json_arg("Print the status as JSON")),
        )
        .subcommand(
            Command::new("result")
                .about("Show a job's result; with --out, download its files")
                .arg(request_id_arg())
                .arg(out_arg("Download the output files into this directory"))
                .arg(downloads_arg())
                .arg(
                    Arg::new("wait")
                        .long("wait")
                        .action(ArgAction::SetTrue)
                        .help(
                            "Wait for the job to end (showing its progress) instead of exiting \
                             75 while it runs; Ctrl-C stops waiting and leaves the job as it is",
                        ),
                )
                .arg(timeout_arg(
                    "A deadline for the whole command, wait and downloads (90s, 5m, 1h30m; exit \
                     75); the job is left as it is, and no partial file is left",
                ))
                .arg(json_arg("Print the result as JSON")),
        )
        .subcommand(
            Command::new("cancel")
                .about("Cancel a queued job (running jobs cannot be cancelled)")
                .arg(request_id_arg())
                .arg(json_arg("Print the outcome as JSON")),
        )
        .subcommand(
            Command::new("login")
                .about(
                    "Save an API token for later commands (asked without echo, or read from \
                     stdin); checked with the API first",
                )
                .after_help(
                    "The token goes to token.json in RUNCOMFY_CONFIG_DIR, else \
                     $XDG_CONFIG_HOME/runcomfy, else ~/.config/runcomfy: the file RunComfy's own \
                     CLI reads and writes, readable by you only. --token-file and RUNCOMFY_TOKEN \
                     come before it.",
                ),
        )
        .subcommand(Command::new("logout").about("Remove the token `runcomfy login` saved"))
        .subcommand(
            Command::new("completions")
                .about("Print a shell completion script (bash, zsh, fish, elvish, powershell)")
                .after_help(
                    "Examples:\n  runcomfy completions bash > ~/.local/share/bash-completion/completions/runcomfy\n  \
                     runcomfy completions zsh > \"${fpath[1]}/_runcomfy\"\n  \
                     runcomfy completions fish > ~/.config/fish/completions/runcomfy.fish",
                )
                .arg(
                    Arg::new("shell")
                        .value_name("SHELL")
                        .required(true)
                        .value_parser(clap::value_parser!(clap_complete::Shell)),
                ),
        )
}

/// `--poll-secs`: a number of seconds within what a poll interval can sensibly be.
fn parse_poll_secs(text: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(0.1..=3600.0).contains(&secs) {
        // As typed: `1e308` written out is 309 digits.
        return Err(format!(
            "{} is not between 0.1 and 3600 seconds",
            text.trim()
        ));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

fn global_args() -> Vec<Arg> {
    vec![
        Arg::new("mock")
            .long("mock")
            .global(true)
            .action(ArgAction::SetTrue)
            .help(
                "Use a simulator started in-process: no token, no network, jobs take 1-2 s; \
                 its outputs are stand-ins (PNG images, MP4 videos, WAV audio) whatever format \
                 the input asks for",
            ),
        Arg::new("base_url")
            .long("base-url")
            .global(true)
            .value_name("URL")
            .env("RUNCOMFY_BASE_URL")
            .value_hint(ValueHint::Url)
            .help(
                "The API's base URL (https, or http to a loopback address); else \
                 RUNCOMFY_MODEL_API_BASE, as RunComfy's CLI reads it",
            ),
        Arg::new("poll_secs")
            .long("poll-secs")
            .global(true)
            .value_name("SECS")
            .value_parser(parse_poll_secs)
            .help(
                "Poll a job every SECS seconds (0.1 to 3600), as RunComfy's CLI does, instead of \
                 on the schedule learned from its model's run times",
            ),
        Arg::new("token_file")
            .long("token-file")
            .global(true)
            .value_name("FILE")
            .value_hint(ValueHint::FilePath)
            .help(
                "Read the API token from this file instead of RUNCOMFY_TOKEN: the bare token, or \
                 a token.json `runcomfy login` saved",
            ),
        Arg::new("allow_output_host")
            .long("allow-output-host")
            .global(true)
            .value_name("HOST")
            .action(ArgAction::Append)
            .help(
                "Also download output files from HOST and its subdomains ('*': any host); by \
                 default only RunComfy's hosts and the API's own (the token goes only to the \
                 API's own origin, never to another host)",
            ),
        Arg::new("verbose")
            .short('v')
            .long("verbose")
            .global(true)
            .action(ArgAction::Count)
            .help("Log to stderr: -v requests and jobs, -vv details, -vvv everything"),
        Arg::new("quiet")
            .short('q')
            .long("quiet")
            .global(true)
            .action(ArgAction::SetTrue)
            .conflicts_with("verbose")
            .help(
                "No progress, and no summary of a job that succeeded (its files are still \
                 printed on stdout); warnings and errors still show",
            ),
    ]
}

fn json_arg(help: &'static str) -> Arg {
    Arg::new("json")
        .long("json")
        .action(ArgAction::SetTrue)
        .help(help)
}

fn live_arg() -> Arg {
    Arg::new("live")
        .long("live")
        .action(ArgAction::SetTrue)
        .help(
            "Ask the API for today's prices (GET /v1/models); without it, the prices the \
             catalog had when it was imported",
        )
}

fn out_arg(help: &'static str) -> Arg {
    Arg::new("out")
        .long("out")
        .value_name("DIR")
        .value_hint(ValueHint::DirPath)
        .value_parser(non_empty())
        .help(help)
}

/// A folder or file named by an option: an empty one (an unset variable in a script) is a
/// usage error naming the option, not the working folder (QA repro41 L5).
pub fn non_empty() -> clap::builder::NonEmptyStringValueParser {
    clap::builder::NonEmptyStringValueParser::new()
}

/// `--timeout`: one deadline for a whole command.
fn timeout_arg(help: &'static str) -> Arg {
    Arg::new("timeout")
        .long("timeout")
        .value_name("DURATION")
        .value_parser(crate::duration::parse)
        .help(help)
}

/// `--downloads`: one file at a time by default, as RunComfy's CLI, for the least memory.
fn downloads_arg() -> Arg {
    Arg::new("downloads")
        .long("downloads")
        .value_name("N")
        .default_value("1")
        .value_parser(clap::value_parser!(u16).range(1..=64))
        .help(
            "Files downloading at once: more can be faster from a distant host, for about \
             1 MiB of memory each",
        )
}

/// The download options `--downloads` asks for.
pub fn download_options(matches: &ArgMatches) -> runcomfy::DownloadOptions {
    let options = runcomfy::DownloadOptions::new();
    match matches.get_one::<u16>("downloads") {
        Some(files) => options.concurrency(usize::from(*files)),
        None => options,
    }
}

fn request_id_arg() -> Arg {
    Arg::new("request_id")
        .value_name("REQUEST_ID")
        .required(true)
        .help("The request id `run` printed")
}

fn model_arg() -> Arg {
    Arg::new("model")
        .value_name("MODEL")
        .required(true)
        .value_parser(ModelId)
        .hide_possible_values(true)
        .help("A model id (see `runcomfy models`)")
}

/// A model id: any text, checked by the command (a model this build lacks may still be asked
/// of the API or run `--unchecked`), with the catalog's ids offered to shell completion.
#[derive(Debug, Clone, Copy)]
pub struct ModelId;

impl clap::builder::TypedValueParser for ModelId {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            runcomfy::catalog()
                .iter()
                .map(|m| clap::builder::PossibleValue::new(m.id)),
        ))
    }
}

fn run_command(models: Vec<&'static ModelInfo>) -> Command {
    let mut run = Command::new("run")
        .about("Run a model: check the input, submit it, wait, download the outputs")
        .long_about(
            "Run a model: check the input locally (every problem at once, nothing sent if one \
             is an error), submit it, show progress until it ends, and download the outputs.\n\n\
             Each model takes its fields as flags; `runcomfy run MODEL --help` lists them with \
             their choices and defaults.",
        )
        .subcommand_required(true)
        .arg_required_else_help(true)
        .disable_help_subcommand(true)
        .subcommand_value_name("MODEL")
        .subcommand_help_heading("Models")
        .after_help(format!(
            "{}\nThey go after the model: `runcomfy run MODEL --json ...`.\n\n\
             Example:\n  runcomfy --mock run bytedance/seedream-4-0/sequential \\\n    \
             --text \"Generate 3 images of a beautiful sunset over a calm ocean.\" \
             --image-size 16:9",
            run_options_help()
        ));
    for model in models {
        run = run.subcommand(model_command(model));
    }
    run
}

/// The options every model's run takes, as `run MODEL --help` lists them: `run --help` lists
/// them too, or a reader of it could not tell there is a `--dry-run` (QA repro41 M1).
fn run_options_help() -> String {
    Command::new("run")
        .disable_help_flag(true)
        .args(run_args())
        .help_template("{all-args}")
        .render_help()
        .to_string()
}

/// `run MODEL`: the run options and one flag per field.
pub fn model_command(model: &'static ModelInfo) -> Command {
    if runcomfy::unchecked::is_unchecked(model) {
        return Command::new(model.id)
            .about(format!("{} (unchecked)", model.display_name))
            .after_long_help(
                "Unchecked: --input's JSON object is sent as written. No field is checked (the \
                 server checks it; a 422 costs nothing), no field has a flag, and no local file \
                 is read: a string naming one is sent as that text, with a warning, so give \
                 https URLs or data: URIs. A record of an unchecked run is an input again; one \
                 that keeps a file only as its hash is refused. Outputs are every URL the \
                 output names, saved to --out (default ./runcomfy-out/REQUEST_ID/).",
            )
            .args(run_args());
    }
    let mut about = model.display_name.to_owned();
    if let Some(docs) = model.docs {
        about = format!("{about}: {docs}");
    }
    let mut cmd = Command::new(model.id)
        .about(model.display_name)
        .long_about(about)
        .after_long_help(
            "Flags override the keys of --input. Media fields take local paths (sent inline as \
             data: URIs) or https URLs. Choices take their value or the short alias shown \
             (16:9). A list's flag is given once per item (a fixed list's in order), or (but for \
             a list of text) once with the whole list as a JSON array. `null` is JSON null, but \
             to a text field, where it is the text (--input '{\"FIELD\": null}' sends null). \
             Every problem of the input is reported before anything is sent (exit 65).\n\n\
             Outputs are saved to --out (default ./runcomfy-out/REQUEST_ID/) and their paths \
             printed, one per line. Ctrl-C while waiting cancels a queued job; a running job \
             cannot be cancelled and goes on (exit 130 either way).",
        )
        .args(run_args());
    for flag in fields::flags(model) {
        cmd = cmd.arg(fields::arg(&flag));
    }
    cmd
}

fn run_args() -> Vec<Arg> {
    let heading = "Run options";
    vec![
        Arg::new("input")
            .long("input")
            .value_name("JSON|@FILE|-")
            .help(
                "The input as JSON text, @file.json, or - for stdin; flags override its keys. \
                 A runcomfy-record.json is an input too: its media are read from where they \
                 were, and must have the same sha256 (with --unchecked, only a record that \
                 keeps no file: its media were URLs)",
            )
            .help_heading(heading),
        out_arg("Save the outputs here [default: ./runcomfy-out/REQUEST_ID/]")
            .help_heading(heading),
        downloads_arg().help_heading(heading),
        Arg::new("no_wait")
            .long("no-wait")
            .action(ArgAction::SetTrue)
            .help("Submit, print the request id, and exit without waiting")
            .help_heading(heading),
        timeout_arg(
            "A deadline for the whole command, submit, wait and downloads (90s, 5m, 1h30m): a \
             job still queued then is cancelled (exit 75); one that runs or has run is paid \
             for, so exit 3, as when the submit was still unanswered; no partial file is left",
        )
        .help_heading(heading),
        Arg::new("preflight")
            .long("preflight")
            .action(ArgAction::SetTrue)
            .help(
                "Before submitting, fetch the start of each media URL to check its format, \
                 size and dimensions",
            )
            .help_heading(heading),
        Arg::new("dry_run")
            .long("dry-run")
            .action(ArgAction::SetTrue)
            .help(
                "Check the input, print the estimate and the exact request body (media as name, \
                 size and sha256), and send nothing (exit 0; 65 if invalid; 4 if --max-cost \
                 would refuse the run)",
            )
            .help_heading(heading),
        Arg::new("max_cost")
            .long("max-cost")
            .value_name("USD")
            .value_parser(parse_usd)
            // `-1` reaches the amount's own error, not "unexpected argument".
            .allow_negative_numbers(true)
            .help(
                "Refuse to submit (exit 4) when the estimate is above USD, or when there is no \
                 estimate (a base price, or an input that does not say)",
            )
            .help_heading(heading),
        Arg::new("unchecked")
            .long("unchecked")
            .action(ArgAction::SetTrue)
            .help(
                "Run MODEL without its schema: an id the catalog does not have yet, or one \
                 whose schema here is out of date. The input is --input's JSON object, sent as \
                 written (no field checked, no flag per field, no local file read); the price is \
                 the API's, and the outputs saved are every URL the output names",
            )
            .help_heading(heading),
        json_arg(
            "Print one JSON object on stdout (request_id, model, status, outputs, files, \
             cost_usd, estimate, record)",
        )
        .help_heading(heading),
    ]
}

/// Whether the words of `run MODEL ...` ask for `--unchecked` (up to a `--`).
pub fn asks_unchecked(args: &[std::ffi::OsString]) -> bool {
    args.iter()
        .skip_while(|arg| *arg != "run")
        .take_while(|arg| *arg != "--")
        .any(|arg| arg == "--unchecked")
}

/// Reads an amount of dollars (`1.50`, `$1.50`).
pub fn parse_usd(text: &str) -> Result<runcomfy::price::Usd, String> {
    text.parse()
        .map_err(|e: runcomfy::price::ParseUsdError| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_and_global_flag_is_reserved_from_the_fields() {
        for arg in run_args().iter().chain(&global_args()) {
            if let Some(long) = arg.get_long() {
                assert!(fields::RESERVED.contains(&long), "--{long} is not reserved");
            }
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
    }
}
