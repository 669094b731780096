//! What a waiting job shows on stderr: a spinner on a terminal, plain lines elsewhere.

use std::io::Write as _;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use runcomfy::{DownloadCounter, JobState, Outage, Update};

/// What a command shows on stderr while it works, as the global flags say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// A spinner on a terminal that redraws, else plain lines.
    Auto,
    /// Plain lines: logs (`-v`) are written on stderr, which a spinner would tear apart.
    Lines,
    /// `--quiet`: no progress, and no summary of a job that succeeded.
    Quiet,
}

impl Display {
    /// As `--quiet` and `-v` say.
    pub fn of(global: &clap::ArgMatches) -> Self {
        if global.get_flag("quiet") {
            Display::Quiet
        } else if global.get_count("verbose") > 0 {
            Display::Lines
        } else {
            Display::Auto
        }
    }

    /// Whether the summary of a job that succeeded is left out.
    pub fn quiet(self) -> bool {
        self == Display::Quiet
    }
}

/// The progress display of one job.
#[derive(Debug)]
pub enum Progress {
    /// A spinner with the state, queue position and elapsed time.
    Spinner(ProgressBar),
    /// One line per change, for logs and pipes.
    Lines {
        /// When the display started.
        start: Instant,
        /// What the last line said: the state, the queue position, and whether polls failed.
        last: Option<(JobState, Option<u64>, bool)>,
    },
    /// Nothing (`--quiet`).
    Hidden,
}

impl Progress {
    /// A spinner when stderr is a terminal that can redraw a line and no logs are written
    /// there, else plain lines; nothing with `--quiet`.
    pub fn new(display: Display) -> Self {
        if display == Display::Quiet {
            Progress::Hidden
        } else if display == Display::Auto && runcomfy_batch::progress::animates(SPINNER_COLUMNS) {
            let target = ProgressDrawTarget::term_like_with_hz(
                Box::new(Narrowed(console::Term::buffered_stderr())),
                20,
            );
            let bar = ProgressBar::with_draw_target(None, target);
            // `wide_msg` keeps the line within the (narrowed) width: it never wraps.
            let style = ProgressStyle::with_template("{spinner:.cyan} [{elapsed}] {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(if runcomfy_batch::progress::unicode() {
                style
            } else {
                style.tick_chars("|/-\\ ")
            });
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
            Progress::Hidden => {}
        }
    }

    /// [`message`](Self::message) as a handle that borrows nothing: for a future that speaks
    /// while this progress is used elsewhere.
    pub fn messages(&self) -> impl Fn(&str) + use<> {
        let bar = match self {
            Progress::Spinner(bar) => Some(bar.clone()),
            _ => None,
        };
        let start = match self {
            Progress::Lines { start, .. } => Some(*start),
            _ => None,
        };
        move |text: &str| match (&bar, start) {
            (Some(bar), _) => bar.set_message(text.to_owned()),
            (None, Some(start)) => line(start, text),
            (None, None) => {}
        }
    }

    /// Shows that the job was accepted, until its first poll says more (a spinner still saying
    /// "submitting" would read as a submit that hangs). Plain lines already said it.
    pub fn submitted(&mut self, request_id: &str) {
        if let Progress::Spinner(bar) = self {
            bar.set_message(format!("{request_id}: submitted"));
        }
    }

    /// Shows one poll's news.
    pub fn update(&mut self, request_id: &str, update: &Update) {
        let text = match &update.outage {
            Some(outage) => outage_text(update.state, outage),
            None => state_text(update.state, update.queue_position),
        };
        match self {
            Progress::Spinner(bar) => bar.set_message(format!("{request_id}: {text}")),
            // Once when polls start failing, and once when they answer again.
            Progress::Lines { start, last } => {
                let now = (update.state, update.queue_position, update.outage.is_some());
                if *last != Some(now) {
                    *last = Some(now);
                    line(*start, &format!("{request_id}: {text}"));
                }
            }
            Progress::Hidden => {}
        }
    }

    /// Prints a line above the spinner (or as a plain line), also with `--quiet`.
    pub fn println(&self, text: &str) {
        match self {
            // Not `bar.println`: with the narrowed terminal its padded line would not wrap
            // and the spinner would be drawn after it on the same line.
            Progress::Spinner(bar) => bar.suspend(|| eprintln_safe(text)),
            Progress::Lines { start, .. } => line(*start, text),
            Progress::Hidden => eprintln_safe(text),
        }
    }

    /// A line of the progress's own, as [`println`](Self::println) but for `--quiet`.
    pub fn note(&self, text: &str) {
        if !matches!(self, Progress::Hidden) {
            self.println(text);
        }
    }

    /// Shows `text` (`req-1: downloading 3 files to out`) with the bytes `counter` has received
    /// and their rate, until the returned guard is dropped: on the spinner as they come, as a
    /// plain line every [`LINE_EVERY`].
    pub fn downloading(&mut self, text: String, counter: DownloadCounter) -> Ticking {
        self.message(&text);
        let shown = match self {
            Progress::Spinner(bar) => Shown::Spinner(bar.clone()),
            Progress::Lines { start, .. } => Shown::Lines(*start),
            Progress::Hidden => return Ticking(None),
        };
        let began = Instant::now();
        let every = match shown {
            Shown::Spinner(_) => Duration::from_millis(250),
            Shown::Lines(_) => LINE_EVERY,
        };
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at((began + every).into(), every);
            loop {
                ticks.tick().await;
                let received = counter.received();
                let secs = began.elapsed().as_secs_f64().max(0.001);
                let rate = HumanBytes((received as f64 / secs) as u64);
                let now = format!("{text}: {} ({rate}/s)", HumanBytes(received));
                match &shown {
                    Shown::Spinner(bar) => bar.set_message(now),
                    Shown::Lines(start) => line(*start, &now),
                }
            }
        });
        Ticking(Some(task))
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        if let Progress::Spinner(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// How often a plain-lines display tells a download's bytes.
pub const LINE_EVERY: Duration = Duration::from_secs(10);

/// Where [`Progress::downloading`] shows the bytes.
enum Shown {
    Spinner(ProgressBar),
    Lines(Instant),
}

/// Keeps a download's bytes shown; dropped, it stops.
#[derive(Debug)]
pub struct Ticking(Option<tokio::task::JoinHandle<()>>);

impl Drop for Ticking {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
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

/// A wait riding out failing polls: `running when last seen; no answer from the API for 12 s,
/// trying 48 s more (transport error ...)`, or `...; the API rate-limits the polls ...`.
fn outage_text(state: JobState, outage: &Outage) -> String {
    let secs = |d: Duration| d.as_secs_f64().round();
    let lasted = match secs(outage.lasted) {
        0.0 => String::new(),
        s => format!(" for {s} s"),
    };
    let state = match state {
        JobState::Unknown => "accepted, no state seen yet".to_owned(),
        state => format!("{} when last seen", state_text(state, None)),
    };
    let trouble = if outage.rate_limited {
        "the API rate-limits the polls"
    } else {
        "no answer from the API"
    };
    format!(
        "{state}; {trouble}{lasted}, trying {} s more ({})",
        secs(outage.gives_up_in),
        outage.error
    )
}

fn line(start: Instant, text: &str) {
    eprintln_safe(&format!("[{:>6.1}s] {text}", start.elapsed().as_secs_f64()));
}

/// Writes a line to stderr, ignoring a closed stderr.
pub fn eprintln_safe(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// The narrowest terminal the spinner's line fits on: its spinner, time and a few words.
const SPINNER_COLUMNS: u16 = 24;

/// Columns left free at the end of the spinner's line.
const ECHO_ROOM: u16 = 3;

/// The terminal, reported a few columns narrower than it is.
///
/// indicatif pads its line to the last column; the `^C` a terminal echoes at Ctrl-C then wraps
/// onto a new line, and clearing the spinner leaves the old line on screen. With room at the
/// end the echo stays on the spinner's line and is cleared with it. indicatif then only ever
/// draws that one line: text goes out through [`Progress::println`].
#[derive(Debug)]
struct Narrowed(console::Term);

impl TermLike for Narrowed {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(ECHO_ROOM)
    }

    fn height(&self) -> u16 {
        self.0.size().0
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_up(n)
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_down(n)
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_right(n)
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_left(n)
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.0.write_line(s)
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.0.write_str(s)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.0.clear_line()
    }

    fn flush(&self) -> std::io::Result<()> {
        self.0.flush()
    }
}
