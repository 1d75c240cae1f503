//! Give lint findings a line and column: the path of a finding is looked up in the parsed
//! file, falling back to the nearest enclosing table or array that is written there.

use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::ConfigError;
use super::lint::{Finding, Seg};
use super::reader::Span;
use super::source::LineIndex;

/// Each finding as a located [`ConfigError`] (shown as a warning by its caller), in file
/// order like errors.
pub(crate) fn locate(findings: Vec<Finding>, text: &str, path: &Path) -> Vec<ConfigError> {
    let root = DeTable::parse(text).ok();
    let lines = LineIndex::new(text);
    let mut located: Vec<ConfigError> = findings
        .into_iter()
        .map(|f| {
            let span = root.as_ref().and_then(|r| span_of(r.get_ref(), &f.at));
            // A file that parsed has every section a finding is about; line 1 is the floor.
            let (line, column) = span.map_or((1, 1), |s| lines.position(s.start));
            ConfigError {
                file: path.to_path_buf(),
                line: line.max(1),
                column: column.max(1),
                key: f.key(),
                message: f.message,
            }
        })
        .collect();
    located.sort_by_key(|e| (e.line, e.column));
    located
}

/// Where `at` is written: the key of a table (`[people.bob]`), the value of anything else
/// (`policy = "x"`, an element of `[[check]]`); the deepest part of the path that exists.
fn span_of(root: &DeTable<'_>, at: &[Seg]) -> Option<Span> {
    let mut best = None;
    let mut table = Some(root);
    let mut value: Option<&DeValue<'_>> = None;
    for seg in at {
        let (span, next) = match (seg, table, value) {
            (Seg::Key(k), Some(t), _) => {
                let Some((key, v)) = t.iter().find(|(key, _)| key.get_ref().as_ref() == k) else {
                    break;
                };
                let is_table = matches!(v.get_ref(), DeValue::Table(_));
                (if is_table { key.span() } else { v.span() }, v)
            }
            (Seg::Index(i), _, Some(DeValue::Array(items))) => {
                let Some(v) = items.get(*i) else { break };
                (v.span(), v)
            }
            _ => break,
        };
        best = Some(span);
        value = Some(next.get_ref());
        table = match next.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => None,
        };
    }
    best
}
