//! The wall clock as records and job files date events: never earlier than a time it gave
//! before in this process.
//!
//! A record's times (submitted, started, noticed) are read at different moments of one run; a
//! wall clock set back between two of them (by hand, or a time sync) would date a job's start
//! before its submit. `Instant` alone would not do either: it stops while the machine sleeps,
//! so a job left running over a laptop's night would end hours early. So the wall clock is
//! read, and held at the latest time given until it passes it again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now on the wall clock, or the latest time this function gave if the clock has since gone
/// back: times it gives in one process never decrease.
pub fn now() -> SystemTime {
    static CLOCK: Held = Held::new();
    CLOCK.hold(SystemTime::now())
}

/// The latest time given, in nanoseconds since the Unix epoch (0: none yet).
struct Held(AtomicU64);

impl Held {
    const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    /// `read`, or the latest time given if it is later.
    fn hold(&self, read: SystemTime) -> SystemTime {
        // Before 1970 or after 2554 the clock is not worth holding to: it is given as read.
        let Some(nanos) = read
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| u64::try_from(d.as_nanos()).ok())
        else {
            return read;
        };
        let latest = self.0.fetch_max(nanos, Ordering::Relaxed).max(nanos);
        UNIX_EPOCH + Duration::from_nanos(latest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_never_go_back() {
        let clock = Held::new();
        let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let hour = Duration::from_secs(3600);
        assert_eq!(clock.hold(at), at);
        // The clock set back an hour: held at the latest until it passes it.
        assert_eq!(clock.hold(at - hour), at);
        assert_eq!(clock.hold(at + hour), at + hour);
        let before_1970 = UNIX_EPOCH - hour;
        assert_eq!(clock.hold(before_1970), before_1970);
        assert!(now() <= now());
    }
}
