//! End-to-end tests of the `runcomfy` binary: `--mock` runs the simulator inside the CLI, and
//! fault and exit-code cases point `--base-url` at a simulator started here, over loopback, or
//! at a deliberately malicious server (`hostile`).

mod catalog;
mod commands;
mod errors;
mod history;
mod hostile;
#[cfg(unix)]
mod interrupt;
mod jobs;
mod login;
mod money;
mod run;
mod support;
mod unchecked;
