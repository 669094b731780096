//! What a waiting job shows on stderr: a spinner on a terminal, plain lines elsewhere.

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use runcomfy::{JobState, Update};

/// The progress display of one job.
#[derive(Debug)]
pub enum Progress {
    /// A spinner with the state, queue position and elapsed time.
    Spinner(ProgressBar),
    /// One line per change, for logs and pipes.
    Lines {
        /// When the display started.
        start: Instant,
        /// What the last line said.
        last: Option<(JobState, Option<u64>)>,
    },
}

impl Progress {
    /// A spinner when stderr is a terminal and no logs are written there, else plain lines.
    pub fn new(verbose: u8) -> Self {
        if verbose == 0 && std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            let style = ProgressStyle::with_template("{spinner:.cyan} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(100));
            Progress::Spinner(bar)
        } else {
            Progress::Lines {
                start: Instant::now(),
                last: None,
            }
        }
    }

    /// Says something that is not a state: submitting, downloading.
    pub fn message(&mut self, text: &str) {
        match self {
            Progress::Spinner(bar) => bar.set_message(text.to_owned()),
            Progress::Lines { start, .. } => line(*start, text),
        }
    }

    /// Shows one poll's news.
    pub fn update(&mut self, request_id: &str, update: &Update) {
        let text = state_text(update.state, update.queue_position);
        match self {
            Progress::Spinner(bar) => bar.set_message(format!("{request_id}: {text}")),
            Progress::Lines { start, last } => {
                let now = (update.state, update.queue_position);
                if *last != Some(now) {
                    *last = Some(now);
                    line(*start, &format!("{request_id}: {text}"));
                }
            }
        }
    }

    /// Prints a line above the spinner (or as a plain line).
    pub fn println(&self, text: &str) {
        match self {
            Progress::Spinner(bar) => bar.println(text),
            Progress::Lines { start, .. } => line(*start, text),
        }
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        if let Progress::Spinner(bar) = self {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `in queue (position 2)`, `running`, ...
pub fn state_text(state: JobState, queue_position: Option<u64>) -> String {
    match (state, queue_position) {
        (JobState::InQueue, Some(position)) => format!("in queue (position {position})"),
        (JobState::InQueue, None) => "in queue".into(),
        (JobState::InProgress, _) => "running".into(),
        (other, _) => other.to_string(),
    }
}

fn line(start: Instant, text: &str) {
    eprintln_safe(&format!("[{:>6.1}s] {text}", start.elapsed().as_secs_f64()));
}

/// Writes a line to stderr, ignoring a closed stderr.
pub fn eprintln_safe(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
