//! Guards run on the raw text before the TOML parser sees it, and byte offset -> line:column.

/// Larger files are refused unread: a monitoring config is a few kilobytes, and the daemon
/// re-reads it on every reload.
pub const MAX_BYTES: usize = 1024 * 1024;

/// Deeper `[`/`{` nesting is refused before parsing, so a hostile or generated file cannot
/// make the recursive parser use unbounded stack. The real format needs depth 3.
pub const MAX_DEPTH: usize = 32;

/// The byte offset where nesting first goes deeper than [`MAX_DEPTH`], if it does.
///
/// Counts `[` and `{` outside strings and comments (table headers count too, harmlessly).
pub fn too_deep(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' => {
                i = skip_string(b, i);
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The offset just past the string that starts at `start` (or the end of the text).
fn skip_string(b: &[u8], start: usize) -> usize {
    let quote = b[start];
    let triple = b.len() >= start + 3 && b[start + 1] == quote && b[start + 2] == quote;
    let escapes = quote == b'"';
    let mut i = if triple { start + 3 } else { start + 1 };
    while i < b.len() {
        let c = b[i];
        if escapes && c == b'\\' {
            i += 2;
            continue;
        }
        if !triple && c == b'\n' {
            return i; // unterminated; the parser will say so
        }
        if c == quote {
            if !triple {
                return i + 1;
            }
            if b.len() >= i + 3 && b[i + 1] == quote && b[i + 2] == quote {
                // A closing """ may be followed by up to two more quotes that belong to the text.
                let mut end = i + 3;
                while end < b.len() && b[end] == quote && end < i + 5 {
                    end += 1;
                }
                return end;
            }
        }
        i += 1;
    }
    b.len()
}

/// Maps byte offsets to 1-based line and column (columns count characters).
pub struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line, column + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_ignores_strings_and_comments() {
        let deep = format!("x = {}1{}", "[".repeat(33), "]".repeat(33));
        assert_eq!(too_deep(&deep), Some(4 + 32));
        let ok = format!("x = {}1{}", "[".repeat(32), "]".repeat(32));
        assert_eq!(too_deep(&ok), None);
        let quoted = format!(
            "a = \"{0}\"\nb = '{0}'\nc = \"\"\"\n{0}\"\"\"\n# {0}\n",
            "[".repeat(40)
        );
        assert_eq!(too_deep(&quoted), None);
        assert_eq!(too_deep("a = \"\\\"[[[[\"\n"), None);
    }

    #[test]
    fn positions_are_one_based() {
        let idx = LineIndex::new("ab\ncé d\n");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(1), (1, 2));
        assert_eq!(idx.position(3), (2, 1));
        assert_eq!(idx.position(7), (2, 4));
        assert_eq!(idx.position(100), (3, 1));
    }
}
