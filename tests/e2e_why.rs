//! Why (not) paged (SPEC §13), end to end with the real binary: `oncalld explain ID` names the
//! reason of every non-event of a real incident (a silence, a step outside its period, a
//! schedule that has not started, a page refused by SMTP 550), and `oncalld simulate CHECK`
//! predicts the walk through the daemon and, with `-c FILE`, without one.

mod daemon_paging_support;
mod daemon_support;
mod support;

use std::process::Command;
use std::time::Duration;

use daemon_paging_support::*;
use daemon_support::{BIN, Daemon, Target};
use support::{Answer, SmtpServer, WebhookReceiver};

/// Step 1: schedule `primary`, on call only on a weekday three days from today (never now);
/// step 2: schedule `later` (starts in 2100); step 3: alice by webhook and bob by mail.
fn config(target: &str, smtp: &str, hook: &str) -> String {
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .weekday()
        .to_monday_zero_offset() as usize;
    let other_day = days[(today + 3) % 7];
    format!(
        r#"
[[check]]
name = "web"
type = "http"
url = "{target}"
interval = "1s"
retry_interval = "1s"
retries = 1
timeout = "1s"

[notifiers.hook]
type = "webhook"
url = "{hook}"
[notifiers.mail]
type = "email"
smtp = "{smtp}"
from = "oncalld@example.com"
timeout = "2s"

[people.alice]
notify = [{{ via = "hook", to = "alice" }}]
[people.bob]
notify = [{{ via = "mail", to = "bob@example.com" }}]

[periods.workhours]
windows = ["{other_day} 00:00-24:00"]

[schedules.primary]
rotation = ["alice"]
shift = "1d"
start = "2026-01-01T09:00"
period = "workhours"

[schedules.later]
rotation = ["bob"]
shift = "1d"
start = "2100-01-01T09:00"

[policies.default]
[[policies.default.steps]]
notify = ["schedule:primary"]
escalate_after = "1h"
[[policies.default.steps]]
notify = ["schedule:later"]
escalate_after = "1h"
[[policies.default.steps]]
notify = ["person:alice", "person:bob"]
escalate_after = "1h"
"#
    )
}

#[test]
fn explain_names_every_reason_and_simulate_predicts_the_walk() {
    let rt = runtime();
    let target = Target::start();
    let smtp = SmtpServer::start(Some("550 5.1.1 No such user"), None);
    let hook = rt.block_on(WebhookReceiver::start(Answer::Status(200)));
    let text = config(&target.url(), &smtp.url(), &hook.url());
    let d = Daemon::start(&text);

    // simulate through the daemon, and with -c FILE without one: the same walk.
    let through_daemon = d.ok(&["simulate", "web"]);
    assert!(
        through_daemon.contains(
            "step 1 skipped: nobody on call (schedule primary: outside period workhours)"
        ),
        "{through_daemon}"
    );
    assert!(
        through_daemon.contains("schedule later: before its start 2100-01-01T09:00"),
        "{through_daemon}"
    );
    assert!(
        through_daemon.contains("page alice via hook to alice (step 3)"),
        "{through_daemon}"
    );
    assert!(
        through_daemon.contains("page bob via mail to bob@example.com (step 3)"),
        "{through_daemon}"
    );
    assert!(
        through_daemon.contains("escalation exhausted"),
        "{through_daemon}"
    );
    let at = "2026-12-02T03:00:00Z";
    let sim = d.json(&["simulate", "web", "--at", at]);
    assert_eq!(sim["at"], at, "{sim}");
    let offline = Command::new(BIN)
        .args(["simulate", "web", "--at", at, "--json", "-c"])
        .arg(&d.config)
        .env("ONCALLD_SOCKET", "/nonexistent/oncalld.sock")
        .output()
        .unwrap();
    assert!(
        offline.status.success(),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    let offline: serde_json::Value = serde_json::from_slice(&offline.stdout).unwrap();
    assert_eq!(offline["events"], sim["events"], "same engine, same answer");
    assert!(!d.cli(&["simulate", "nope"]).status.success());

    // A real incident: held by a silence, then released; steps 1 and 2 skipped; bob's mail
    // refused by SMTP 550.
    d.ok(&["silence", "web", "--for", "3s", "-m", "deploy"]);
    target.set_status(503);
    let id = wait_incident(&d);
    d.wait_for(
        "alice's page after the silence",
        Duration::from_secs(15),
        || hook.received().first().cloned(),
    );
    d.wait_for("bob's refused mail", Duration::from_secs(15), || {
        let x = d.json(&["explain", &id.to_string()]);
        x["decisions"]
            .as_array()?
            .iter()
            .any(|d| d["recipient"] == "bob" && d["delivery"]["state"] == "failed")
            .then_some(())
    });
    let x = d.json(&["explain", &id.to_string()]);
    let decisions = x["decisions"].as_array().unwrap();
    let reasons: Vec<&serde_json::Value> = decisions
        .iter()
        .filter(|d| d["kind"] == "not_paged")
        .flat_map(|d| d["reasons"].as_array().unwrap())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r["why"] == "silenced" && r["silence"] == 1),
        "{x}"
    );
    assert!(
        reasons.iter().any(|r| r["why"] == "outside_period"
            && r["schedule"] == "primary"
            && r["period"] == "workhours"),
        "{x}"
    );
    assert!(
        reasons.iter().any(|r| r["why"] == "nobody_on_call"
            && r["detail"]
                .as_str()
                .unwrap()
                .contains("later: before its start")),
        "{x}"
    );
    let alice = decisions
        .iter()
        .find(|d| d["recipient"] == "alice")
        .unwrap();
    assert_eq!(alice["delivery"]["state"], "delivered", "{x}");
    let bob = decisions.iter().find(|d| d["recipient"] == "bob").unwrap();
    assert!(
        bob["delivery"]["error"].as_str().unwrap().contains("550"),
        "{x}"
    );

    let text = d.ok(&["explain", &id.to_string()]);
    for want in [
        "nobody paged: silenced by #1",
        "step 1 skipped: outside period workhours (schedule primary)",
        "step 2 skipped: nobody on call (schedule later: before its start",
        "page to alice via hook to alice: delivered",
        "page to bob via mail to bob@example.com: page failed: ",
        "unsilenced by oncalld",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert!(!d.cli(&["explain", "999"]).status.success());
}
