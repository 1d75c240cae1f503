//! `GET /metrics` in the Prometheus text exposition format (version 0.0.4).

use std::fmt::Write;

use jiff::Timestamp;

use crate::core::check_state::CheckState;
use crate::daemon::live::Shared;
use crate::store::OutboxStats;

/// Render every metric. Label values are escaped as the format requires.
pub fn render(shared: &Shared, outbox: &[OutboxStats], now: Timestamp) -> String {
    let config = shared.config();
    let live = shared.read();
    let mut out = String::with_capacity(256 + config.checks.len() * 256);
    let mut line = |s: std::fmt::Arguments| {
        let _ = out.write_fmt(s);
        out.push('\n');
    };

    line(format_args!("# HELP oncalld_build_info Build information."));
    line(format_args!("# TYPE oncalld_build_info gauge"));
    line(format_args!(
        "oncalld_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    ));

    line(format_args!(
        "# HELP oncalld_probes_total Probes run, by check and result."
    ));
    line(format_args!("# TYPE oncalld_probes_total counter"));
    for c in &config.checks {
        if let Some(l) = live.checks.get(&c.name) {
            for (status, n) in &l.probes {
                line(format_args!(
                    "oncalld_probes_total{{check=\"{}\",result=\"{}\"}} {n}",
                    esc(&c.name),
                    status.as_str()
                ));
            }
        }
    }

    line(format_args!(
        "# HELP oncalld_probe_duration_seconds Time spent probing, by check."
    ));
    line(format_args!(
        "# TYPE oncalld_probe_duration_seconds summary"
    ));
    for c in &config.checks {
        if let Some(l) = live.checks.get(&c.name) {
            let count: u64 = l.probes.values().sum();
            let name = esc(&c.name);
            line(format_args!(
                "oncalld_probe_duration_seconds_sum{{check=\"{name}\"}} {}",
                l.probe_seconds
            ));
            line(format_args!(
                "oncalld_probe_duration_seconds_count{{check=\"{name}\"}} {count}"
            ));
        }
    }

    line(format_args!(
        "# HELP oncalld_check_state Check state: 0 UP, 1 FAILING, 2 DOWN."
    ));
    line(format_args!("# TYPE oncalld_check_state gauge"));
    for c in &config.checks {
        let state = live
            .checks
            .get(&c.name)
            .map(|l| l.state)
            .unwrap_or(CheckState::Up);
        let v = match state {
            CheckState::Up => 0,
            CheckState::Failing { .. } => 1,
            CheckState::Down => 2,
        };
        line(format_args!(
            "oncalld_check_state{{check=\"{}\"}} {v}",
            esc(&c.name)
        ));
    }

    line(format_args!(
        "# HELP oncalld_heartbeat_last_ping_timestamp_seconds When a heartbeat check was last pinged (any kind), Unix time."
    ));
    line(format_args!(
        "# TYPE oncalld_heartbeat_last_ping_timestamp_seconds gauge"
    ));
    for (name, e) in shared.heartbeats.all() {
        if let Some(p) = &e.heartbeat.last_ping {
            line(format_args!(
                "oncalld_heartbeat_last_ping_timestamp_seconds{{check=\"{}\"}} {}",
                esc(&name),
                p.at.as_second()
            ));
        }
    }

    let store = &shared.store;
    line(format_args!(
        "# HELP oncalld_store_ok 1 when the daemon's state is durable, 0 while steps are held in memory."
    ));
    line(format_args!("# TYPE oncalld_store_ok gauge"));
    line(format_args!("oncalld_store_ok {}", u8::from(store.ok())));
    line(format_args!(
        "# HELP oncalld_store_errors_total Writes the store refused (disk full, I/O error, busy)."
    ));
    line(format_args!("# TYPE oncalld_store_errors_total counter"));
    line(format_args!(
        "oncalld_store_errors_total {}",
        store.errors_total()
    ));

    line(format_args!(
        "# HELP oncalld_store_commits_total Engine steps committed (one transaction and one fsync each; reports and pings that arrive together share one)."
    ));
    line(format_args!("# TYPE oncalld_store_commits_total counter"));
    line(format_args!(
        "oncalld_store_commits_total {}",
        store.commits_total()
    ));

    line(format_args!(
        "# HELP oncalld_open_incidents Incidents not yet resolved."
    ));
    line(format_args!("# TYPE oncalld_open_incidents gauge"));
    line(format_args!("oncalld_open_incidents {}", live.open.len()));
    let unreachable = live
        .open
        .iter()
        .filter(|i| !i.escalation.unreachable.is_empty())
        .count();
    line(format_args!(
        "# HELP oncalld_unreachable_incidents Open incidents held because a parent (depends_on) is not UP."
    ));
    line(format_args!("# TYPE oncalld_unreachable_incidents gauge"));
    line(format_args!("oncalld_unreachable_incidents {unreachable}"));
    line(format_args!(
        "# HELP oncalld_check_unreachable 1 when the check's open incident is unreachable (a parent is not UP)."
    ));
    line(format_args!("# TYPE oncalld_check_unreachable gauge"));
    for i in live
        .open
        .iter()
        .filter(|i| !i.escalation.unreachable.is_empty())
    {
        line(format_args!(
            "oncalld_check_unreachable{{check=\"{}\"}} 1",
            esc(&i.check)
        ));
    }
    line(format_args!(
        "# HELP oncalld_check_flapping_percent Percent state change of a flapping check (Nagios, last 21 results)."
    ));
    line(format_args!("# TYPE oncalld_check_flapping_percent gauge"));
    let mut flapping: Vec<_> = live.flapping.iter().collect();
    flapping.sort_by(|a, b| a.0.cmp(b.0));
    for (name, percent) in flapping {
        line(format_args!(
            "oncalld_check_flapping_percent{{check=\"{}\"}} {percent:.2}",
            esc(name)
        ));
    }

    line(format_args!(
        "# HELP oncalld_pages Pages in the outbox, by notifier and status."
    ));
    line(format_args!("# TYPE oncalld_pages gauge"));
    for s in outbox {
        let n = esc(&s.notifier);
        line(format_args!(
            "oncalld_pages{{notifier=\"{n}\",status=\"delivered\"}} {}",
            s.delivered
        ));
        line(format_args!(
            "oncalld_pages{{notifier=\"{n}\",status=\"failed\"}} {}",
            s.failed
        ));
        line(format_args!(
            "oncalld_pages{{notifier=\"{n}\",status=\"pending\"}} {}",
            s.pending
        ));
    }

    line(format_args!(
        "# HELP oncalld_outbox_oldest_pending_seconds Age of the oldest undelivered page."
    ));
    line(format_args!(
        "# TYPE oncalld_outbox_oldest_pending_seconds gauge"
    ));
    for s in outbox {
        let age = s
            .oldest_pending
            .map(|t| now.duration_since(t).as_secs_f64().max(0.0))
            .unwrap_or(0.0);
        line(format_args!(
            "oncalld_outbox_oldest_pending_seconds{{notifier=\"{}\"}} {age}",
            esc(&s.notifier)
        ));
    }

    line(format_args!(
        "# HELP oncalld_log_lines_dropped_total Log lines dropped because stderr was full, unread or closed."
    ));
    line(format_args!(
        "# TYPE oncalld_log_lines_dropped_total counter"
    ));
    line(format_args!(
        "oncalld_log_lines_dropped_total {}",
        crate::daemon::logging::dropped_lines()
    ));
    out
}

/// Escape a label value: backslash, double quote and newline.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
