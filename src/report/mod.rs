//! Postmortem drafts and on-call reports (MTTA, MTTR, availability, night pages).
//!
//! Everything here is pure: the store reads the rows, the API or CLI hands them in together
//! with the display zone and `now`, and gets a `String` or a [`stats::Report`] back. No I/O and
//! no clock reads, so every figure can be checked by a plain test with hand-computed values,
//! and the same numbers come out of `oncalld report`, `--json` and `GET /v1/report`.
//!
//! - [`explain`]: the decision chain of one incident, non-events and reasons (SPEC §13).
//! - [`postmortem`]: the Markdown draft of one incident (SPEC §7).
//! - [`stats`]: the figures of a window (SPEC §8), serialisable for `--json`.
//! - [`table`]: those figures as aligned text tables, with their definitions underneath.

mod availability;
pub mod explain;
mod facts;
pub mod gather;
pub mod postmortem;
pub mod stats;
pub mod table;
mod timeline;

pub use postmortem::PostmortemInput;
pub use stats::{Report, ReportInput};

use std::hash::{BuildHasherDefault, Hasher};

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// A length of time as people say it: `1h 4m 12s`, `2d 3h`, `45s`, `0s`.
///
/// Units that are zero are left out so short spans stay short; sub-second parts are dropped
/// (nobody acts on milliseconds) and negative spans (clock skew) show as `0s`.
pub fn human_seconds(seconds: i64) -> String {
    if seconds <= 0 {
        return "0s".to_string();
    }
    let parts = [
        (seconds / 86_400, "d"),
        (seconds % 86_400 / 3_600, "h"),
        (seconds % 3_600 / 60, "m"),
        (seconds % 60, "s"),
    ];
    let words: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    words.join(" ")
}

/// [`human_seconds`] of the time from `start` to `end`.
pub fn human_between(start: Timestamp, end: Timestamp) -> String {
    human_seconds(end.duration_since(start).as_secs())
}

/// `2026-11-20 14:03:07 CET`: a full local time with the zone's abbreviation, for the places
/// where a reader needs the time on its own (summary lines, report headers).
pub fn local_time(at: Timestamp, zone: &TimeZone) -> String {
    let dt = zone.to_datetime(at);
    let info = zone.to_offset_info(at);
    format!(
        "{} {}",
        dt.strftime("%Y-%m-%d %H:%M:%S"),
        info.abbreviation()
    )
}

/// The zone as a reader knows it: its IANA name (`Europe/Paris`), else its offset now.
pub fn zone_name(zone: &TimeZone, at: Timestamp) -> String {
    match zone.iana_name() {
        Some(name) => name.to_string(),
        None => format!("UTC{}", zone.to_offset(at)),
    }
}

/// A hash map keyed by short names (checks, people) with a fast non-cryptographic hash.
///
/// The report looks a name up for each of up to a million rows; SipHash and B-tree string
/// compares were most of its time. The keys come from our own config and store, so the flood
/// resistance SipHash buys is not needed here.
pub(crate) type NameMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The Fx hash (as in rustc): rotate, xor a word, multiply.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            if let Ok(word) = <[u8; 8]>::try_from(word) {
                self.add(u64::from_le_bytes(word));
            }
        }
        let mut tail = 0u64;
        for (i, &byte) in words.remainder().iter().enumerate() {
            tail |= u64::from(byte) << (8 * i);
        }
        self.add(tail);
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_u64(&mut self, word: u64) {
        self.add(word);
    }

    fn write_usize(&mut self, word: usize) {
        self.add(word as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Text from outside (probe output, notes) on one line, so it cannot break the Markdown, with
/// control characters replaced ([`crate::text::sanitize_line`]) so it cannot drive the
/// terminal the draft is printed on, and URL passwords starred ([`crate::redact`]).
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    let out = match crate::text::sanitize_line(&out) {
        std::borrow::Cow::Borrowed(_) => out,
        std::borrow::Cow::Owned(clean) => clean,
    };
    crate::redact::redact_urls(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_seconds_leaves_out_zero_units() {
        assert_eq!(human_seconds(0), "0s");
        assert_eq!(human_seconds(-5), "0s");
        assert_eq!(human_seconds(45), "45s");
        assert_eq!(human_seconds(3_852), "1h 4m 12s");
        assert_eq!(human_seconds(3_600), "1h");
        assert_eq!(human_seconds(2 * 86_400 + 3 * 3_600 + 7), "2d 3h 7s");
    }

    #[test]
    fn one_line_collapses_newlines() {
        assert_eq!(one_line("  a\nb \t c\r\n"), "a b c");
    }

    #[test]
    fn one_line_replaces_controls_and_stars_passwords() {
        let s = one_line("CRITICAL - \x1b[2J\x1b]52;c;aGk=\x07 bad\r.\r from http://u:pw@h/");
        assert_eq!(s, "CRITICAL - �[2J�]52;c;aGk=� bad . from http://u:***@h/");
    }
}
