//! Where the API token comes from: `--token-file`, else `RUNCOMFY_TOKEN`, else the token
//! `runcomfy login` saved. The saved token is the `token.json` RunComfy's own CLI writes
//! (`runcomfy login` of either tool serves both), in the same folder: `RUNCOMFY_CONFIG_DIR`,
//! else `$XDG_CONFIG_HOME/runcomfy`, else `~/.config/runcomfy` on every platform.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use clap::ArgMatches;
use runcomfy::Error;
use serde::{Deserialize, Serialize};

use crate::exit::{self, CliError};
use crate::output;
use crate::progress::eprintln_safe;

/// The variable naming the folder of the saved token, as RunComfy's CLI reads it.
pub const CONFIG_DIR_ENV: &str = "RUNCOMFY_CONFIG_DIR";

/// The saved token's file name in that folder.
const SAVED_FILE: &str = "token.json";

/// The saved token, in RunComfy's CLI's shape: it reads all four keys, and writes `null` for
/// those a pasted token lacks.
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    /// Unix seconds.
    #[serde(default)]
    expires_at: Option<i64>,
    #[serde(default)]
    user_email: Option<String>,
}

/// Where the token of this command came from, for the hint of a refused token.
static SOURCE: OnceLock<String> = OnceLock::new();

/// Where this command's token came from, once read.
pub fn source() -> Option<&'static str> {
    SOURCE.get().map(String::as_str)
}

/// The folder of the saved token, if there is a home to put it in.
pub fn config_dir() -> Option<PathBuf> {
    let set = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(dir) = set(CONFIG_DIR_ENV) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = set("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(dir).join("runcomfy"));
    }
    Some(dirs::home_dir()?.join(".config").join("runcomfy"))
}

/// The saved token's file.
pub fn saved_path() -> Option<PathBuf> {
    Some(config_dir()?.join(SAVED_FILE))
}

/// The most a file holding a token is read of: a token is a few dozen bytes, a `token.json`
/// a few hundred.
const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;

/// A token file's text, read no further than [`MAX_TOKEN_FILE_BYTES`].
fn read_token_file(path: &Path) -> std::io::Result<String> {
    runcomfy::input::read_text_at_most(path, MAX_TOKEN_FILE_BYTES)
}

/// The token: `--token-file`, else `RUNCOMFY_TOKEN`, else the saved one.
pub fn token(matches: &ArgMatches) -> Result<String, CliError> {
    if let Some(path) = matches.get_one::<String>("token_file") {
        let text = read_token_file(Path::new(path)).map_err(|source| CliError::TokenFile {
            path: path.clone(),
            source,
        })?;
        warn_if_exposed(Path::new(path));
        let token = text.trim();
        if token.is_empty() {
            return Err(CliError::EmptyTokenFile(path.clone()));
        }
        let _ = SOURCE.set(format!("--token-file {path}"));
        // The `token.json` a login saved (ours or RunComfy's CLI's), given as a token file:
        // its `access_token` is the token, where the JSON would be sent as one.
        if token.starts_with('{') {
            return saved_token(Path::new(path), token);
        }
        return Ok(token.to_owned());
    }
    match std::env::var(runcomfy::client::TOKEN_ENV) {
        Ok(token) if !token.trim().is_empty() => {
            let _ = SOURCE.set(runcomfy::client::TOKEN_ENV.to_owned());
            return Ok(token.trim().to_owned());
        }
        _ => {}
    }
    let Some(path) = saved_path().filter(|path| path.exists()) else {
        return Err(CliError::NoToken);
    };
    let token = read_saved(&path)?;
    let _ = SOURCE.set(format!("{} (saved by `runcomfy login`)", path.display()));
    Ok(token)
}

/// The saved token at `path`; a file there that holds none is an error, not "no token".
fn read_saved(path: &Path) -> Result<String, CliError> {
    let bad = |reason: String| CliError::SavedToken {
        path: path.to_owned(),
        reason,
    };
    let text = read_token_file(path).map_err(|err| bad(err.to_string()))?;
    warn_if_exposed(path);
    saved_token(path, &text)
}

/// The token of a saved token's `text` (JSON with `access_token`), read from `path`.
fn saved_token(path: &Path, text: &str) -> Result<String, CliError> {
    let bad = |reason: String| CliError::SavedToken {
        path: path.to_owned(),
        reason,
    };
    // The file's text is a secret: serde's message would quote it.
    let saved: Saved = serde_json::from_str(text).map_err(|err| {
        bad(format!(
            "not a saved token (JSON with `access_token`; line {}, column {})",
            err.line(),
            err.column()
        ))
    })?;
    let token = saved.access_token.trim();
    if token.is_empty() {
        return Err(bad("its `access_token` is empty".into()));
    }
    if let Some(at) = saved.expires_at
        && let Ok(at) = jiff::Timestamp::from_second(at)
        && at <= jiff::Timestamp::now()
    {
        return Err(bad(format!(
            "it expired at {}",
            at.strftime("%Y-%m-%d %H:%M UTC")
        )));
    }
    Ok(token.to_owned())
}

/// Warns when a token file can be read or changed by other users, as `ssh` refuses a key that
/// can.
fn warn_if_exposed(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                eprintln_safe(&format!(
                    "warning: other users can read or change the token file {} (mode {mode:03o}): \
                     `chmod 600 {}`",
                    path.display(),
                    runcomfy_batch::report::shell_word(&path.display().to_string()),
                ));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// `runcomfy login`: reads a token (typed on the terminal without echo, or from stdin), checks
/// it with the API, and saves it for later commands, readable by this user only.
pub async fn login(matches: &ArgMatches) -> Result<u8, CliError> {
    if matches.get_flag("mock") {
        return Err(CliError::Usage(
            "login saves a token for the API; --mock needs none".into(),
        ));
    }
    let path = saved_path().ok_or_else(|| {
        CliError::Usage(format!(
            "login: no home folder to save the token in; set {CONFIG_DIR_ENV}"
        ))
    })?;
    let token = read_new_token()?;
    check(matches, &token).await?;
    write_saved(&path, &token)?;
    output::line(&format!("saved the token in {}", path.display()));
    if std::env::var_os(runcomfy::client::TOKEN_ENV).is_some_and(|v| !v.is_empty()) {
        eprintln_safe(&format!(
            "note: {} is set, and comes before the saved token",
            runcomfy::client::TOKEN_ENV
        ));
    }
    Ok(exit::OK)
}

/// `runcomfy logout`: removes the saved token.
pub fn logout() -> Result<u8, CliError> {
    let Some(path) = saved_path() else {
        output::line("no saved token");
        return Ok(exit::OK);
    };
    match std::fs::remove_file(&path) {
        Ok(()) => output::line(&format!("removed the token saved in {}", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            output::line(&format!("no saved token (none in {})", path.display()));
        }
        Err(err) => {
            return Err(CliError::SavedToken {
                path,
                reason: format!("cannot remove it: {err}"),
            });
        }
    }
    Ok(exit::OK)
}

/// The token to save: asked on the terminal (not echoed), else all of stdin.
fn read_new_token() -> Result<String, CliError> {
    let token = if std::io::stdin().is_terminal() {
        match rpassword::prompt_password("RunComfy API token (not shown as you type): ") {
            Ok(token) => token,
            // Ctrl-D at the prompt: nothing typed, said as an empty pipe says it, on a line of
            // its own rather than after the prompt (QA repro50 F5).
            Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
                eprintln_safe("");
                String::new()
            }
            Err(err) => {
                return Err(CliError::Input(format!(
                    "login: cannot read the token: {err}"
                )));
            }
        }
    } else {
        runcomfy::input::read_at_most(std::io::stdin(), MAX_TOKEN_FILE_BYTES)
            .and_then(runcomfy::input::text_of)
            .map_err(|err| {
                CliError::Input(format!("login: cannot read the token from stdin: {err}"))
            })?
    };
    let token = token.trim();
    if token.is_empty() {
        return Err(CliError::Input(
            "login: no token given (type it, or pipe it: `runcomfy login < token.txt`)".into(),
        ));
    }
    Ok(token.to_owned())
}

/// Asks the API about a job that cannot exist (the Model API has no "who am I"): "not found"
/// means the token passed. A refused token is not saved; an API that cannot be reached only gets a warning, so that a login
/// offline still works.
async fn check(matches: &ArgMatches, token: &str) -> Result<(), CliError> {
    let client = crate::connect::client_with(matches, token.to_owned())?;
    match client
        .job_json("00000000-0000-0000-0000-000000000000")
        .status()
        .await
    {
        // A 403 is a token the API knows, which may not see that job.
        Ok(_) | Err(Error::NotFound { .. } | Error::Forbidden { .. }) => Ok(()),
        Err(Error::Unauthorized { api, .. }) => Err(CliError::TokenRefused(api.to_string())),
        Err(err) => {
            eprintln_safe(&format!(
                "warning: could not check the token with the API, saving it anyway: {err}"
            ));
            Ok(())
        }
    }
}

/// Writes the saved token: a new file readable by this user only (in a folder only this user
/// can enter, when it is made here), renamed over the old one so no reader sees half of it.
fn write_saved(path: &Path, token: &str) -> Result<(), CliError> {
    let fail = |reason: String| CliError::SavedToken {
        path: path.to_owned(),
        reason,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|err| fail(format!("cannot create {}: {err}", dir.display())))?;
    let saved = Saved {
        access_token: token.to_owned(),
        refresh_token: None,
        expires_at: None,
        user_email: None,
    };
    let text = serde_json::to_vec_pretty(&saved).map_err(|err| fail(err.to_string()))?;
    // tempfile makes its files readable by their owner only.
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|err| fail(err.to_string()))?;
    file.write_all(&text)
        .and_then(|()| file.as_file().sync_all())
        .map_err(|err| fail(err.to_string()))?;
    file.persist(path)
        .map_err(|err| fail(err.error.to_string()))?;
    Ok(())
}
