//! Logs on stderr: `-v` and up for people who asked, and without it only this program's
//! warnings, said as its other lines are (`warning: ...`).

use std::io::IsTerminal as _;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `-v` info, `-vv` debug, `-vvv` trace for this program and its crates; `RUST_LOG` wins.
pub fn init(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    // Without -v, other crates say nothing (every failure reaches the user as this program's
    // own error).
    let others = if verbose == 0 { "off" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "{others},runcomfy={level},runcomfy_cli={level},runcomfy_batch={level},runcomfy_simulator={level}"
        ))
    });
    let plain = verbose == 0 && std::env::var_os("RUST_LOG").is_none();
    let logger = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Stderr);
    let _ = if plain {
        logger.with_ansi(false).event_format(PlainLines).try_init()
    } else {
        logger.with_ansi(std::io::stderr().is_terminal()).try_init()
    };
}

/// Stderr whose writes never fail: a reader that closed it (`2>&1 | head -1`) or a full disk
/// must not end the program, least of all just after a paid submit. tracing-subscriber says a
/// failed write with `eprintln!`, which panics on a broken pipe (QA repro37 H1: exit 134, the
/// job sent and no record written).
struct Stderr;

impl std::io::Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// An event as `warning: MESSAGE key=value ...`: no time, level column or target, as the
/// CLI's own `error:` and `warning:` lines read.
struct PlainLines;

impl<S, N> FormatEvent<S, N> for PlainLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let label = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warning",
            _ => "note",
        };
        write!(writer, "{label}: ")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
