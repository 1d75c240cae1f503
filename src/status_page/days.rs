//! The 90-day bar: per local day, how long a check was DOWN and how many times it went DOWN,
//! from its stored transitions. Pure: `now` and the zone are given.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

use crate::core::check_state::CheckState;
use crate::core::model::CheckTransitionRecord;

/// How many days the bar shows (today included).
pub const DAYS: usize = 90;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    /// `2026-12-01`, in the daemon's zone.
    pub date: String,
    /// Share of the day (so far, for today) the check was not DOWN; `None`: no history yet.
    pub up_percent: Option<f64>,
    pub down_seconds: i64,
    /// Times it went DOWN that day.
    pub incidents: u32,
}

/// The [`DAYS`] local days ending today: names and bounds (ms), worked out once per snapshot
/// rather than once per check.
pub struct Calendar {
    days: Vec<(String, i64, i64)>,
}

impl Calendar {
    pub fn new(now: Timestamp, zone: &TimeZone) -> Self {
        let today = now.to_zoned(zone.clone()).date();
        let days = (0..DAYS as i64)
            .rev()
            .map(|back| {
                let date = today.checked_sub(back.days()).unwrap_or(today);
                let start = day_start(date, zone);
                let end =
                    day_start(date.tomorrow().unwrap_or(date), zone).min(now.as_millisecond());
                (date.to_string(), start, end)
            })
            .collect();
        Calendar { days }
    }
}

/// The [`DAYS`] days ending today. `transitions` are this check's, sorted, starting at most
/// [`DAYS`] days back; `history_since` is when the daemon's history starts (days before it
/// have no data).
pub fn days(
    transitions: &[&CheckTransitionRecord],
    history_since: Timestamp,
    calendar: &Calendar,
) -> Vec<Day> {
    let mut down_since = match transitions.first() {
        Some(t) if t.from == CheckState::Down => Some(i64::MIN),
        _ => None,
    };
    let mut next = transitions.iter().peekable();
    let mut out = Vec::with_capacity(DAYS);
    for (date, start, end) in &calendar.days {
        let (start, end) = (*start, *end);
        let mut down_ms = 0;
        let mut incidents = 0;
        while let Some(t) = next.next_if(|t| t.at.as_millisecond() < end) {
            let at = t.at.as_millisecond();
            match (down_since, t.to == CheckState::Down) {
                (None, true) => {
                    down_since = Some(at);
                    if at >= start {
                        incidents += 1;
                    }
                }
                (Some(since), false) => {
                    down_ms += (at - since.max(start)).max(0);
                    down_since = None;
                }
                _ => {}
            }
        }
        if let Some(since) = down_since {
            down_ms += (end - since.max(start)).max(0);
        }
        let counted_from = start.max(history_since.as_millisecond());
        let span = end - counted_from;
        let up_percent = (span > 0).then(|| {
            let down = down_ms.min(span);
            100.0 * (span - down) as f64 / span as f64
        });
        out.push(Day {
            date: date.clone(),
            up_percent,
            down_seconds: down_ms / 1000,
            incidents,
        });
    }
    out
}

/// The whole window's share of time not DOWN, over the days with data.
pub fn overall(days: &[Day]) -> Option<f64> {
    let with_data: Vec<f64> = days.iter().filter_map(|d| d.up_percent).collect();
    (!with_data.is_empty()).then(|| with_data.iter().sum::<f64>() / with_data.len() as f64)
}

fn day_start(date: jiff::civil::Date, zone: &TimeZone) -> i64 {
    date.to_zoned(zone.clone())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(i64::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(at: &str, from: CheckState, to: CheckState) -> CheckTransitionRecord {
        CheckTransitionRecord {
            check: "web".into(),
            at: at.parse().unwrap(),
            from,
            to,
            message: String::new(),
        }
    }

    #[test]
    fn a_day_with_an_hour_down_and_days_before_history() {
        use CheckState::{Down, Up};
        let ts = [
            t("2026-12-01T10:00:00Z", Up, Down),
            t("2026-12-01T11:00:00Z", Down, Up),
            t("2026-12-02T23:00:00Z", Up, Down),
        ];
        let refs: Vec<&CheckTransitionRecord> = ts.iter().collect();
        let now: Timestamp = "2026-12-03T06:00:00Z".parse().unwrap();
        let since: Timestamp = "2026-11-30T00:00:00Z".parse().unwrap();
        let d = days(&refs, since, &Calendar::new(now, &TimeZone::UTC));
        assert_eq!(d.len(), DAYS);
        let last4: Vec<_> = d[DAYS - 4..].iter().collect();
        assert_eq!(last4[0].date, "2026-11-30");
        assert_eq!(last4[0].up_percent, Some(100.0));
        assert_eq!(last4[1].down_seconds, 3600);
        assert_eq!(last4[1].incidents, 1);
        assert!((last4[1].up_percent.unwrap() - 100.0 * 23.0 / 24.0).abs() < 1e-9);
        // Down from 23:00 into today: one hour yesterday, six hours today (so far: all of it).
        assert_eq!(last4[2].down_seconds, 3600);
        assert_eq!(last4[3].down_seconds, 6 * 3600);
        assert_eq!(last4[3].incidents, 0);
        assert_eq!(last4[3].up_percent, Some(0.0));
        assert_eq!(d[0].up_percent, None, "before the history starts");
    }
}
