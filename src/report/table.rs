//! A [`Report`] as aligned text tables for people (`oncalld report` without `--json`), with the
//! definitions printed underneath so nobody has to guess what a figure means.

use std::fmt::Write as _;

use jiff::tz::TimeZone;

use super::stats::{DurationStats, Figures, Report};
use super::{human_seconds, local_time, zone_name};

/// What each figure means; printed under the tables. Keep in step with the `stats` docs.
pub const DEFINITIONS: [(&str, &str); 7] = [
    (
        "Incidents",
        "incidents opened in the window; ACKED and NEVER ACKED split them (never acked = \
         resolved without an ack, or still waiting for one); OPEN = not resolved yet.",
    ),
    (
        "MTTA",
        "mean time from trigger to the first acknowledgement, over acknowledged incidents \
         only.",
    ),
    (
        "MTTR",
        "mean time from trigger to resolution, over resolved incidents only.",
    ),
    (
        "Median, p90",
        "nearest-rank percentiles: the value at rank ceil(p/100 * n) of the n sorted values, \
         always an observed value; for an even count the median is the lower middle value.",
    ),
    (
        "Availability",
        "share of the window the check was not DOWN (FAILING still counts as up). DOWN time \
         during a silence still counts as unavailable; SILENCED shows that part of DOWN apart, \
         UNREACHABLE the part while a depends_on parent was not UP. \
         The total is the mean over the checks.",
    ),
    (
        "Pages",
        "messages to a person, one per notifier; test pages and notifier-only targets excluded.",
    ),
    (
        "Night pages",
        "pages created between 22:00 and 07:00 local time in the person's zone (the zone of \
         their schedule, else the daemon's).",
    ),
];

/// The whole report as text: a header, the checks table (with a TOTAL row), the people table,
/// then [`DEFINITIONS`]. Times are shown in `zone`.
pub fn render(report: &Report, zone: &TimeZone) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Report from {} to {} ({}), {}\n",
        local_time(report.from, zone),
        local_time(report.to, zone),
        zone_name(zone, report.to),
        human_seconds(report.window_seconds as i64)
    );
    let header = [
        "CHECK",
        "INCIDENTS",
        "ACKED",
        "NEVER ACKED",
        "OPEN",
        "MTTA",
        "MTTA MEDIAN",
        "MTTA P90",
        "MTTR",
        "MTTR MEDIAN",
        "MTTR P90",
        "AVAILABILITY",
        "DOWN",
        "SILENCED",
        "UNREACHABLE",
    ];
    let mut rows: Vec<Vec<String>> = report
        .checks
        .iter()
        .map(|c| check_row(&c.check, &c.figures))
        .collect();
    rows.push(check_row("TOTAL", &report.total));
    out.push_str(&table(&header, &rows));
    out.push('\n');

    if report.people.is_empty() {
        out.push_str("Nobody is configured or was paged in this window.\n");
    } else {
        let people: Vec<Vec<String>> = report
            .people
            .iter()
            .map(|p| {
                vec![
                    p.person.clone(),
                    p.zone.clone(),
                    p.pages.to_string(),
                    p.night_pages.to_string(),
                ]
            })
            .collect();
        out.push_str(&table(&["PERSON", "ZONE", "PAGES", "NIGHT PAGES"], &people));
    }

    out.push_str("\nDefinitions:\n");
    for (term, text) in DEFINITIONS {
        out.push_str(&wrap(&format!("{term}: {text}"), 96, "  ", "      "));
    }
    out
}

/// Word-wraps `text` to `width` columns, the first line after `first`, the rest after `rest`.
fn wrap(text: &str, width: usize, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

fn check_row(name: &str, f: &Figures) -> Vec<String> {
    let [mtta, mtta_median, mtta_p90] = duration_cells(&f.mtta);
    let [mttr, mttr_median, mttr_p90] = duration_cells(&f.mttr);
    vec![
        name.to_string(),
        f.incidents.to_string(),
        f.acked.to_string(),
        f.never_acked.to_string(),
        f.still_open.to_string(),
        mtta,
        mtta_median,
        mtta_p90,
        mttr,
        mttr_median,
        mttr_p90,
        f.availability_percent
            .map_or_else(|| "-".to_string(), |p| format!("{p:.3}%")),
        human_seconds(f.down_seconds as i64),
        human_seconds(f.silenced_down_seconds as i64),
        human_seconds(f.unreachable_down_seconds as i64),
    ]
}

fn duration_cells(d: &DurationStats) -> [String; 3] {
    let cell = |s: Option<f64>| s.map_or_else(|| "-".to_string(), |s| human_seconds(s as i64));
    [
        cell(d.mean_seconds),
        cell(d.median_seconds),
        cell(d.p90_seconds),
    ]
}

/// Columns padded to their widest cell; the first column left-aligned, the rest right-aligned
/// so numbers line up.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            let pad = w - cell.chars().count();
            if i == 0 {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str("  ");
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_between_words_and_indents_continuations() {
        let text = "MTTA: mean time from trigger to first ack";
        assert_eq!(
            wrap(text, 20, "  ", "    "),
            "  MTTA: mean time\n    from trigger to\n    first ack\n"
        );
        assert_eq!(wrap("x", 20, "  ", "    "), "  x\n");
    }
}
