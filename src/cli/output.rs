//! Human output for the client commands: aligned tables, colours (on a TTY only, never with
//! `NO_COLOR`), times in the client machine's zone, `#17` ids, and the shared plumbing
//! (socket lookup, `--json` printing). Every table cell and state word passes through
//! [`crate::text::sanitize_line`]: text from outside never reaches the terminal raw.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::args::ClientArgs;
use crate::api::Client;
use crate::text::sanitize_line;

/// What a client command returns: its exit code, or a one-line error (exit 1).
pub type CmdResult = anyhow::Result<ExitCode>;

/// The client for the socket these arguments point at.
pub fn client(args: &ClientArgs) -> Client {
    Client::new(crate::api::socket_path(args.socket.clone()))
}

/// The daemon's JSON answer on stdout exactly as it was sent (`--json`): no re-encoding, so
/// scripts see the API's documented shapes and large answers cost one copy.
pub fn print_raw(body: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(body)?;
    if !body.ends_with(b"\n") {
        writeln!(out)?;
    }
    out.flush()?;
    Ok(())
}

/// Pretty JSON on stdout, for answers the CLI builds itself.
pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Whether to colour: stdout is a terminal and `NO_COLOR` is unset or empty.
pub fn colour_enabled() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

/// ANSI colour of a state word: bad red, in-between yellow, good green.
fn state_colour(state: &str) -> Option<&'static str> {
    let word = state.split_whitespace().next().unwrap_or("");
    match word.to_ascii_lowercase().as_str() {
        "down" | "triggered" | "critical" | "failed" => Some("31"),
        "failing" | "acknowledged" | "warning" | "unknown" | "silenced" => Some("33"),
        "up" | "resolved" | "ok" | "delivered" | "active" => Some("32"),
        _ => None,
    }
}

/// A table cell: its text and whether it is a state word to colour.
pub struct Cell {
    text: String,
    state: bool,
}

impl Cell {
    pub fn state(text: impl Into<String>) -> Cell {
        Cell::new(text.into(), true)
    }

    /// Control characters replaced here, so widths are those of what is shown; a tab becomes
    /// a space, as it would shift the columns after it.
    fn new(text: String, state: bool) -> Cell {
        let text = match sanitize_line(&text) {
            std::borrow::Cow::Borrowed(_) if !text.contains('\t') => text,
            clean => clean.replace('\t', " "),
        };
        Cell { text, state }
    }
}

impl<T: Into<String>> From<T> for Cell {
    fn from(text: T) -> Cell {
        Cell::new(text.into(), false)
    }
}

/// An aligned table: widths are computed from the plain text, colour is added after padding
/// so escape codes never shift the columns.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    pub fn render(&self, colour: bool) -> String {
        let cols = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, c) in row.iter().enumerate().take(cols) {
                widths[i] = widths[i].max(c.text.chars().count());
            }
        }
        let mut out = String::new();
        let header: Vec<Cell> = self.header.iter().map(|h| Cell::from(h.as_str())).collect();
        for row in std::iter::once(&header).chain(self.rows.iter()) {
            let mut line = String::new();
            for (i, c) in row.iter().enumerate().take(cols) {
                let last = i + 1 == cols.min(row.len());
                let pad = if last {
                    0
                } else {
                    widths[i] - c.text.chars().count() + 2
                };
                match state_colour(&c.text).filter(|_| colour && c.state) {
                    Some(code) => line.push_str(&format!("\x1b[{code}m{}\x1b[0m", c.text)),
                    None => line.push_str(&c.text),
                }
                line.push_str(&" ".repeat(pad));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// A state word coloured for a line of prose (not a table).
pub fn paint_state(state: &str, colour: bool) -> String {
    let state = sanitize_line(state);
    match state_colour(&state).filter(|_| colour) {
        Some(code) => format!("\x1b[{code}m{state}\x1b[0m"),
        None => state.into_owned(),
    }
}

/// Outside text for one line of prose: control characters replaced.
pub fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    sanitize_line(text)
}

/// The zone times are shown in: the client machine's (`TZ` respected).
pub fn zone() -> TimeZone {
    TimeZone::system()
}

/// `2026-11-25 22:14 CET`, for tables.
pub fn short_time(ts: Timestamp, tz: &TimeZone) -> String {
    ts.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// `2026-11-25 22:14:03 CET`, for timelines.
pub fn long_time(ts: Timestamp, tz: &TimeZone) -> String {
    ts.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

pub fn opt_time(ts: Option<Timestamp>, tz: &TimeZone) -> String {
    ts.map(|t| short_time(t, tz)).unwrap_or_else(|| "-".into())
}

/// A compact age: `45s`, `12m`, `3h 5m`, `2d 4h`.
pub fn age(from: Timestamp, now: Timestamp) -> String {
    let secs = now.as_second().saturating_sub(from.as_second()).max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// `#17`.
pub fn id(n: u64) -> String {
    format!("#{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_and_colours_after_padding() {
        let mut t = Table::new(&["ID", "STATE", "MESSAGE"]);
        t.row(vec!["#1".into(), Cell::state("DOWN"), "boom".into()]);
        t.row(vec!["#170".into(), Cell::state("UP"), "fine".into()]);
        let plain = t.render(false);
        assert_eq!(
            plain,
            "ID    STATE  MESSAGE\n#1    DOWN   boom\n#170  UP     fine\n"
        );
        let coloured = t.render(true);
        assert!(
            coloured.contains("\x1b[31mDOWN\x1b[0m   boom"),
            "{coloured:?}"
        );
    }

    #[test]
    fn cells_never_carry_escapes() {
        let mut t = Table::new(&["CHECK", "MESSAGE"]);
        t.row(vec![
            "x".into(),
            "CRITICAL - \x1b[2J\x1b]52;c;aGk=\x07 bad\r.\r".into(),
        ]);
        let out = t.render(false);
        assert!(!out.contains(['\x1b', '\x07', '\r']), "{out:?}");
        assert!(
            out.contains("CRITICAL - �[2J�]52;c;aGk=� bad�.�"),
            "{out:?}"
        );
        assert!(!paint_state("DOWN\x1b[2J", true).contains("\x1b[2J"));
        assert_eq!(Cell::from("a\tb").text, "a b");
    }

    #[test]
    fn ages() {
        let t0: Timestamp = "2026-11-25T00:00:00Z".parse().unwrap();
        let at = |s: i64| t0.checked_add(jiff::SignedDuration::from_secs(s)).unwrap();
        assert_eq!(age(t0, at(45)), "45s");
        assert_eq!(age(t0, at(12 * 60)), "12m");
        assert_eq!(age(t0, at(3 * 3600 + 300)), "3h 5m");
        assert_eq!(age(t0, at(2 * 86400 + 4 * 3600)), "2d 4h");
        assert_eq!(age(at(10), t0), "0s", "clock skew never goes negative");
    }
}
