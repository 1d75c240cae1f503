//! Handoff notices end to end (SPEC §13): the real daemon pages the person coming on call
//! through the outbox and a real webhook receiver, with the shift's end and the key of SPEC
//! §13; the notice is durable (in the outbox, delivered once).

mod daemon_paging_support;
mod daemon_support;
mod support;

use std::time::Duration;

use daemon_paging_support::runtime;
use daemon_support::Daemon;
use support::{Answer, WebhookReceiver};

#[test]
fn the_person_coming_on_call_is_paged_with_the_shifts_end() {
    let rt = runtime();
    let hook = rt.block_on(WebhookReceiver::start(Answer::Status(200)));
    // The rotation starts (first handover) three seconds from now, in UTC.
    let start = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(3))
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC);
    let start = start.round(jiff::Unit::Second).unwrap();
    let start_local = start.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let config = format!(
        r#"
[notifiers.hook]
type = "webhook"
url = "{}"

[people.alice]
notify = [{{ via = "hook", to = "alice-phone" }}]
[people.bob]
notify = [{{ via = "hook", to = "bob-phone" }}]

[schedules.primary]
time_zone = "UTC"
rotation = ["alice", "bob"]
shift = "12h"
start = "{start_local}"
handoff_notice = true

[policies.default]
[[policies.default.steps]]
notify = ["schedule:primary"]
escalate_after = "1h"
"#,
        hook.url()
    );
    let d = Daemon::start(&config);
    let got = d.wait_for("alice's handoff notice", Duration::from_secs(15), || {
        hook.received().first().cloned()
    });
    let body = got.json();
    assert_eq!(body["event"], "handoff", "{body}");
    assert_eq!(body["recipient"], "alice", "{body}");
    let begin = start.strftime("%a %H:%M").to_string();
    let end = (start.timestamp() + jiff::SignedDuration::from_hours(12))
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%a %H:%M")
        .to_string();
    assert_eq!(
        body["text"],
        format!("ON CALL primary from {begin} until {end} (UTC)"),
        "{body}"
    );
    let handover = format!("{start_local}Z");
    assert_eq!(
        got.key(),
        format!("oncalld:handoff:primary:{handover}:alice:hook")
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(hook.received().len(), 1, "one notice, once");
}
