//! `[defaults]` and `[[check]]`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::limits;
use super::probes;
use super::reader::{Node, Sink, Span, Table};
use super::types::{CheckConfig, FlapThresholds, PageOn};
use super::values;

/// Where a check's policy name came from, so a missing policy is reported where it was written.
#[derive(Debug, Clone)]
pub enum PolicyFrom {
    /// Nobody named one: the built-in `"default"`.
    Builtin,
    /// `[defaults] policy`, at this span and key.
    Defaults(Span, String),
    /// The check's own `policy`, at this span and key.
    Check(Span, String),
}

/// The keys `[defaults]` and every check share, with the built-in defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u32,
    pub retry_interval: Duration,
    pub recoveries: u32,
    pub policy: String,
    pub policy_from: PolicyFrom,
    pub auto_resolve: bool,
    pub page_on: PageOn,
    /// `flap_detection` (default true) and `flap_thresholds` (default `[20, 30]`).
    pub flap_detection: bool,
    pub flap_thresholds: FlapThresholds,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            retries: 3,
            retry_interval: Duration::from_secs(10),
            recoveries: 1,
            policy: "default".to_string(),
            policy_from: PolicyFrom::Builtin,
            auto_resolve: true,
            page_on: PageOn::Critical,
            flap_detection: true,
            flap_thresholds: FlapThresholds::default(),
        }
    }
}

/// Override `s` with whichever shared keys `t` sets. `from_defaults` says which table it is.
pub fn read_settings(t: &mut Table<'_>, sink: &mut Sink, s: &mut Settings, from_defaults: bool) {
    let durations: [(&'static str, &mut Duration, limits::Bounds); 3] = [
        ("interval", &mut s.interval, limits::PROBE_INTERVAL),
        ("timeout", &mut s.timeout, limits::TIMEOUT),
        (
            "retry_interval",
            &mut s.retry_interval,
            limits::PROBE_INTERVAL,
        ),
    ];
    for (key, slot, bounds) in durations {
        if let Some(d) = t.get(key).and_then(|n| n.duration_in(sink, bounds)) {
            *slot = d;
        }
    }
    for (key, slot) in [
        ("retries", &mut s.retries),
        ("recoveries", &mut s.recoveries),
    ] {
        let value = t.get(key).and_then(|n| n.int(sink, 1, limits::MAX_COUNT));
        if let Some(v) = value.and_then(|v| u32::try_from(v).ok()) {
            *slot = v;
        }
    }
    if let Some(n) = t.get("policy") {
        if let Some(name) = values::name(&n, sink, "policy") {
            s.policy = name;
            s.policy_from = if from_defaults {
                PolicyFrom::Defaults(n.span.clone(), n.path.clone())
            } else {
                PolicyFrom::Check(n.span.clone(), n.path.clone())
            };
        }
    }
    if let Some(b) = t.get("auto_resolve").and_then(|n| n.bool(sink)) {
        s.auto_resolve = b;
    }
    if let Some(b) = t.get("flap_detection").and_then(|n| n.bool(sink)) {
        s.flap_detection = b;
    }
    if let Some(th) = t
        .get("flap_thresholds")
        .and_then(|n| flap_thresholds(&n, sink))
    {
        s.flap_thresholds = th;
    }
    if let Some(n) = t.get("page_on") {
        match n.str(sink) {
            Some("critical") => s.page_on = PageOn::Critical,
            Some("warning") => s.page_on = PageOn::Warning,
            Some(other) => n.error(
                sink,
                format!("invalid page_on {other:?}: expected \"critical\" or \"warning\""),
            ),
            None => {}
        }
    }
}

/// `flap_thresholds = [low, high]`: two percentages, `0 <= low < high <= 100`.
fn flap_thresholds(n: &Node<'_>, sink: &mut Sink) -> Option<FlapThresholds> {
    let items = n.array(sink)?;
    let [low, high] = items.as_slice() else {
        n.error(
            sink,
            "expected [low, high] (two percentages, e.g. [20, 30])",
        );
        return None;
    };
    let (low, high) = (
        low.number(sink, 0.0, 100.0)?,
        high.number(sink, 0.0, 100.0)?,
    );
    if low >= high {
        n.error(
            sink,
            format!(
                "low ({low}) must be below high ({high}): flapping starts at high and stops at low"
            ),
        );
        return None;
    }
    Some(FlapThresholds { low, high })
}

/// `[defaults]`; absent means the built-in defaults.
pub fn defaults(table: Option<Table<'_>>, sink: &mut Sink) -> Settings {
    let mut s = Settings::default();
    if let Some(mut t) = table {
        read_settings(&mut t, sink, &mut s, true);
        t.finish(sink);
    }
    s
}

/// One check, with what the cross-reference pass needs to report on it.
pub struct ParsedCheck {
    /// `None` when the check has errors (already reported).
    pub config: Option<CheckConfig>,
    /// The effective policy name and where it came from.
    pub policy: String,
    pub policy_from: PolicyFrom,
    /// The `[[check]]` header, and its key path (`check[3]`).
    pub span: Span,
    pub path: String,
    /// The check's name (even when it has other errors) and each `depends_on` name with
    /// where it was written, for the cross-reference pass.
    pub name: Option<String>,
    pub depends_on: Vec<(String, Span, String)>,
}

/// Every `[[check]]`, in file order; a check with errors has no `config`.
pub fn checks(
    node: Option<Node<'_>>,
    defaults: &Settings,
    base: &Path,
    sink: &mut Sink,
) -> Vec<ParsedCheck> {
    let Some(node) = node else { return Vec::new() };
    if !matches!(node.value, toml::de::DeValue::Array(_)) {
        node.error(sink, "expected [[check]] entries (an array of tables)");
        return Vec::new();
    }
    let Some(items) = node.array(sink) else {
        return Vec::new();
    };
    let mut seen = Seen::default();
    items
        .iter()
        .filter_map(|item| check(item, defaults, base, &mut seen, sink))
        .collect()
}

/// What must be unique across checks: names and heartbeat tokens, each mapped to the key
/// path of the check that used it first.
#[derive(Default)]
struct Seen {
    names: BTreeMap<String, String>,
    tokens: BTreeMap<String, String>,
}

/// One `[[check]]`; `None` only when it is not a table at all.
fn check(
    item: &Node<'_>,
    defaults: &Settings,
    base: &Path,
    seen: &mut Seen,
    sink: &mut Sink,
) -> Option<ParsedCheck> {
    let mut t = item.table(sink)?;
    let name = check_name(&mut t, &mut seen.names, sink);
    let kind = t.required(sink, "type").and_then(|n| {
        let s = n.str(sink)?;
        if !probes::KINDS.contains(&s) {
            let kinds = probes::KINDS.join(", ");
            n.error(
                sink,
                format!("unknown check type {s:?} (expected one of: {kinds})"),
            );
        }
        Some(s)
    });
    let mut s = defaults.clone();
    read_settings(&mut t, sink, &mut s, false);
    let depends_on = t
        .get("depends_on")
        .map(|n| parents(&n, sink))
        .unwrap_or_default();
    let probe = probes::probe(kind, &mut t, base, sink);
    if let Some(p) = &probe {
        super::heartbeat::check_unique_token(p, &t, &mut seen.tokens, sink);
    }
    let (span, path) = (t.span.clone(), t.path.clone());
    t.finish(sink);
    let config = match (name.clone(), probe) {
        (Some(name), Some(probe)) => Some(CheckConfig {
            name,
            probe,
            interval: s.interval,
            timeout: s.timeout,
            retries: s.retries,
            retry_interval: s.retry_interval,
            recoveries: s.recoveries,
            policy: s.policy.clone(),
            auto_resolve: s.auto_resolve,
            page_on: s.page_on,
            depends_on: depends_on.iter().map(|(n, _, _)| n.clone()).collect(),
            flap: s.flap_detection.then_some(s.flap_thresholds),
        }),
        _ => None,
    };
    Some(ParsedCheck {
        config,
        policy: s.policy,
        policy_from: s.policy_from,
        span,
        path,
        name,
        depends_on,
    })
}

/// `depends_on = ["gw", ...]`: check names, each with its span and key path.
fn parents(n: &Node<'_>, sink: &mut Sink) -> Vec<(String, Span, String)> {
    let Some(items) = n.array(sink) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Span, String)> = Vec::new();
    for item in items {
        let Some(name) = values::name(&item, sink, "check") else {
            continue;
        };
        if out.iter().any(|(o, _, _)| *o == name) {
            item.error(sink, format!("{name:?} is named twice"));
            continue;
        }
        out.push((name, item.span.clone(), item.path.clone()));
    }
    out
}

/// Every `depends_on` name must be a check, not the check itself, and the dependencies must
/// not form a cycle (each cycle is reported once, at the `depends_on` entry that closes it).
pub fn check_dependencies(checks: &[ParsedCheck], sink: &mut Sink) {
    let index: BTreeMap<&str, usize> = checks
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.name.as_deref().map(|n| (n, i)))
        .collect();
    let mut edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); checks.len()];
    for (i, c) in checks.iter().enumerate() {
        for (k, (name, span, path)) in c.depends_on.iter().enumerate() {
            match index.get(name.as_str()) {
                None => sink.error(
                    span.clone(),
                    path.clone(),
                    format!("unknown check {name:?} in depends_on"),
                ),
                Some(&j) if j == i => sink.error(
                    span.clone(),
                    path.clone(),
                    format!("check {name:?} cannot depend on itself"),
                ),
                Some(&j) => edges[i].push((j, k)),
            }
        }
    }
    // Iterative depth-first search; 0 unseen, 1 on the stack, 2 done.
    let mut mark = vec![0u8; checks.len()];
    for start in 0..checks.len() {
        if mark[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        mark[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let Some(&(child, k)) = edges[node].get(*next) else {
                mark[node] = 2;
                stack.pop();
                continue;
            };
            *next += 1;
            match mark[child] {
                0 => {
                    mark[child] = 1;
                    stack.push((child, 0));
                }
                1 => {
                    let from = stack.iter().position(|(n, _)| *n == child).unwrap_or(0);
                    let mut names: Vec<&str> = stack[from..]
                        .iter()
                        .filter_map(|(n, _)| checks[*n].name.as_deref())
                        .collect();
                    names.push(checks[child].name.as_deref().unwrap_or("?"));
                    let (_, span, path) = &checks[node].depends_on[k];
                    sink.error(
                        span.clone(),
                        path.clone(),
                        format!("depends_on makes a cycle: {}", names.join(" -> ")),
                    );
                }
                _ => {}
            }
        }
    }
}

/// The check's `name`: valid, and not used by an earlier check (`seen` maps names to paths).
fn check_name(
    t: &mut Table<'_>,
    seen: &mut BTreeMap<String, String>,
    sink: &mut Sink,
) -> Option<String> {
    let node = t.required(sink, "name")?;
    let name = values::name(&node, sink, "check")?;
    if let Some(first) = seen.get(&name) {
        node.error(
            sink,
            format!("duplicate check name {name:?} (first defined at {first})"),
        );
    } else {
        seen.insert(name.clone(), t.path.clone());
    }
    Some(name)
}

/// Every check's policy must exist. A policy inherited from `[defaults]` or the built-in
/// `"default"` is reported once, where it was set (or at the first check relying on it).
pub fn check_policies(checks: &[ParsedCheck], policies: &dyn Fn(&str) -> bool, sink: &mut Sink) {
    let mut reported_inherited = false;
    for c in checks {
        let name = &c.policy;
        if policies(name) {
            continue;
        }
        match &c.policy_from {
            PolicyFrom::Check(span, path) => {
                sink.error(
                    span.clone(),
                    path.clone(),
                    format!("unknown policy {name:?}"),
                );
            }
            _ if reported_inherited => {}
            PolicyFrom::Defaults(span, path) => {
                reported_inherited = true;
                sink.error(
                    span.clone(),
                    path.clone(),
                    format!("unknown policy {name:?}"),
                );
            }
            PolicyFrom::Builtin => {
                reported_inherited = true;
                sink.error(
                    c.span.clone(),
                    format!("{}.policy", c.path),
                    format!(
                        "no policy {name:?}: checks that name no policy use [policies.{name}]; \
                         define it, or set `policy` here or in [defaults]"
                    ),
                );
            }
        }
    }
}
