//! Fault injection against the real binary (SPEC §9, issue 10): reloads that swap notifiers
//! while 40 checks go DOWN, a notifier renamed while its page is retrying, and 100 kill -9 at
//! random moments during a flip storm. Each prints its figures (`-- --nocapture`).

mod daemon_support;
#[path = "daemon_support/hook.rs"]
mod hook;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use daemon_support::{Daemon, Target};
use hook::Hook;
use oncalld::store::{IncidentFilter, Store};
use support::Answer;

/// `checks` HTTP checks on `target`, all paging alice through the webhook notifier `notifier`.
fn config(checks: usize, target: &str, hook: &str, notifier: &str) -> String {
    let mut out = String::new();
    for i in 0..checks {
        out.push_str(&format!(
            "[[check]]\nname = \"c{i:02}\"\ntype = \"http\"\nurl = \"{target}\"\n\
             interval = \"1s\"\nretry_interval = \"1s\"\nretries = 1\ntimeout = \"1s\"\n\n"
        ));
    }
    out.push_str(&format!(
        r#"
[notifiers.{notifier}]
type = "webhook"
url = "{hook}"
timeout = "2s"

[people.alice]
notify = [{{ via = "{notifier}", to = "alice" }}]

[policies.default]
[[policies.default.steps]]
notify = ["person:alice"]
escalate_after = "1h"
"#
    ));
    out
}

/// Pages failed for good, over every notifier (read from the daemon's own database).
fn failed_pages(d: &Daemon) -> u64 {
    let store = Store::open(&d.state).unwrap();
    store.outbox_stats().unwrap().iter().map(|s| s.failed).sum()
}

fn pending_pages(d: &Daemon) -> u64 {
    let store = Store::open(&d.state).unwrap();
    store
        .outbox_stats()
        .unwrap()
        .iter()
        .map(|s| s.pending)
        .sum()
}

#[test]
fn reloads_swapping_the_notifier_while_40_checks_go_down_fail_no_page() {
    let target = Target::start();
    let hook = Hook::start();
    let d = Daemon::start(&config(40, &target.url(), &hook.url(), "g0"));
    d.wait_for("40 checks UP", Duration::from_secs(10), || {
        let s = d.json(&["status"]);
        let up = s["checks"]
            .as_array()?
            .iter()
            .filter(|c| c["state"] == "UP")
            .count();
        (up == 40).then_some(())
    });
    target.set_status(503);
    for k in 1..=5 {
        std::thread::sleep(Duration::from_millis(40));
        d.rewrite_config(&config(40, &target.url(), &hook.url(), &format!("g{k}")));
        d.ok(&["reload"]);
    }
    let incidents = d.wait_for("40 trigger pages", Duration::from_secs(20), || {
        let got: BTreeSet<u64> = hook
            .pages()
            .iter()
            .filter(|g| g.event == "triggered")
            .map(|g| g.incident)
            .collect();
        (got.len() == 40).then_some(got)
    });
    d.wait_for("an empty outbox", Duration::from_secs(10), || {
        (pending_pages(&d) == 0).then_some(())
    });
    let failed = failed_pages(&d);
    let notifiers: BTreeSet<String> = hook
        .keys()
        .iter()
        .filter_map(|k| k.rsplit(':').next().map(str::to_string))
        .collect();
    assert_eq!(failed, 0, "{}", d.log_text());
    assert!(!d.log_text().contains("failed for good"));
    println!(
        "reload race: 40 checks DOWN during 5 notifier swaps: {} incidents paged, {failed} pages \
         failed for good, notifiers used: {notifiers:?}",
        incidents.len()
    );
}

#[test]
fn renaming_a_notifier_while_its_page_retries_still_delivers_it() {
    let target = Target::start();
    let hook = Hook::start();
    hook.set_answer(Answer::Status(500));
    let d = Daemon::start(&config(1, &target.url(), &hook.url(), "hook"));
    target.set_status(503);
    d.wait_for("a failed attempt", Duration::from_secs(10), || {
        (!hook.pages().is_empty()).then_some(())
    });
    d.rewrite_config(&config(1, &target.url(), &hook.url(), "renamed"));
    d.ok(&["reload"]);
    hook.set_answer(Answer::Status(200));
    let renamed_at = Instant::now();
    d.wait_for(
        "the retried page delivered",
        Duration::from_secs(15),
        || (pending_pages(&d) == 0).then_some(()),
    );
    let secs = renamed_at.elapsed().as_secs_f64();
    assert_eq!(failed_pages(&d), 0, "{}", d.log_text());
    let keys = hook.keys();
    assert!(keys.iter().all(|k| k.ends_with(":alice:hook")), "{keys:?}");
    println!(
        "rename during retry: delivered through the definition it was decided with after {} \
         attempts, {secs:.1}s after the rename; 0 failed",
        keys.len()
    );
}

#[test]
fn a_hundred_kill9_during_a_flip_storm_lose_no_trigger_page() {
    let target = Arc::new(Target::start());
    let hook = Hook::start();
    let mut d = Daemon::start(&config(3, &target.url(), &hook.url(), "hook"));
    let stop = Arc::new(AtomicBool::new(false));
    let flipper = {
        let (target, stop) = (target.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut down = false;
            while !stop.load(Ordering::Relaxed) {
                down = !down;
                target.set_status(if down { 503 } else { 200 });
                std::thread::sleep(Duration::from_millis(150 + fastrand::u64(0..300)));
            }
            target.set_status(200);
        })
    };
    let kills = 100;
    for _ in 0..kills {
        std::thread::sleep(Duration::from_millis(fastrand::u64(0..400)));
        d.kill9();
        d.spawn();
    }
    stop.store(true, Ordering::Relaxed);
    flipper.join().unwrap();
    d.wait_for("an empty outbox", Duration::from_secs(30), || {
        (pending_pages(&d) == 0).then_some(())
    });
    d.stop();

    let store = Store::open(&d.state).unwrap();
    let incidents = store.incidents(IncidentFilter::default()).unwrap();
    let received: BTreeMap<String, usize> =
        hook.keys().into_iter().fold(BTreeMap::new(), |mut m, k| {
            *m.entry(k).or_default() += 1;
            m
        });
    let mut lost = Vec::new();
    for i in &incidents {
        let trigger = store
            .pages_for(i.id)
            .unwrap()
            .into_iter()
            .find(|p| p.page.event == oncalld::core::model::PageEvent::Triggered);
        match trigger {
            Some(p) if received.contains_key(&p.page.key) => {}
            other => lost.push((i.id, other.map(|p| p.page.key))),
        }
    }
    // A duplicate is a second delivery of one key; one page under two keys would be a bug.
    let pages = hook.pages();
    let mut keys_per_page: BTreeMap<(u64, String, u64, String), BTreeSet<String>> = BTreeMap::new();
    for g in &pages {
        keys_per_page
            .entry((g.incident, g.event.clone(), g.step, g.recipient.clone()))
            .or_default()
            .insert(g.key.clone());
    }
    let split: Vec<_> = keys_per_page.iter().filter(|(_, k)| k.len() > 1).collect();
    let max_per_key = received.values().copied().max().unwrap_or(0);
    let dups = received.values().filter(|n| **n > 1).count();
    println!(
        "kill -9 storm: {kills} kills, {} incidents, {} pages received, {} trigger pages lost, \
         {dups} keys delivered twice or more, max deliveries per key {max_per_key}",
        incidents.len(),
        pages.len(),
        lost.len()
    );
    assert!(incidents.len() >= 3, "the storm opened too few incidents");
    assert!(
        lost.is_empty(),
        "incidents without their trigger page: {lost:?}"
    );
    assert!(split.is_empty(), "one page under several keys: {split:?}");
}
