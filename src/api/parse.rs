//! Parsing of user-typed values shared by the server (path and query strings) and the CLI
//! (arguments), so `#17`, `17` and `"2h 30m"` mean the same on both sides.

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// An incident or silence id: `17` or `#17`. Ids run from 1 to 2^63-1 (they are SQLite
/// integers); anything outside is refused here, so it never reaches the store as a bad row.
pub fn parse_id(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.strip_prefix('#').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "invalid id {s:?}: expected a number such as 17 or #17"
        ));
    }
    match digits.parse::<u64>() {
        Ok(n) if (1..=MAX_ID).contains(&n) => Ok(n),
        _ => Err(format!("bad id {s:?}: ids run from 1 to {MAX_ID}")),
    }
}

/// The largest id: SQLite stores ids as signed 64-bit integers.
pub const MAX_ID: u64 = i64::MAX as u64;

/// A humantime duration ("30s", "7d", "1h 30m"); zero is refused because every use of a
/// duration here (silence length, look-back window) would then be empty.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("invalid duration {s:?}: {e} (examples: 30m, 2h, 7d, 1h 30m)"))?;
    if d.is_zero() {
        return Err(format!("invalid duration {s:?}: must be more than zero"));
    }
    Ok(d)
}

/// An RFC 3339 instant (`2026-12-24T03:00:00Z`, `2026-12-24T03:00+01:00`).
pub fn parse_timestamp(s: &str) -> Result<Timestamp, String> {
    s.trim().parse::<Timestamp>().map_err(|e| {
        format!("invalid time {s:?}: {e} (expected RFC 3339, e.g. 2026-12-24T03:00:00Z)")
    })
}

/// An RFC 3339 instant, or a civil time (`2026-12-24T03:00`, `2026-12-24 03:00`) read in
/// `zone`: what `oncalld who --at` accepts.
pub fn parse_time_in(s: &str, zone: &TimeZone) -> Result<Timestamp, String> {
    if let Ok(ts) = s.trim().parse::<Timestamp>() {
        return Ok(ts);
    }
    let civil: jiff::civil::DateTime = s.trim().parse().map_err(|_| {
        format!(
            "invalid time {s:?}: expected RFC 3339 (2026-12-24T03:00:00Z) or a local time \
             (2026-12-24T03:00)"
        )
    })?;
    zone.to_ambiguous_timestamp(civil)
        .compatible()
        .map_err(|e| format!("invalid time {s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(parse_id("17"), Ok(17));
        assert_eq!(parse_id("#17"), Ok(17));
        assert_eq!(parse_id(" #3 "), Ok(3));
        for bad in [
            "abc",
            "",
            "#",
            "-1",
            "1.5",
            "##1",
            "99999999999999999999999",
            "0",
            "#00",
            "9223372036854775808",
            "18446744073709551615",
        ] {
            assert!(parse_id(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_id("9223372036854775807"), Ok(i64::MAX as u64));
        assert!(
            parse_id("18446744073709551615")
                .unwrap_err()
                .starts_with("bad id")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86400)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0s").is_err());
    }

    #[test]
    fn times() {
        let utc = TimeZone::UTC;
        let want: Timestamp = "2026-12-24T03:00:00Z".parse().unwrap();
        assert_eq!(parse_time_in("2026-12-24T03:00:00Z", &utc), Ok(want));
        assert_eq!(parse_time_in("2026-12-24T03:00", &utc), Ok(want));
        let paris = TimeZone::fixed(jiff::tz::offset(1));
        assert_eq!(
            parse_time_in("2026-12-24T04:00", &paris),
            Ok(want),
            "civil time read in the zone"
        );
        assert!(parse_time_in("tomorrow", &utc).is_err());
        assert!(parse_timestamp("2026-12-24T03:00").is_err());
    }
}
