//! Report figures and postmortem edge cases through the real daemon (UTC): zero incidents in
//! the window, an incident never acknowledged, one acknowledged, one still open; MTTA, MTTR
//! (mean, median, p90), availability and pages per person computed here from the timelines.

mod daemon_support;
mod e2e_report_support;

use daemon_support::{Daemon, Target};
use e2e_report_support::*;
use jiff::Timestamp;

/// Breaks the target, waits for the new incident, optionally acks it, then (if `fix`)
/// recovers the target and waits for the resolve.
fn outage(d: &Daemon, target: &Target, seen: &mut Vec<u64>, ack: bool, fix: bool) -> u64 {
    target.set_status(500);
    let id = wait_open_incident(d, seen);
    seen.push(id);
    if ack {
        d.ok(&["ack", &id.to_string(), "-m", "on it"]);
    }
    if fix {
        target.set_status(200);
        wait_resolved_and_delivered(d, id);
    }
    id
}

#[test]
fn report_figures_and_postmortem_edge_cases() {
    let target = Target::start();
    let d = Daemon::start(&config(&target, "1h"));
    check_empty_report(&d);

    let mut seen = Vec::new();
    let never = outage(&d, &target, &mut seen, false, true);
    let acked = outage(&d, &target, &mut seen, true, true);
    let open = outage(&d, &target, &mut seen, false, false);
    let s_never = show(&d, never);
    let s_acked = show(&d, acked);

    check_figures(&d, &s_never, &s_acked, open);
    check_edge_postmortems(&d, (never, &s_never), acked, open);
}

/// Nothing happened yet: zero incidents, nothing to average, fully available.
fn check_empty_report(d: &Daemon) {
    let r = d.json(&["report", "--since", "1h"]);
    let total = &r["total"];
    assert_eq!(total["incidents"], 0, "{r}");
    assert_eq!(total["mtta"]["count"], 0);
    assert!(total["mtta"]["mean_seconds"].is_null(), "{r}");
    assert!(total["mttr"]["median_seconds"].is_null(), "{r}");
    assert_eq!(r["checks"][0]["check"], "web");
    assert_eq!(r["checks"][0]["availability_percent"], 100.0);
    let people: Vec<(&str, u64)> = r["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["person"].as_str().unwrap(), p["pages"].as_u64().unwrap()))
        .collect();
    assert_eq!(people, [("alice", 0), ("bob", 0)]);
    let text = d.ok(&["report"]);
    assert!(text.lines().any(|l| l.starts_with("TOTAL ")), "{text}");
}

/// Three incidents: never acked, acked, still open; figures from their timelines.
fn check_figures(d: &Daemon, s_never: &Shown, s_acked: &Shown, open: u64) {
    let r = d.json(&["report", "--since", "1h"]);
    let to: Timestamp = r["to"].as_str().unwrap().parse().unwrap();
    let s_open = show(d, open);
    let total = &r["total"];
    let counts: Vec<u64> = [
        "incidents",
        "acked",
        "never_acked",
        "resolved",
        "still_open",
    ]
    .iter()
    .map(|k| total[k].as_u64().unwrap())
    .collect();
    assert_eq!(counts, [3, 1, 2, 2, 1], "{r}");
    assert_eq!(r["checks"][0]["incidents"], 3);

    // MTTA: over the one acked incident only.
    let mtta = ms_between(s_acked.opened_at, s_acked.first("acknowledged").unwrap().at);
    assert_eq!(total["mtta"]["count"], 1);
    let got = total["mtta"]["mean_seconds"].as_f64().unwrap();
    assert!(close(got, mtta, 0.0015), "mtta {got} != {mtta}");

    // MTTR over the two resolved: mean, nearest-rank median (the lower) and p90 (the higher).
    let ttr = |s: &Shown| ms_between(s.opened_at, s.resolved_at.unwrap());
    let (a, b) = (ttr(s_never), ttr(s_acked));
    let m = &total["mttr"];
    assert_eq!(m["count"], 2);
    for (stat, want) in [
        ("mean_seconds", (a + b) / 2.0),
        ("median_seconds", a.min(b)),
        ("p90_seconds", a.max(b)),
    ] {
        let got = m[stat].as_f64().unwrap();
        assert!(close(got, want, 0.002), "mttr {stat} {got} != {want}");
    }

    // Availability: DOWN during each incident, the open one until the report's end.
    let down = a + b + ms_between(s_open.opened_at, to);
    let web = &r["checks"][0];
    let got = web["down_seconds"].as_f64().unwrap();
    assert!(close(got, down, 0.004), "down {got} != {down}");
    let window = r["window_seconds"].as_f64().unwrap();
    let avail = web["availability_percent"].as_f64().unwrap();
    assert!(close(avail, 100.0 * (1.0 - got / window), 1e-9));
    assert!(avail < 100.0);

    // Pages per person: the `paged` events of all three incidents, judged in UTC.
    for person in r["people"].as_array().unwrap() {
        let name = person["person"].as_str().unwrap();
        let pages: Vec<Timestamp> = [s_never, s_acked, &s_open]
            .iter()
            .flat_map(|s| s.pages_to(name).into_iter().map(|p| p.at))
            .filter(|at| *at < to)
            .collect();
        let night = pages
            .iter()
            .filter(|at| !(7..22).contains(&at.to_zoned(jiff::tz::TimeZone::UTC).hour()))
            .count();
        assert_eq!(person["zone"], "UTC");
        assert_eq!(person["pages"].as_u64(), Some(pages.len() as u64), "{name}");
        assert_eq!(person["night_pages"].as_u64(), Some(night as u64), "{name}");
    }
    assert!(r["people"][0]["pages"].as_u64().unwrap() >= 3, "{r}");
}

/// The postmortems of the never-acked, the acked and the open incident, and of none.
fn check_edge_postmortems(d: &Daemon, never: (u64, &Shown), acked: u64, open: u64) {
    let (never, s_never) = never;
    // Never acked: said so, and the human sections are prompts, not content.
    let md = d.ok(&["postmortem", &never.to_string()]);
    assert_sections(&md);
    assert!(
        md.contains("- **Time to acknowledge:** never acknowledged"),
        "{md}"
    );
    for prompt in [
        "_Describe the root cause: what failed, and why._",
        "_Describe what was done to restore service._",
        "_List the actions that will keep this from happening again._",
        "_What went well, what went wrong, where did we get lucky?_",
    ] {
        assert!(md.contains(prompt), "no {prompt}:\n{md}");
    }
    assert!(md.contains("- **Time zone:** UTC"), "{md}");
    assert!(md.contains(&format!(
        "- **Start:** {}",
        local(s_never.opened_at, &jiff::tz::TimeZone::UTC)
    )));

    // Acked with a message: the ack line carries it. A note written after the resolve (as
    // postmortem notes often are) still lands in its section.
    d.ok(&[
        "note",
        &acked.to_string(),
        "lesson: written after the resolve",
    ]);
    let md = d.ok(&["postmortem", &acked.to_string()]);
    let lessons = section(&md, "## Lessons Learned");
    assert!(lessons.contains("- written after the resolve — _"), "{md}");
    assert!(
        md.contains(&format!("**Acknowledged** by {} after", me())),
        "{md}"
    );
    assert!(md.contains(": on it"), "{md}");

    // Still open: said at the top; no end, no resolution line.
    let md = d.ok(&["postmortem", &open.to_string()]);
    assert_sections(&md);
    assert!(
        md.starts_with(&format!("# Postmortem: #{open} web")),
        "{md}"
    );
    let banner = md
        .find("> **This incident is still open** (triggered)")
        .unwrap();
    assert!(banner < md.find("## Issue Summary").unwrap());
    assert!(
        md.contains("- **Time to acknowledge:** not acknowledged yet"),
        "{md}"
    );
    assert!(
        md.contains("- **Time to resolve:** still open after "),
        "{md}"
    );
    assert!(!md.contains("The incident was resolved"), "{md}");

    // An unknown incident is an error, not an empty draft; and -o writes nothing then.
    let file = d.dir.path().join("none.md");
    let out = d.cli(&["postmortem", "999", "-o", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("999"),
        "{out:?}"
    );
    assert!(!file.exists());
}

/// An ack timeout clears the incident's ack and a second ack replaces it: MTTA still counts
/// the first one (read from the events), and the postmortem names it too.
#[test]
fn mtta_counts_the_first_ack_across_an_ack_timeout() {
    let target = Target::start();
    let cfg = config(&target, "1h").replace(
        "[policies.default]\n",
        "[policies.default]\nack_timeout = \"1s\"\n",
    );
    let d = Daemon::start(&cfg);
    let mut seen = Vec::new();
    let id = outage(&d, &target, &mut seen, true, false);
    let sid = id.to_string();
    d.wait_for(
        "the ack timeout",
        std::time::Duration::from_secs(10),
        || show(&d, id).first("ack_timed_out").map(|_| ()),
    );
    d.ok(&["ack", &sid, "-m", "second look"]);
    target.set_status(200);
    let s = wait_resolved_and_delivered(&d, id);
    let acks = s.of_kind("acknowledged");
    assert_eq!(acks.len(), 2);
    let first = ms_between(s.opened_at, acks[0].at);
    let second = ms_between(s.opened_at, acks[1].at);
    assert!(second > first + 0.2);

    let r = d.json(&["report", "--since", "1h"]);
    let got = r["total"]["mtta"]["mean_seconds"].as_f64().unwrap();
    assert!(
        close(got, first, 0.0015),
        "mtta {got}: first ack {first}, second {second}"
    );
    assert_eq!(r["total"]["acked"], 1);

    let md = d.ok(&["postmortem", &sid]);
    let delay = human(secs_between(s.opened_at, acks[0].at));
    assert!(
        md.contains(&format!("- **Time to acknowledge:** {delay} (by {})", me())),
        "{md}"
    );
    assert!(
        md.contains("Acknowledgement timed out, paging again"),
        "{md}"
    );
}
