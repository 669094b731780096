//! The two date formats the API sends: HTTP dates (`Retry-After`) and RFC 3339 timestamps
//! (`created_at`, `finished_at`). Small enough to parse here rather than pull in a date crate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only HTTP date format senders
/// may use (RFC 9110 §5.6.7).
pub(crate) fn parse_http_date(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let (_weekday, rest) = text.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: u32 = parts.next()?.parse().ok()?;
    let month = month_number(parts.next()?)?;
    let year: i64 = parts.next()?.parse().ok()?;
    let (hour, minute, second) = parse_hms(parts.next()?)?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    to_system_time(year, month, day, hour, minute, second, 0)
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

/// Parses an RFC 3339 timestamp (`2025-01-02T03:04:05.678Z`, `...+02:00`; a space instead of
/// `T` is accepted).
pub(crate) fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    let (date, time) = text.split_once(['T', 't', ' '])?;
    let mut ymd = date.split('-');
    let year: i64 = ymd.next()?.parse().ok()?;
    let month: u32 = ymd.next()?.parse().ok()?;
    let day: u32 = ymd.next()?.parse().ok()?;
    if ymd.next().is_some() {
        return None;
    }
    // Split the zone off: `Z`, `+hh:mm` or `-hh:mm` (a `-` can only be the zone here).
    let (clock, offset_secs) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, 0i64)
    } else {
        let at = time.rfind(['+', '-'])?;
        let (clock, zone) = time.split_at(at);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (zh, zm) = zone.get(1..)?.split_once(':')?;
        let zh: i64 = zh.parse().ok()?;
        let zm: i64 = zm.parse().ok()?;
        (clock, sign * (zh * 3600 + zm * 60))
    };
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (clock, None),
    };
    let (hour, minute, second) = parse_hms(hms)?;
    let nanos = match fraction {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            // Keep nine digits at most, padded: ".5" is 500 ms.
            let mut padded: String = digits.chars().take(9).collect();
            while padded.len() < 9 {
                padded.push('0');
            }
            padded.parse().ok()?
        }
        Some(_) => return None,
        None => 0,
    };
    let local = to_system_time(year, month, day, hour, minute, second, nanos)?;
    let offset = Duration::from_secs(offset_secs.unsigned_abs());
    let at = if offset_secs >= 0 {
        local.checked_sub(offset)?
    } else {
        local.checked_add(offset)?
    };
    Some(Timestamp {
        at,
        sub_second: fraction.is_some(),
    })
}

fn parse_hms(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split(':');
    let hour: u32 = parts.next()?.parse().ok()?;
    let minute: u32 = parts.next()?.parse().ok()?;
    let second: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some((hour, minute, second))
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    MONTHS
        .iter()
        .position(|m| *m == name)
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn to_system_time(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
) -> Option<SystemTime> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    let secs = u64::try_from(secs).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let month = i64::from(month);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
