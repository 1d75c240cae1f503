//! End to end, real daemon and real CLI (SPEC §9): a plugin's terminal escapes never reach a
//! terminal (`status`, `show` and `postmortem` run under a pseudo-terminal by `script`), a URL
//! password never leaves the daemon (`status --json`, postmortems), and the state directory
//! and database files are private under umask 022.

mod daemon_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use daemon_support::{BIN, Daemon, Target};

/// What the hostile plugin prints: clear screen, write the clipboard (OSC 52), ring the bell,
/// and overwrite the line with bare CRs.
const HOSTILE: &str = r"CRITICAL - \033[2J\033]52;c;aGk=\007 bad\r.\r";

fn config(dir: &Path, target: &Target) -> String {
    let plugin = dir.join("hostile.sh");
    std::fs::write(
        &plugin,
        format!("#!/bin/sh\nprintf '{HOSTILE}\\n'\nexit 2\n"),
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let web = target.url().replace("http://", "http://webuser:PASS@");
    format!(
        r#"
[defaults]
interval = "1s"
retry_interval = "1s"
retries = 1
timeout = "2s"

[[check]]
name = "plugin"
type = "command"
command = [{plugin:?}]

[[check]]
name = "web"
type = "http"
url = "{web}"

[notifiers.log]
type = "console"

[people.alice]
notify = [{{ via = "log" }}]

[policies.default]
[[policies.default.steps]]
notify = ["person:alice"]
escalate_after = "1h"
"#,
        plugin = plugin.display().to_string(),
    )
}

/// A daemon whose `plugin` check is DOWN with an open incident, its id, and the plugin's dir.
fn start_down() -> (Daemon, u64, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::start();
    let d = Daemon::start(&config(dir.path(), &target));
    let id = d.wait_for("the plugin incident", Duration::from_secs(15), || {
        let s = d.json(&["status"]);
        s["incidents"]
            .as_array()?
            .iter()
            .find_map(|i| (i["check"] == "plugin").then(|| i["id"].as_u64()).flatten())
    });
    (d, id, dir)
}

/// Everything the terminal received when `oncalld ARGS` ran on a pseudo-terminal.
fn on_terminal(d: &Daemon, args: &[&str], colour: bool) -> Vec<u8> {
    let quoted: Vec<String> = std::iter::once(BIN)
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let mut cmd = Command::new("script");
    cmd.args(["-qfec", &quoted.join(" "), "/dev/null"])
        .env("ONCALLD_SOCKET", &d.socket)
        .stdin(Stdio::null());
    if colour {
        cmd.env_remove("NO_COLOR");
    } else {
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd.output().expect("script(1) from util-linux");
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 2),
        "oncalld {args:?} under script: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// No ESC, BEL or bare CR at all (colours off), or at least none of the plugin's sequences.
fn assert_safe(what: &str, got: &[u8], colour: bool) {
    let text = String::from_utf8_lossy(got);
    assert!(
        !got.contains(&0x07),
        "{what}: BEL reached the terminal: {text:?}"
    );
    assert!(!contains(got, b"\x1b[2J"), "{what}: clear-screen: {text:?}");
    assert!(!contains(got, b"\x1b]52"), "{what}: OSC 52: {text:?}");
    if !colour {
        assert!(
            !got.contains(&0x1b),
            "{what}: ESC reached the terminal: {text:?}"
        );
    }
    // The pty turns each \n into \r\n; any other CR is the plugin's.
    let bare_cr = got
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\r' && got.get(i + 1) != Some(&b'\n'));
    assert!(!bare_cr, "{what}: a bare CR reached the terminal: {text:?}");
}

#[test]
fn plugin_escapes_and_notes_never_reach_the_terminal() {
    let (d, id, _plugin) = start_down();
    let id = id.to_string();
    // An OSC 52 note too, as an operator could paste one.
    d.ok(&["ack", &id, "-m", "\x1b]52;c;aGk=\x07 acked\r"]);
    d.ok(&["note", &id, "looking \x1b[2J\x1b]52;c;aGk=\x07 now"]);
    d.ok(&[
        "silence",
        "web*",
        "--for",
        "1h",
        "-m",
        "maint \x1b]52;c;aGk=\x07\r!",
    ]);
    for colour in [false, true] {
        for args in [
            vec!["status"],
            vec!["show", id.as_str()],
            vec!["incidents", "--all"],
            vec!["postmortem", id.as_str()],
            vec!["silences"],
        ] {
            let got = on_terminal(&d, &args, colour);
            let text = String::from_utf8_lossy(&got);
            assert_safe(&format!("{args:?} colour={colour}"), &got, colour);
            if !matches!(args[0], "incidents" | "silences") {
                assert!(text.contains("CRITICAL - \u{fffd}[2J"), "{args:?}: {text}");
            }
        }
    }
    // The original is stored untouched: --json carries it, escaped by JSON.
    let show = d.json(&["show", &id]);
    assert!(
        show.to_string().contains(r"\u001b]52;c;aGk=\u0007 acked"),
        "{show}"
    );
    // The console notifier's log line carries the page text with the escapes replaced.
    let log = d.log_text();
    assert!(log.contains("Page."), "{log}");
    assert!(
        !log.contains(['\x1b', '\x07', '\r']),
        "escapes in the log: {log:?}"
    );
    // `oncalld probe` prints the plugin's output itself.
    let probe = Command::new(BIN)
        .args(["probe", "-c"])
        .arg(&d.config)
        .arg("plugin")
        .output()
        .unwrap();
    assert_eq!(probe.status.code(), Some(2));
    assert_safe("probe", &probe.stdout, false);
}

#[test]
fn url_passwords_never_leave_the_daemon() {
    let (d, id, _plugin) = start_down();
    let status = d.cli(&["status", "--json"]);
    let json = String::from_utf8_lossy(&status.stdout);
    assert!(json.contains("http://webuser:***@127.0.0.1:"), "{json}");
    assert!(!json.contains("PASS"), "{json}");
    let checks = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(oncalld::api::Client::new(d.socket.clone()).get_bytes("/v1/checks"))
        .unwrap();
    let checks = String::from_utf8_lossy(&checks);
    assert!(
        checks.contains("webuser:***@") && !checks.contains("PASS"),
        "{checks}"
    );
    let human = String::from_utf8_lossy(&d.cli(&["status"]).stdout).into_owned();
    assert!(!human.contains("PASS"), "{human}");
    let pm = d.ok(&["postmortem", &id.to_string()]);
    assert!(!pm.contains("PASS"), "{pm}");
    assert!(!d.log_text().contains("PASS"), "{}", d.log_text());

    // An invalid SMTP URL with a password: check-config and the reload reply star it.
    let bad = "[notifiers.mail]\ntype = \"email\"\nsmtp = \"smtp://mailer:S3CRET@mail.example.com?tls=sometimes\"\nfrom = \"o@example.com\"\n";
    let path = d.dir.path().join("bad.toml");
    std::fs::write(&path, bad).unwrap();
    let out = Command::new(BIN)
        .args(["check-config", "-c"])
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("smtp://mailer:***@mail.example.com"), "{err}");
    assert!(!err.contains("S3CRET"), "{err}");
    let current = std::fs::read_to_string(&d.config).unwrap();
    std::fs::write(&d.config, format!("{current}\n{bad}")).unwrap();
    let reload = d.cli(&["reload"]);
    let reply = String::from_utf8_lossy(&reload.stderr);
    assert_eq!(reload.status.code(), Some(1), "{reply}");
    assert!(reply.contains("mailer:***@"), "{reply}");
    let json = String::from_utf8_lossy(&d.cli(&["reload", "--json"]).stdout).into_owned();
    assert!(
        !json.contains("S3CRET") && json.contains("mailer:***@"),
        "{json}"
    );
    // SIGHUP logs the refused reload's errors.
    d.signal(libc::SIGHUP);
    d.wait_for(
        "the reload error in the log",
        Duration::from_secs(5),
        || d.log_text().contains("mailer:***@").then_some(()),
    );
    assert!(!d.log_text().contains("S3CRET"), "{}", d.log_text());
}

#[test]
fn state_files_are_private_under_umask_022() {
    // The daemon inherits the umask; 022 is what a root shell has outside systemd.
    unsafe { libc::umask(0o022) };
    let (d, _, _plugin) = start_down();
    let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
    assert_eq!(mode(&d.state).unwrap(), 0o700, "state dir");
    for name in ["oncalld.db", "oncalld.db-wal", "oncalld.db-shm"] {
        let p = d.state.join(name);
        assert_eq!(mode(&p).unwrap(), 0o600, "{name}");
    }
}
