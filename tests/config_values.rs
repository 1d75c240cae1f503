//! Valid files: every key read into the typed config with its value or its default.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::civil;
use oncalld::config::{
    self, Config, MinFree, NotifierConfig, PageOn, ProbeConfig, ProcessMatch, Target,
};

fn parse(text: &str) -> Config {
    match config::parse(text, Path::new("/etc/oncalld/checks.toml")) {
        Ok(c) => c,
        Err(e) => panic!("unexpected errors:\n{e}"),
    }
}

const FULL: &str = r#"
[daemon]
state_dir = "state"
socket = "/run/x/oncalld.sock"
socket_mode = "0600"
socket_group = "ops"
metrics_listen = "127.0.0.1:9810"
time_zone = "UTC"

[defaults]
interval = "1m"
timeout = "2s"
retries = 5
retry_interval = "3s"
recoveries = 2
policy = "night"
auto_resolve = false
page_on = "warning"

[[check]]
name = "web"
type = "http"
url = "https://example.com/health"
method = "head"
headers = { Accept = "text/plain", "X-Trace" = "1" }
expect_status = [200, 301]
max_latency = "250ms"
body_contains = "ok"
tls_verify = false
interval = "5s"
timeout = "1s"
retries = 1
retry_interval = "1s"
recoveries = 3
policy = "day"
auto_resolve = true
page_on = "critical"

[[check]]
name = "ssh"
type = "tcp"
address = "[::1]:22"

[[check]]
name = "nginx"
type = "process"
process = "nginx: master"
match = "cmdline"
min_count = 2

[[check]]
name = "data"
type = "disk"
path = "data"
min_free = "10GiB"

[[check]]
name = "plugin"
type = "command"
command = ["./plugins/check_x", "-w", "5"]

[notifiers.mail]
type = "email"
smtp = "smtps://u:p@mail.example.com:465"
from = "oncalld <oncalld@example.com>"
timeout = "20s"

[notifiers.hook]
type = "webhook"
url = "https://hooks.example.com/x"
secret = "s3cret"
headers = { Authorization = "Bearer t" }
timeout = "3s"

[notifiers.sms]
type = "command"
command = ["send-sms"]
timeout = "4s"

[notifiers.log]
type = "console"

[people.alice]
notify = [{ via = "mail", to = "Alice <alice@example.com>" }, { via = "sms", to = "+33600000000" }]
[people.bob]
notify = [{ via = "log" }]

[periods.work]
windows = ["mon-fri 09:00-18:00", "fri 22:00-06:00"]

[schedules.primary]
time_zone = "UTC"
rotation = ["alice", "bob"]
shift = "12h"
start = "2026-11-23T09:00:30"
period = "work"
[[schedules.primary.overrides]]
person = "bob"
from = "2026-12-24T00:00"
until = 2026-12-26T00:00

[schedules.secondary]
rotation = ["bob"]
shift = "1w"
start = "2026-11-23 09:00"

[policies.day]
repeat = 2
ack_timeout = "30m"
[[policies.day.steps]]
notify = ["schedule:primary"]
[[policies.day.steps]]
notify = ["person:bob", "notifier:hook"]
escalate_after = "30m"

[policies.night]
[[policies.night.steps]]
notify = ["schedule:secondary"]
"#;

#[test]
fn every_key_is_read() {
    let c = parse(FULL);
    assert_eq!(c.path, PathBuf::from("/etc/oncalld/checks.toml"));
    assert_eq!(
        c.daemon.state_dir,
        Some(PathBuf::from("/etc/oncalld/state"))
    );
    assert_eq!(c.daemon.socket, Some(PathBuf::from("/run/x/oncalld.sock")));
    assert_eq!(c.daemon.socket_mode, 0o600);
    assert_eq!(c.daemon.socket_group.as_deref(), Some("ops"));
    assert_eq!(c.daemon.listen, Some("127.0.0.1:9810".parse().unwrap()));
    assert_eq!(c.daemon.time_zone.iana_name(), Some("UTC"));

    let web = c.check("web").unwrap();
    assert_eq!(
        (
            web.interval,
            web.timeout,
            web.retries,
            web.retry_interval,
            web.recoveries
        ),
        (
            Duration::from_secs(5),
            Duration::from_secs(1),
            1,
            Duration::from_secs(1),
            3
        )
    );
    assert_eq!(
        (web.policy.as_str(), web.auto_resolve, web.page_on),
        ("day", true, PageOn::Critical)
    );
    let ProbeConfig::Http(h) = &web.probe else {
        panic!()
    };
    assert_eq!(h.method, "HEAD");
    assert_eq!(h.headers.len(), 2);
    assert_eq!(h.headers["X-Trace"], "1");
    assert_eq!(h.expect_status, [200, 301]);
    assert_eq!(h.max_latency, Some(Duration::from_millis(250)));
    assert_eq!(h.body_contains.as_deref(), Some("ok"));
    assert!(!h.tls_verify);
}

#[test]
fn defaults_apply_to_checks_that_do_not_override() {
    let c = parse(FULL);
    let ssh = c.check("ssh").unwrap();
    assert_eq!(
        (
            ssh.interval,
            ssh.timeout,
            ssh.retries,
            ssh.retry_interval,
            ssh.recoveries
        ),
        (
            Duration::from_secs(60),
            Duration::from_secs(2),
            5,
            Duration::from_secs(3),
            2
        )
    );
    assert_eq!(
        (ssh.policy.as_str(), ssh.auto_resolve, ssh.page_on),
        ("night", false, PageOn::Warning)
    );
    assert!(matches!(&ssh.probe, ProbeConfig::Tcp { address } if address == "[::1]:22"));
    let ProbeConfig::Process {
        process,
        match_on,
        min_count,
    } = &c.check("nginx").unwrap().probe
    else {
        panic!()
    };
    assert_eq!(
        (process.as_str(), *match_on, *min_count),
        ("nginx: master", ProcessMatch::Cmdline, 2)
    );
}

#[test]
fn relative_paths_are_next_to_the_config_file() {
    let c = parse(FULL);
    let ProbeConfig::Disk { path, min_free } = &c.check("data").unwrap().probe else {
        panic!()
    };
    assert_eq!(path, Path::new("/etc/oncalld/data"));
    assert_eq!(*min_free, MinFree::Bytes(10 << 30));
    let ProbeConfig::Command { command } = &c.check("plugin").unwrap().probe else {
        panic!()
    };
    assert_eq!(command, &["/etc/oncalld/./plugins/check_x", "-w", "5"]);
    let NotifierConfig::Command { command, timeout } = &c.notifiers["sms"] else {
        panic!()
    };
    assert_eq!(
        (command[0].as_str(), *timeout),
        ("send-sms", Duration::from_secs(4))
    );
}

#[test]
fn notifiers_and_people() {
    let c = parse(FULL);
    let NotifierConfig::Email(m) = &c.notifiers["mail"] else {
        panic!()
    };
    assert_eq!(
        (m.smtp.as_str(), m.timeout),
        ("smtps://u:p@mail.example.com:465", Duration::from_secs(20))
    );
    let NotifierConfig::Webhook(w) = &c.notifiers["hook"] else {
        panic!()
    };
    assert_eq!(w.secret.as_deref(), Some("s3cret"));
    assert_eq!(w.headers["Authorization"], "Bearer t");
    assert_eq!(w.timeout, Duration::from_secs(3));
    assert!(matches!(c.notifiers["log"], NotifierConfig::Console));
    assert_eq!(c.people["alice"].notify.len(), 2);
    assert_eq!(c.people["alice"].notify[1].to, "+33600000000");
    assert_eq!(c.people["bob"].notify[0].to, "");
}

#[test]
fn schedules_periods_policies() {
    let c = parse(FULL);
    assert_eq!(c.periods["work"].windows.len(), 2);
    let p = &c.schedules["primary"];
    assert_eq!(p.rotation, ["alice", "bob"]);
    assert_eq!(p.shift, Duration::from_secs(12 * 3600));
    assert_eq!(p.start, civil::datetime(2026, 11, 23, 9, 0, 30, 0));
    assert_eq!(p.period.as_deref(), Some("work"));
    assert_eq!(p.overrides[0].person, "bob");
    assert_eq!(
        p.overrides[0].until,
        civil::datetime(2026, 12, 26, 0, 0, 0, 0)
    );
    let s = &c.schedules["secondary"];
    assert_eq!(
        s.time_zone, c.daemon.time_zone,
        "schedules default to the daemon's zone"
    );
    assert_eq!(s.start, civil::datetime(2026, 11, 23, 9, 0, 0, 0));
    let day = &c.policies["day"];
    assert_eq!(
        (day.repeat, day.ack_timeout),
        (2, Some(Duration::from_secs(1800)))
    );
    assert_eq!(day.steps[0].escalate_after, Duration::from_secs(15 * 60));
    assert_eq!(
        day.steps[1].notify,
        [
            Target::Person("bob".into()),
            Target::Notifier("hook".into())
        ]
    );
    let night = &c.policies["night"];
    assert_eq!((night.repeat, night.ack_timeout), (0, None));
}

#[test]
fn an_empty_file_is_a_valid_config_with_built_in_defaults() {
    let c = parse("");
    assert!(c.checks.is_empty() && c.people.is_empty() && c.policies.is_empty());
    assert_eq!(c.daemon.socket_mode, 0o660);
    assert_eq!(c.daemon.time_zone, jiff::tz::TimeZone::system());
}

#[test]
fn built_in_check_defaults() {
    let c = parse(
        "[[check]]\nname = \"d\"\ntype = \"disk\"\npath = \"/\"\nmin_free = \"1%\"\n\
         [notifiers.log]\ntype = \"console\"\n\
         [policies.default]\n[[policies.default.steps]]\nnotify = [\"notifier:log\"]\n",
    );
    let d = &c.checks[0];
    assert_eq!(
        (
            d.interval,
            d.timeout,
            d.retries,
            d.retry_interval,
            d.recoveries
        ),
        (
            Duration::from_secs(30),
            Duration::from_secs(10),
            3,
            Duration::from_secs(10),
            1
        )
    );
    assert_eq!(
        (d.policy.as_str(), d.auto_resolve, d.page_on),
        ("default", true, PageOn::Critical)
    );
}

#[test]
fn errors_come_out_in_file_order_whatever_the_section_order() {
    let text = "[policies.p]\nsteps = []\n[daemon]\nsocket_mode = \"9\"\n[[check]]\nname = \"?\"\n";
    let errors = config::parse(text, Path::new("c.toml")).unwrap_err().0;
    let lines: Vec<_> = errors.iter().map(|e| e.line).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
    assert!(errors.len() >= 4, "{errors:?}");
}

#[test]
fn load_resolves_relative_paths_against_the_file_not_the_cwd() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("etc");
    std::fs::create_dir(&sub).unwrap();
    let path = sub.join("checks.toml");
    std::fs::write(
        &path,
        "[daemon]\nstate_dir = \"../state\"\nsocket = \"run/s.sock\"\n",
    )
    .unwrap();
    let c = config::load(&path).unwrap();
    let base = std::fs::canonicalize(&sub).unwrap();
    assert_eq!(c.daemon.state_dir, Some(base.join("../state")));
    assert_eq!(c.daemon.socket, Some(base.join("run/s.sock")));
    assert_eq!(c.path, path);
}

/// The ends of every range (SPEC §9) are accepted; the corpus (`range_*.toml`) has the refusals.
#[test]
fn values_at_the_edges_of_their_ranges_are_accepted() {
    let name = "n".repeat(128);
    let text = format!(
        r#"
[daemon]
socket_mode = "0770"

[defaults]
interval = "1s"
retry_interval = "7d"
timeout = "10ms"
retries = 100
recoveries = 100

[[check]]
name = "{name}"
type = "tcp"
address = "127.0.0.1:9"
timeout = "10m"
interval = "7d"
retries = 1
recoveries = 1

[notifiers.log]
type = "command"
command = ["/bin/true"]
timeout = "10ms"

[people.alice]
notify = [{{ via = "log" }}]

[schedules.primary]
time_zone = "UTC"
rotation = ["alice"]
shift = "1m"
start = "1970-01-01T00:00"
[[schedules.primary.overrides]]
person = "alice"
from = "2199-12-31T00:00"
until = "2200-01-01T00:00"

[policies.default]
repeat = 100
ack_timeout = "7d"
[[policies.default.steps]]
notify = ["schedule:primary"]
escalate_after = "1s"
"#
    );
    let c = parse(&text);
    assert_eq!(c.daemon.socket_mode, 0o770);
    let check = &c.checks[0];
    assert_eq!(check.name, name);
    assert_eq!(check.timeout, Duration::from_secs(600));
    assert_eq!(check.retry_interval, Duration::from_secs(7 * 86_400));
    assert_eq!((check.retries, check.recoveries), (1, 1));
    assert_eq!(c.policies["default"].repeat, 100);
    assert_eq!(c.schedules["primary"].shift, Duration::from_secs(60));
}

/// Issue 11: a 100,000-character name is refused in a message of a few hundred characters,
/// whether it is a value (a check's `name`) or a table key (`[notifiers.NAME]`).
#[test]
fn a_huge_name_is_refused_briefly() {
    let long = "n".repeat(100_000);
    let text = format!(
        "[notifiers.{long}]\ntype = \"console\"\n\n[[check]]\nname = \"{long}\"\ntype = \"tcp\"\n\
         address = \"127.0.0.1:9\"\n"
    );
    let errors = config::parse(&text, Path::new("c.toml")).unwrap_err().0;
    let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(shown.iter().all(|e| e.len() < 400), "{:?}", shown);
    assert!(shown[0].contains("notifier name") && shown[0].contains("100000 characters"));
    assert!(
        shown
            .iter()
            .any(|e| e.contains("check[0].name: check name"))
    );
}

/// `listen` takes IPv4 and IPv6 addresses; `metrics_listen` is its old name (an alias).
#[test]
fn listen_and_its_alias() {
    let listen = |line: &str| parse(&format!("[daemon]\n{line}\n")).daemon.listen;
    assert_eq!(
        listen("listen = \"127.0.0.1:9810\""),
        Some("127.0.0.1:9810".parse().unwrap())
    );
    assert_eq!(
        listen("listen = \"[::1]:9810\""),
        Some("[::1]:9810".parse().unwrap())
    );
    assert_eq!(
        listen("metrics_listen = \"[::]:9810\""),
        Some("[::]:9810".parse().unwrap())
    );
    assert_eq!(listen(""), None);
}
