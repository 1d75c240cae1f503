//! `[daemon]`.

use std::net::SocketAddr;
use std::path::Path;

use jiff::tz::TimeZone;

use super::reader::{Sink, Table};
use super::types::DaemonConfig;
use super::values;

/// The daemon section; absent means all defaults. Relative `state_dir` and `socket` are
/// resolved against `base` (the config file's directory).
pub fn daemon(table: Option<Table<'_>>, base: &Path, sink: &mut Sink) -> DaemonConfig {
    let mut d = DaemonConfig {
        state_dir: None,
        socket: None,
        socket_mode: 0o660,
        socket_group: None,
        listen: None,
        time_zone: TimeZone::system(),
    };
    let Some(mut t) = table else { return d };
    if let Some(n) = t.get("state_dir") {
        d.state_dir = n.non_empty_str(sink).map(|s| values::resolve(base, s));
    }
    if let Some(n) = t.get("socket") {
        d.socket = n.non_empty_str(sink).map(|s| values::resolve(base, s));
    }
    if let Some(n) = t.get("socket_mode") {
        if let Some(s) = n.str(sink) {
            match values::socket_mode(s) {
                Ok(m) => d.socket_mode = m,
                Err(e) => n.error(sink, e),
            }
        }
    }
    if let Some(n) = t.get("socket_group") {
        d.socket_group = n.non_empty_str(sink).map(str::to_string);
    }
    listen(&mut t, sink, &mut d);
    if let Some(n) = t.get("time_zone") {
        if let Some(tz) = values::time_zone(&n, sink) {
            d.time_zone = tz;
        }
    }
    t.finish(sink);
    d
}

/// `listen`, or its old name `metrics_listen` (an alias; giving both is an error, reported at
/// the second one).
fn listen(t: &mut Table<'_>, sink: &mut Sink, d: &mut DaemonConfig) {
    let new = t.get("listen");
    let old = t.get("metrics_listen");
    let (n, key) = match (new, old) {
        (Some(a), Some(b)) => {
            let second = if b.span.start > a.span.start { b } else { a };
            second.error(
                sink,
                "listen and metrics_listen are the same setting (metrics_listen is the old name): give only listen",
            );
            return;
        }
        (Some(n), None) => (n, "listen"),
        (None, Some(n)) => (n, "metrics_listen"),
        (None, None) => return,
    };
    if let Some(s) = n.str(sink) {
        match s.parse::<SocketAddr>() {
            Ok(a) => d.listen = Some(a),
            Err(_) => n.error(
                sink,
                format!(
                    "invalid {key} {s:?}: expected IP:port like \"127.0.0.1:9810\" or \"[::1]:9810\""
                ),
            ),
        }
    }
}
