//! The ranges values must be in (SPEC §9): what keeps a careless config from paging nobody,
//! paging forever or probing in a tight loop.

use std::time::Duration;

/// The allowed range of a duration key; `max: None` means no upper bound.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub min: Duration,
    pub max: Option<Duration>,
}

const fn bounds(min: Duration, max: Option<Duration>) -> Bounds {
    Bounds { min, max }
}

const DAY: u64 = 86_400;
/// `interval` and `retry_interval`: probing faster than once a second is a fork bomb with
/// extra steps, slower than weekly is not monitoring.
pub const PROBE_INTERVAL: Bounds =
    bounds(Duration::from_secs(1), Some(Duration::from_secs(7 * DAY)));
/// `timeout` of checks and notifiers.
pub const TIMEOUT: Bounds = bounds(Duration::from_millis(10), Some(Duration::from_secs(600)));
/// `escalate_after` and `ack_timeout`: below a second pages in a loop, above a week never.
pub const ESCALATION: Bounds = bounds(Duration::from_secs(1), Some(Duration::from_secs(7 * DAY)));
/// An alertmanager notifier's `resend`: often enough that Alertmanager keeps the alert, not
/// so often that a fleet floods it.
/// `group_wait` of a policy (SPEC §12): a digest waits at most an hour.
pub const GROUP_WAIT: Bounds = bounds(Duration::from_secs(1), Some(Duration::from_secs(3600)));
pub const RESEND: Bounds = bounds(Duration::from_secs(10), Some(Duration::from_secs(3600)));
/// `resend` when absent.
pub const RESEND_DEFAULT: Duration = Duration::from_secs(60);
/// An HTTP check's `cert_expiry`: warn at least an hour ahead, at most a year.
pub const CERT_EXPIRY: Bounds = bounds(
    Duration::from_secs(3600),
    Some(Duration::from_secs(365 * DAY)),
);
/// A schedule's `shift`.
pub const SHIFT: Bounds = bounds(Duration::from_secs(60), None);
/// `retries`, `recoveries` (from 1) and a policy's `repeat` (from 0) are at most this.
pub const MAX_COUNT: i64 = 100;
/// Names are at most this many characters: they go into commands, URLs, logs and pages.
pub const MAX_NAME: usize = 128;

/// `"10ms"`, `"1s"`, `"10m"`, `"7d"`: a bound as a user would write it.
pub fn short_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_nanos() != 0 || secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    match secs {
        s if s % DAY == 0 => format!("{}d", s / DAY),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_shown_as_written() {
        assert_eq!(short_duration(TIMEOUT.min), "10ms");
        assert_eq!(short_duration(Duration::from_secs(1)), "1s");
        assert_eq!(short_duration(Duration::from_secs(600)), "10m");
        assert_eq!(short_duration(Duration::from_secs(7 * DAY)), "7d");
        assert_eq!(short_duration(Duration::from_secs(3600)), "1h");
    }
}
