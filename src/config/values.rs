//! Pure parsers for the small value languages of the config file: names, sizes, socket modes,
//! local date-times, URLs, addresses. Each returns a message fit for a [`super::ConfigError`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::civil;
use jiff::tz::TimeZone;
use toml::de::DeValue;

pub use super::limits::MAX_NAME;
use super::reader::{Node, Sink};
use super::types::{MinFree, Target};

/// Names of checks, people, notifiers, periods, schedules and policies: they appear in
/// commands, URLs, targets and logs, so they are kept to `[A-Za-z0-9_.-]+`, at most
/// [`MAX_NAME`] characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

pub fn name_message(what: &str, name: &str) -> String {
    let count = name.chars().count();
    if count > MAX_NAME {
        let head: String = name.chars().take(32).collect();
        return format!(
            "{what} name {head:?}... is {count} characters long: names are at most {MAX_NAME}"
        );
    }
    format!("invalid {what} name {name:?}: use only letters, digits, `_`, `.` and `-`")
}

/// A string value that is a valid name.
pub fn name(node: &Node<'_>, sink: &mut Sink, what: &str) -> Option<String> {
    let s = node.str(sink)?;
    if valid_name(s) {
        Some(s.to_string())
    } else {
        node.error(sink, name_message(what, s));
        None
    }
}

/// `"50%"` (0-100) or a size with a unit: `"10GiB"`, `"500MB"`, `"1.5TB"`. Both binary
/// (KiB, MiB, GiB, TiB, PiB) and decimal (kB/KB, MB, GB, TB, PB) units; `B` for bytes.
pub fn min_free(s: &str) -> Result<MinFree, String> {
    let s = s.trim();
    let expected = "expected a percentage like \"10%\" or a size like \"10GiB\" or \"500MB\"";
    if let Some(pct) = s.strip_suffix('%') {
        return match pct.trim().parse::<f64>() {
            Ok(p) if (0.0..=100.0).contains(&p) => Ok(MinFree::Percent(p)),
            Ok(_) => Err(format!("{s:?}: a percentage must be between 0 and 100")),
            Err(_) => Err(format!("invalid size {s:?}: {expected}")),
        };
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "tib" => 1 << 40,
        "p" | "pb" => 1_000_000_000_000_000,
        "pib" => 1 << 50,
        _ => return Err(format!("invalid size {s:?}: {expected}")),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid size {s:?}: {expected}"))?;
    let bytes = value * multiplier as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("size {s:?} is too large"));
    }
    Ok(MinFree::Bytes(bytes.round() as u64))
}

/// `"0660"`: an octal string of permission bits, at most `0777`, with no bit for "others":
/// whoever can connect to the socket can ack and silence, so that is never everyone.
pub fn socket_mode(s: &str) -> Result<u32, String> {
    let ok_digits = (3..=4).contains(&s.len()) && s.chars().all(|c| ('0'..='7').contains(&c));
    match u32::from_str_radix(s, 8) {
        Ok(m) if ok_digits && m <= 0o777 && m & 0o007 != 0 => Err(format!(
            "socket_mode {s:?} lets every user on the machine use the socket: \
             give access to the owner and group only, like \"0660\""
        )),
        Ok(m) if ok_digits && m <= 0o777 => Ok(m),
        _ => Err(format!(
            "invalid socket_mode {s:?}: expected octal permission bits like \"0660\""
        )),
    }
}

/// A local date-time `"2026-11-23T09:00"` (seconds optional, `T` or a space). Offsets and zone
/// names are refused: the zone is the schedule's. A TOML local date-time is accepted too.
pub fn civil_datetime(node: &Node<'_>, sink: &mut Sink) -> Option<civil::DateTime> {
    if let DeValue::Datetime(dt) = node.value {
        let parsed = match (dt.date, dt.time, dt.offset) {
            (Some(d), Some(t), None) => civil::DateTime::new(
                d.year as i16,
                d.month as i8,
                d.day as i8,
                t.hour as i8,
                t.minute as i8,
                t.second as i8,
                0,
            )
            .ok(),
            _ => None,
        };
        if parsed.is_none() {
            node.error(
                sink,
                "expected a local date-time like \"2026-11-23T09:00\" (no offset)",
            );
        }
        return parsed;
    }
    let s = node.str(sink)?;
    match parse_civil(s) {
        Ok(dt) => Some(dt),
        Err(e) => {
            node.error(sink, e);
            None
        }
    }
}

/// A date-time of a schedule (`start`, an override's `from` and `until`): a local date-time
/// between 1970-01-01 and 2200-01-01, so a shift count or an instant can never overflow.
pub fn schedule_datetime(node: &Node<'_>, sink: &mut Sink) -> Option<civil::DateTime> {
    let dt = civil_datetime(node, sink)?;
    let min = civil::date(1970, 1, 1).at(0, 0, 0, 0);
    let max = civil::date(2200, 1, 1).at(0, 0, 0, 0);
    if dt < min || dt > max {
        node.error(
            sink,
            format!("{dt} is out of range: must be between 1970-01-01T00:00 and 2200-01-01T00:00"),
        );
        return None;
    }
    Some(dt)
}

fn parse_civil(s: &str) -> Result<civil::DateTime, String> {
    let bad = || format!("invalid date-time {s:?}: expected local time like \"2026-11-23T09:00\"");
    let b = s.as_bytes();
    let shape = |pattern: &str| {
        pattern.len() == b.len()
            && pattern.bytes().zip(b).all(|(p, c)| match p {
                b'd' => c.is_ascii_digit(),
                b'T' => *c == b'T' || *c == b' ',
                _ => p == *c,
            })
    };
    if !shape("dddd-dd-ddTdd:dd") && !shape("dddd-dd-ddTdd:dd:dd") {
        return Err(bad());
    }
    s.parse::<civil::DateTime>()
        .map_err(|e| format!("{}: {e}", bad()))
}

/// An IANA zone name, looked up in the system's tz database. `"UTC"` works even on a machine
/// without one (no tzdata package), so a minimal container can still run a config.
pub fn time_zone(node: &Node<'_>, sink: &mut Sink) -> Option<TimeZone> {
    let s = node.non_empty_str(sink)?;
    match TimeZone::get(s) {
        Ok(tz) => Some(tz),
        Err(_) if s.eq_ignore_ascii_case("utc") => Some(TimeZone::UTC),
        Err(_) => {
            let hint = if jiff::tz::db().is_definitively_empty() {
                " (no time zone database found: install the tzdata package)"
            } else {
                " (expected an IANA name like \"Europe/Paris\" or \"UTC\")"
            };
            node.error(sink, format!("unknown time zone {s:?}{hint}"));
            None
        }
    }
}

/// An `http://` or `https://` URL with a host.
pub fn http_url(s: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(s).map_err(|e| format!("invalid URL {s:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("URL {s:?} must start with http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("URL {s:?} has no host"));
    }
    Ok(())
}

/// `smtp://[user:pass@]host[:port][?tls=required|opportunistic|none]` or `smtps://...`.
pub fn smtp_url(s: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(s).map_err(|e| format!("invalid SMTP URL {s:?}: {e}"))?;
    if !matches!(url.scheme(), "smtp" | "smtps") {
        return Err(format!(
            "SMTP URL {s:?} must start with smtp:// or smtps://"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("SMTP URL {s:?} has no host"));
    }
    for (k, v) in url.query_pairs() {
        match (k.as_ref(), v.as_ref()) {
            ("tls", "required" | "opportunistic" | "none") => {}
            ("tls", other) => {
                return Err(format!(
                    "SMTP URL {s:?}: tls={other:?} is not one of required, opportunistic, none"
                ));
            }
            (other, _) => {
                return Err(format!(
                    "SMTP URL {s:?}: unknown parameter {other:?} (only tls)"
                ));
            }
        }
    }
    Ok(())
}

/// A mail address, optionally with a display name: `"oncalld <oncalld@example.com>"`.
pub fn mailbox(s: &str) -> Result<(), String> {
    s.parse::<lettre::message::Mailbox>()
        .map(|_| ())
        .map_err(|_| {
            format!(
                "invalid mail address {s:?}: expected \"name@domain\" or \"Name <name@domain>\""
            )
        })
}

/// `"host:port"` or `"[v6]:port"`, port 1-65535.
pub fn tcp_address(s: &str) -> Result<(), String> {
    let bad = |why: &str| format!("invalid address {s:?}: {why} (expected \"host:port\")");
    let (host, port) = s.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    match port.parse::<u16>() {
        Ok(p) if p > 0 => {}
        _ => return Err(bad("the port must be 1-65535")),
    }
    let host_ok = if let Some(inner) = host.strip_prefix('[') {
        inner
            .strip_suffix(']')
            .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok())
    } else {
        !host.is_empty()
            && !host.contains(':')
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    if host_ok {
        Ok(())
    } else {
        Err(bad("bad host"))
    }
}

/// An inline table of HTTP header names to string values.
pub fn headers(node: &Node<'_>, sink: &mut Sink) -> Option<BTreeMap<String, String>> {
    let table = node.table(sink)?;
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, span, value) in table.entries() {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            sink.error(
                span,
                value.path.clone(),
                format!("invalid header name {name:?}"),
            );
            ok = false;
            continue;
        }
        let Some(v) = value.str(sink) else {
            ok = false;
            continue;
        };
        if reqwest::header::HeaderValue::from_str(v).is_err() {
            value.error(
                sink,
                "invalid header value (control characters are not allowed)",
            );
            ok = false;
            continue;
        }
        out.insert(name, v.to_string());
    }
    ok.then_some(out)
}

/// `"schedule:NAME"`, `"person:NAME"` or `"notifier:NAME"`.
pub fn target(s: &str) -> Result<Target, String> {
    let (kind, name) = s.split_once(':').ok_or_else(|| {
        format!(
            "invalid target {s:?}: expected \"schedule:NAME\", \"person:NAME\" or \"notifier:NAME\""
        )
    })?;
    if !valid_name(name) {
        return Err(name_message(kind, name));
    }
    match kind {
        "schedule" => Ok(Target::Schedule(name.to_string())),
        "person" => Ok(Target::Person(name.to_string())),
        "notifier" => Ok(Target::Notifier(name.to_string())),
        _ => Err(format!(
            "invalid target {s:?}: {kind:?} is not schedule, person or notifier"
        )),
    }
}

/// Relative paths in the file mean "next to the config file", not "wherever the daemon was
/// started", so a config directory can be moved as a whole.
pub fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// An argv whose program is a relative path with a `/` (`"./check.sh"`) is resolved like any
/// other relative path; a bare name (`"check_load"`) is left for `$PATH`.
pub fn resolve_argv(base: &Path, mut argv: Vec<String>) -> Vec<String> {
    if let Some(first) = argv.first_mut() {
        if first.contains('/') && !first.starts_with('/') {
            *first = resolve(base, first).to_string_lossy().into_owned();
        }
    }
    argv
}

/// `ca_file`: a PEM file of CA certificates (relative to the config file's directory), read
/// now so that a missing or broken file is a config error at its key, not a failing page.
pub fn ca_file(node: &Node<'_>, base: &Path, sink: &mut Sink) -> Option<PathBuf> {
    let s = node.non_empty_str(sink)?;
    let path = resolve(base, s);
    match crate::tls::load_ca_file(&path) {
        Ok(_) => Some(path),
        Err(e) => {
            node.error(sink, e);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_percentages() {
        assert_eq!(min_free("50%"), Ok(MinFree::Percent(50.0)));
        assert_eq!(min_free("10GiB"), Ok(MinFree::Bytes(10 << 30)));
        assert_eq!(min_free("500MB"), Ok(MinFree::Bytes(500_000_000)));
        assert_eq!(min_free("1TB"), Ok(MinFree::Bytes(1_000_000_000_000)));
        assert_eq!(min_free("1.5 KiB"), Ok(MinFree::Bytes(1536)));
        assert!(min_free("101%").is_err());
        assert!(min_free("10").is_err());
        assert!(min_free("ten GB").is_err());
        assert!(min_free("1e3GB").is_err());
    }

    #[test]
    fn modes_and_addresses() {
        assert_eq!(socket_mode("0660"), Ok(0o660));
        assert_eq!(socket_mode("600"), Ok(0o600));
        assert!(socket_mode("0668").is_err());
        assert!(socket_mode("4777").is_err());
        assert!(socket_mode("0777").is_err());
        assert!(socket_mode("0661").is_err());
        assert!(socket_mode("0770").is_ok());
        assert!(socket_mode("660a").is_err());
        assert!(tcp_address("127.0.0.1:5432").is_ok());
        assert!(tcp_address("[::1]:22").is_ok());
        assert!(tcp_address("db.internal:5432").is_ok());
        assert!(tcp_address("::1:22").is_err());
        assert!(tcp_address("host:0").is_err());
        assert!(tcp_address("host").is_err());
    }

    #[test]
    fn long_names_are_refused_with_a_short_message() {
        assert!(valid_name(&"a".repeat(MAX_NAME)));
        let long = "a".repeat(100_000);
        assert!(!valid_name(&long));
        let message = name_message("check", &long);
        assert!(message.len() < 200, "{message}");
        assert!(message.contains("100000 characters"), "{message}");
    }

    #[test]
    fn civil_times_are_strict() {
        assert!(parse_civil("2026-11-23T09:00").is_ok());
        assert!(parse_civil("2026-11-23 09:00:30").is_ok());
        assert!(parse_civil("2026-11-23T09:00Z").is_err());
        assert!(parse_civil("2026-11-23T09:00+01:00").is_err());
        assert!(parse_civil("2026-02-30T09:00").is_err());
        assert!(parse_civil("2026-11-23").is_err());
    }

    #[test]
    fn urls_and_targets() {
        assert!(http_url("https://example.com/x").is_ok());
        assert!(http_url("ftp://example.com/").is_err());
        assert!(http_url("not a url").is_err());
        assert!(smtp_url("smtp://127.0.0.1:25").is_ok());
        assert!(smtp_url("smtps://u:p@mail.example.com:465").is_ok());
        assert!(smtp_url("smtp://h?tls=maybe").is_err());
        assert!(smtp_url("http://h").is_err());
        assert_eq!(target("person:bob"), Ok(Target::Person("bob".into())));
        assert!(target("team:ops").is_err());
        assert!(target("bob").is_err());
        assert!(target("person:b b").is_err());
    }

    #[test]
    fn relative_argv_is_resolved() {
        let base = Path::new("/etc/oncalld");
        let argv = resolve_argv(base, vec!["./x.sh".into(), "./arg".into()]);
        assert_eq!(argv, vec!["/etc/oncalld/./x.sh", "./arg"]);
        assert_eq!(
            resolve_argv(base, vec!["check_load".into()]),
            vec!["check_load"]
        );
    }
}
