//! End-to-end tests of the `runcomfy` binary: `--mock` runs the simulator inside the CLI, and
//! fault and exit-code cases point `--base-url` at a simulator started here, over loopback.

mod catalog;
mod commands;
mod errors;
mod history;
#[cfg(unix)]
mod interrupt;
mod jobs;
mod run;
mod support;
