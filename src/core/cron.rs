//! Five-field cron expressions (`30 3 * * *`) evaluated in a time zone, DST-correct.
//!
//! Parsing and matching are the `croner` crate's (POSIX/Vixie semantics, names, ranges,
//! steps, `@daily`-style macros). The crate works on chrono date-times; the zone handling is
//! ours, with jiff: the search runs on *local civil time* (a chrono UTC value standing for a
//! wall-clock reading) and each match is placed in the zone with jiff's "compatible" rule, as
//! cron daemons do:
//!
//! - a local time skipped by a spring-forward change (02:30 on 2026-03-29 in Europe/Paris)
//!   fires at the same distance after the gap (03:30 CEST);
//! - a local time that occurs twice (02:30 on 2026-10-25) fires once, at its first occurrence.

use chrono::{Datelike, NaiveDate, TimeZone as _, Timelike, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// A parsed cron expression with the text it came from (shown in messages).
#[derive(Clone)]
pub struct CronExpr {
    text: String,
    /// Shared: a config is cloned on every reload, the parsed pattern is large.
    cron: std::sync::Arc<Cron>,
}

impl std::fmt::Debug for CronExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CronExpr({:?})", self.text)
    }
}

impl PartialEq for CronExpr {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// How many matches may fall before `after` when placed in the zone (repeated hours): a
/// bound on the search loop, far above what any zone needs.
const MAX_SKIPS: usize = 16;

impl CronExpr {
    /// Five fields (minute hour day-of-month month day-of-week) or a macro (`@daily`).
    pub fn parse(text: &str) -> Result<CronExpr, String> {
        let text = text.trim();
        let fields = text.split_whitespace().count();
        if !text.starts_with('@') && fields != 5 {
            return Err(format!(
                "invalid cron {text:?}: expected 5 fields (minute hour day month weekday), found {fields}"
            ));
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build();
        let cron = parser
            .parse(text)
            .map_err(|e| format!("invalid cron {text:?}: {e}"))?;
        let expr = CronExpr {
            text: text.to_string(),
            cron: std::sync::Arc::new(cron),
        };
        // A pattern that never matches (`0 0 31 2 *`) would leave a check never expected.
        if expr
            .next_after(Timestamp::UNIX_EPOCH, &TimeZone::UTC)
            .is_none()
        {
            return Err(format!("cron {text:?} never matches"));
        }
        Ok(expr)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first time strictly after `after` at which the expression matches, read in `zone`.
    pub fn next_after(&self, after: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
        let mut from = zone.to_datetime(after);
        for _ in 0..MAX_SKIPS {
            let local = self
                .cron
                .find_next_occurrence(&to_chrono(from)?, false)
                .ok()?;
            let civil = from_chrono(local)?;
            let at = zone.to_ambiguous_timestamp(civil).compatible().ok()?;
            if at > after {
                return Some(at);
            }
            from = civil;
        }
        None
    }
}

/// A civil date-time as a chrono UTC value (standing for the same wall-clock reading).
fn to_chrono(dt: DateTime) -> Option<chrono::DateTime<Utc>> {
    let month = u32::try_from(dt.month()).ok()?;
    let day = u32::try_from(dt.day()).ok()?;
    let naive = NaiveDate::from_ymd_opt(i32::from(dt.year()), month, day)?.and_hms_nano_opt(
        u32::try_from(dt.hour()).ok()?,
        u32::try_from(dt.minute()).ok()?,
        u32::try_from(dt.second()).ok()?,
        u32::try_from(dt.subsec_nanosecond()).ok()?,
    )?;
    Some(Utc.from_utc_datetime(&naive))
}

fn from_chrono(dt: chrono::DateTime<Utc>) -> Option<DateTime> {
    DateTime::new(
        i16::try_from(dt.year()).ok()?,
        i8::try_from(dt.month()).ok()?,
        i8::try_from(dt.day()).ok()?,
        i8::try_from(dt.hour()).ok()?,
        i8::try_from(dt.minute()).ok()?,
        i8::try_from(dt.second()).ok()?,
        0,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris() -> TimeZone {
        TimeZone::get("Europe/Paris").expect("tzdb has Europe/Paris")
    }

    fn at(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    #[test]
    fn parse_rejects_what_is_not_five_fields() {
        assert!(CronExpr::parse("30 3 * * *").is_ok());
        assert!(CronExpr::parse("@daily").is_ok());
        assert!(CronExpr::parse("0 30 3 * * *").is_err(), "seconds field");
        assert!(CronExpr::parse("30 3 * *").is_err());
        assert!(CronExpr::parse("61 3 * * *").is_err());
        assert!(CronExpr::parse("").is_err());
        assert!(CronExpr::parse("0 0 31 2 *").is_err(), "never matches");
    }

    #[test]
    fn daily_job_across_the_2026_paris_dst_changes() {
        let c = CronExpr::parse("30 3 * * *").expect("valid");
        let z = paris();
        // (after, expected next) in UTC.
        let table = [
            // Spring forward 2026-03-29 02:00 CET -> 03:00 CEST: 03:30 local is 01:30Z.
            ("2026-03-28T02:31:00Z", "2026-03-29T01:30:00Z"),
            ("2026-03-29T01:30:00Z", "2026-03-30T01:30:00Z"),
            // Fall back 2026-10-25 03:00 CEST -> 02:00 CET: 03:30 local is 02:30Z.
            ("2026-10-24T01:31:00Z", "2026-10-25T02:30:00Z"),
            ("2026-10-25T02:30:00Z", "2026-10-26T02:30:00Z"),
        ];
        for (after, want) in table {
            assert_eq!(c.next_after(at(after), &z), Some(at(want)), "after {after}");
        }
    }

    #[test]
    fn skipped_and_repeated_local_times() {
        let z = paris();
        let c = CronExpr::parse("30 2 * * *").expect("valid");
        // 02:30 does not exist on 2026-03-29: fires at 03:30 CEST (01:30Z).
        let next = c.next_after(at("2026-03-28T12:00:00Z"), &z);
        assert_eq!(next, Some(at("2026-03-29T01:30:00Z")));
        // 02:30 happens twice on 2026-10-25: once, the first (00:30Z), not again at 01:30Z.
        let first = c.next_after(at("2026-10-24T12:00:00Z"), &z);
        assert_eq!(first, Some(at("2026-10-25T00:30:00Z")));
        let after_first = c.next_after(at("2026-10-25T00:30:00Z"), &z);
        assert_eq!(after_first, Some(at("2026-10-26T01:30:00Z")));
    }
}
