//! The type-specific keys of a `[[check]]`: one function per probe type.

use std::path::Path;

use super::limits;
use super::reader::{Node, Sink, Table};
use super::types::{HttpProbe, ProbeConfig, ProcessMatch};
use super::values;

/// The probe types, as written in `type = "..."`.
pub const KINDS: [&str; 6] = ["http", "tcp", "process", "disk", "command", "heartbeat"];

const HTTP_KEYS: [&str; 9] = [
    "url",
    "method",
    "headers",
    "expect_status",
    "max_latency",
    "body_contains",
    "tls_verify",
    "ca_file",
    "cert_expiry",
];

/// Read the keys of probe type `kind`. With `kind` unknown (already reported), every probe key
/// is accepted so that one mistake does not also produce a list of "unknown key" errors.
pub fn probe(
    kind: Option<&str>,
    t: &mut Table<'_>,
    base: &Path,
    sink: &mut Sink,
) -> Option<ProbeConfig> {
    match kind.unwrap_or("") {
        "http" => http(t, base, sink).map(ProbeConfig::Http),
        "tcp" => {
            let n = t.required(sink, "address")?;
            let address = n.str(sink)?;
            check(&n, sink, values::tcp_address(address))?;
            Some(ProbeConfig::Tcp {
                address: address.to_string(),
            })
        }
        "process" => process(t, sink),
        "disk" => disk(t, base, sink),
        "command" => {
            let n = t.required(sink, "command")?;
            let argv = n.strings(sink)?;
            Some(ProbeConfig::Command {
                command: values::resolve_argv(base, argv),
            })
        }
        "heartbeat" => super::heartbeat::heartbeat(t, sink),
        _ => {
            t.allow(&HTTP_KEYS);
            t.allow(&[
                "address",
                "process",
                "match",
                "min_count",
                "path",
                "min_free",
                "command",
            ]);
            t.allow(&super::heartbeat::KEYS);
            None
        }
    }
}

/// Report `result`'s error at `node`; `Some(())` when it was fine.
fn check(node: &Node<'_>, sink: &mut Sink, result: Result<(), String>) -> Option<()> {
    match result {
        Ok(()) => Some(()),
        Err(e) => {
            node.error(sink, e);
            None
        }
    }
}

fn http(t: &mut Table<'_>, base: &Path, sink: &mut Sink) -> Option<HttpProbe> {
    let url = t.required(sink, "url").and_then(|n| {
        let s = n.str(sink)?;
        check(&n, sink, values::http_url(s)).map(|()| s.to_string())
    });
    let mut probe = HttpProbe {
        url: url.clone().unwrap_or_default(),
        method: "GET".to_string(),
        headers: Default::default(),
        expect_status: vec![200],
        max_latency: None,
        body_contains: None,
        tls_verify: true,
        ca_file: None,
        cert_expiry: None,
        // The daemon's zone is filled in once the whole file is read (document.rs).
        zone: jiff::tz::TimeZone::UTC,
    };
    let mut ok = url.is_some();
    if let Some(n) = t.get("method") {
        match n.non_empty_str(sink).map(str::to_ascii_uppercase) {
            Some(m) if m.bytes().all(|b| b.is_ascii_uppercase()) => probe.method = m,
            Some(m) => {
                n.error(sink, format!("invalid HTTP method {m:?}"));
                ok = false;
            }
            None => ok = false,
        }
    }
    if let Some(n) = t.get("headers") {
        match values::headers(&n, sink) {
            Some(h) => probe.headers = h,
            None => ok = false,
        }
    }
    if let Some(n) = t.get("expect_status") {
        match statuses(&n, sink) {
            Some(s) => probe.expect_status = s,
            None => ok = false,
        }
    }
    if let Some(n) = t.get("max_latency") {
        probe.max_latency = n.duration(sink);
        ok &= probe.max_latency.is_some();
    }
    if let Some(n) = t.get("body_contains") {
        probe.body_contains = n.non_empty_str(sink).map(str::to_string);
        ok &= probe.body_contains.is_some();
    }
    if let Some(n) = t.get("tls_verify") {
        match n.bool(sink) {
            Some(b) => probe.tls_verify = b,
            None => ok = false,
        }
    }
    if let Some(n) = t.get("ca_file") {
        probe.ca_file = values::ca_file(&n, base, sink);
        ok &= probe.ca_file.is_some();
    }
    if let Some(n) = t.get("cert_expiry") {
        probe.cert_expiry = n.duration_in(sink, limits::CERT_EXPIRY);
        ok &= probe.cert_expiry.is_some();
    }
    ok.then_some(probe)
}

/// A non-empty list of HTTP statuses, each 100-599.
fn statuses(node: &Node<'_>, sink: &mut Sink) -> Option<Vec<u16>> {
    let items = node.array(sink)?;
    if items.is_empty() {
        node.error(sink, "must list at least one status");
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for item in &items {
        match item.int(sink, 100, 599).and_then(|n| u16::try_from(n).ok()) {
            Some(status) => out.push(status),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn process(t: &mut Table<'_>, sink: &mut Sink) -> Option<ProbeConfig> {
    let process = t
        .required(sink, "process")
        .and_then(|n| n.non_empty_str(sink).map(str::to_string));
    let match_on = match t.get("match") {
        None => Some(ProcessMatch::Name),
        Some(n) => match n.str(sink) {
            Some("name") => Some(ProcessMatch::Name),
            Some("cmdline") => Some(ProcessMatch::Cmdline),
            Some(other) => {
                n.error(
                    sink,
                    format!("invalid match {other:?}: expected \"name\" or \"cmdline\""),
                );
                None
            }
            None => None,
        },
    };
    let min_count = match t.get("min_count") {
        None => Some(1),
        Some(n) => n.u32_min(sink, 1),
    };
    Some(ProbeConfig::Process {
        process: process?,
        match_on: match_on?,
        min_count: min_count?,
    })
}

fn disk(t: &mut Table<'_>, base: &Path, sink: &mut Sink) -> Option<ProbeConfig> {
    let path = t
        .required(sink, "path")
        .and_then(|n| n.non_empty_str(sink).map(|s| values::resolve(base, s)));
    let min_free = t.required(sink, "min_free").and_then(|n| {
        let s = n.str(sink)?;
        match values::min_free(s) {
            Ok(m) => Some(m),
            Err(e) => {
                n.error(sink, e);
                None
            }
        }
    });
    Some(ProbeConfig::Disk {
        path: path?,
        min_free: min_free?,
    })
}
