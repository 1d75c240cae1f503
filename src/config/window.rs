//! The weekly window language of `[periods.NAME] windows`.

use jiff::civil;

use super::types::Window;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Parse one window.
///
/// Grammar (case-insensitive, words separated by spaces):
///
/// ```text
/// window = days " " time "-" time
/// days   = "daily" | item ("," item)*
/// item   = day | day "-" day          ; a range may wrap: "fri-mon" = fri,sat,sun,mon
/// day    = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun"
/// time   = HH ":" MM                  ; 00:00-23:59; "24:00" only as the end
/// ```
///
/// Examples: `"mon-fri 09:00-18:00"`, `"sat,sun 00:00-24:00"`, `"daily 08:00-20:00"`,
/// `"fri 22:00-06:00"`. The days say when a window *starts*; when the end is not after the
/// start the window runs past midnight (`"fri 22:00-06:00"` is Friday 22:00 to Saturday
/// 06:00, and an equal start and end means 24 hours).
pub fn parse_window(s: &str) -> Result<Window, String> {
    let lower = s.trim().to_ascii_lowercase();
    let mut words = lower.split_whitespace();
    let (Some(days), Some(times), None) = (words.next(), words.next(), words.next()) else {
        return Err(format!(
            "invalid window {s:?}: expected \"DAYS HH:MM-HH:MM\" like \"mon-fri 09:00-18:00\""
        ));
    };
    let days = parse_days(days).map_err(|e| format!("invalid window {s:?}: {e}"))?;
    let (start, end) = times
        .split_once('-')
        .ok_or_else(|| format!("invalid window {s:?}: expected a time range like 09:00-18:00"))?;
    let start = match parse_time(start) {
        Ok(Some(t)) => t,
        Ok(None) => return Err(format!("invalid window {s:?}: 24:00 can only end a window")),
        Err(e) => return Err(format!("invalid window {s:?}: {e}")),
    };
    let end = parse_time(end).map_err(|e| format!("invalid window {s:?}: {e}"))?;
    Ok(Window { days, start, end })
}

fn day_index(word: &str) -> Result<usize, String> {
    DAYS.iter().position(|d| *d == word).ok_or_else(|| {
        format!("unknown day {word:?} (use mon, tue, wed, thu, fri, sat, sun or daily)")
    })
}

fn parse_days(s: &str) -> Result<[bool; 7], String> {
    if s == "daily" {
        return Ok([true; 7]);
    }
    let mut days = [false; 7];
    for item in s.split(',') {
        match item.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (day_index(from)?, day_index(to)?);
                let mut d = from;
                loop {
                    days[d] = true;
                    if d == to {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days[day_index(item)?] = true,
        }
    }
    Ok(days)
}

/// `HH:MM`; `Ok(None)` is 24:00.
fn parse_time(s: &str) -> Result<Option<civil::Time>, String> {
    let bad = || format!("invalid time {s:?} (expected HH:MM, 00:00 to 24:00)");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: i8 = h.parse().map_err(|_| bad())?;
    let m: i8 = m.parse().map_err(|_| bad())?;
    if h == 24 && m == 0 {
        return Ok(None);
    }
    civil::Time::new(h, m, 0, 0).map(Some).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i8, m: i8) -> civil::Time {
        civil::Time::new(h, m, 0, 0).unwrap()
    }

    #[test]
    fn documented_examples_parse() {
        let w = parse_window("mon-fri 09:00-18:00").unwrap();
        assert_eq!(w.days, [true, true, true, true, true, false, false]);
        assert_eq!((w.start, w.end), (t(9, 0), Some(t(18, 0))));
        let w = parse_window("sat,sun 00:00-24:00").unwrap();
        assert_eq!(w.days, [false, false, false, false, false, true, true]);
        assert_eq!(w.end, None);
        assert_eq!(parse_window("daily 08:00-20:00").unwrap().days, [true; 7]);
        let w = parse_window("fri 22:00-06:00").unwrap();
        assert_eq!((w.start, w.end), (t(22, 0), Some(t(6, 0))));
        let w = parse_window("FRI-Mon 00:00-01:00").unwrap();
        assert_eq!(w.days, [true, false, false, false, true, true, true]);
    }

    #[test]
    fn bad_forms_are_refused() {
        for bad in [
            "",
            "mon-fri",
            "09:00-18:00",
            "mon-fry 09:00-18:00",
            "mon 9:00-18:00",
            "mon 09:00-25:00",
            "mon 24:00-06:00",
            "mon 09:60-10:00",
            "mon 09:00",
            "mon 09:00-18:00 extra",
            "mon,,tue 09:00-10:00",
        ] {
            assert!(parse_window(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
