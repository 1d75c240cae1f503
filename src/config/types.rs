//! The typed, validated configuration: what the rest of oncalld reads.
//!
//! `config::load` turns a TOML file into a [`Config`] with every default applied, every
//! duration parsed and every cross-reference checked, so nothing downstream re-validates.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use jiff::civil;
use jiff::tz::TimeZone;

pub use crate::core::heartbeat::Expect;
use crate::redact::{masked, masked_headers, redact_urls};

/// A whole, valid configuration file.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from (for messages and reload).
    pub path: PathBuf,
    pub daemon: DaemonConfig,
    /// Checks in file order, with `[defaults]` applied.
    pub checks: Vec<CheckConfig>,
    pub notifiers: BTreeMap<String, NotifierConfig>,
    pub people: BTreeMap<String, Person>,
    pub periods: BTreeMap<String, Period>,
    pub schedules: BTreeMap<String, Schedule>,
    pub policies: BTreeMap<String, Policy>,
    /// `[sources.NAME]` (SPEC §11): Alertmanager posting incidents in.
    pub sources: BTreeMap<String, super::sources::SourceConfig>,
    /// `[status_page]` (SPEC §14).
    pub status_page: super::status_page::StatusPageConfig,
}

impl Config {
    pub fn check(&self, name: &str) -> Option<&CheckConfig> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// `[daemon]`. Paths left `None` are resolved at start-up from the environment
/// (`$STATE_DIRECTORY`, `$RUNTIME_DIRECTORY`, XDG, or the root defaults).
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub state_dir: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    /// Permission bits of the socket file; default 0o660.
    pub socket_mode: u32,
    pub socket_group: Option<String>,
    /// `listen` (alias `metrics_listen`): the TCP listener of SPEC §10 (`/metrics`, `/ping/...`).
    pub listen: Option<SocketAddr>,
    /// Zone times are shown in, and the default for schedules. Default: the system's.
    pub time_zone: TimeZone,
    /// This daemon's name towards fleet services (PagerDuty `source` and `dedup_key`).
    /// Default: the host name.
    pub instance: String,
}

/// One `[[check]]` with `[defaults]` applied.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    pub name: String,
    pub probe: ProbeConfig,
    pub interval: Duration,
    pub timeout: Duration,
    /// Consecutive failures before DOWN (Nagios `max_check_attempts`); at least 1.
    pub retries: u32,
    pub retry_interval: Duration,
    /// Consecutive successes before UP again; at least 1.
    pub recoveries: u32,
    /// Escalation policy name (checked to exist).
    pub policy: String,
    /// When false, an incident stays open after the check recovers, for a human to resolve.
    pub auto_resolve: bool,
    /// Which probe results count as a failure.
    pub page_on: PageOn,
    /// Checks this one sits behind (SPEC §12): while one of them is not UP, this check's
    /// incidents are recorded as unreachable and page nobody. Names are checked to exist and
    /// not to form a cycle.
    pub depends_on: Vec<String>,
    /// Flap detection thresholds; `None` when `flap_detection = false`.
    pub flap: Option<FlapThresholds>,
}

/// Nagios' flap detection thresholds, in percent state change (SPEC §12): flapping starts at
/// `high` or more and stops at `low` or less (hysteresis). Default `[20, 30]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlapThresholds {
    pub low: f64,
    pub high: f64,
}

impl Default for FlapThresholds {
    fn default() -> Self {
        FlapThresholds {
            low: 20.0,
            high: 30.0,
        }
    }
}

/// Which results count as failure. UNKNOWN always does (as in Nagios, it is a problem state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PageOn {
    /// CRITICAL and UNKNOWN fail; WARNING does not.
    #[default]
    Critical,
    /// WARNING, CRITICAL and UNKNOWN fail.
    Warning,
}

#[derive(Debug, Clone)]
pub enum ProbeConfig {
    Http(HttpProbe),
    Tcp {
        address: String,
    },
    Process {
        process: String,
        match_on: ProcessMatch,
        min_count: u32,
    },
    Disk {
        path: PathBuf,
        min_free: MinFree,
    },
    /// A Nagios plugin: argv, no shell.
    Command {
        command: Vec<String>,
    },
    /// Pushed, not probed: a cron job or agent pings (SPEC §10).
    Heartbeat(HeartbeatProbe),
}

impl ProbeConfig {
    /// The `type = "..."` word, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            ProbeConfig::Http(_) => "http",
            ProbeConfig::Tcp { .. } => "tcp",
            ProbeConfig::Process { .. } => "process",
            ProbeConfig::Disk { .. } => "disk",
            ProbeConfig::Command { .. } => "command",
            ProbeConfig::Heartbeat(_) => "heartbeat",
        }
    }

    /// What the check looks at, in one short phrase (URL, address, process, path, argv), for
    /// showing: a password in a URL is starred ([`crate::redact::redact_urls`]). Probes use
    /// the config's own fields, never this.
    pub fn target(&self) -> String {
        let shown = match self {
            ProbeConfig::Http(h) => h.url.clone(),
            ProbeConfig::Tcp { address } => address.clone(),
            ProbeConfig::Process { process, .. } => format!("process {process}"),
            ProbeConfig::Disk { path, .. } => format!("disk {}", path.display()),
            ProbeConfig::Command { command } => command.join(" "),
            // Never the token: it is the secret part of the ping URL.
            ProbeConfig::Heartbeat(hb) => hb.expectation(),
        };
        crate::redact::redact_urls(&shown).into_owned()
    }
}

/// `type = "heartbeat"`. `Debug` stars the token (it is the secret part of the ping URL).
#[derive(Clone)]
pub struct HeartbeatProbe {
    pub token: String,
    pub expect: Expect,
    /// How late a ping may be, and how long a started run may take. Default 5m.
    pub grace: Duration,
}

impl HeartbeatProbe {
    /// `every 1d (grace 1h)` or `cron "30 3 * * *" (grace 1h)`: what `status` and postmortems
    /// show as the target ("heartbeat probe of `every 1d (grace 1h)`").
    pub fn expectation(&self) -> String {
        let grace = crate::report::human_seconds(self.grace.as_secs() as i64);
        match &self.expect {
            Expect::Period(p) => format!(
                "every {} (grace {grace})",
                crate::report::human_seconds(p.as_secs() as i64)
            ),
            Expect::Cron(c) => format!("cron \"{}\" (grace {grace})", c.as_str()),
        }
    }
}

impl std::fmt::Debug for HeartbeatProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash keeps a token change visible to the reload's config comparison.
        f.debug_struct("HeartbeatProbe")
            .field("token", &token_fingerprint(&self.token))
            .field("expect", &self.expect)
            .field("grace", &self.grace)
            .finish()
    }
}

/// `***` and a short hash: tells two tokens apart without showing either.
fn token_fingerprint(token: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(token.as_bytes());
    format!("***{}", hex::encode(&digest[..4]))
}

/// `Debug` stars the URL's password and every header value (see [`crate::redact`]).
#[derive(Clone)]
pub struct HttpProbe {
    pub url: String,
    /// Upper-case method, default "GET".
    pub method: String,
    pub headers: BTreeMap<String, String>,
    /// Default `[200]`.
    pub expect_status: Vec<u16>,
    pub max_latency: Option<Duration>,
    pub body_contains: Option<String>,
    /// Default true.
    pub tls_verify: bool,
    /// Extra trusted CA certificates (PEM), on top of the built-in roots and the system store.
    pub ca_file: Option<PathBuf>,
    /// CRITICAL when the server's certificate expires within this time.
    pub cert_expiry: Option<Duration>,
    /// The daemon's `time_zone`: certificate dates in messages are shown in it.
    pub zone: TimeZone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessMatch {
    /// The process name (comm), exactly.
    Name,
    /// A substring of the full command line.
    Cmdline,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MinFree {
    /// 0.0..=100.0 percent of the filesystem's size available to unprivileged users.
    Percent(f64),
    Bytes(u64),
}

#[derive(Debug, Clone)]
pub enum NotifierConfig {
    Email(EmailNotifier),
    Webhook(WebhookNotifier),
    PagerDuty(PagerDutyNotifier),
    Alertmanager(AlertmanagerNotifier),
    /// `slack`, `discord`, `teams`, `telegram`, `ntfy`, `pushover`, `matrix`.
    Chat(ChatNotifier),
    /// argv; the page JSON on stdin, the recipient's `to` in `$ONCALLD_TO`.
    Command {
        command: Vec<String>,
        timeout: Duration,
    },
    Console,
}

/// `Debug` stars the SMTP URL's password.
#[derive(Clone)]
pub struct EmailNotifier {
    /// `smtp://[user:pass@]host[:port]` (STARTTLS when offered, `?tls=required` to insist,
    /// `?tls=none` to never), or `smtps://` for implicit TLS.
    pub smtp: String,
    pub from: String,
    pub timeout: Duration,
    /// Extra trusted CA certificates (PEM) for the SMTP server's TLS.
    pub ca_file: Option<PathBuf>,
}

/// `Debug` stars the URL's password, the secret and every header value.
#[derive(Clone)]
pub struct WebhookNotifier {
    pub url: String,
    pub secret: Option<String>,
    pub headers: BTreeMap<String, String>,
    /// A minijinja template over the page's fields, rendered instead of the SPEC §5 JSON;
    /// values are JSON-escaped when `content_type` is JSON. Checked at load.
    pub body: Option<String>,
    /// `Content-Type` of the body; default `application/json`.
    pub content_type: String,
    pub timeout: Duration,
    /// Extra trusted CA certificates (PEM) for an `https://` URL.
    pub ca_file: Option<PathBuf>,
}

/// Which chat service a [`ChatNotifier`] speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChatKind {
    Slack,
    Discord,
    Teams,
    Telegram,
    Ntfy,
    Pushover,
    Matrix,
}

impl ChatKind {
    pub const ALL: [ChatKind; 7] = [
        ChatKind::Slack,
        ChatKind::Discord,
        ChatKind::Teams,
        ChatKind::Telegram,
        ChatKind::Ntfy,
        ChatKind::Pushover,
        ChatKind::Matrix,
    ];

    /// As written in `type = "..."`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatKind::Slack => "slack",
            ChatKind::Discord => "discord",
            ChatKind::Teams => "teams",
            ChatKind::Telegram => "telegram",
            ChatKind::Ntfy => "ntfy",
            ChatKind::Pushover => "pushover",
            ChatKind::Matrix => "matrix",
        }
    }

    pub fn from_type(s: &str) -> Option<ChatKind> {
        ChatKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The public API base when `url` is not set; `None` when `url` is required.
    pub fn default_url(self) -> Option<&'static str> {
        match self {
            ChatKind::Telegram => Some("https://api.telegram.org"),
            ChatKind::Pushover => Some("https://api.pushover.net"),
            _ => None,
        }
    }

    /// The secret's key and whether it is required.
    pub fn secret_key(self) -> Option<(&'static str, bool)> {
        match self {
            ChatKind::Telegram => Some(("bot_token", true)),
            ChatKind::Ntfy => Some(("token", false)),
            ChatKind::Pushover => Some(("token", true)),
            ChatKind::Matrix => Some(("access_token", true)),
            ChatKind::Slack | ChatKind::Discord | ChatKind::Teams => None,
        }
    }

    /// Whether pages need a recipient (`to`): the chat, user key or room.
    pub fn needs_to(self) -> bool {
        matches!(
            self,
            ChatKind::Telegram | ChatKind::Pushover | ChatKind::Matrix
        )
    }

    /// What a `to` looks like, for error messages.
    pub fn to_form(self) -> &'static str {
        match self {
            ChatKind::Telegram => "a chat id such as -1001234567890 or @channelname",
            ChatKind::Pushover => "a 30-character user or group key",
            ChatKind::Matrix => "a room id such as !abcdef:example.org",
            _ => "nothing",
        }
    }
}

/// A chat preset (`type = "slack"` etc.). `Debug` never shows the secret, and shows only
/// the host of the URL (a Slack, Discord or Teams webhook URL is itself the secret).
#[derive(Clone)]
pub struct ChatNotifier {
    pub kind: ChatKind,
    /// Webhook URL (slack, discord, teams), topic URL (ntfy), homeserver (matrix), API base
    /// (telegram, pushover; default the public service).
    pub url: String,
    /// `bot_token` (telegram), `token` (ntfy, pushover), `access_token` (matrix).
    pub secret: Option<String>,
    /// The recipient for pages without a person's `to` (`notifier:` targets, test pages).
    pub to: Option<String>,
    /// Pushover emergency pages: how often Pushover repeats the alert, and for how long.
    pub retry: Duration,
    pub expire: Duration,
    pub timeout: Duration,
}

/// `type = "pagerduty"` (Events API v2). `Debug` never shows the routing key.
#[derive(Clone)]
pub struct PagerDutyNotifier {
    /// The integration key: a secret, kept out of every message.
    pub routing_key: String,
    /// The enqueue endpoint; default [`PAGERDUTY_URL`].
    pub url: String,
    /// `critical`, `error`, `warning` or `info`; default `critical`.
    pub severity: String,
    pub timeout: Duration,
    /// Extra trusted CA certificates (PEM), e.g. for a proxy in front of PagerDuty.
    pub ca_file: Option<PathBuf>,
}

/// `type = "alertmanager"`: alerts posted to every peer of an Alertmanager cluster.
/// `Debug` stars URL passwords.
#[derive(Clone)]
pub struct AlertmanagerNotifier {
    /// Every peer's base URL (`http://am1:9093`); at least one.
    pub urls: Vec<String>,
    /// Added to every alert's labels (`alertname` is refused; `severity` overrides).
    pub labels: BTreeMap<String, String>,
    /// How often an open incident's alert is posted again; default 1 minute.
    pub resend: Duration,
    pub timeout: Duration,
    /// Extra trusted CA certificates (PEM) for `https://` peers.
    pub ca_file: Option<PathBuf>,
}

/// PagerDuty's Events API v2 endpoint (the US service region).
pub const PAGERDUTY_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// `[people.NAME]`.
#[derive(Debug, Clone)]
pub struct Person {
    pub notify: Vec<ContactMethod>,
}

/// One way to reach a person: a notifier name and the address it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactMethod {
    pub via: String,
    pub to: String,
}

/// `[periods.NAME]`: weekly windows, read in the zone of the schedule that uses the period.
#[derive(Debug, Clone)]
pub struct Period {
    pub windows: Vec<Window>,
}

/// `"mon-fri 09:00-18:00"`. `days[0]` is Monday. When `end <= start` the window runs past
/// midnight into the next day (`"fri 22:00-06:00"` is Friday 22:00 to Saturday 06:00);
/// `"24:00"` as an end means midnight at the end of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub days: [bool; 7],
    pub start: civil::Time,
    /// `None` means 24:00.
    pub end: Option<civil::Time>,
}

/// `[schedules.NAME]`.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub time_zone: TimeZone,
    pub rotation: Vec<String>,
    pub shift: Duration,
    /// First handover, local time in `time_zone`.
    pub start: civil::DateTime,
    pub period: Option<String>,
    pub overrides: Vec<Override>,
}

/// Someone on call instead of the rotation, local times in the schedule's zone, `[from, until)`.
#[derive(Debug, Clone)]
pub struct Override {
    pub person: String,
    pub from: civil::DateTime,
    pub until: civil::DateTime,
}

/// `[policies.NAME]`.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Times the whole list of steps is run again after the last one.
    pub repeat: u32,
    pub ack_timeout: Option<Duration>,
    /// At least one.
    pub steps: Vec<Step>,
    /// SPEC §12: the first page to a destination goes at once; the policy's further pages of
    /// the same kind to it within this window go as one digest at its end. `None`: off.
    pub group_wait: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub notify: Vec<Target>,
    pub escalate_after: Duration,
}

/// Whom a step pages: `"schedule:NAME"`, `"person:NAME"` or `"notifier:NAME"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Schedule(String),
    Person(String),
    Notifier(String),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Schedule(n) => write!(f, "schedule:{n}"),
            Target::Person(n) => write!(f, "person:{n}"),
            Target::Notifier(n) => write!(f, "notifier:{n}"),
        }
    }
}

impl std::fmt::Debug for HttpProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpProbe")
            .field("url", &redact_urls(&self.url))
            .field("method", &self.method)
            .field("headers", &masked_headers(&self.headers))
            .field("expect_status", &self.expect_status)
            .field("max_latency", &self.max_latency)
            .field("body_contains", &self.body_contains)
            .field("tls_verify", &self.tls_verify)
            .field("ca_file", &self.ca_file)
            .field("cert_expiry", &self.cert_expiry)
            .finish()
    }
}

impl std::fmt::Debug for EmailNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailNotifier")
            .field("smtp", &redact_urls(&self.smtp))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl std::fmt::Debug for WebhookNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookNotifier")
            .field("url", &redact_urls(&self.url))
            .field("secret", &masked(&self.secret))
            .field("headers", &masked_headers(&self.headers))
            .field("body", &self.body)
            .field("content_type", &self.content_type)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl std::fmt::Debug for ChatNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = reqwest::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        f.debug_struct("ChatNotifier")
            .field("kind", &self.kind)
            .field("url", &format!("<{host}/{}>", crate::redact::MASK))
            .field("secret", &masked(&self.secret))
            .field("to", &self.to)
            .field("retry", &self.retry)
            .field("expire", &self.expire)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl std::fmt::Debug for AlertmanagerNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let urls: Vec<_> = self.urls.iter().map(|u| redact_urls(u)).collect();
        f.debug_struct("AlertmanagerNotifier")
            .field("urls", &urls)
            .field("labels", &self.labels)
            .field("resend", &self.resend)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl std::fmt::Debug for PagerDutyNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagerDutyNotifier")
            .field("routing_key", &crate::redact::MASK)
            .field("url", &redact_urls(&self.url))
            .field("severity", &self.severity)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_debug_show_no_password() {
        let http = HttpProbe {
            url: "http://webuser:PASS@host/x".into(),
            method: "GET".into(),
            headers: [("Authorization".into(), "Bearer t0ken".into())].into(),
            expect_status: vec![200],
            max_latency: None,
            body_contains: None,
            tls_verify: true,
            ca_file: None,
            cert_expiry: None,
            zone: TimeZone::UTC,
        };
        let probe = ProbeConfig::Http(http.clone());
        assert_eq!(probe.target(), "http://webuser:***@host/x");
        let argv = vec!["check_http".into(), "-u".into(), "https://a:PASS@h/".into()];
        let command = ProbeConfig::Command { command: argv };
        assert_eq!(command.target(), "check_http -u https://a:***@h/");
        let mail = EmailNotifier {
            smtp: "smtps://mailer:PASS@mail".into(),
            from: "o@example.com".into(),
            timeout: Duration::from_secs(1),
            ca_file: None,
        };
        for shown in [format!("{http:?}"), format!("{mail:?}")] {
            assert!(
                !shown.contains("PASS") && !shown.contains("t0ken"),
                "{shown}"
            );
        }
    }
}
