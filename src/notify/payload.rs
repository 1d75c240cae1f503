//! What a page says, as pure functions of the page: the webhook/command JSON (SPEC §5), and
//! the email subject, body and threading ids. Kept apart from the transports so the formats
//! are tested without a network and read in one place. Text from outside (the probe's
//! message in `summary` and `text`) leaves here with control characters replaced
//! ([`crate::text`]); a mail body has CRLF line endings only.

use std::fmt::Write as _;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use crate::core::model::{IncidentState, Page, PageEvent};
use crate::text::{crlf_text, sanitize_line};

/// The webhook body, also the command notifier's stdin; exactly the shape of SPEC §5.
pub fn webhook_body(page: &Page) -> Value {
    let mut body = single_body(page);
    if !page.digest.is_empty() {
        // A digest (SPEC §12): every incident it stands for; `incident` is the first.
        let items: Vec<Value> = page
            .digest
            .iter()
            .map(|i| {
                json!({
                    "id": i.incident,
                    "check": i.check,
                    "state": i.incident_state.as_str(),
                    "summary": sanitize_line(&i.summary),
                    "opened_at": i.opened_at.to_string(),
                    "step": i.step,
                })
            })
            .collect();
        body["incidents"] = Value::Array(items);
    }
    body
}

fn single_body(page: &Page) -> Value {
    json!({
        "version": 1,
        "event": page.event.as_str(),
        "key": page.key,
        "incident": {
            "id": page.incident,
            "check": page.check,
            "state": page.incident_state.as_str(),
            "summary": sanitize_line(&page.summary),
            "opened_at": page.opened_at.to_string(),
            "step": page.step,
        },
        "recipient": page.recipient,
        "text": sanitize_line(&page.text),
    })
}

/// Longest subject we send; the rest of a long probe message is in the body.
const MAX_SUBJECT_CHARS: usize = 200;

/// `[oncalld] TRIGGERED #17 website: HTTP 500 from https://…`; test pages read
/// `[oncalld] TEST <text>` since they belong to no incident.
pub fn email_subject(page: &Page) -> String {
    let subject = if page.event == PageEvent::Test {
        format!("[oncalld] TEST {}", page.text)
    } else if !page.digest.is_empty() {
        format!("[oncalld] {}", page.text)
    } else {
        format!(
            "[oncalld] {} #{} {}: {}",
            page.event.as_str().to_uppercase(),
            page.incident,
            page.check,
            page.summary
        )
    };
    one_line(&subject, MAX_SUBJECT_CHARS)
}

/// Control characters (a probe message may carry newlines) become spaces; long text is cut
/// with an ellipsis so a header stays a header.
fn one_line(text: &str, max_chars: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if out.chars().count() > max_chars {
        out = out.chars().take(max_chars - 1).collect();
        out.push('…');
    }
    out
}

/// `2026-11-25 22:15:18 CET (2026-11-25T22:15:18+01:00)`: the local reading first for the
/// person woken up, the RFC 3339 form for pasting into tools.
pub fn human_time(at: Timestamp, zone: &TimeZone) -> String {
    let zoned = at.to_zoned(zone.clone());
    format!(
        "{} ({})",
        zoned.strftime("%Y-%m-%d %H:%M:%S %Z"),
        zoned.strftime("%Y-%m-%dT%H:%M:%S%:z")
    )
}

fn whole_seconds(d: jiff::SignedDuration) -> Duration {
    Duration::from_secs(u64::try_from(d.as_secs()).unwrap_or(0))
}

/// The plain-text email body: what failed, since when, who else was paged, what to do, and
/// the idempotency key (to match a duplicate against the timeline). `target` is what the
/// check looks at (`http https://…`), when known. Control characters from outside are
/// replaced and every line ends in CRLF (lettre fixes bare LF, not bare CR).
pub fn email_body(page: &Page, zone: &TimeZone, target: Option<&str>) -> String {
    crlf_text(&email_lines(page, zone, target))
}

fn email_lines(page: &Page, zone: &TimeZone, target: Option<&str>) -> String {
    let mut b = String::new();
    let _ = writeln!(b, "{}\n", page.text);
    if page.event == PageEvent::Test {
        let _ = writeln!(
            b,
            "This is a test page from oncalld to {} via {}; nothing is wrong and nothing \
             needs doing.\n",
            page.recipient, page.notifier
        );
        let _ = writeln!(b, "Sent:           {}", human_time(page.created_at, zone));
        let _ = writeln!(b, "Idempotency key: {}", page.key);
        return b;
    }
    if !page.digest.is_empty() {
        digest_lines(&mut b, page, zone);
        return b;
    }
    let _ = match target {
        Some(t) => writeln!(b, "What failed:  check {} ({t})", page.check),
        None => writeln!(b, "What failed:  check {}", page.check),
    };
    let _ = writeln!(b, "Message:      {}", page.summary);
    let _ = writeln!(
        b,
        "Incident:     #{}, {} (escalation step {})",
        page.incident,
        page.incident_state.as_str(),
        page.step
    );
    let open_for = whole_seconds(page.created_at.duration_since(page.opened_at));
    let _ = writeln!(b, "Since:        {}", human_time(page.opened_at, zone));
    let _ = writeln!(
        b,
        "Open for:     {} when this page was sent",
        humantime::format_duration(open_for)
    );
    let also = if page.also_paged.is_empty() {
        "nobody else so far".to_string()
    } else {
        page.also_paged.join(", ")
    };
    let _ = writeln!(b, "Also paged:   {also}");
    let _ = writeln!(b, "\n{}", what_to_do(page));
    let _ = writeln!(b, "Timeline:     oncalld show {}", page.incident);
    let _ = writeln!(b, "\nIdempotency key: {}", page.key);
    b
}

/// A digest's body: one line per incident, then how to act on them all.
fn digest_lines(b: &mut String, page: &Page, zone: &TimeZone) {
    let _ = writeln!(
        b,
        "{} incidents of the same kind to you within the policy's group_wait, in one page:\n",
        page.digest.len()
    );
    for i in &page.digest {
        let _ = writeln!(
            b,
            "  #{:<6} {:<24} {:<12} step {}  since {}  {}",
            i.incident,
            sanitize_line(&i.check),
            i.incident_state.as_str(),
            i.step,
            human_time(i.opened_at, zone),
            sanitize_line(&i.summary)
        );
    }
    let ids: Vec<String> = page.digest.iter().map(|i| i.incident.to_string()).collect();
    let _ = writeln!(
        b,
        "\nTo acknowledge them all: oncalld ack {}",
        ids.join(" ")
    );
    let _ = writeln!(b, "\nIdempotency key: {}", page.key);
}

fn what_to_do(page: &Page) -> String {
    match page.incident_state {
        IncidentState::Triggered => format!(
            "To acknowledge (stops escalation): oncalld ack {}",
            page.incident
        ),
        IncidentState::Acknowledged => format!(
            "Acknowledged; paging has stopped. To resolve: oncalld resolve {}",
            page.incident
        ),
        IncidentState::Resolved => "Resolved; nothing needs doing.".to_string(),
    }
}

/// The id every mail of one incident refers to (In-Reply-To, References), so mail clients
/// thread them. The opening time is part of it: incident ids restart with a new database, and
/// two incidents #17 must not share a thread.
pub fn thread_root_id(page: &Page, domain: &str) -> String {
    format!(
        "<oncalld.{}.{}@{}>",
        page.incident,
        page.opened_at.as_second(),
        domain
    )
}

/// This mail's own Message-ID: derived from the idempotency key, so a retry of the same page
/// carries the same id (receivers may drop the duplicate) and two pages never share one.
pub fn message_id(page: &Page, domain: &str) -> String {
    format!(
        "<{}.{}@{}>",
        atext(&page.key),
        page.opened_at.as_second(),
        domain
    )
}

/// Keeps letters, digits, `-` and `_`; `:` becomes `.`; anything else is `=HH` hex, so the
/// result is a valid dot-atom and distinct keys stay distinct.
fn atext(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' => out.push(byte as char),
            b':' => out.push('.'),
            _ => {
                let _ = write!(out, "={byte:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atext_keeps_keys_distinct_and_valid() {
        assert_eq!(atext("oncalld:17:3:alice:mail"), "oncalld.17.3.alice.mail");
        assert_eq!(atext("a.b c"), "a=2Eb=20c");
        assert_ne!(atext("a.b"), atext("a:b"));
    }

    #[test]
    fn one_line_strips_controls_and_cuts() {
        assert_eq!(one_line("a\nb\tc", 10), "a b c");
        assert_eq!(one_line("abcdef", 4), "abc…");
    }

    #[test]
    fn page_bodies_carry_no_controls() {
        let at: Timestamp = "2026-11-25T21:00:00Z".parse().unwrap();
        let summary = "CRITICAL - \x1b[2J\x1b]52;c;aGk=\x07 bad\r.\r".to_string();
        let page = Page {
            key: Page::idempotency_key(1, 1, "alice", "hook"),
            incident: 1,
            seq: 1,
            event: PageEvent::Triggered,
            recipient: "alice".into(),
            notifier: "hook".into(),
            to: None,
            step: 1,
            check: "web".into(),
            text: format!("TRIGGERED #1 web: {summary}"),
            summary,
            incident_state: IncidentState::Triggered,
            opened_at: at,
            also_paged: vec![],
            created_at: at,
            digest: Vec::new(),
        };
        let json = webhook_body(&page);
        for field in [&json["text"], &json["incident"]["summary"]] {
            let s = field.as_str().unwrap();
            assert!(!s.contains(['\x1b', '\x07', '\r']), "{s:?}");
        }
        let body = email_body(&page, &TimeZone::UTC, Some("http://u:***@h/"));
        assert!(!body.contains(['\x1b', '\x07']), "{body:?}");
        assert!(
            !body.replace("\r\n", "").contains(['\r', '\n']),
            "CRLF only"
        );
    }

    #[test]
    fn human_time_in_any_kind_of_zone() {
        let at: Timestamp = "2026-11-25T21:00:00Z".parse().unwrap();
        assert_eq!(
            human_time(at, &TimeZone::UTC),
            "2026-11-25 21:00:00 UTC (2026-11-25T21:00:00+00:00)"
        );
        let fixed = TimeZone::fixed(jiff::tz::offset(2));
        assert!(human_time(at, &fixed).contains("2026-11-25T23:00:00+02:00"));
        let _ = human_time(at, &TimeZone::unknown());
        let posix = TimeZone::posix("EST5EDT,M3.2.0,M11.1.0").unwrap();
        assert!(human_time(at, &posix).starts_with("2026-11-25 16:00:00 EST"));
    }
}
