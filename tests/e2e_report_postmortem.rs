//! A real outage through the real daemon, shown in Europe/Paris time: the target breaks, alice
//! is paged, nobody acks so bob is paged, the test user acks and writes notes through the CLI,
//! the target recovers. The postmortem (`oncalld postmortem`, also `-o FILE`) and the report
//! (`oncalld report --json` and its text) are checked against the timeline read back with
//! `oncalld show --json`.

mod daemon_support;
mod e2e_report_support;

use std::time::Duration;

use daemon_support::{Daemon, Target};
use e2e_report_support::*;
use jiff::tz::TimeZone;

#[test]
fn postmortem_and_report_of_an_outage_in_paris_time() {
    let target = Target::start();
    let d = Daemon::start_with_zone(&config(&target, "1s"), "Europe/Paris");
    let paris = TimeZone::get("Europe/Paris").unwrap();
    let me = me();
    target.set_status(503);
    let id = wait_open_incident(&d, &[]);
    let sid = id.to_string();
    d.wait_for("escalation to bob", Duration::from_secs(10), || {
        (!show(&d, id).pages_to("bob").is_empty()).then_some(())
    });

    // Open: said at the top, before the sections, which are all there already.
    let open_md = d.ok(&["postmortem", &sid]);
    assert_sections(&open_md);
    let banner = open_md.find("**This incident is still open**").unwrap();
    assert!(
        banner < open_md.find("## Issue Summary").unwrap(),
        "{open_md}"
    );
    assert!(open_md.contains("- **End:** _still open_"), "{open_md}");
    assert!(
        open_md.contains("- **Time to acknowledge:** not acknowledged yet"),
        "{open_md}"
    );

    d.ok(&["ack", &sid]);
    for note in [
        "checking the logs",
        "root cause: full disk on web-1",
        "todo: add a disk usage alert",
        "lesson: the escalation reached bob in time",
        "resolution: removed old logs and restarted nginx",
    ] {
        d.ok(&["note", &sid, note]);
    }
    target.set_status(200);
    let s = wait_resolved_and_delivered(&d, id);

    let md = d.ok(&["postmortem", &sid]);
    let file = d.dir.path().join("pm.md");
    let out = d.ok(&["postmortem", &sid, "-o", file.to_str().unwrap()]);
    assert!(out.contains("pm.md"), "{out}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), md);

    check_postmortem(&md, &s, &target, &paris, &me);
    check_report(&d, &s);
}

fn check_postmortem(md: &str, s: &Shown, target: &Target, zone: &TimeZone, me: &str) {
    assert_sections(md);
    assert!(!md.contains("still open"), "{md}");
    let resolved = s.resolved_at.unwrap();
    let ack = s.first("acknowledged").unwrap();
    assert_eq!(ack.actor, me);

    let summary = section(md, "## Issue Summary");
    for line in [
        format!("- **Start:** {}", local(s.opened_at, zone)),
        format!("- **End:** {}", local(resolved, zone)),
        format!(
            "- **Length:** {}",
            human(secs_between(s.opened_at, resolved))
        ),
        "- **Time zone:** Europe/Paris".to_string(),
        format!("- **Check:** `web` (http probe of `{}`)", target.url()),
        "- **Impact:** _Describe the user impact: who was affected, and how._".to_string(),
    ] {
        assert!(summary.contains(&line), "missing {line:?} in:\n{summary}");
    }
    assert!(summary.contains("- **First seen:** "), "{summary}");
    assert!(summary.contains("503"), "{summary}");

    let timeline = section(md, "## Timeline");
    assert!(timeline.contains("Times in Europe/Paris."), "{timeline}");
    // The trigger is stamped in Paris time (UTC+1 or +2: the UTC hour would not match).
    let trig = s.first("triggered").unwrap();
    let hms = trig
        .at
        .to_zoned(zone.clone())
        .strftime("%H:%M:%S")
        .to_string();
    assert!(
        timeline.contains(&format!("{hms}** — **Detected** by the http probe")),
        "no trigger at {hms}:\n{timeline}"
    );
    let delay = human(secs_between(s.opened_at, ack.at));
    assert!(
        timeline.contains(&format!("**Acknowledged** by {me} after {delay}")),
        "{timeline}"
    );
    assert!(timeline.contains(&format!("Note by {me}: checking the logs")));
    assert!(timeline.contains("**Escalated** by oncalld"), "{timeline}");
    assert!(
        timeline.contains("**Resolved** automatically"),
        "{timeline}"
    );

    let note_at = |prefix: &str| {
        let n = s
            .of_kind("note")
            .into_iter()
            .find(|n| n.message.starts_with(prefix))
            .unwrap();
        local(n.at, zone)
    };
    let cause = section(md, "## Root Cause and Resolution");
    let want = format!("- full disk on web-1 — _{me}, {}_", note_at("root cause:"));
    assert!(cause.contains(&want), "missing {want:?} in:\n{cause}");
    let auto = format!(
        "- The incident was resolved automatically, when the check recovered at {}.",
        local(resolved, zone)
    );
    assert!(cause.contains(&auto), "{cause}");
    assert!(cause.contains("- removed old logs and restarted nginx — _"));
    assert!(!cause.contains("_Describe the root cause"), "{cause}");
    assert!(!cause.contains("checking the logs"), "{cause}");

    let todo = section(md, "## Corrective and Preventative Measures");
    assert!(todo.contains("- [ ] add a disk usage alert"), "{todo}");
    let lessons = section(md, "## Lessons Learned");
    assert!(lessons.contains("- the escalation reached bob in time — _"));

    let end = section(md, "## Conclusion");
    let pages = s.pages();
    assert!(pages >= 4, "trigger x2, ack, resolve: {pages}");
    for line in [
        format!("- **Time to acknowledge:** {delay} (by {me})"),
        format!(
            "- **Time to resolve:** {}",
            human(secs_between(s.opened_at, resolved))
        ),
        format!("- **Pages sent:** {pages} ({pages} delivered, 0 failed)"),
        format!("- **Escalations:** {}", s.of_kind("escalated").len()),
    ] {
        assert!(end.contains(&line), "missing {line:?} in:\n{end}");
    }
}

/// The report over the last hour: one incident, its MTTA/MTTR, availability and pages, all
/// computed from the timeline.
fn check_report(d: &Daemon, s: &Shown) {
    let r = d.json(&["report", "--since", "1h"]);
    let resolved = s.resolved_at.unwrap();
    let ack = s.first("acknowledged").unwrap().at;
    let total = &r["total"];
    assert_eq!(total["incidents"], 1, "{r}");
    assert_eq!(
        (total["acked"].as_u64(), total["never_acked"].as_u64()),
        (Some(1), Some(0))
    );
    let mtta = ms_between(s.opened_at, ack);
    let mttr = ms_between(s.opened_at, resolved);
    for (what, want) in [("mtta", mtta), ("mttr", mttr)] {
        for stat in ["mean_seconds", "median_seconds", "p90_seconds"] {
            let got = total[what][stat].as_f64().unwrap();
            assert!(close(got, want, 0.0015), "{what}.{stat} {got} != {want}");
        }
    }
    // DOWN from the trigger to the recovery (the same instants as the incident's).
    let web = &r["checks"][0];
    assert_eq!(web["check"], "web");
    let down = web["down_seconds"].as_f64().unwrap();
    assert!(close(down, mttr, 0.0015), "down {down} != {mttr}");
    let window = r["window_seconds"].as_f64().unwrap();
    assert!(close(window, 3600.0, 0.001));
    let want = 100.0 * (1.0 - down / window);
    let got = web["availability_percent"].as_f64().unwrap();
    assert!(close(got, want, 1e-9), "availability {got} != {want}");

    let zone = TimeZone::get("Europe/Paris").unwrap();
    for person in r["people"].as_array().unwrap() {
        let name = person["person"].as_str().unwrap();
        let pages = s.pages_to(name);
        let night = pages
            .iter()
            .filter(|p| !(7..22).contains(&p.at.to_zoned(zone.clone()).hour()))
            .count();
        assert_eq!(person["zone"], "Europe/Paris");
        assert_eq!(person["pages"].as_u64(), Some(pages.len() as u64), "{name}");
        assert_eq!(person["night_pages"].as_u64(), Some(night as u64), "{name}");
    }
    assert_eq!(r["people"].as_array().unwrap().len(), 2);

    let text = d.ok(&["report", "--since", "1h"]);
    assert!(text.contains("(Europe/Paris)"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("web ")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("TOTAL ")), "{text}");
    for term in ["MTTA:", "MTTR:", "Availability:", "Night pages:"] {
        assert!(text.contains(term), "no {term} definition:\n{text}");
    }
}
