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
        instance: String::new(),
        public_url: None,
    };
    let Some(mut t) = table else {
        d.instance = host_name();
        return d;
    };
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
    if let Some(n) = t.get("public_url") {
        if let Some(s) = n.non_empty_str(sink) {
            match public_url(s) {
                Ok(url) => d.public_url = Some(url),
                Err(e) => n.error(sink, e),
            }
        }
    }
    if let Some(n) = t.get("time_zone") {
        if let Some(tz) = values::time_zone(&n, sink) {
            d.time_zone = tz;
        }
    }
    d.instance = match t.get("instance") {
        Some(n) => n.str(sink).and_then(|s| match instance(s) {
            Ok(()) => Some(s.to_string()),
            Err(e) => {
                n.error(sink, e);
                None
            }
        }),
        None => None,
    }
    .unwrap_or_else(host_name);
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

/// `public_url`: an `http://` or `https://` URL with a host and no password, query or
/// fragment (links are `<public_url>/a/TOKEN`); returned without its trailing slash.
pub fn public_url(s: &str) -> Result<String, String> {
    values::http_url(s)?;
    let url = reqwest::Url::parse(s).map_err(|e| format!("invalid URL {s:?}: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("public_url must not carry a user or password".to_string());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "public_url {s:?} must not have a query or fragment: links are <public_url>/a/TOKEN"
        ));
    }
    Ok(s.trim_end_matches('/').to_string())
}

/// Longest `instance`: it is part of PagerDuty's `dedup_key`, at most 255 characters.
pub const MAX_INSTANCE: usize = 200;

/// `[daemon] instance`: one line of printable text, 1 to [`MAX_INSTANCE`] characters.
pub fn instance(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err("instance must not be empty".to_string());
    }
    if s.chars().count() > MAX_INSTANCE {
        return Err(format!("instance is longer than {MAX_INSTANCE} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err("instance must not contain control characters".to_string());
    }
    Ok(())
}

/// The default `instance`: this machine's host name (`localhost` if it has none usable).
pub fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| instance(h).is_ok())
        .unwrap_or_else(|| "localhost".to_string())
}
