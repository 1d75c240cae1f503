//! The status page as one self-contained HTML document: inline CSS, inline SVG, no script,
//! no external asset (the route sends a CSP that forbids them). Readable on a phone (one
//! column, fluid SVG), dark under `prefers-color-scheme: dark`, and every colour has words
//! beside it (state names, `<title>` on each day, `aria-label` on each chart).

use std::fmt::Write;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::days::Day;
use super::latency::LatencyPoint;
use super::{ShownCheck, Snapshot};

/// Width of one day's bar and the gap after it, in SVG units.
const BAR: usize = 4;
const STEP: usize = 5;

const STYLE: &str = "\
:root{--bg:#fff;--fg:#1b1f24;--muted:#57606a;--card:#f6f8fa;--line:#d0d7de;\
--up:#1a7f37;--down:#cf222e;--deg:#bf8700;--none:#d0d7de;--maint:#0969da}\
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;\
--card:#161b22;--line:#30363d;--up:#3fb950;--down:#f85149;--deg:#d29922;--none:#30363d;\
--maint:#4493f8}}\
*{box-sizing:border-box}\
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.45 system-ui,-apple-system,\
'Segoe UI',Roboto,sans-serif}\
main{max-width:52rem;margin:0 auto;padding:1rem}\
h1{font-size:1.6rem;margin:.5rem 0 1rem}\
h2{font-size:1.1rem;margin:0}\
.banner{padding:.9rem 1rem;border-radius:.5rem;font-weight:600;color:#fff;margin-bottom:1.25rem}\
.banner.operational{background:var(--up)}.banner.degraded{background:var(--deg)}\
.banner.outage{background:var(--down)}.banner.maintenance{background:var(--maint)}\
.check{background:var(--card);border:1px solid var(--line);border-radius:.5rem;\
padding:.75rem 1rem;margin:0 0 .75rem}\
.head{display:flex;flex-wrap:wrap;gap:.5rem;align-items:baseline;justify-content:space-between}\
.state{font-weight:600;white-space:nowrap}\
.state.up{color:var(--up)}.state.down{color:var(--down)}.state.degraded{color:var(--deg)}\
.state.new{color:var(--muted)}.maint{color:var(--maint);font-weight:600}\
.last,.meta,.empty{color:var(--muted);font-size:.9rem;margin:.25rem 0;overflow-wrap:anywhere}\
svg{display:block;width:100%;height:auto}\
svg.bars{margin:.5rem 0 .1rem;height:1.5rem}svg.spark{max-width:18rem;height:1.5rem;margin-top:.5rem}\
#incidents{margin-bottom:1.25rem}\
rect.u{fill:var(--up)}rect.m{fill:var(--deg)}rect.d{fill:var(--down)}rect.n{fill:var(--none)}\
polyline{fill:none;stroke:var(--maint);stroke-width:1.5;vector-effect:non-scaling-stroke}\
.axis{display:flex;justify-content:space-between;color:var(--muted);font-size:.8rem}\
table{border-collapse:collapse;width:100%;font-size:.95rem}\
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line)}\
footer{color:var(--muted);font-size:.85rem;margin:1.5rem 0}";

/// The whole page.
pub fn render(s: &Snapshot, zone: &TimeZone) -> String {
    let mut out = String::with_capacity(4096 + s.checks.len() * 9000);
    let title = esc(&s.title);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"color-scheme\" content=\"light dark\"><title>{title}</title>\
<style>{STYLE}</style></head><body><main><h1>{title}</h1>\
<p class=\"banner {level}\" role=\"status\" id=\"banner\">{banner}</p>",
        level = s.banner.level,
        banner = esc(&s.banner.text),
    );
    incidents(&mut out, s, zone);
    out.push_str("<section aria-label=\"Checks\" id=\"checks\">");
    if s.checks.is_empty() {
        out.push_str("<p class=\"empty\">No checks to show.</p>");
    }
    for c in &s.checks {
        check(&mut out, c, zone);
    }
    let _ = write!(
        out,
        "</section><footer>Updated {} · refreshed at most every 10 s · \
<a href=\"status.json\">status.json</a></footer></main></body></html>",
        date(s.generated_at, zone)
    );
    out
}

fn incidents(out: &mut String, s: &Snapshot, zone: &TimeZone) {
    out.push_str(
        "<section aria-labelledby=\"inc\" id=\"incidents\"><h2 id=\"inc\">Open incidents</h2>",
    );
    if s.incidents.is_empty() {
        out.push_str("<p class=\"empty\">None.</p></section>");
        return;
    }
    out.push_str(
        "<table><thead><tr><th scope=\"col\">Incident</th><th scope=\"col\">Check</th>\
<th scope=\"col\">State</th><th scope=\"col\">Since</th></tr></thead><tbody>",
    );
    for i in &s.incidents {
        let _ = write!(
            out,
            "<tr><td>#{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i.id,
            esc(&i.check),
            i.state,
            date(i.since, zone)
        );
    }
    out.push_str("</tbody></table></section>");
}

fn check(out: &mut String, c: &ShownCheck, zone: &TimeZone) {
    let symbol = match c.state {
        "up" => "✓",
        "down" => "✗",
        "degraded" => "!",
        _ => "–",
    };
    let name = esc(&c.name);
    let _ = write!(
        out,
        "<article class=\"check\" data-state=\"{state}\"><div class=\"head\"><h2>{name}</h2>\
<span><span class=\"state {state}\">{symbol} {text}</span>{maint}</span></div>",
        state = c.state,
        text = c.state_text,
        maint = if c.silenced {
            " <span class=\"maint\">· under maintenance</span>"
        } else {
            ""
        },
    );
    match (&c.last_status, &c.last_message, c.last_at) {
        (Some(status), message, Some(at)) => {
            let _ = write!(
                out,
                "<p class=\"last\">Last result: {} — {} <span class=\"age\">({} ago, {})</span></p>",
                esc(status),
                esc(message.as_deref().unwrap_or("")),
                age(c.age_seconds.unwrap_or(0)),
                date(at, zone),
            );
        }
        _ => out.push_str("<p class=\"last\">No result yet.</p>"),
    }
    bars(out, c);
    spark(out, &c.latency_24h);
    out.push_str("</article>");
}

/// The 90-day bar: one `<rect>` per day with its figure in `<title>` (hover, screen readers).
fn bars(out: &mut String, c: &ShownCheck) {
    let width = c.days.len() * STEP;
    let overall = match c.uptime_90d {
        Some(p) => format!("{} up over the last {} days", percent(p), c.days.len()),
        None => "no history yet".to_string(),
    };
    let _ = write!(
        out,
        "<svg class=\"bars\" viewBox=\"0 0 {width} 24\" preserveAspectRatio=\"none\" role=\"img\" \
aria-label=\"Daily availability: {overall}\">"
    );
    for (i, d) in c.days.iter().enumerate() {
        // Plain pushes, no formatting: 90 of these per check make most of the page.
        out.push_str("<rect x=\"");
        push_number(out, i * STEP);
        out.push_str("\" width=\"");
        push_number(out, BAR);
        out.push_str("\" height=\"24\" class=\"");
        out.push_str(day_class(d));
        out.push_str("\"><title>");
        write_day_title(out, d);
        out.push_str("</title></rect>");
    }
    let _ = write!(
        out,
        "</svg><div class=\"axis\"><span>{} days ago</span><span>{overall}</span><span>today</span></div>",
        c.days.len()
    );
}

/// A small non-negative number, without the formatting machinery.
fn push_number(out: &mut String, n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[i..].iter().map(|&b| char::from(b)));
}

fn day_class(d: &Day) -> &'static str {
    match d.up_percent {
        None => "n",
        Some(p) if p >= 100.0 => "u",
        Some(p) if p >= 99.0 => "m",
        Some(_) => "d",
    }
}

/// `2026-12-01: 99.31% up, 1 incident, down 10 min`, written straight into `out` (90 per
/// check: no intermediate strings).
fn write_day_title(out: &mut String, d: &Day) {
    out.push_str(&d.date);
    let Some(p) = d.up_percent else {
        out.push_str(": no data");
        return;
    };
    if p >= 100.0 {
        out.push_str(": 100% up");
    } else {
        let _ = write!(out, ": {:.2}% up", (p * 100.0).floor() / 100.0);
    }
    if d.incidents > 0 {
        let s = if d.incidents == 1 { "" } else { "s" };
        let _ = write!(out, ", {} incident{s}", d.incidents);
    }
    if d.down_seconds > 0 {
        let _ = write!(out, ", down {}", age(d.down_seconds));
    }
}

#[cfg(test)]
fn day_title(d: &Day) -> String {
    let mut t = String::new();
    write_day_title(&mut t, d);
    t
}

/// The 24-hour latency sparkline: mean per 15 minutes, scaled to the worst bucket.
fn spark(out: &mut String, points: &[LatencyPoint]) {
    if points.is_empty() {
        out.push_str("<p class=\"meta\">Latency (24 h): no probe yet.</p>");
        return;
    }
    let max = points
        .iter()
        .map(|p| p.avg_ms)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let min = points.iter().map(|p| p.avg_ms).fold(f64::MAX, f64::min);
    let last = points.last().map_or(0.0, |p| p.avg_ms);
    let label = format!(
        "Latency over 24 h: last {}, lowest {}, highest {}",
        ms(last),
        ms(min),
        ms(max)
    );
    let _ = write!(
        out,
        "<svg class=\"spark\" viewBox=\"0 0 96 24\" preserveAspectRatio=\"none\" role=\"img\" \
aria-label=\"{label}\"><title>{label}</title><polyline points=\""
    );
    // One bucket so far: a flat line across, so there is something to see.
    let one = [points[0], points[0]];
    let points = if points.len() == 1 { &one[..] } else { points };
    let n = points.len();
    for (i, p) in points.iter().enumerate() {
        let x = i as f64 * 96.0 / (n - 1) as f64;
        let y = 22.0 - 20.0 * p.avg_ms / max;
        let _ = write!(out, "{x:.1},{y:.1} ");
    }
    let _ = write!(out, "\"/></svg><p class=\"meta\">{label}</p>");
}

fn percent(p: f64) -> String {
    if p >= 100.0 {
        "100%".to_string()
    } else {
        // Never round 99.996% up to a perfect-looking 100.00%.
        format!("{:.2}%", (p * 100.0).floor() / 100.0)
    }
}

fn ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.1} s", v / 1000.0)
    } else {
        format!("{v:.0} ms")
    }
}

/// `45 s`, `12 min`, `3 h`, `2 d`.
fn age(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

fn date(ts: Timestamp, zone: &TimeZone) -> String {
    ts.to_zoned(zone.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// HTML-escape text and attribute values.
pub fn esc(s: &str) -> String {
    crate::text::escape_html(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_figures() {
        assert_eq!(esc("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(percent(99.999), "99.99%");
        assert_eq!(percent(100.0), "100%");
        assert_eq!(age(59), "59 s");
        assert_eq!(age(3600 * 5), "5 h");
        let d = Day {
            date: "2026-12-01".into(),
            up_percent: Some(95.0),
            down_seconds: 4320,
            incidents: 2,
        };
        assert_eq!(
            day_title(&d),
            "2026-12-01: 95.00% up, 2 incidents, down 1 h"
        );
        assert_eq!(day_class(&d), "d");
        let mut n = String::new();
        for v in [0, 7, 445, 12345] {
            push_number(&mut n, v);
            n.push(' ');
        }
        assert_eq!(n, "0 7 445 12345 ");
    }
}
