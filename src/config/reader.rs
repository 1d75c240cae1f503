//! A spanned walk over the parsed TOML tree that records every problem instead of stopping at
//! the first one.
//!
//! Each [`Node`] knows its byte span in the file and its key path (`check[2].interval`), so an
//! error can be reported where the user wrote the value. Each [`Table`] remembers which keys
//! the parser asked for; whatever is left over at [`Table::finish`] is an unknown key.

use std::ops::Range;
use std::time::Duration;

use toml::de::{DeTable, DeValue};

use super::limits::{Bounds, short_duration};

/// Byte range in the config text.
pub(crate) type Span = Range<usize>;

/// One problem before it is given a line and column.
#[derive(Debug, Clone)]
pub(crate) struct RawError {
    pub span: Span,
    pub key: String,
    pub message: String,
}

/// Collects problems; parsing carries on after each one.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    pub errors: Vec<RawError>,
}

impl Sink {
    pub fn error(&mut self, span: Span, key: impl Into<String>, message: impl Into<String>) {
        self.errors.push(RawError {
            span,
            key: key.into(),
            message: message.into(),
        });
    }
}

/// `parent.key`, quoting keys that are not bare TOML keys so the path stays unambiguous.
pub(crate) fn child_path(parent: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    };
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

/// One value in the file, with where it is and what it is called.
#[derive(Clone)]
pub(crate) struct Node<'a> {
    pub value: &'a DeValue<'a>,
    pub span: Span,
    pub path: String,
}

impl<'a> Node<'a> {
    pub fn new(value: &'a DeValue<'a>, span: Span, path: String) -> Self {
        Node { value, span, path }
    }

    /// Report a problem with this value.
    pub fn error(&self, sink: &mut Sink, message: impl Into<String>) {
        sink.error(self.span.clone(), self.path.clone(), message);
    }

    fn wrong_type(&self, sink: &mut Sink, expected: &str) {
        let found = self.value.type_str();
        self.error(
            sink,
            format!("expected {expected}, found {}", article(found)),
        );
    }

    pub fn str(&self, sink: &mut Sink) -> Option<&'a str> {
        match self.value {
            DeValue::String(s) => Some(s.as_ref()),
            _ => {
                self.wrong_type(sink, "a string");
                None
            }
        }
    }

    /// A string that must not be empty.
    pub fn non_empty_str(&self, sink: &mut Sink) -> Option<&'a str> {
        let s = self.str(sink)?;
        if s.is_empty() {
            self.error(sink, "must not be empty");
            return None;
        }
        Some(s)
    }

    pub fn bool(&self, sink: &mut Sink) -> Option<bool> {
        match self.value {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(sink, "true or false");
                None
            }
        }
    }

    /// An integer in `min..=max`.
    pub fn int(&self, sink: &mut Sink, min: i64, max: i64) -> Option<i64> {
        let DeValue::Integer(i) = self.value else {
            self.wrong_type(sink, "an integer");
            return None;
        };
        match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ if max == i64::MAX => {
                self.error(sink, format!("must be at least {min}"));
                None
            }
            _ => {
                self.error(sink, format!("must be between {min} and {max}"));
                None
            }
        }
    }

    /// A number (integer or float) in `min..=max`.
    pub fn number(&self, sink: &mut Sink, min: f64, max: f64) -> Option<f64> {
        let text = match self.value {
            DeValue::Integer(i) if i.radix() == 10 => i.as_str(),
            DeValue::Float(f) => f.as_str(),
            _ => {
                self.wrong_type(sink, "a number");
                return None;
            }
        };
        match text.replace('_', "").parse::<f64>() {
            Ok(n) if n.is_finite() && (min..=max).contains(&n) => Some(n),
            _ => {
                self.error(sink, format!("must be a number between {min} and {max}"));
                None
            }
        }
    }

    /// A `u32` of at least `min`.
    pub fn u32_min(&self, sink: &mut Sink, min: u32) -> Option<u32> {
        let n = self.int(sink, i64::from(min), i64::MAX)?;
        match u32::try_from(n) {
            Ok(v) => Some(v),
            Err(_) => {
                self.error(sink, format!("must be at most {}", u32::MAX));
                None
            }
        }
    }

    /// The elements, each with its `path[i]`.
    pub fn array(&self, sink: &mut Sink) -> Option<Vec<Node<'a>>> {
        let DeValue::Array(items) = self.value else {
            self.wrong_type(sink, "an array");
            return None;
        };
        Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| Node::new(v.get_ref(), v.span(), format!("{}[{i}]", self.path)))
                .collect(),
        )
    }

    /// A non-empty array of strings; every bad element is reported.
    pub fn strings(&self, sink: &mut Sink) -> Option<Vec<String>> {
        let items = self.array(sink)?;
        if items.is_empty() {
            self.error(sink, "must not be empty");
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for item in &items {
            match item.non_empty_str(sink) {
                Some(s) => out.push(s.to_string()),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    pub fn table(&self, sink: &mut Sink) -> Option<Table<'a>> {
        match self.value {
            DeValue::Table(map) => Some(Table::new(map, self.span.clone(), self.path.clone())),
            _ => {
                self.wrong_type(sink, "a table");
                None
            }
        }
    }

    /// A humantime duration string (`"30s"`, `"1h 30m"`) greater than zero.
    pub fn duration(&self, sink: &mut Sink) -> Option<Duration> {
        let s = self.str(sink)?;
        match humantime::parse_duration(s) {
            Ok(d) if d.is_zero() => {
                self.error(sink, "must be greater than zero");
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.error(
                    sink,
                    format!("invalid duration {s:?}: {e} (examples: \"30s\", \"15m\", \"1h 30m\")"),
                );
                None
            }
        }
    }
}

impl Node<'_> {
    /// A duration (as [`Node::duration`]) inside `bounds`.
    pub fn duration_in(&self, sink: &mut Sink, bounds: Bounds) -> Option<Duration> {
        let d = self.duration(sink)?;
        if d >= bounds.min && bounds.max.is_none_or(|max| d <= max) {
            return Some(d);
        }
        let range = match bounds.max {
            Some(max) => format!(
                "between {} and {}",
                short_duration(bounds.min),
                short_duration(max)
            ),
            None => format!("at least {}", short_duration(bounds.min)),
        };
        let written = self.value.as_str().unwrap_or_default();
        self.error(
            sink,
            format!("{written:?} is out of range: must be {range}"),
        );
        None
    }
}

/// "a string", "an integer", "a table".
fn article(word: &str) -> String {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {word}"),
        _ => format!("a {word}"),
    }
}

/// A TOML table being read; tracks which keys were asked for.
pub(crate) struct Table<'a> {
    map: &'a DeTable<'a>,
    pub span: Span,
    pub path: String,
    known: Vec<&'static str>,
}

impl<'a> Table<'a> {
    pub fn new(map: &'a DeTable<'a>, span: Span, path: String) -> Self {
        Table {
            map,
            span,
            path,
            known: Vec::new(),
        }
    }

    /// The value of an optional key; the key becomes a known key of this table.
    pub fn get(&mut self, key: &'static str) -> Option<Node<'a>> {
        self.allow(&[key]);
        self.map
            .get(key)
            .map(|v| Node::new(v.get_ref(), v.span(), child_path(&self.path, key)))
    }

    /// The value of a required key; reports it missing at the table.
    pub fn required(&mut self, sink: &mut Sink, key: &'static str) -> Option<Node<'a>> {
        let node = self.get(key);
        if node.is_none() {
            sink.error(
                self.span.clone(),
                child_path(&self.path, key),
                format!("missing required key `{key}`"),
            );
        }
        node
    }

    /// Mark keys as known without reading them (e.g. when the type of a check is unknown).
    pub fn allow(&mut self, keys: &[&'static str]) {
        for k in keys {
            if !self.known.contains(k) {
                self.known.push(k);
            }
        }
    }

    /// Every entry of a table whose keys are names (`[notifiers.NAME]`): the key as a node
    /// (its span is where the name is written) and the value.
    pub fn entries(&self) -> Vec<(String, Span, Node<'a>)> {
        self.map
            .iter()
            .map(|(k, v)| {
                let name = k.get_ref().to_string();
                let path = child_path(&self.path, &name);
                (name, k.span(), Node::new(v.get_ref(), v.span(), path))
            })
            .collect()
    }

    /// Report every key nobody asked for, with a suggestion when one is close.
    pub fn finish(self, sink: &mut Sink) {
        for (k, _) in self.map.iter() {
            let key = k.get_ref().as_ref();
            if self.known.contains(&key) {
                continue;
            }
            let hint = match closest(key, &self.known) {
                Some(best) => format!(" (did you mean `{best}`?)"),
                None if self.known.is_empty() => " (this table takes no keys)".to_string(),
                None => format!(" (expected one of: {})", self.known.join(", ")),
            };
            sink.error(
                k.span(),
                child_path(&self.path, key),
                format!("unknown key `{key}`{hint}"),
            );
        }
    }
}

/// The known key nearest to a misspelt one, if it is close enough to be a typo.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2 && *d < k.len().max(key.len()) / 2 + 1)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_quote_odd_keys() {
        assert_eq!(child_path("", "daemon"), "daemon");
        assert_eq!(child_path("check[0]", "url"), "check[0].url");
        assert_eq!(child_path("people", "a.b"), "people.\"a.b\"");
    }

    #[test]
    fn suggestions_only_for_near_misses() {
        assert_eq!(
            closest("intervall", &["interval", "timeout"]),
            Some("interval")
        );
        assert_eq!(closest("zzz", &["interval", "timeout"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
