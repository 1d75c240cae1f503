//! `oncalld status`, `oncalld incidents`, `oncalld show ID`: what is broken and since when.

use std::process::ExitCode;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::args::ClientArgs;
use super::output::{
    Cell, CmdResult, Table, age, client, colour_enabled, id, long_time, opt_time, paint_state,
    print_raw, safe, short_time, zone,
};
use crate::api::client::encode;
use crate::api::parse::{parse_duration, parse_id};
use crate::api::types::{CheckView, IncidentDetail, IncidentView, StatusView};

/// Every check, then the open incidents. Exit 0 when none is open, 2 when some are or when
/// the daemon's state is not durable (said on the first line, SPEC §9).
pub async fn status(args: &ClientArgs) -> CmdResult {
    let raw = client(args).get_bytes("/v1/status").await?;
    let view: StatusView = serde_json::from_slice(&raw)?;
    let code = if view.incidents.is_empty() && view.store.ok {
        0
    } else {
        2
    };
    if args.json {
        print_raw(&raw)?;
        return Ok(ExitCode::from(code));
    }
    if !view.store.ok {
        println!(
            "STATE NOT DURABLE: the daemon cannot write its database ({}); {} write(s) held in memory and retried, pages are still sent.",
            view.store.error.as_deref().unwrap_or("unknown error"),
            view.store.held
        );
        println!();
    }
    let (tz, now, colour) = (zone(), Timestamp::now(), colour_enabled());
    if view.checks.is_empty() {
        println!("No checks configured.");
    } else {
        print!("{}", checks_table(&view.checks, &tz, now).render(colour));
    }
    println!();
    if view.incidents.is_empty() {
        println!("No open incidents.");
    } else {
        println!("Open incidents:");
        print!(
            "{}",
            incidents_table(&view.incidents, &tz, false).render(colour)
        );
    }
    Ok(ExitCode::from(code))
}

fn checks_table(checks: &[CheckView], tz: &TimeZone, now: Timestamp) -> Table {
    let mut t = Table::new(&[
        "CHECK", "TYPE", "STATE", "SINCE", "FOR", "LATENCY", "MESSAGE",
    ]);
    for c in checks {
        let mut state = match c.state.as_str() {
            "FAILING" => format!("FAILING ({})", c.attempt),
            s => s.to_owned(),
        };
        if let Some(percent) = c.flapping {
            state = format!("FLAPPING {percent:.0}% ({state})");
        }
        if !c.unreachable.is_empty() {
            state = format!("UNREACHABLE ({state} behind {})", c.unreachable.join(", "));
        }
        if c.silenced {
            state.push_str(" (silenced)");
        }
        t.row(vec![
            c.name.as_str().into(),
            c.kind.as_str().into(),
            Cell::state(state),
            opt_time(c.since, tz).into(),
            c.since
                .map(|s| age(s, now))
                .unwrap_or_else(|| "-".into())
                .into(),
            c.last_duration_ms
                .filter(|_| c.kind != "heartbeat")
                .map(|ms| format!("{ms} ms"))
                .unwrap_or_else(|| "-".into())
                .into(),
            message(c, tz, now).into(),
        ]);
    }
    t
}

/// The last result's message; for a heartbeat check, led by when it was last pinged and
/// when the next success is expected: `last ping 3h ago, next 12-03 03:30: backup done`.
fn message(c: &CheckView, tz: &TimeZone, now: Timestamp) -> String {
    let text = one_line(c.last_message.as_deref().unwrap_or("-"));
    if c.kind != "heartbeat" {
        return text;
    }
    let ping = match c.last_ping {
        Some(at) => format!("last ping {} ago", age(at, now)),
        None => "never pinged".to_string(),
    };
    match (c.expected_next, c.last_ping) {
        (Some(next), _) => format!("{ping}, next {}: {text}", short_time(next, tz)),
        (None, Some(_)) => format!("{ping}: {text}"),
        (None, None) => ping,
    }
}

/// `triggered`, or `triggered (unreachable)` / `triggered (flapping)` for a held one.
fn incident_state(i: &IncidentView) -> String {
    let mut s = i.state.as_str().to_string();
    if !i.unreachable.is_empty() {
        s.push_str(" (UNREACHABLE)");
    }
    if i.flapping.is_some() {
        s.push_str(" (FLAPPING)");
    }
    s
}

fn incidents_table(incidents: &[IncidentView], tz: &TimeZone, with_resolved: bool) -> Table {
    let mut header = vec!["ID", "CHECK", "STATE", "OPENED", "ACKED BY"];
    if with_resolved {
        header.push("RESOLVED");
    }
    header.push("SUMMARY");
    let mut t = Table::new(&header);
    for i in incidents {
        let mut row: Vec<Cell> = vec![
            id(i.id).into(),
            i.check.as_str().into(),
            Cell::state(incident_state(i)),
            short_time(i.opened_at, tz).into(),
            i.acked_by.clone().unwrap_or_else(|| "-".into()).into(),
        ];
        if with_resolved {
            row.push(opt_time(i.resolved_at, tz).into());
        }
        row.push(one_line(&i.summary).into());
        t.row(row);
    }
    t
}

/// Open incidents, or all with `--all`; `--since` limits to those opened within DUR.
pub async fn incidents(args: &ClientArgs, all: bool, since: Option<&str>) -> CmdResult {
    let mut uri = format!("/v1/incidents?state={}", if all { "all" } else { "open" });
    if let Some(s) = since {
        parse_duration(s).map_err(anyhow::Error::msg)?;
        uri.push_str(&format!("&since={}", encode(s)));
    }
    let raw = client(args).get_bytes(&uri).await?;
    if args.json {
        print_raw(&raw)?;
        return Ok(ExitCode::SUCCESS);
    }
    let list: Vec<IncidentView> = serde_json::from_slice(&raw)?;
    if list.is_empty() {
        println!(
            "{}",
            if all {
                "No incidents."
            } else {
                "No open incidents."
            }
        );
    } else {
        print!(
            "{}",
            incidents_table(&list, &zone(), all).render(colour_enabled())
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One incident and its whole timeline, in the client machine's zone.
pub async fn show(args: &ClientArgs, raw_id: &str) -> CmdResult {
    let n = parse_id(raw_id).map_err(anyhow::Error::msg)?;
    let raw = client(args)
        .get_bytes(&format!("/v1/incidents/{n}"))
        .await?;
    if args.json {
        print_raw(&raw)?;
        return Ok(ExitCode::SUCCESS);
    }
    let detail: IncidentDetail = serde_json::from_slice(&raw)?;
    // Times in the daemon's configured zone (SPEC §4), else this machine's.
    let tz = detail
        .time_zone
        .as_deref()
        .and_then(|z| TimeZone::get(z).ok())
        .unwrap_or_else(zone);
    print!("{}", render_detail(&detail, &tz, colour_enabled()));
    Ok(ExitCode::SUCCESS)
}

fn render_detail(d: &IncidentDetail, tz: &TimeZone, colour: bool) -> String {
    let i = &d.incident;
    let by = |at: Option<Timestamp>, who: &Option<String>| match (at, who) {
        (Some(at), Some(w)) => format!("{} by {w}", long_time(at, tz)),
        (Some(at), None) => long_time(at, tz),
        _ => "-".into(),
    };
    let by = |at, who: &Option<String>| safe(&by(at, who)).into_owned();
    let mut out = format!(
        "{} {}  {}\n",
        id(i.id),
        safe(&i.check),
        paint_state(&incident_state(i), colour)
    );
    out.push_str(&format!("Summary:   {}\n", one_line(&i.summary)));
    if !i.unreachable.is_empty() {
        out.push_str(&format!(
            "UNREACHABLE: behind {} (not UP when it opened): nobody paged\n",
            safe(&i.unreachable.join(", "))
        ));
    }
    if let Some(f) = &i.flapping {
        out.push_str(&format!("FLAPPING:  {}\n", one_line(f)));
    }
    out.push_str(&format!(
        "Policy:    {} (step {})\n",
        safe(&i.policy),
        i.step
    ));
    out.push_str(&format!("Opened:    {}\n", long_time(i.opened_at, tz)));
    out.push_str(&format!("Acked:     {}\n", by(i.acked_at, &i.acked_by)));
    out.push_str(&format!(
        "Resolved:  {}\n\n",
        by(i.resolved_at, &i.resolved_by)
    ));
    let mut t = Table::new(&["TIME", "EVENT", "ACTOR", "MESSAGE"]);
    for e in &d.timeline {
        t.row(vec![
            long_time(e.at, tz).into(),
            e.kind.as_str().into(),
            e.actor.as_str().into(),
            one_line(&e.message).into(),
        ]);
    }
    out.push_str(&t.render(colour));
    out
}

/// Messages are shown on one line so a multi-line probe output cannot break the table, and
/// with control characters replaced so it cannot drive the terminal.
fn one_line(s: &str) -> String {
    let words = s.split_whitespace().collect::<Vec<_>>().join(" ");
    safe(&words).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types::TimelineItem;
    use crate::core::model::IncidentState;

    #[test]
    fn detail_lists_every_event_in_the_zone() {
        let at: Timestamp = "2026-11-25T21:00:00Z".parse().unwrap();
        let d = IncidentDetail {
            incident: IncidentView {
                id: 17,
                check: "website".into(),
                state: IncidentState::Acknowledged,
                summary: "HTTP 500\nfrom upstream".into(),
                policy: "default".into(),
                opened_at: at,
                acked_at: Some(at),
                acked_by: Some("alice (uid 1000)".into()),
                resolved_at: None,
                resolved_by: None,
                step: 1,
                unreachable: Vec::new(),
                flapping: None,
            },
            timeline: vec![TimelineItem {
                at,
                kind: "note".into(),
                actor: "alice (uid 1000)".into(),
                message: "looking".into(),
            }],
            time_zone: None,
        };
        let tz = TimeZone::fixed(jiff::tz::offset(1));
        let s = render_detail(&d, &tz, false);
        assert!(s.starts_with("#17 website  acknowledged\n"), "{s}");
        assert!(s.contains("Summary:   HTTP 500 from upstream"), "{s}");
        assert!(s.contains("2026-11-25 22:00:00"), "shown at +01:00: {s}");
        assert!(s.contains("note   alice (uid 1000)  looking"), "{s}");
        assert!(!s.contains('\x1b'));
    }
}
