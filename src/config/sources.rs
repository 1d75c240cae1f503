//! `[sources.NAME]`: where incidents come from besides oncalld's own checks (SPEC §11 "In").
//! The only type is `alertmanager`: Alertmanager's webhook posts to
//! `POST /v1/alertmanager/NAME` on the TCP listener, routed by labels to a policy.

use std::collections::{BTreeMap, BTreeSet};

use super::notifiers::named;
use super::reader::{Node, Sink, Table};

/// The source types, as written in `type = "..."`.
pub const KINDS: [&str; 1] = ["alertmanager"];

/// Shortest source token (as for heartbeat tokens: it is the whole authentication).
pub const MIN_TOKEN_LEN: usize = 16;

/// `[sources.NAME] type = "alertmanager"`. `token` is a secret: never shown (see `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct SourceConfig {
    /// `Authorization: Bearer <token>` of the source's route.
    pub token: String,
    /// The policy of alerts no route matches.
    pub policy: String,
    /// `[[sources.NAME.routes]]` in file order; the first match wins.
    pub routes: Vec<AlertRoute>,
    /// Checks the whole source sits behind (SPEC §12): its alerts' incidents are unreachable
    /// and page nobody while one of them is not UP.
    pub depends_on: Vec<String>,
}

impl std::fmt::Debug for SourceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceConfig")
            .field("token", &crate::redact::MASK)
            .field("policy", &self.policy)
            .field("routes", &self.routes)
            .field("depends_on", &self.depends_on)
            .finish()
    }
}

/// `match = { label = "value", ... }` (every label equal) and the policy it routes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRoute {
    pub matchers: BTreeMap<String, String>,
    pub policy: String,
}

impl SourceConfig {
    /// The policy for an alert with these labels: the first route whose labels all match,
    /// else the default.
    pub fn policy_for(&self, labels: &BTreeMap<String, String>) -> &str {
        self.routes
            .iter()
            .find(|r| r.matchers.iter().all(|(k, v)| labels.get(k) == Some(v)))
            .map_or(&self.policy, |r| &r.policy)
    }
}

/// Every `[sources.NAME]`; policies are checked against the declared ones.
pub(crate) fn sources(
    node: Option<&Node<'_>>,
    policies: &BTreeSet<String>,
    checks: &BTreeSet<String>,
    sink: &mut Sink,
) -> BTreeMap<String, SourceConfig> {
    let mut out = BTreeMap::new();
    for (name, value) in named(node, "source", sink) {
        let Some(mut t) = value.table(sink) else {
            continue;
        };
        let kind = t.required(sink, "type").and_then(|n| {
            let s = n.str(sink)?;
            if KINDS.contains(&s) {
                return Some(s);
            }
            let msg = format!(
                "unknown source type {s:?} (expected one of: {})",
                KINDS.join(", ")
            );
            n.error(sink, msg);
            None
        });
        let parsed = match kind {
            Some(_) => alertmanager(&mut t, policies, checks, sink),
            None => {
                t.allow(&["token", "policy", "routes", "depends_on"]);
                None
            }
        };
        t.finish(sink);
        if let Some(s) = parsed {
            out.insert(name, s);
        }
    }
    out
}

fn alertmanager(
    t: &mut Table<'_>,
    policies: &BTreeSet<String>,
    checks: &BTreeSet<String>,
    sink: &mut Sink,
) -> Option<SourceConfig> {
    let depends_on = match t.get("depends_on") {
        None => Some(Vec::new()),
        Some(n) => n.array(sink).and_then(|items| {
            let mut out = Vec::new();
            let mut ok = true;
            for item in items {
                match item.str(sink) {
                    Some(s) if checks.contains(s) => out.push(s.to_string()),
                    Some(s) => {
                        item.error(sink, format!("unknown check {s:?} in depends_on"));
                        ok = false;
                    }
                    None => ok = false,
                }
            }
            ok.then_some(out)
        }),
    };
    let token = t.required(sink, "token").and_then(|n| token(&n, sink));
    let policy = t
        .required(sink, "policy")
        .and_then(|n| policy(&n, policies, sink));
    let routes = match t.get("routes") {
        None => Some(Vec::new()),
        Some(n) => routes(&n, policies, sink),
    };
    Some(SourceConfig {
        token: token?,
        policy: policy?,
        routes: routes?,
        depends_on: depends_on?,
    })
}

/// The token's errors never quote it.
fn token(n: &Node<'_>, sink: &mut Sink) -> Option<String> {
    let s = n.str(sink)?;
    let ok = s.len() >= MIN_TOKEN_LEN && s.bytes().all(|b| b.is_ascii_graphic());
    if !ok {
        n.error(
            sink,
            format!(
                "token must be at least {MIN_TOKEN_LEN} printable ASCII characters without spaces"
            ),
        );
        return None;
    }
    Some(s.to_string())
}

fn policy(n: &Node<'_>, policies: &BTreeSet<String>, sink: &mut Sink) -> Option<String> {
    let s = n.non_empty_str(sink)?;
    if !policies.contains(s) {
        n.error(sink, format!("unknown policy {s:?}"));
        return None;
    }
    Some(s.to_string())
}

fn routes(n: &Node<'_>, policies: &BTreeSet<String>, sink: &mut Sink) -> Option<Vec<AlertRoute>> {
    let mut out = Vec::new();
    let mut ok = true;
    for item in n.array(sink)? {
        let Some(mut t) = item.table(sink) else {
            ok = false;
            continue;
        };
        let matchers = t.required(sink, "match").and_then(|m| matchers(&m, sink));
        let policy = t
            .required(sink, "policy")
            .and_then(|p| policy(&p, policies, sink));
        t.finish(sink);
        match (matchers, policy) {
            (Some(matchers), Some(policy)) => out.push(AlertRoute { matchers, policy }),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

fn matchers(n: &Node<'_>, sink: &mut Sink) -> Option<BTreeMap<String, String>> {
    let t = n.table(sink)?;
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (label, _, value) in t.entries() {
        match value.str(sink) {
            Some(v) => {
                out.insert(label, v.to_string());
            }
            None => ok = false,
        }
    }
    if out.is_empty() && ok {
        n.error(sink, "match needs at least one label = \"value\"");
        return None;
    }
    ok.then_some(out)
}
