//! Grouping (SPEC §12 `group_wait` on a policy): fewer pages in a storm.
//!
//! # Rules
//!
//! - Pages are decided as usual (every rule above this module is unchanged); then, for a policy
//!   with `group_wait`, each page of an input's step is looked at in order. The first page of
//!   a kind (triggered, escalated, flapping, acknowledged, resolved) to a destination (person
//!   or notifier, notifier, address) goes at once and opens a window of `group_wait`.
//! - A page of the same policy, kind and destination decided while that window is open is
//!   held: its `paged` timeline event becomes `grouped`, its message ending
//!   ` -> grouped into digest <key>` (the digest's idempotency key, so `explain` can follow it).
//! - At the window's end, one digest page goes to that destination with every held page's
//!   incident, in order (`TRIGGERED 37 incidents: web-1, web-2, … (+27 more)`; the webhook
//!   body's `incidents` array; the email lists them). Its key is
//!   `oncalld:digest:<incident>:<seq>:<recipient>:<notifier>` of the page that opened the
//!   window. Each incident's state in the digest is its state when the digest is sent.
//! - The first page is never delayed; every held page's incident is named in exactly one
//!   digest; the next page after a window closes opens a new one.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

use super::{Action, Due, Engine};
use crate::core::escalation::HeldPage;
use crate::core::model::{DigestItem, EventKind, IncidentId, IncidentState, Page, PageEvent};

/// Pages are grouped per policy, kind and destination.
pub(super) type WindowKey = (String, String, String, Option<String>, PageEvent);

/// An open window: pages held for its digest.
#[derive(Debug, Clone)]
pub(super) struct Window {
    key: WindowKey,
    digest_key: String,
    ends_at: Timestamp,
    held: Vec<Page>,
}

/// Names shown in a digest's text before `(+N more)`.
const NAMES_SHOWN: usize = 10;

impl Engine {
    /// Hold the step's pages that fall in an open window; open windows for the others.
    pub(super) fn group_pages(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        if !self.grouping {
            return;
        }
        let mut policy_of: HashMap<IncidentId, String> = HashMap::new();
        for a in out.iter() {
            if let Action::SaveIncident(i) = a {
                policy_of.insert(i.id, i.policy.clone());
            }
        }
        let mut held: Vec<(IncidentId, u32, String)> = Vec::new();
        let mut kept_with: Vec<HeldPage> = Vec::new();
        let mut keep = Vec::with_capacity(out.len());
        for action in out.drain(..) {
            let Action::Page(p) = &action else {
                keep.push(action);
                continue;
            };
            let wait = policy_of
                .get(&p.incident)
                .and_then(|name| Some((name, self.config.policies.get(name)?.group_wait?)));
            let Some((policy, wait)) = wait.filter(|_| p.digest.is_empty() && p.incident != 0)
            else {
                keep.push(action);
                continue;
            };
            let key: WindowKey = (
                policy.clone(),
                p.recipient.clone(),
                p.notifier.clone(),
                p.to.clone(),
                p.event,
            );
            match self
                .window_of
                .get(&key)
                .and_then(|id| self.windows.get_mut(id))
            {
                Some(w) if w.ends_at > now => {
                    held.push((p.incident, p.seq, w.digest_key.clone()));
                    if let Action::Page(p) = action {
                        kept_with.push(HeldPage {
                            digest: w.digest_key.clone(),
                            until: w.ends_at,
                            policy: policy.clone(),
                            page: p.clone(),
                        });
                        w.held.push(p);
                    }
                }
                _ => {
                    let id = self.next_window;
                    self.next_window += 1;
                    let ends_at = now
                        .checked_add(SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX))
                        .unwrap_or(Timestamp::MAX);
                    let digest_key = format!(
                        "oncalld:digest:{}:{}:{}:{}",
                        p.incident, p.seq, p.recipient, p.notifier
                    );
                    self.windows.insert(
                        id,
                        Window {
                            key: key.clone(),
                            digest_key,
                            ends_at,
                            held: Vec::new(),
                        },
                    );
                    self.window_of.insert(key, id);
                    self.schedule(Due::Window(id), Some(ends_at));
                    keep.push(action);
                }
            }
        }
        *out = keep;
        if held.is_empty() {
            return;
        }
        // Each held page is kept with its (open) incident too, so a restart still sends it.
        for h in kept_with {
            let id = h.page.incident;
            if let Some(inc) = self.incidents.get_mut(&id) {
                inc.escalation.grouped.push(h.clone());
            }
            let saved = out.iter_mut().rev().find_map(|a| match a {
                Action::SaveIncident(i) if i.id == id && i.state.is_open() => Some(i),
                _ => None,
            });
            if let Some(i) = saved {
                i.escalation.grouped.push(h);
            }
        }
        let held: HashMap<(IncidentId, u32), String> =
            held.into_iter().map(|(i, s, k)| ((i, s), k)).collect();
        for a in out.iter_mut() {
            if let Action::Record(e) = a
                && e.kind == EventKind::Paged
                && let Some(key) = held.get(&(e.incident, e.seq))
            {
                e.kind = EventKind::Grouped;
                e.message = format!("{} -> grouped into digest {key}", e.message);
            }
        }
    }

    /// After a restart: the windows of the pages open incidents still hold (their digests
    /// go out at their time, or at the first input if it passed).
    pub(super) fn restore_windows(&mut self) {
        let mut by_digest: std::collections::BTreeMap<String, Vec<HeldPage>> =
            std::collections::BTreeMap::new();
        for inc in self.incidents.values() {
            for h in &inc.escalation.grouped {
                by_digest
                    .entry(h.digest.clone())
                    .or_default()
                    .push(h.clone());
            }
        }
        for (digest_key, mut pages) in by_digest {
            pages.sort_by_key(|h| (h.page.created_at, h.page.incident, h.page.seq));
            let Some(first) = pages.first() else {
                continue;
            };
            let p = &first.page;
            let key: WindowKey = (
                first.policy.clone(),
                p.recipient.clone(),
                p.notifier.clone(),
                p.to.clone(),
                p.event,
            );
            let ends_at = first.until;
            let id = self.next_window;
            self.next_window += 1;
            self.window_of.insert(key.clone(), id);
            self.windows.insert(
                id,
                Window {
                    key,
                    digest_key,
                    ends_at,
                    held: pages.into_iter().map(|h| h.page).collect(),
                },
            );
            self.schedule(Due::Window(id), Some(ends_at));
        }
    }

    /// A window ends: one digest page with every page it held.
    pub(super) fn fire_window(&mut self, id: u64, now: Timestamp, out: &mut Vec<Action>) {
        let Some(w) = self.windows.remove(&id) else {
            return;
        };
        if self.window_of.get(&w.key) == Some(&id) {
            self.window_of.remove(&w.key);
        }
        let Some(first) = w.held.first() else {
            return;
        };
        // The held pages leave their incidents.
        let mut ids: Vec<IncidentId> = w.held.iter().map(|p| p.incident).collect();
        ids.dedup();
        for id in ids {
            if let Some(inc) = self.incidents.get_mut(&id) {
                let before = inc.escalation.grouped.len();
                inc.escalation.grouped.retain(|h| h.digest != w.digest_key);
                if inc.escalation.grouped.len() != before {
                    out.push(Action::SaveIncident(inc.clone()));
                }
            }
        }
        let items: Vec<DigestItem> = w
            .held
            .iter()
            .map(|p| DigestItem {
                incident: p.incident,
                check: p.check.clone(),
                summary: p.summary.clone(),
                incident_state: self
                    .incidents
                    .get(&p.incident)
                    .map_or(IncidentState::Resolved, |i| i.state),
                opened_at: p.opened_at,
                step: p.step,
            })
            .collect();
        let n = items.len();
        let mut names: Vec<&str> = items
            .iter()
            .take(NAMES_SHOWN)
            .map(|i| i.check.as_str())
            .collect();
        if n > NAMES_SHOWN {
            names.push("…");
        }
        let more = if n > NAMES_SHOWN {
            format!(" (+{} more)", n - NAMES_SHOWN)
        } else {
            String::new()
        };
        let noun = if n == 1 { "incident" } else { "incidents" };
        let text = format!(
            "{} {n} {noun}: {}{more}",
            first.event.as_str().to_uppercase(),
            names.join(", ")
        );
        out.push(Action::Page(Page {
            key: w.digest_key.clone(),
            incident: first.incident,
            seq: first.seq,
            event: first.event,
            recipient: first.recipient.clone(),
            notifier: first.notifier.clone(),
            to: first.to.clone(),
            step: first.step,
            check: first.check.clone(),
            summary: format!("{n} {noun}"),
            incident_state: items[0].incident_state,
            opened_at: first.opened_at,
            also_paged: Vec::new(),
            text,
            created_at: now,
            digest: items,
        }));
    }
}
