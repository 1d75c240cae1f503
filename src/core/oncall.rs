//! Who is on call at an instant: rotations, periods, overrides, time zones.
//!
//! Everything here is a pure function of the config and an instant `at`; nothing iterates over
//! shifts, so a query costs the same for the first and the ten-thousandth handover.
//!
//! # Rules
//!
//! - **Rotation.** `rotation[k % len]` is on call from handover `k` to handover `k + 1`;
//!   handover 0 is `start`, read as a local time in the schedule's `time_zone`. Before `start`,
//!   nobody is on call.
//! - **Daylight saving (the DST rule).** When `shift` is a whole number of days, handovers
//!   happen at the same local wall-clock time (a 09:00 handover stays 09:00 across DST): handover
//!   `k` is the local date-time `start + k * shift_days` (civil arithmetic), turned into an
//!   instant with jiff's "compatible" disambiguation. A local time that falls in a
//!   spring-forward gap is moved forward by the length of the gap (02:30 becomes 03:30 the day
//!   clocks jump from 02:00 to 03:00); a local time that occurs twice in the fall-back fold
//!   means its first occurrence. Each instant therefore has exactly one person on call, so the
//!   repeated hour is neither paged twice nor skipped. Otherwise (`shift` = 12h, 90m, ...)
//!   handovers happen every `shift` of absolute time from `start`'s instant, so a 12-hour shift
//!   stays 12 real hours long and its local clock time moves by an hour across a transition.
//! - **Period.** With `period`, someone is on call only inside its weekly windows, read in the
//!   schedule's zone (local weekday and wall-clock time). During a fall-back fold both
//!   occurrences of a local time are inside or outside a window together.
//! - **Overrides.** An override `[from, until)` (local times, "compatible" as above) replaces
//!   whoever the rotation names; the period still applies. When overrides overlap, the one listed
//!   last wins.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::{self, Date, DateTime};
use jiff::tz::TimeZone;
use serde::Serialize;

use super::escalation::{Recipient, step_recipients};
use crate::config::{Config, Override, Period, Schedule, Target, Window};

const SECONDS_PER_DAY: u64 = 86_400;

/// The person on call for `schedule` at `at`, if anyone. `periods` is `Config::periods`
/// (a schedule names its period; an unknown name restricts nothing, as load checked it).
pub fn on_call<'a>(
    schedule: &'a Schedule,
    periods: &BTreeMap<String, Period>,
    at: Timestamp,
) -> Option<&'a str> {
    let tz = &schedule.time_zone;
    let local = tz.to_datetime(at);
    if let Some(period) = schedule.period.as_ref().and_then(|p| periods.get(p))
        && !in_period(period, local)
    {
        return None;
    }
    if let Some(o) = active_override(&schedule.overrides, tz, local, at) {
        return Some(o.person.as_str());
    }
    let index = shift_index(schedule, local, at)?;
    let len = schedule.rotation.len() as u64;
    if len == 0 {
        return None;
    }
    schedule
        .rotation
        .get((index % len) as usize)
        .map(String::as_str)
}

/// The instant a local date-time in `tz` means: jiff's "compatible" choice (after a gap, the
/// first of a fold). Saturates at the ends of the supported range instead of failing.
pub fn local_instant(tz: &TimeZone, dt: DateTime) -> Timestamp {
    tz.to_ambiguous_timestamp(dt)
        .compatible()
        .unwrap_or(if dt.year() < 0 {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
}

/// The number of the shift running at `at` (0 from `start`), or `None` before `start`.
/// Arithmetic only: an estimate from the calendar, corrected by at most one handover.
fn shift_index(schedule: &Schedule, local: DateTime, at: Timestamp) -> Option<u64> {
    let tz = &schedule.time_zone;
    let shift_secs = schedule.shift.as_secs();
    let whole_days = schedule.shift.subsec_nanos() == 0
        && shift_secs >= SECONDS_PER_DAY
        && shift_secs % SECONDS_PER_DAY == 0;
    if whole_days {
        let days = (shift_secs / SECONDS_PER_DAY) as i64;
        let start = schedule.start;
        let elapsed_days = epoch_day(local.date()) - epoch_day(start.date());
        let mut k = elapsed_days.div_euclid(days);
        if at < handover(tz, start, k * days) {
            k -= 1;
        }
        return u64::try_from(k).ok();
    }
    let shift_ns = schedule.shift.as_nanos() as i128;
    if shift_ns == 0 {
        return None;
    }
    let start = local_instant(tz, schedule.start);
    let elapsed = at.as_nanosecond() - start.as_nanosecond();
    if elapsed < 0 {
        return None;
    }
    u64::try_from(elapsed / shift_ns).ok()
}

/// The instant of the handover `days` local days after `start`, at `start`'s wall-clock time.
fn handover(tz: &TimeZone, start: DateTime, days: i64) -> Timestamp {
    // `Span::days` panics past ±7,304,484 days (a far-off `start` in a mutated file): try_.
    let date = jiff::Span::new()
        .try_days(days)
        .and_then(|span| start.date().checked_add(span));
    match date {
        Ok(d) => local_instant(tz, d.to_datetime(start.time())),
        Err(_) if days < 0 => Timestamp::MIN,
        Err(_) => Timestamp::MAX,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn epoch_day(date: Date) -> i64 {
    let (y, m, d) = (
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The override covering `at`, the last listed winning. Overrides far from `local` are
/// dismissed by a cheap civil comparison; the close ones are checked as exact instants.
fn active_override<'a>(
    overrides: &'a [Override],
    tz: &TimeZone,
    local: DateTime,
    at: Timestamp,
) -> Option<&'a Override> {
    let day = jiff::Span::new().days(1);
    overrides.iter().rev().find(|o| {
        let near_from = o.from.checked_sub(day).unwrap_or(o.from);
        let near_until = o.until.checked_add(day).unwrap_or(o.until);
        if local < near_from || local >= near_until {
            return false;
        }
        local_instant(tz, o.from) <= at && at < local_instant(tz, o.until)
    })
}

/// Whether a local date-time is inside one of the period's weekly windows.
pub fn in_period(period: &Period, local: DateTime) -> bool {
    let weekday = local.date().weekday().to_monday_zero_offset() as usize;
    let time = local.time();
    period.windows.iter().any(|w| in_window(w, weekday, time))
}

fn in_window(w: &Window, weekday: usize, time: civil::Time) -> bool {
    let yesterday = (weekday + 6) % 7;
    match w.end {
        // Until 24:00: from start to the end of the day.
        None => w.days[weekday] && time >= w.start,
        Some(end) if end > w.start => w.days[weekday] && time >= w.start && time < end,
        // Past midnight: from start today, or until `end` on the day after a listed day.
        Some(end) => (w.days[weekday] && time >= w.start) || (w.days[yesterday] && time < end),
    }
}

/// One step of a policy as `oncalld who` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepOnCall {
    /// 1-based, as in pages and the timeline.
    pub step: u32,
    /// Seconds before the next step is paged.
    pub escalate_after_secs: u64,
    pub targets: Vec<TargetOnCall>,
    /// Every page this step would send at that instant (de-duplicated); empty = skipped.
    pub recipients: Vec<Recipient>,
}

/// One `notify` entry of a step and whom it resolves to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetOnCall {
    /// `schedule:primary`, `person:bob`, `notifier:ops-chat`.
    pub target: String,
    /// The person on call (schedules) or named (persons); `None` for nobody or a notifier.
    pub person: Option<String>,
}

/// Why `who` could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhoError {
    #[error("no escalation policy named {0:?}")]
    UnknownPolicy(String),
}

/// For `oncalld who`: each step of `policy` and whom it would page at `at`.
pub fn who(config: &Config, policy: &str, at: Timestamp) -> Result<Vec<StepOnCall>, WhoError> {
    let p = config
        .policies
        .get(policy)
        .ok_or_else(|| WhoError::UnknownPolicy(policy.to_string()))?;
    let steps = p.steps.iter().enumerate().map(|(i, step)| StepOnCall {
        step: i as u32 + 1,
        escalate_after_secs: step.escalate_after.as_secs(),
        targets: step
            .notify
            .iter()
            .map(|t| TargetOnCall {
                target: t.to_string(),
                person: target_person(config, t, at),
            })
            .collect(),
        recipients: step_recipients(config, step, at),
    });
    Ok(steps.collect())
}

/// The person a target means at `at`: the on-call person for a schedule, the person itself.
pub fn target_person(config: &Config, target: &Target, at: Timestamp) -> Option<String> {
    match target {
        Target::Schedule(name) => config
            .schedules
            .get(name)
            .and_then(|s| on_call(s, &config.periods, at))
            .map(str::to_string),
        Target::Person(name) => Some(name.clone()),
        Target::Notifier(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_days_match_jiff() {
        for (y, m, d) in [(1970, 1, 1), (2026, 3, 29), (2000, 2, 29), (1969, 12, 31)] {
            let date = civil::date(y, m, d);
            let jiff_days = date
                .since((jiff::Unit::Day, civil::date(1970, 1, 1)))
                .unwrap()
                .get_days() as i64;
            assert_eq!(epoch_day(date), jiff_days, "{date}");
        }
    }

    #[test]
    fn handover_out_of_jiff_range_is_a_bound_not_a_panic() {
        let start = civil::date(2026, 1, 5).at(9, 0, 0, 0);
        let tz = TimeZone::UTC;
        assert_eq!(handover(&tz, start, 8_000_000), Timestamp::MAX);
        assert_eq!(handover(&tz, start, -8_000_000), Timestamp::MIN);
        assert_eq!(handover(&tz, start, 0).to_string(), "2026-01-05T09:00:00Z");
    }

    #[test]
    fn overnight_window() {
        let w = Window {
            days: [false, false, false, false, true, false, false],
            start: civil::time(22, 0, 0, 0),
            end: Some(civil::time(6, 0, 0, 0)),
        };
        assert!(in_window(&w, 4, civil::time(23, 0, 0, 0)));
        assert!(in_window(&w, 5, civil::time(5, 59, 0, 0)));
        assert!(!in_window(&w, 5, civil::time(6, 0, 0, 0)));
        assert!(!in_window(&w, 4, civil::time(5, 0, 0, 0)));
    }
}
