//! `[status_page]` (SPEC §14): the public page at `GET /` on the listener.

use super::reader::{Node, Sink};

/// Longest `title`: it is the page's heading and `<title>`.
const MAX_TITLE: usize = 200;

/// `[status_page]`. Off unless `enabled = true`; then `GET /` and `GET /status.json` on the
/// listener show the checks matching `checks` (default: all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusPageConfig {
    pub enabled: bool,
    /// The page's heading; default "Status".
    pub title: String,
    /// Glob patterns (`web-*`) of the checks shown; default `["*"]`.
    pub checks: Vec<String>,
}

impl Default for StatusPageConfig {
    fn default() -> Self {
        StatusPageConfig {
            enabled: false,
            title: "Status".to_string(),
            checks: vec!["*".to_string()],
        }
    }
}

impl StatusPageConfig {
    /// Whether the page shows `check`.
    pub fn shows(&self, check: &str) -> bool {
        self.checks
            .iter()
            .any(|p| glob::Pattern::new(p).is_ok_and(|p| p.matches(check)))
    }
}

pub fn status_page(node: Option<&Node<'_>>, sink: &mut Sink) -> StatusPageConfig {
    let mut out = StatusPageConfig::default();
    let Some(mut t) = node.and_then(|n| n.table(sink)) else {
        return out;
    };
    if let Some(n) = t.get("enabled") {
        out.enabled = n.bool(sink).unwrap_or(false);
    }
    if let Some(n) = t.get("title") {
        if let Some(s) = n.non_empty_str(sink) {
            if s.chars().count() > MAX_TITLE || s.chars().any(char::is_control) {
                n.error(
                    sink,
                    format!("title: at most {MAX_TITLE} characters, no control characters"),
                );
            } else {
                out.title = s.to_string();
            }
        }
    }
    if let Some(n) = t.get("checks") {
        if let Some(globs) = n.strings(sink) {
            match globs
                .iter()
                .find_map(|g| glob::Pattern::new(g).err().map(|e| (g, e)))
            {
                Some((g, e)) => n.error(sink, format!("invalid glob {g:?}: {e}")),
                None => out.checks = globs,
            }
        }
    }
    t.finish(sink);
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    const BASE: &str = "[notifiers.log]\ntype = \"console\"\n[policies.default]\n[[policies.default.steps]]\nnotify = [\"notifier:log\"]\n";

    #[test]
    fn keys_defaults_and_errors_at_their_place() {
        let path = Path::new("/etc/oncalld/checks.toml");
        let c = crate::config::parse(BASE, path).expect("valid");
        assert!(!c.status_page.enabled);
        assert_eq!(c.status_page.checks, ["*"]);
        let text =
            format!("{BASE}[status_page]\nenabled = true\ntitle = \"Ops\"\nchecks = [\"web-*\"]\n");
        let c = crate::config::parse(&text, path).expect("valid");
        assert!(
            c.status_page.enabled && c.status_page.shows("web-1") && !c.status_page.shows("db")
        );
        assert_eq!(c.status_page.title, "Ops");
        let text = format!("{BASE}[status_page]\nchecks = [\"web-[\"]\nshow_people = true\n");
        let e = crate::config::parse(&text, path)
            .expect_err("invalid")
            .to_string();
        assert!(
            e.contains("checks.toml:7:10: status_page.checks: invalid glob"),
            "{e}"
        );
        assert!(
            e.contains("checks.toml:8:1: status_page.show_people"),
            "{e}"
        );
    }
}
