//! Building the notifiers from a config, and the console notifier's log line.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::tz::TimeZone;
use oncalld::config::{Config, DaemonConfig, EmailNotifier, NotifierConfig, WebhookNotifier};
use oncalld::core::model::PageEvent;
use oncalld::notify::Notifiers;
use support::{Answer, WebhookReceiver, page};

fn config(notifiers: BTreeMap<String, NotifierConfig>) -> Config {
    Config {
        path: "test.toml".into(),
        daemon: DaemonConfig {
            state_dir: None,
            socket: None,
            socket_mode: 0o660,
            socket_group: None,
            listen: None,
            time_zone: TimeZone::UTC,
            instance: "test-host".into(),
        },
        checks: vec![],
        notifiers,
        people: BTreeMap::new(),
        periods: BTreeMap::new(),
        schedules: BTreeMap::new(),
        policies: BTreeMap::new(),
        sources: BTreeMap::new(),
        status_page: Default::default(),
    }
}

fn webhook(url: &str) -> NotifierConfig {
    NotifierConfig::Webhook(WebhookNotifier {
        url: url.to_string(),
        secret: None,
        headers: BTreeMap::new(),
        body: None,
        content_type: "application/json".to_string(),
        timeout: Duration::from_secs(5),
        ca_file: None,
    })
}

#[tokio::test]
async fn builds_every_notifier_and_finds_it_by_name() {
    let rx = WebhookReceiver::start(Answer::Status(200)).await;
    let mut n = BTreeMap::new();
    n.insert("ops-chat".to_string(), webhook(&rx.url()));
    n.insert(
        "mail".to_string(),
        NotifierConfig::Email(EmailNotifier {
            smtp: "smtp://127.0.0.1:25".to_string(),
            from: "oncalld@example.com".to_string(),
            timeout: Duration::from_secs(5),
            ca_file: None,
        }),
    );
    n.insert(
        "sms".to_string(),
        NotifierConfig::Command {
            command: vec!["/bin/true".to_string()],
            timeout: Duration::from_secs(5),
        },
    );
    n.insert("log".to_string(), NotifierConfig::Console);
    let notifiers = Notifiers::build(&config(n)).unwrap();
    assert_eq!(
        notifiers.names().collect::<Vec<_>>(),
        ["log", "mail", "ops-chat", "sms"]
    );
    assert!(notifiers.get("nope").is_none());

    let p = page(PageEvent::Triggered, 1, 1, "alice", "ops-chat");
    notifiers.get("ops-chat").unwrap().send(&p).await.unwrap();
    assert_eq!(rx.received().len(), 1);
    notifiers.get("sms").unwrap().send(&p).await.unwrap();
}

#[test]
fn reports_every_bad_notifier_at_once() {
    let mut n = BTreeMap::new();
    n.insert("a".to_string(), webhook("not a url"));
    n.insert("b".to_string(), webhook("ftp://x/"));
    n.insert(
        "c".to_string(),
        NotifierConfig::Email(EmailNotifier {
            smtp: "smtp://127.0.0.1:25".to_string(),
            from: "not an address".to_string(),
            timeout: Duration::from_secs(5),
            ca_file: None,
        }),
    );
    n.insert("ok".to_string(), NotifierConfig::Console);
    let errors = Notifiers::build(&config(n)).unwrap_err();
    let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert!(errors[0].to_string().starts_with("notifier \"a\": "));
}

/// A log sink the test can read.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn console_logs_the_page_with_its_fields() {
    let buffer = Buffer::default();
    let sink = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut n = BTreeMap::new();
    n.insert("log".to_string(), NotifierConfig::Console);
    let notifiers = Notifiers::build(&config(n)).unwrap();
    let p = page(PageEvent::Triggered, 17, 1, "alice", "log");
    notifiers.get("log").unwrap().send(&p).await.unwrap();
    let resolved = page(PageEvent::Resolved, 17, 9, "alice", "log");
    notifiers.get("log").unwrap().send(&resolved).await.unwrap();

    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].contains("WARN"), "{}", lines[0]);
    assert!(lines[1].contains("INFO"), "{}", lines[1]);
    for field in [
        "key=oncalld:17:1:alice:log",
        "incident=17",
        "event=triggered",
        "recipient=alice",
        "text=TRIGGERED #17 website",
    ] {
        assert!(lines[0].contains(field), "{field} missing: {}", lines[0]);
    }
}
