//! `--timeout` values (`90s`, `5m`, `1h30m`, `500ms`, or plain seconds) and the deadline one
//! sets for a whole command.

use std::time::{Duration, Instant};

use clap::ArgMatches;
use runcomfy::Error;
use runcomfy::error::DownloadFailure;

/// Parses a duration such as `30s`, `5m`, `1h30m`, `1.5s`, `250ms` (humantime's grammar); a
/// bare number is seconds, which humantime lacks and scripts pass.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not a duration (examples: 90, 30s, 5m, 1h30m, 500ms)");
    if let Ok(secs) = text.parse::<f64>() {
        // Negative, NaN and too large fail here.
        return Duration::try_from_secs_f64(secs).map_err(|_| bad());
    }
    // humantime's `M` is months, and it takes years: no deadline of a command, and `5M` is
    // more likely minutes mistyped than five months.
    let units = text.split(|c: char| !c.is_ascii_alphabetic());
    if let Some(unit) = units
        .into_iter()
        .find(|unit| matches!(*unit, "M" | "month" | "months" | "y" | "year" | "years"))
    {
        return Err(format!(
            "{text:?}: `{unit}` is months or years, too long for this; minutes are `m` (examples: \
             90, 30s, 5m, 1h30m, 500ms)"
        ));
    }
    humantime::parse_duration(text).map_err(|_| bad())
}

/// A command's `--timeout`: one deadline for all it does, counted from its start; none when
/// the flag is not given.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Option<(Duration, Instant)>);

impl Deadline {
    /// The `--timeout` of `matches`, counted from `start`; none when it ends past what the
    /// clock can count (`--timeout 1e19`: never).
    pub fn of(matches: &ArgMatches, start: Instant) -> Self {
        Deadline(
            matches
                .get_one::<Duration>("timeout")
                .and_then(|after| Some((*after, start.checked_add(*after)?))),
        )
    }

    /// The `--timeout` given.
    pub fn after(&self) -> Option<Duration> {
        self.0.map(|(after, _)| after)
    }

    /// What is left of it.
    pub fn remaining(&self) -> Option<Duration> {
        self.0
            .map(|(_, end)| end.saturating_duration_since(Instant::now()))
    }

    /// `options` given what is left of it, through their `timeout` setter (a wait's, a
    /// download's); as they are without a deadline.
    pub fn bound<T>(&self, options: T, timeout: fn(T, Duration) -> T) -> T {
        match self.remaining() {
            Some(left) => timeout(options, left),
            None => options,
        }
    }

    /// A wait's [`Error::Timeout`] or a download's deadline, which counted only what was left
    /// of the deadline (`2.99077661s`), said with `--timeout` itself; any other error as it is.
    pub fn named_in(&self, err: Error) -> Error {
        match (err, self.after()) {
            (
                Error::Download {
                    url,
                    reason: DownloadFailure::TimedOut(_),
                },
                Some(after),
            ) => Error::Download {
                url,
                reason: DownloadFailure::TimedOut(after),
            },
            (
                Error::Timeout {
                    request_id, cancel, ..
                },
                Some(after),
            ) => Error::Timeout {
                request_id,
                after,
                cancel,
            },
            (
                Error::NotAllSaved {
                    saved,
                    failure,
                    others,
                },
                Some(_),
            ) => Error::NotAllSaved {
                saved,
                failure: Box::new(self.named_in(*failure)),
                others,
            },
            (err, _) => err,
        }
    }

    /// Runs `work` within it; `Err(--timeout)` when it passed first.
    pub async fn within<T>(&self, work: impl Future<Output = T>) -> Result<T, Duration> {
        match self.0 {
            Some((after, end)) => tokio::time::timeout_at(end.into(), work)
                .await
                .map_err(|_| after),
            None => Ok(work.await),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse("").is_err());
        assert!(parse("abc").is_err());
        assert!(parse("5 parsecs").is_err());
        assert!(parse("-3").is_err());
        assert!(parse("m").is_err());
    }

    #[test]
    fn months_and_years_are_refused_saying_minutes_are_m() {
        for text in ["5M", "1month", "2 months", "1y", "1year"] {
            let err = parse(text).expect_err(text);
            assert!(err.contains("minutes are `m`"), "{err}");
        }
        assert_eq!(parse("5m 30s"), Ok(Duration::from_secs(330)));
    }
}
