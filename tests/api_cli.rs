//! The real `oncalld` binary as a client against the real server on a real socket (with an
//! in-test backend that records calls): human output, `--json`, exit codes of SPEC §2, and the
//! one-line error when no daemon is there. End-to-end tests against the real daemon are added
//! by the lead once the runtime implements `Backend`.

mod api_support;

use std::path::Path;

use api_support::{me, start};

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run `oncalld ARGS --socket PATH` with a fixed zone and no colour settings inherited.
async fn oncalld(path: &Path, args: &[&str]) -> Out {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_oncalld"))
        .args(args)
        .arg("--socket")
        .arg(path)
        .env("TZ", "UTC")
        .env_remove("ONCALLD_SOCKET")
        .output()
        .await
        .unwrap();
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Out {
        code: out.status.code(),
        stdout: s(&out.stdout),
        stderr: s(&out.stderr),
    }
}

#[tokio::test]
async fn no_daemon_is_one_line_naming_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.sock");
    for cmd in [&["status"][..], &["ack", "17"], &["who"], &["reload"]] {
        let o = oncalld(&path, cmd).await;
        assert_eq!(o.code, Some(1), "{cmd:?}");
        assert_eq!(
            o.stderr,
            format!(
                "oncalld: cannot reach the daemon at {}: No such file or directory (is oncalld running?)\n",
                path.display()
            )
        );
        assert!(o.stdout.is_empty());
    }
    // $ONCALLD_SOCKET is honoured when --socket is absent.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_oncalld"))
        .arg("status")
        .env("ONCALLD_SOCKET", &path)
        .output()
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains(path.to_str().unwrap()));
}

#[tokio::test]
async fn status_exit_code_table_and_json() {
    let s = start().await;
    let o = oncalld(&s.path, &["status"]).await;
    assert_eq!(o.code, Some(2), "an incident is open: {}", o.stderr);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert!(
        lines[0].starts_with("CHECK    TYPE  STATE  SINCE"),
        "{}",
        o.stdout
    );
    assert!(
        lines[1].starts_with("website  http  DOWN   2026-11-25 21:00 UTC"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("Open incidents:"));
    assert!(o.stdout.contains("#17  website  triggered"), "{}", o.stdout);
    assert!(
        !o.stdout.contains('\x1b'),
        "no colour when stdout is not a TTY"
    );

    let o = oncalld(&s.path, &["status", "--json"]).await;
    assert_eq!(o.code, Some(2));
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["incidents"][0]["id"], 17);

    s.backend.incidents.lock().unwrap().clear();
    let o = oncalld(&s.path, &["status"]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(o.stdout.contains("No open incidents."));
    s.shutdown().await;
}

#[tokio::test]
async fn ack_resolve_note_escalate_and_their_errors() {
    let s = start().await;
    let o = oncalld(&s.path, &["ack", "#17", "-m", "on it"]).await;
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (Some(0), "Acknowledged #17 (website).\n")
    );
    let calls = s.backend.calls();
    assert!(
        calls.contains(&format!("ack 17 by {} msg=Some(\"on it\")", me())),
        "{calls:?}"
    );

    let o = oncalld(&s.path, &["escalate", "17"]).await;
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (Some(0), "Escalated #17 (website): now at step 2.\n")
    );
    let o = oncalld(&s.path, &["note", "17", "root cause: disk full"]).await;
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (Some(0), "Noted on #17 (website).\n")
    );
    let o = oncalld(&s.path, &["resolve", "17", "--json"]).await;
    assert_eq!(o.code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["state"], "resolved");

    let o = oncalld(&s.path, &["ack", "17"]).await;
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (Some(1), "oncalld: incident #17 is already resolved\n")
    );
    let o = oncalld(&s.path, &["ack", "99"]).await;
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (Some(1), "oncalld: no incident #99\n")
    );
    let before = s.backend.calls().len();
    let o = oncalld(&s.path, &["resolve", "abc"]).await;
    assert_eq!(o.code, Some(1));
    assert!(
        o.stderr.starts_with("oncalld: invalid id \"abc\""),
        "{}",
        o.stderr
    );
    assert_eq!(s.backend.calls().len(), before, "nothing sent for a bad id");
    s.shutdown().await;
}

#[tokio::test]
async fn show_and_incidents() {
    let s = start().await;
    let o = oncalld(&s.path, &["note", "17", "looking at it"]).await;
    assert_eq!(o.code, Some(0));
    let o = oncalld(&s.path, &["show", "17"]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(
        o.stdout.starts_with("#17 website  triggered\n"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("Opened:    2026-11-25 21:00:00 UTC"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("triggered  oncalld"), "{}", o.stdout);
    assert!(
        o.stdout
            .contains(&format!("note       {}  looking at it", me())),
        "{}",
        o.stdout
    );
    let o = oncalld(&s.path, &["show", "17", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["timeline"].as_array().unwrap().len(), 2);
    let o = oncalld(&s.path, &["show", "42"]).await;
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (Some(1), "oncalld: no incident #42\n")
    );

    let o = oncalld(&s.path, &["incidents", "--all", "--since", "7d"]).await;
    assert_eq!(o.code, Some(0));
    assert!(o.stdout.contains("RESOLVED"), "{}", o.stdout);
    assert!(o.stdout.contains("#18  db"), "{}", o.stdout);
    let o = oncalld(&s.path, &["incidents", "--since", "soon"]).await;
    assert_eq!(o.code, Some(1));
    assert!(
        o.stderr.contains("invalid duration \"soon\""),
        "{}",
        o.stderr
    );
    s.shutdown().await;
}

#[tokio::test]
async fn silences_who_report_postmortem() {
    let s = start().await;
    let o = oncalld(
        &s.path,
        &["silence", "web-*", "--for", "2h", "-m", "deploy"],
    )
    .await;
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (Some(0), "Silenced web-* until 2026-11-25 23:00 UTC (#1).\n")
    );
    let o = oncalld(&s.path, &["silences"]).await;
    assert!(o.stdout.contains("#1  web-*    active"), "{}", o.stdout);
    let o = oncalld(&s.path, &["unsilence", "1"]).await;
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (Some(0), "Ended silence #1 (web-*).\n")
    );

    let o = oncalld(&s.path, &["who", "default", "--at", "2026-12-01T10:00"]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(
        o.stdout.contains("Policy default at 2026-12-01 10:00 UTC:"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("1     15m    schedule:primary   bob"),
        "{}",
        o.stdout
    );
    let o = oncalld(&s.path, &["who", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v[0]["steps"][0]["targets"][0]["recipients"][0], "alice");

    let o = oncalld(&s.path, &["report", "--since", "7d"]).await;
    assert_eq!(o.code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["since_seconds"], 604_800);
    *s.backend.report_text.lock().unwrap() = Some("MTTA 4m".into());
    let o = oncalld(&s.path, &["report"]).await;
    assert_eq!(o.stdout, "MTTA 4m\n");

    let file = s.dir.path().join("pm.md");
    let o = oncalld(&s.path, &["postmortem", "17", "-o", file.to_str().unwrap()]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("## Issue Summary")
    );
    s.shutdown().await;
}

#[tokio::test]
async fn test_page_and_reload_exit_codes() {
    let s = start().await;
    let o = oncalld(&s.path, &["test-page", "person:alice"]).await;
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(
        o.stdout
            .contains("alice      mail      alice@example.com  delivered"),
        "{}",
        o.stdout
    );
    *s.backend.failing_notifier.lock().unwrap() = Some("sms".into());
    let o = oncalld(&s.path, &["test-page", "person:alice"]).await;
    assert_eq!(o.code, Some(1));
    assert!(
        o.stdout.contains("failed: connection refused"),
        "{}",
        o.stdout
    );
    let o = oncalld(&s.path, &["test-page", "person:zed"]).await;
    assert_eq!(o.code, Some(1));

    let o = oncalld(&s.path, &["reload"]).await;
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (Some(0), "Reloaded: 2 checks, 2 people, 1 policy\n")
    );
    *s.backend.reload_errors.lock().unwrap() =
        vec!["a.toml:1:1: x: bad".into(), "a.toml:2:1: y: bad".into()];
    let o = oncalld(&s.path, &["reload"]).await;
    assert_eq!(o.code, Some(1));
    assert!(
        o.stderr
            .starts_with("a.toml:1:1: x: bad\na.toml:2:1: y: bad\noncalld: "),
        "{}",
        o.stderr
    );
    s.shutdown().await;
}

/// Under a pseudo-terminal (`script`), states are coloured; `NO_COLOR` turns that off.
#[tokio::test]
async fn colour_only_on_a_tty_and_never_with_no_color() {
    let s = start().await;
    let cmd = format!(
        "{} status --socket {}",
        env!("CARGO_BIN_EXE_oncalld"),
        s.path.display()
    );
    let run = |no_color: &'static str| {
        let cmd = cmd.clone();
        async move {
            tokio::process::Command::new("script")
                .args(["-qec", &cmd, "/dev/null"])
                .env("NO_COLOR", no_color)
                .env("TZ", "UTC")
                .output()
                .await
        }
    };
    let out = match run("").await {
        Ok(o) => o,
        Err(e) => {
            println!("skipped: script(1) is not available ({e})");
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\x1b[31mDOWN\x1b[0m"),
        "coloured on a TTY: {text:?}"
    );
    assert!(text.contains("\x1b[32mUP\x1b[0m"), "{text:?}");
    let out = run("1").await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("DOWN"), "{text:?}");
    assert!(!text.contains('\x1b'), "NO_COLOR set: {text:?}");
    s.shutdown().await;
}
