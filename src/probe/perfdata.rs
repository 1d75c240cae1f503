//! Nagios performance data: `'label'=value[UOM];[warn];[crit];[min];[max]`, space-separated,
//! as plugins print it after a `|`. Parsed so it can be kept, shown and exported later.

use serde::Serialize;

/// One metric a probe measured. `warn` and `crit` are Nagios ranges (`10`, `10:`, `@5:10`),
/// kept as text because they are ranges, not numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerfDatum {
    pub label: String,
    pub value: f64,
    /// "", "s", "ms", "us", "%", "B", "KB", "MB", "TB", "c", ...
    pub unit: String,
    pub warn: Option<String>,
    pub crit: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl PerfDatum {
    /// A datum with just a value and a unit.
    pub fn new(label: impl Into<String>, value: f64, unit: impl Into<String>) -> Self {
        PerfDatum {
            label: label.into(),
            value,
            unit: unit.into(),
            warn: None,
            crit: None,
            min: None,
            max: None,
        }
    }
}

impl std::fmt::Display for PerfDatum {
    /// Back to Nagios syntax, trailing empty fields dropped.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let needs_quotes = self.label.contains([' ', '\'', '=']);
        if needs_quotes {
            write!(f, "'{}'", self.label.replace('\'', "''"))?;
        } else {
            f.write_str(&self.label)?;
        }
        write!(f, "={}{}", self.value, self.unit)?;
        let fields = [
            self.warn.clone(),
            self.crit.clone(),
            self.min.map(|v| v.to_string()),
            self.max.map(|v| v.to_string()),
        ];
        let last = fields.iter().rposition(Option::is_some);
        if let Some(last) = last {
            for field in &fields[..=last] {
                write!(f, ";{}", field.as_deref().unwrap_or(""))?;
            }
        }
        Ok(())
    }
}

/// Parse a perfdata string. Malformed items are skipped (a plugin's bad perfdata must not
/// turn its verdict into an error), as are values Nagios marks unknown (`U`).
pub fn parse(s: &str) -> Vec<PerfDatum> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let (item, next) = split_item(rest);
        if let Some(d) = parse_item(&item) {
            out.push(d);
        }
        rest = next.trim_start();
    }
    out
}

/// Split off one whitespace-separated item, honouring a quoted label (`'a b'=1`, `''` is a
/// literal quote inside it). Returns the item with the label unquoted, and the rest.
fn split_item(s: &str) -> (String, &str) {
    let mut item = String::new();
    let mut chars = s.char_indices().peekable();
    if s.starts_with('\'') {
        chars.next();
        while let Some((_, c)) = chars.next() {
            if c == '\'' {
                if matches!(chars.peek(), Some((_, '\''))) {
                    chars.next();
                    item.push('\'');
                    continue;
                }
                break;
            }
            item.push(c);
        }
        // Mark where the label ended so '=' inside it does not confuse parse_item.
        item = format!("{}\u{0}", item.replace('\u{0}', ""));
    }
    for (i, c) in chars {
        if c.is_whitespace() {
            return (item, &s[i..]);
        }
        item.push(c);
    }
    (item, "")
}

fn parse_item(item: &str) -> Option<PerfDatum> {
    let (label, rest) = match item.split_once('\u{0}') {
        Some((label, rest)) => (label.to_string(), rest.strip_prefix('=')?),
        None => {
            let (l, r) = item.split_once('=')?;
            (l.to_string(), r)
        }
    };
    if label.is_empty() {
        return None;
    }
    let mut fields = rest.split(';');
    let (value, unit) = split_value(fields.next()?)?;
    let text = |f: Option<&str>| f.filter(|s| !s.is_empty()).map(str::to_string);
    let warn = text(fields.next());
    let crit = text(fields.next());
    let num = |f: Option<&str>| f.and_then(|s| s.trim().parse::<f64>().ok());
    let min = num(fields.next());
    let max = num(fields.next());
    Some(PerfDatum {
        label,
        value,
        unit: unit.to_string(),
        warn,
        crit,
        min,
        max,
    })
}

/// "12.5ms" -> (12.5, "ms"). The number is the longest prefix that parses.
fn split_value(s: &str) -> Option<(f64, &str)> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E' | ',')))
        .unwrap_or(s.len());
    // Some locales print a decimal comma.
    let mut end = end;
    while end > 0 {
        let number = s[..end].replace(',', ".");
        if let Ok(v) = number.parse::<f64>() {
            if v.is_finite() {
                return Some((v, &s[end..]));
            }
            return None;
        }
        end -= 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nagios_perfdata() {
        let got = parse("time=0.012s;1.0;2.0;0.000;10.0 size=1234B;;;0 'disk usage'=23.5%;80;90");
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].label, "time");
        assert_eq!(got[0].value, 0.012);
        assert_eq!(got[0].unit, "s");
        assert_eq!(got[0].warn.as_deref(), Some("1.0"));
        assert_eq!(got[0].crit.as_deref(), Some("2.0"));
        assert_eq!(got[0].min, Some(0.0));
        assert_eq!(got[0].max, Some(10.0));
        assert_eq!(got[1].unit, "B");
        assert_eq!(got[1].warn, None);
        assert_eq!(got[1].min, Some(0.0));
        assert_eq!(got[2].label, "disk usage");
        assert_eq!(got[2].value, 23.5);
        assert_eq!(got[2].unit, "%");
    }

    #[test]
    fn skips_malformed_and_unknown() {
        let got = parse("novalue x=U y= ok=1 'it''s'=2c =3 z=-4.5e1");
        let labels: Vec<_> = got.iter().map(|d| (d.label.as_str(), d.value)).collect();
        assert_eq!(labels, vec![("ok", 1.0), ("it's", 2.0), ("z", -45.0)]);
    }

    #[test]
    fn ranges_kept_as_text_and_round_trip() {
        let d = &parse("load1=0.5;@5:10;10:;0")[0];
        assert_eq!(d.warn.as_deref(), Some("@5:10"));
        assert_eq!(d.crit.as_deref(), Some("10:"));
        assert_eq!(d.to_string(), "load1=0.5;@5:10;10:;0");
        assert_eq!(PerfDatum::new("a b", 1.0, "ms").to_string(), "'a b'=1ms");
    }

    #[test]
    fn never_panics_on_junk() {
        for s in ["'", "''", "'a", "=", ";;;", "a=1;;;;;;;", "\u{0}=1", "é=1é"] {
            let _ = parse(s);
        }
    }
}
