//! Handoff notices (SPEC §13): who comes on call at which handover, and until when.
//!
//! # Rules
//!
//! - The roster of a schedule changes only at its *boundaries*: each rotation handover
//!   (DST-correct, see [`crate::core::oncall`]) and each override's start and end.
//! - A *handoff* is a boundary where the rostered person ([`rostered`]: the override, else the
//!   rotation, whatever the period) changes to someone: that person is paged, with the
//!   instant the roster next changes away from them (the shift's end) — so a shift an override
//!   fully covers announces nobody, and an override in the middle of a shift announces the
//!   override's person, then the rotation's person again when it ends.
//! - Pure functions of the schedule and an instant: the engine decides when to page.

use jiff::{SignedDuration, Timestamp};

use super::oncall::{local_instant, next_rotation_handover, rostered};
use crate::config::Schedule;

/// Most boundaries looked at in one search (a one-person rotation never changes hands).
const MAX_SCAN: usize = 2_000;

/// Someone coming on call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    pub person: String,
    /// The handover instant.
    pub at: Timestamp,
    /// When the roster next names someone else (or nobody); `None`: not within reach.
    pub until: Option<Timestamp>,
}

/// The first boundary strictly after `after`.
pub fn next_boundary(schedule: &Schedule, after: Timestamp) -> Option<Timestamp> {
    let tz = &schedule.time_zone;
    let mut best = next_rotation_handover(schedule, after);
    for o in &schedule.overrides {
        for t in [local_instant(tz, o.from), local_instant(tz, o.until)] {
            if t > after && best.is_none_or(|b| t < b) {
                best = Some(t);
            }
        }
    }
    best
}

/// The first handoff strictly after `after`.
pub fn next_handoff(schedule: &Schedule, after: Timestamp) -> Option<Handoff> {
    let mut t = after;
    for _ in 0..MAX_SCAN {
        t = next_boundary(schedule, t)?;
        let before = t
            .checked_sub(SignedDuration::from_nanos(1))
            .ok()
            .and_then(|b| rostered(schedule, b));
        let Some(person) = rostered(schedule, t) else {
            continue;
        };
        if before != Some(person) {
            return Some(Handoff {
                person: person.to_string(),
                at: t,
                until: change_after(schedule, t, person),
            });
        }
    }
    None
}

/// The first boundary after `t` where the roster stops naming `person`.
fn change_after(schedule: &Schedule, mut t: Timestamp, person: &str) -> Option<Timestamp> {
    for _ in 0..MAX_SCAN {
        t = next_boundary(schedule, t)?;
        if rostered(schedule, t) != Some(person) {
            return Some(t);
        }
    }
    None
}

/// `ON CALL primary from Mon 09:00 until Mon 09:00 (Europe/Paris)`.
pub fn notice_text(name: &str, schedule: &Schedule, h: &Handoff) -> String {
    let tz = &schedule.time_zone;
    let local = |t: Timestamp| t.to_zoned(tz.clone()).strftime("%a %H:%M").to_string();
    let until = h.until.map_or_else(|| "further notice".to_string(), local);
    let zone = tz.iana_name().unwrap_or("local time");
    format!("ON CALL {name} from {} until {until} ({zone})", local(h.at))
}
