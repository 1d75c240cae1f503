//! Text from outside (probe and plugin output, HTTP bodies, notes, silence messages) made safe
//! to show on a terminal, in a log line, a postmortem or a page (SPEC §9).
//!
//! The store keeps the original; these functions run on output only. Every control character
//! a terminal could act on — C0 (`\0`..`\x1f`: ESC, BEL, CR, backspace...), DEL and C1
//! (U+0080..U+009F, which some terminals read as CSI/OSC) — becomes U+FFFD `�`: visible, so an
//! operator sees that something was there, and inert. Tab stays. Plain ASCII text is returned
//! borrowed, without a copy.

use std::borrow::Cow;

/// What an unsafe control character is shown as.
pub const REPLACEMENT: char = '\u{FFFD}';

/// One line: line breaks (`\n`, `\r\n`) become a space, every other control character
/// [`REPLACEMENT`]. For table cells, one-line fields and log lines.
pub fn sanitize_line(text: &str) -> Cow<'_, str> {
    sanitize(text, false)
}

/// Several lines: `\n` stays (`\r\n` becomes `\n`), every other control character becomes
/// [`REPLACEMENT`], a bare CR included. For multi-line bodies (postmortems, mails).
pub fn sanitize_text(text: &str) -> Cow<'_, str> {
    sanitize(text, true)
}

/// Whether a terminal may act on `c`: C0 except tab and newline, DEL, C1.
fn is_unsafe(c: char) -> bool {
    matches!(c, '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f' | '\u{80}'..='\u{9f}')
}

fn sanitize(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let clean = |c: char| !is_unsafe(c) && (keep_newlines || c != '\n');
    if text.chars().all(clean) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let c = match c {
            '\r' if chars.peek() == Some(&'\n') => continue,
            '\n' if keep_newlines => '\n',
            '\n' => ' ',
            c if is_unsafe(c) => REPLACEMENT,
            c => c,
        };
        out.push(c);
    }
    Cow::Owned(out)
}

/// `c` escaped for HTML text and attribute values (`&`, `<`, `>`, `"`, `'`), onto `out`.
pub fn escape_html_char(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c => out.push(c),
    }
}

/// `text` escaped for HTML text and attribute values (the link page, the status page).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    text.chars().for_each(|c| escape_html_char(c, &mut out));
    out
}

/// `text` with every line ending as CRLF, after [`sanitize_text`]: what a mail body must be
/// (RFC 5322: no bare CR or LF).
pub fn crlf_text(text: &str) -> String {
    let clean = sanitize_text(text);
    let mut out = String::with_capacity(clean.len() + clean.len() / 32 + 2);
    for (i, line) in clean.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "CRITICAL - \x1b[2J\x1b]52;c;aGk=\x07 bad\r.\r";

    #[test]
    fn plain_text_is_borrowed() {
        for s in ["", "HTTP 200 in 12 ms", "tab\there", "ünïcødé — ok", "a\nb"] {
            if s.contains('\n') {
                assert!(matches!(sanitize_text(s), Cow::Borrowed(_)));
            } else {
                assert!(matches!(sanitize_line(s), Cow::Borrowed(_)), "{s:?}");
            }
        }
    }

    #[test]
    fn escapes_bells_and_bare_cr_are_replaced() {
        let line = sanitize_line(HOSTILE);
        assert_eq!(line, "CRITICAL - �[2J�]52;c;aGk=� bad�.�");
        assert_eq!(sanitize_text(HOSTILE), line);
    }

    #[test]
    fn every_control_but_tab_and_newline_is_replaced() {
        for code in (0u32..0x20).chain([0x7f]).chain(0x80..0xa0) {
            let c = char::from_u32(code).unwrap();
            let s = format!("a{c}b");
            let expect_text = match c {
                '\t' | '\n' => s.clone(),
                _ => "a�b".to_string(),
            };
            assert_eq!(sanitize_text(&s), expect_text, "U+{code:04X}");
            let expect_line = match c {
                '\t' => s.clone(),
                '\n' => "a b".to_string(),
                _ => "a�b".to_string(),
            };
            assert_eq!(sanitize_line(&s), expect_line, "U+{code:04X}");
        }
        assert_eq!(
            sanitize_line("\u{a0}\u{ff}"),
            "\u{a0}\u{ff}",
            "Latin-1 letters stay"
        );
    }

    #[test]
    fn line_breaks() {
        assert_eq!(sanitize_line("one\r\ntwo\nthree"), "one two three");
        assert_eq!(sanitize_text("one\r\ntwo\nthree\r"), "one\ntwo\nthree�");
    }

    #[test]
    fn mail_bodies_have_crlf_only() {
        let body = crlf_text("a\nb\r\nc\rd\n\n");
        assert_eq!(body, "a\r\nb\r\nc�d\r\n\r\n");
        let bytes = body.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            match b {
                b'\r' => assert_eq!(bytes.get(i + 1), Some(&b'\n')),
                b'\n' => assert_eq!(bytes[i - 1], b'\r'),
                _ => {}
            }
        }
    }
}
