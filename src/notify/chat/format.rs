//! What a page says in chat, for every preset: its tone (the service picks colour, priority
//! or message type from it), title, message and facts, and the size-bounded escaping each
//! service needs ([`fit`] with [`plain`], [`html`] or [`markdown`]). Pure functions of the
//! page; outside text leaves here with control characters replaced ([`crate::text`]).

use crate::core::model::{IncidentState, Page, PageEvent};
use crate::text::sanitize_line;

/// How a page reads in chat: the service picks its colour, priority or tag from this.
/// A new page event (flapping, digest, handoff) must be given its tone here; the match has
/// no catch-all so the compiler asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Triggered: wake someone.
    Alarm,
    /// Escalated: still nobody acked; wake the next step.
    Escalated,
    /// Acknowledged: someone is on it; inform quietly.
    Acknowledged,
    /// Resolved: all clear.
    Resolved,
    /// The check flaps (SPEC §12): one page, and it may be the first about the incident.
    Flapping,
    /// A test page: nothing is wrong.
    Test,
}

pub fn tone(event: PageEvent) -> Tone {
    match event {
        PageEvent::Triggered => Tone::Alarm,
        PageEvent::Escalated => Tone::Escalated,
        PageEvent::Acknowledged => Tone::Acknowledged,
        PageEvent::Resolved => Tone::Resolved,
        PageEvent::Flapping => Tone::Flapping,
        // A handoff notice wakes nobody either: it informs, like a test page.
        PageEvent::Test | PageEvent::Handoff => Tone::Test,
    }
}

impl Tone {
    /// Wakes someone (urgent priority, emergency, a notifying message type).
    pub fn urgent(self) -> bool {
        matches!(self, Tone::Alarm | Tone::Escalated | Tone::Flapping)
    }

    /// `#rrggbb`: red, dark red, amber, green, purple, blue.
    pub fn colour(self) -> &'static str {
        match self {
            Tone::Alarm => "#d62728",
            Tone::Escalated => "#8b0000",
            Tone::Acknowledged => "#ff9900",
            Tone::Resolved => "#2ca02c",
            Tone::Flapping => "#9467bd",
            Tone::Test => "#1f77b4",
        }
    }
}

/// `TRIGGERED #17 website` (`TEST` for a test page, `TRIGGERED 37 incidents` for a digest):
/// one line, no outside text but the check name (a config name).
pub fn title(page: &Page) -> String {
    if page.event == PageEvent::Handoff {
        format!("ON CALL {}", page.check)
    } else if page.event == PageEvent::Test {
        "TEST page from oncalld".to_string()
    } else if !page.digest.is_empty() {
        format!("{} {}", page.event.as_str().to_uppercase(), page.summary)
    } else {
        format!(
            "{} #{} {}",
            page.event.as_str().to_uppercase(),
            page.incident,
            page.check
        )
    }
}

/// The probe's message (a test page's text, a digest's list of checks), one line, control
/// characters replaced.
pub fn message(page: &Page) -> String {
    let text = if page.event.is_notice() || !page.digest.is_empty() {
        &page.text
    } else {
        &page.summary
    };
    sanitize_line(text).into_owned()
}

/// The facts under the message, as label/value pairs; plain text, escaped by the preset.
pub fn facts(page: &Page) -> Vec<(&'static str, String)> {
    if page.event.is_notice() {
        return vec![
            ("Recipient", sanitize_line(&page.recipient).into_owned()),
            ("Via", page.notifier.clone()),
            ("Key", page.key.clone()),
        ];
    }
    if !page.digest.is_empty() {
        let ids: Vec<String> = page.digest.iter().map(|i| i.incident.to_string()).collect();
        return vec![
            ("Incidents", ids.join(" ")),
            ("Step", page.step.to_string()),
            ("To do", format!("oncalld ack {}", ids.join(" "))),
        ];
    }
    let todo = match page.incident_state {
        IncidentState::Triggered => format!("oncalld ack {}", page.incident),
        IncidentState::Acknowledged => format!("oncalld resolve {}", page.incident),
        IncidentState::Resolved => "nothing".to_string(),
    };
    vec![
        ("Check", page.check.clone()),
        (
            "Incident",
            format!("#{} {}", page.incident, page.incident_state.as_str()),
        ),
        ("Step", page.step.to_string()),
        ("Since", page.opened_at.to_string()),
        ("To do", todo),
        ("Timeline", format!("oncalld show {}", page.incident)),
    ]
}

/// A size limit, in the unit the service counts.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    Chars(usize),
    Bytes(usize),
}

/// `raw` escaped char by char with `escape`, cut (before an escape sequence, never inside
/// one) so that it, with a final `…`, stays within `limit`.
pub fn fit(raw: &str, limit: Limit, escape: fn(char, &mut String)) -> String {
    let (max, size): (usize, fn(&str) -> usize) = match limit {
        Limit::Chars(n) => (n, |s| s.chars().count()),
        Limit::Bytes(n) => (n, str::len),
    };
    let mut all = String::with_capacity(raw.len());
    raw.chars().for_each(|c| escape(c, &mut all));
    if size(&all) <= max {
        return all;
    }
    let mut out = String::with_capacity(max.min(all.len()));
    let mut used = 0;
    let mut piece = String::new();
    let ellipsis = size("…");
    for c in raw.chars() {
        piece.clear();
        escape(c, &mut piece);
        let n = size(&piece);
        if used + n + ellipsis > max {
            break;
        }
        out.push_str(&piece);
        used += n;
    }
    out.push('…');
    out
}

/// No escaping (the service shows plain text).
pub fn plain(c: char, out: &mut String) {
    out.push(c);
}

/// HTML text escaping (Telegram `parse_mode=HTML`, Matrix `formatted_body`).
pub fn html(c: char, out: &mut String) {
    crate::text::escape_html_char(c, out);
}

/// Markdown: a backslash before every character that starts markdown syntax in Discord and
/// Teams' Adaptive Card text (emphasis, code, strike, spoiler, quote, heading, list, link,
/// mention `<@id>`). Text is one line, so line-start-only syntax needs no more.
pub fn markdown(c: char, out: &mut String) {
    if matches!(
        c,
        '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '<' | '#' | '-' | '[' | ']' | '(' | ')'
    ) {
        out.push('\\');
    }
    out.push(c);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_never_cuts_an_escape() {
        assert_eq!(fit("a<b", Limit::Chars(10), html), "a&lt;b");
        assert_eq!(fit("a<bcdef", Limit::Chars(5), html), "a…");
        assert_eq!(fit("ééé", Limit::Bytes(5), plain), "é…");
        assert_eq!(fit("*x", Limit::Chars(10), markdown), "\\*x");
    }

    #[test]
    fn a_digest_reads_as_its_list_and_a_flapping_page_wakes() {
        use crate::core::model::DigestItem;
        let mut page = crate::notify::template::sample_page();
        page.digest = [(1, "web-1"), (2, "web-2"), (3, "web-3")]
            .into_iter()
            .map(|(incident, check)| DigestItem {
                incident,
                check: check.into(),
                summary: "down".into(),
                incident_state: IncidentState::Triggered,
                opened_at: page.opened_at,
                step: 1,
            })
            .collect();
        page.summary = "3 incidents".into();
        page.text = "TRIGGERED 3 incidents: web-1, web-2, web-3".into();
        assert_eq!(title(&page), "TRIGGERED 3 incidents");
        assert_eq!(message(&page), page.text);
        let facts = facts(&page);
        assert!(
            facts.contains(&("To do", "oncalld ack 1 2 3".to_string())),
            "{facts:?}"
        );
        assert!(tone(PageEvent::Flapping).urgent());
    }
}
