//! The whole file: sections read in dependency order (notifiers before the people who use
//! them, people before schedules, ...), cross-references checked against declared names.

use std::collections::BTreeSet;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::chat;
use super::checks;
use super::daemon;
use super::notifiers;
use super::oncall::{self, Declared};
use super::reader::{Node, Sink, Table};
use super::sources;
use super::types::Config;

/// Read a parsed document into a [`Config`]; `None` when anything was reported to `sink`.
pub fn build(root: &DeTable<'_>, path: &Path, base: &Path, sink: &mut Sink) -> Option<Config> {
    let mut top = Table::new(root, 0..0, String::new());
    let daemon_node = top.get("daemon");
    let defaults_node = top.get("defaults");
    let check_node = top.get("check");
    let notifiers_node = top.get("notifiers");
    let people_node = top.get("people");
    let periods_node = top.get("periods");
    let schedules_node = top.get("schedules");
    let policies_node = top.get("policies");
    let sources_node = top.get("sources");
    let status_page_node = top.get("status_page");
    top.finish(sink);

    let mut declared = Declared {
        notifiers: keys(notifiers_node.as_ref())
            .into_iter()
            .map(|name| {
                let kind = notifier_kind(notifiers_node.as_ref(), &name);
                (name, kind)
            })
            .collect(),
        needs_to: Default::default(),
        people: keys(people_node.as_ref()),
        periods: keys(periods_node.as_ref()),
        schedules: keys(schedules_node.as_ref()),
        policies: keys(policies_node.as_ref()),
    };

    let daemon = daemon::daemon(daemon_node.and_then(|n| n.table(sink)), base, sink);
    let defaults = checks::defaults(defaults_node.and_then(|n| n.table(sink)), sink);
    let notifiers = notifiers::notifiers(notifiers_node.as_ref(), base, sink);
    declared.needs_to = chat::needs_to(&notifiers);
    let people = notifiers::people(people_node.as_ref(), &declared, sink);
    let periods = oncall::periods(periods_node.as_ref(), sink);
    let schedules = oncall::schedules(schedules_node.as_ref(), &daemon.time_zone, &declared, sink);
    let policies = oncall::policies(policies_node.as_ref(), &declared, sink);
    let mut parsed = checks::checks(check_node, &defaults, base, sink);
    for check in parsed.iter_mut().filter_map(|c| c.config.as_mut()) {
        if let super::types::ProbeConfig::Http(h) = &mut check.probe {
            h.zone = daemon.time_zone.clone();
        }
    }
    let check_names: BTreeSet<String> = parsed.iter().filter_map(|c| c.name.clone()).collect();
    let sources = sources::sources(
        sources_node.as_ref(),
        &declared.policies,
        &check_names,
        sink,
    );
    let status_page = super::status_page::status_page(status_page_node.as_ref(), sink);
    checks::check_policies(&parsed, &|p| declared.policies.contains(p), sink);
    checks::check_dependencies(&parsed, sink);

    if !sink.errors.is_empty() {
        return None;
    }
    Some(Config {
        path: path.to_path_buf(),
        daemon,
        checks: parsed.into_iter().filter_map(|c| c.config).collect(),
        notifiers,
        people,
        periods,
        schedules,
        policies,
        sources,
        status_page,
    })
}

/// The keys of a section table, whatever their values (type errors are reported later).
fn keys(node: Option<&Node<'_>>) -> BTreeSet<String> {
    match node.map(|n| n.value) {
        Some(DeValue::Table(t)) => t.iter().map(|(k, _)| k.get_ref().to_string()).collect(),
        _ => BTreeSet::new(),
    }
}

/// `notifiers.NAME.type`, when it is a string.
fn notifier_kind(section: Option<&Node<'_>>, name: &str) -> Option<String> {
    let Some(DeValue::Table(t)) = section.map(|n| n.value) else {
        return None;
    };
    let DeValue::Table(entry) = t.get(name)?.get_ref() else {
        return None;
    };
    entry.get("type")?.get_ref().as_str().map(str::to_string)
}
