//! `--timeout` values: `90s`, `5m`, `1h30m`, `500ms`, or plain seconds.

use std::time::Duration;

/// Parses a duration such as `30s`, `5m`, `1h30m`, `1.5s`, `250ms` (humantime's grammar); a
/// bare number is seconds, which humantime lacks and scripts pass.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not a duration (examples: 90, 30s, 5m, 1h30m, 500ms)");
    if let Ok(secs) = text.parse::<f64>() {
        // Negative, NaN and too large fail here.
        return Duration::try_from_secs_f64(secs).map_err(|_| bad());
    }
    humantime::parse_duration(text).map_err(|_| bad())
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
}
