//! The aggregate progress display: a bar on a terminal (done, failed, unknown, in flight, rate,
//! ETA), plain periodic lines otherwise, or nothing.

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar when stderr is a terminal, else plain lines every 10 s.
    Auto,
    /// A bar on stderr.
    Bar,
    /// A plain line on stderr this often.
    Lines(Duration),
    /// Nothing.
    Hidden,
}

/// How a line ended, for the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Its files were saved.
    Downloaded,
    /// It failed for good.
    Failed,
    /// Its submit may or may not have been accepted.
    Unknown,
}

/// Counters shared by the batch's tasks, and the display reading them.
#[derive(Debug, Clone)]
pub struct Progress {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    total: u64,
    /// Lines already finished before this run.
    before: u64,
    done: AtomicU64,
    failed: AtomicU64,
    unknown: AtomicU64,
    in_flight: AtomicU64,
    started: Instant,
    bar: Option<ProgressBar>,
    /// Messages are dropped when progress is hidden (a library caller reads the summary).
    quiet: bool,
}

/// Whether stderr takes a redrawn line of `columns`: a terminal at least that wide (a line
/// that wraps is redrawn as a stack of stale rows), but not one that says it cannot move the
/// cursor (`TERM=dumb`, as Emacs' shells and some CI logs set).
pub fn animates(columns: u16) -> bool {
    let term = console::Term::stderr();
    term.is_term()
        && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
        && term
            .size_checked()
            .is_none_or(|(_, width)| width >= columns)
}

/// Whether the terminal's locale takes UTF-8 (its first of `LC_ALL`, `LC_CTYPE`, `LANG`
/// that is set says so): else spinners and bars are drawn in ASCII, which `C` and `POSIX`
/// show as they are.
pub fn unicode() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        .is_some_and(|locale| {
            let locale = locale.to_ascii_lowercase();
            locale.contains("utf-8") || locale.contains("utf8")
        })
}

/// The columns the batch's bar and counts take.
const BAR_COLUMNS: u16 = 80;

impl Progress {
    /// Starts showing progress of `total` lines, `before` of them already finished.
    pub fn start(mode: ProgressMode, total: u64, before: u64) -> Progress {
        let mode = match mode {
            ProgressMode::Auto if animates(BAR_COLUMNS) => ProgressMode::Bar,
            ProgressMode::Auto => ProgressMode::Lines(Duration::from_secs(10)),
            other => other,
        };
        let bar = (mode == ProgressMode::Bar).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            // The counts last, cut to the terminal's width (QA repro50 F3: the line wrapped
            // below 106 columns and left pieces behind); no ETA before a line of this run
            // ended (F4: "ETA 0s" at 0/50).
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:30.cyan/blue} {pos}/{len} finished [{elapsed_precise}, ETA {known_eta}] {wide_msg}",
            ) {
                let style = style.with_key(
                    "known_eta",
                    move |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                        let _ = match state.pos() > before {
                            true => write!(out, "{:#}", indicatif::HumanDuration(state.eta())),
                            false => write!(out, "?"),
                        };
                    },
                );
                bar.set_style(if unicode() {
                    style
                } else {
                    style.progress_chars("#>-")
                });
            }
            bar.set_position(before);
            bar.reset_eta();
            bar.enable_steady_tick(Duration::from_millis(200));
            *SHOWN.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar.clone());
            bar
        });
        let progress = Progress {
            inner: Arc::new(Inner {
                total,
                before,
                done: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                unknown: AtomicU64::new(0),
                in_flight: AtomicU64::new(0),
                started: Instant::now(),
                bar,
                quiet: mode == ProgressMode::Hidden,
            }),
        };
        if let ProgressMode::Lines(every) = mode {
            // Holds only a weak reference: the ticker ends with the batch.
            let weak = Arc::downgrade(&progress.inner);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let Some(inner) = weak.upgrade() else { break };
                    say(&Progress { inner }.line());
                }
            });
        }
        progress.refresh();
        progress
    }

    /// A line started running (submit, wait or download).
    pub fn started(&self) {
        self.inner.in_flight.fetch_add(1, Ordering::Relaxed);
        self.refresh();
    }

    /// A line stopped running without an end (interrupted, or left for a later run).
    pub fn stopped(&self) {
        self.inner.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.refresh();
    }

    /// A line ended: downloaded, failed for good, or unknown.
    pub fn finished(&self, ended: Ended) {
        self.inner.in_flight.fetch_sub(1, Ordering::Relaxed);
        let count = match ended {
            Ended::Downloaded => &self.inner.done,
            Ended::Failed => &self.inner.failed,
            Ended::Unknown => &self.inner.unknown,
        };
        count.fetch_add(1, Ordering::Relaxed);
        if let Some(bar) = &self.inner.bar {
            bar.inc(1);
        }
        self.refresh();
    }

    /// Prints a message without breaking the bar.
    pub fn println(&self, message: &str) {
        match &self.inner.bar {
            Some(bar) => bar.println(message),
            None if self.inner.quiet => tracing::debug!(message),
            None => say(message),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.inner.bar {
            SHOWN.lock().unwrap_or_else(PoisonError::into_inner).take();
            bar.finish_and_clear();
        }
    }

    fn refresh(&self) {
        if let Some(bar) = &self.inner.bar {
            let i = &self.inner;
            bar.set_message(format!(
                "{} failed, {} unknown, {} in flight, {}",
                i.failed.load(Ordering::Relaxed),
                i.unknown.load(Ordering::Relaxed),
                i.in_flight.load(Ordering::Relaxed),
                rate_text(self.rate())
            ));
        }
    }

    /// Lines ended in this run.
    fn ended(&self) -> u64 {
        let i = &self.inner;
        i.done.load(Ordering::Relaxed)
            + i.failed.load(Ordering::Relaxed)
            + i.unknown.load(Ordering::Relaxed)
    }

    /// Lines finished per second in this run.
    fn rate(&self) -> f64 {
        self.ended() as f64 / self.inner.started.elapsed().as_secs_f64().max(0.001)
    }

    /// The plain progress line.
    pub fn line(&self) -> String {
        let i = &self.inner;
        let done = i.done.load(Ordering::Relaxed);
        let failed = i.failed.load(Ordering::Relaxed);
        let unknown = i.unknown.load(Ordering::Relaxed);
        let finished = i.before + self.ended();
        let left = i.total.saturating_sub(finished);
        let rate = self.rate();
        let eta = if rate > 0.0 {
            format_duration(Duration::from_secs_f64(left as f64 / rate))
        } else {
            "unknown".to_owned()
        };
        format!(
            "batch: {finished}/{} finished ({done} downloaded, {failed} failed, {unknown} unknown this run), {} in flight, {}, ETA {eta}",
            i.total,
            i.in_flight.load(Ordering::Relaxed),
            rate_text(rate),
        )
    }
}

fn rate_text(rate: f64) -> String {
    if rate >= 1.0 || rate == 0.0 {
        format!("{rate:.1}/s")
    } else {
        format!("{:.1}/min", rate * 60.0)
    }
}

/// `1h02m`, `3m05s`, `12s`.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// A line on stderr; a closed stderr (`2>&1 | head`) loses it rather than ending the batch
/// (`eprintln!` panics there, abandoning the submits in flight).
pub(crate) fn say(text: &str) {
    let shown = SHOWN.lock().unwrap_or_else(PoisonError::into_inner).clone();
    match shown {
        // Above the bar, which a line written under it would be cut by at its next draw (QA
        // repro50 F2: the stop notice lost its end at 80 columns).
        Some(bar) => bar.suspend(|| {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }),
        None => {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
    }
}

/// The batch's bar while it is on screen, for [`say`] from any task (the signal handler's).
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_count_what_finished() {
        let progress = Progress::start(ProgressMode::Hidden, 10, 2);
        progress.started();
        progress.started();
        progress.started();
        progress.finished(Ended::Downloaded);
        progress.finished(Ended::Failed);
        progress.finished(Ended::Unknown);
        progress.started();
        let line = progress.line();
        assert!(
            line.starts_with("batch: 5/10 finished (1 downloaded, 1 failed, 1 unknown"),
            "{line}"
        );
        assert!(line.contains("1 in flight"), "{line}");
        assert_eq!(format_duration(Duration::from_secs(3725)), "1h02m");
        assert_eq!(format_duration(Duration::from_secs(185)), "3m05s");
    }
}
