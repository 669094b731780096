//! Printing the tools' reports. `println!` panics when stdout is a closed pipe
//! (`cargo xtask lint | head`); here a reader that stopped reading is not an error, but any
//! other failure to write (a full disk under `> report`) is kept for [`failure`], since the
//! report was lost, and makes the command fail.
//!
//! Every line is shown through `runcomfy::error::printable`: the tools print names of files,
//! folders, models and fields that come from a catalog, a page or a server, and a control
//! character in one must not drive the terminal (QA repro36 L1).

use std::io::Write as _;

/// Prints a line on stdout, as `println!` does, without its panic.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::console::write_line(false, ::std::format_args!($($arg)*))
    };
}

/// Prints a line on stderr, as `eprintln!` does, without its panic.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::console::write_line(true, ::std::format_args!($($arg)*))
    };
}

/// Writes one line on stdout, or on stderr when `stderr`.
pub fn write_line(stderr: bool, args: std::fmt::Arguments<'_>) {
    let text = args.to_string();
    let shown: Vec<_> = text
        .split('\n')
        .map(|line| runcomfy::error::printable(line, usize::MAX))
        .collect();
    let text = shown.join("\n");
    let written = if stderr {
        writeln!(std::io::stderr().lock(), "{text}")
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}").and_then(|()| out.flush())
    };
    // Stderr has nowhere left to say it failed.
    if let Err(err) = written
        && !stderr
        && err.kind() != std::io::ErrorKind::BrokenPipe
    {
        let _ = FAILURE.set(err.to_string());
    }
}

/// The first failure to write stdout, other than a closed pipe.
pub fn failure() -> Option<&'static str> {
    FAILURE.get().map(String::as_str)
}

static FAILURE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
