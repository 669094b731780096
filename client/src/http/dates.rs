//! The two date formats the API sends: HTTP dates (`Retry-After`) and RFC 3339 timestamps
//! (`created_at`, `finished_at`; a job record's `submitted_at` is written the same way); and
//! deadlines on the monotonic clock.

use std::time::{Duration, Instant, SystemTime};

/// `by` after `now`, or 30 years on when that is past what an `Instant` holds (a timeout of
/// `Duration::MAX`, or a huge interval, means "never").
pub(crate) fn later(now: Instant, by: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(30 * 365 * 24 * 3600);
    now.checked_add(by)
        .or_else(|| now.checked_add(FAR))
        .unwrap_or(now)
}

/// Parses an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn parse_http_date(text: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(text.trim()).ok()
}

/// A parsed RFC 3339 timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timestamp {
    /// The instant.
    pub at: SystemTime,
    /// Whether it had fractional seconds (a timestamp to the second is too coarse to learn
    /// job durations from).
    pub sub_second: bool,
}

/// Parses an RFC 3339 timestamp (`2025-01-02T03:04:05.678Z`, `...+02:00`).
pub(crate) fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    let at: jiff::Timestamp = text.parse().ok()?;
    // The fraction, if any, sits between the seconds and the zone, after the `T`.
    let time = text.split_once(['T', 't', ' '])?.1;
    Some(Timestamp {
        at: SystemTime::from(at),
        sub_second: time.contains('.'),
    })
}

/// Writes an RFC 3339 timestamp in UTC, to the millisecond (`2025-01-02T03:04:05.678Z`);
/// `None` for a time outside the years 0001 to 9999.
pub(crate) fn format_rfc3339(at: SystemTime) -> Option<String> {
    let at = jiff::Timestamp::try_from(at).ok()?;
    Some(format!("{at:.3}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn secs(t: SystemTime) -> f64 {
        t.duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(f64::NAN)
    }

    #[test]
    fn http_dates() {
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(t.map(secs), Some(784_111_777.0));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST"), None);
        assert_eq!(parse_http_date("120"), None);
    }

    #[test]
    fn rfc3339_timestamps() {
        let t = parse_rfc3339("2024-02-29T12:00:00.250Z");
        assert_eq!(t.map(|t| secs(t.at)), Some(1_709_208_000.25));
        assert_eq!(t.map(|t| t.sub_second), Some(true));
        let zoned = parse_rfc3339("2024-02-29T14:00:00+02:00");
        assert_eq!(zoned.map(|t| secs(t.at)), Some(1_709_208_000.0));
        assert_eq!(zoned.map(|t| t.sub_second), Some(false));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn rfc3339_round_trips_to_the_millisecond() {
        let at = UNIX_EPOCH + std::time::Duration::from_millis(1_709_208_000_250);
        let text = format_rfc3339(at);
        assert_eq!(text.as_deref(), Some("2024-02-29T12:00:00.250Z"));
        assert_eq!(text.and_then(|t| parse_rfc3339(&t)).map(|t| t.at), Some(at));
    }
}
