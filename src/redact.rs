//! Secrets kept out of everything oncalld shows (SPEC §9): the one place that knows what a
//! secret looks like in text.
//!
//! - A password in a URL (`https://user:pass@host`, `smtp://user:pass@host`, any scheme) is
//!   shown as `user:***@host`, wherever the URL sits in a longer text (an error message, a
//!   plugin's argv). [`redact_urls`] is applied where such text leaves the daemon: a check's
//!   target (status, API, pages, postmortems), probe messages, notifier errors (timeline,
//!   logs), config errors (`check-config`, the `reload` reply, the log).
//! - Webhook secrets, header values (`Authorization`, tokens, routing keys) are never put in a
//!   message at all; the config types' `Debug` shows them as [`MASK`].
//!
//! Probes and notifiers keep the real values: redaction is for showing, never for using.

use std::borrow::Cow;

/// What a secret is shown as.
pub const MASK: &str = "***";

/// `text` with the password of every `scheme://user:password@` in it replaced by [`MASK`].
/// Text without such a URL is returned borrowed.
pub fn redact_urls(text: &str) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut search = 0;
    while let Some(pos) = text[search..].find("://") {
        let start = search + pos + 3;
        let rest = &text[start..];
        let end = rest.find(ends_authority).unwrap_or(rest.len());
        search = start + end;
        let authority = &rest[..end];
        let Some(at) = authority.rfind('@') else {
            continue;
        };
        let Some(colon) = authority[..at].find(':') else {
            continue;
        };
        let (from, to) = (start + colon + 1, start + at);
        if &text[from..to] == MASK {
            continue;
        }
        let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
        o.push_str(&text[copied..from]);
        o.push_str(MASK);
        copied = to;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
}

/// Where a URL's authority (`user:pass@host:port`) ends, also inside quotes and prose.
fn ends_authority(c: char) -> bool {
    matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '`' | '\\') || c.is_whitespace()
}

/// `value` shown as [`MASK`] when present: for `Debug` of secrets and header maps.
pub fn masked<T>(value: &Option<T>) -> Option<&'static str> {
    value.as_ref().map(|_| MASK)
}

/// A header map for `Debug`: names kept, every value shown as [`MASK`] (an `Authorization`,
/// `X-Api-Key` or routing-key header is a secret, and the rest are not worth the risk).
pub fn masked_headers<V>(
    headers: &std::collections::BTreeMap<String, V>,
) -> std::collections::BTreeMap<&str, &'static str> {
    headers.keys().map(|k| (k.as_str(), MASK)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_become_stars() {
        let cases = [
            ("http://webuser:PASS@host/x", "http://webuser:***@host/x"),
            ("https://u:p@h:8443", "https://u:***@h:8443"),
            (
                "smtp://mailer:s3cr%40t@mail:587",
                "smtp://mailer:***@mail:587",
            ),
            (
                "smtps://a:b@mail?tls=required",
                "smtps://a:***@mail?tls=required",
            ),
            (
                "invalid SMTP URL \"smtp://u:pw@\": empty host",
                "invalid SMTP URL \"smtp://u:***@\": empty host",
            ),
            (
                "two: http://a:1@x and https://b:2@y/z",
                "two: http://a:***@x and https://b:***@y/z",
            ),
            (
                "a raw @ in it: http://u:p@ss@h/",
                "a raw @ in it: http://u:***@h/",
            ),
            (
                "/usr/bin/check --url=http://u:p@h/ -w 1",
                "/usr/bin/check --url=http://u:***@h/ -w 1",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact_urls(input), want, "{input}");
            assert_eq!(redact_urls(want), want, "redacting twice changes nothing");
        }
    }

    #[test]
    fn text_without_passwords_is_borrowed() {
        for s in [
            "",
            "http://host/x",
            "https://user@host/",
            "mailto:ops@example.com",
            "http://h/path?email=a@b:c",
            "ends with ://",
            "http://u:p",
        ] {
            assert!(matches!(redact_urls(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn header_maps_keep_names_only() {
        let mut h = std::collections::BTreeMap::new();
        h.insert("Authorization".to_string(), "Bearer tok".to_string());
        let shown = format!("{:?}", masked_headers(&h));
        assert_eq!(shown, r#"{"Authorization": "***"}"#);
        assert_eq!(masked(&Some("s")), Some(MASK));
    }
}
