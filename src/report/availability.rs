//! DOWN time per check over a window, and the part of it during an active silence.
//!
//! Spans are in milliseconds since the epoch, half-open `[start, end)`, clipped to the window.

use super::NameMap;
use super::stats::ReportInput;
use crate::core::check_state::CheckState;
use crate::core::model::{CheckTransitionRecord, Silence};

type Span = (i64, i64);

/// `(down_ms, silenced_down_ms, unreachable_down_ms)` for each of `names`, in the same order.
pub(crate) fn per_check(
    input: &ReportInput,
    names: &[&str],
    index: &NameMap<&str, usize>,
) -> Vec<(i64, i64, i64)> {
    let from = input.from.as_millisecond();
    let to = input.to.as_millisecond();
    let mut by_check: Vec<Vec<&CheckTransitionRecord>> = vec![Vec::new(); names.len()];
    for t in input.transitions {
        if let Some(&i) = index.get(t.check.as_str()) {
            by_check[i].push(t);
        }
    }
    let silences: Vec<SilenceMatcher> = input.silences.iter().map(SilenceMatcher::new).collect();
    let mut held: Vec<Vec<Span>> = vec![Vec::new(); names.len()];
    for (check, start, end) in input.unreachable {
        if let Some(&i) = index.get(check.as_str()) {
            let end = end.map_or(to, |e| e.as_millisecond().min(to));
            held[i].push((start.as_millisecond().max(from), end));
        }
    }
    names
        .iter()
        .zip(by_check.iter_mut())
        .zip(held)
        .map(|((name, transitions), held)| {
            transitions.sort_by_key(|t| t.at);
            let down = down_spans(transitions, from, to);
            let down_ms = down.iter().map(|(s, e)| e - s).sum();
            if down.is_empty() {
                return (down_ms, 0, 0);
            }
            let unreachable = overlap(&down, &merged(held.into_iter()));
            let quiet = merged(
                silences
                    .iter()
                    .filter(|s| s.matches(name))
                    .map(|s| (s.span.0.max(from), s.span.1.min(to))),
            );
            (down_ms, overlap(&down, &quiet), unreachable)
        })
        .collect()
}

/// DOWN spans within `[from, to)` from transitions sorted by time. The last transition at or
/// before `from` gives the state at `from`; with none, the check counts as not DOWN.
pub(crate) fn down_spans(sorted: &[&CheckTransitionRecord], from: i64, to: i64) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut down_since: Option<i64> = None;
    for t in sorted {
        let at = t.at.as_millisecond();
        if at >= to {
            break;
        }
        let at = at.max(from);
        match (down_since, t.to == CheckState::Down) {
            (None, true) => down_since = Some(at),
            (Some(start), false) => {
                if at > start {
                    spans.push((start, at));
                }
                down_since = None;
            }
            _ => {}
        }
    }
    if let Some(start) = down_since.filter(|&s| s < to) {
        spans.push((start, to));
    }
    spans
}

/// Sorts and merges spans, dropping empty ones.
fn merged(spans: impl Iterator<Item = Span>) -> Vec<Span> {
    let mut spans: Vec<Span> = spans.filter(|(s, e)| s < e).collect();
    spans.sort_unstable();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Total length of the intersection of two sorted lists of disjoint spans.
fn overlap(a: &[Span], b: &[Span]) -> i64 {
    let (mut i, mut j, mut sum) = (0, 0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        let (s, e) = (x.0.max(y.0), x.1.min(y.1));
        if s < e {
            sum += e - s;
        }
        if x.1 <= y.1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    sum
}

/// A silence's pattern, compiled once for every check it is tested against.
struct SilenceMatcher<'a> {
    pattern: Option<glob::Pattern>,
    raw: &'a str,
    span: Span,
}

impl<'a> SilenceMatcher<'a> {
    fn new(s: &'a Silence) -> Self {
        SilenceMatcher {
            pattern: glob::Pattern::new(&s.pattern).ok(),
            raw: &s.pattern,
            span: (s.starts_at.as_millisecond(), s.ends_at.as_millisecond()),
        }
    }

    /// A pattern that is not a valid glob matches its own text only.
    fn matches(&self, check: &str) -> bool {
        match &self.pattern {
            Some(p) => p.matches(check),
            None => self.raw == check,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_joins_overlapping_and_touching_spans() {
        let spans = [(5, 9), (0, 2), (2, 3), (8, 12), (20, 20)];
        assert_eq!(merged(spans.into_iter()), vec![(0, 3), (5, 12)]);
    }

    #[test]
    fn overlap_of_interleaved_spans() {
        let a = [(0, 10), (20, 30)];
        let b = [(5, 25), (28, 40)];
        // 5..10, 20..25, 28..30
        assert_eq!(overlap(&a, &b), 5 + 5 + 2);
    }
}
