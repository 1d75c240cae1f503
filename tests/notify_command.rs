//! The command notifier with real shell scripts as child processes.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use oncalld::core::model::PageEvent;
use oncalld::notify::command::CommandNotifier;
use oncalld::notify::{Notifier, NotifyError, webhook_body};
use support::page;

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn notifier(argv: &[&Path], timeout: Duration) -> CommandNotifier {
    let argv = argv.iter().map(|p| p.display().to_string()).collect();
    CommandNotifier::new(argv, timeout).unwrap()
}

const RECORD: &str = r#"cat > "$1/stdin.json"
printf '%s' "$ONCALLD_TO" > "$1/to.txt""#;

#[tokio::test]
async fn gets_the_json_on_stdin_and_the_address_in_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let sh = script(dir.path(), "record.sh", RECORD);
    let p = page(PageEvent::Triggered, 17, 1, "alice", "sms");
    notifier(&[&sh, dir.path()], Duration::from_secs(5))
        .send(&p)
        .await
        .unwrap();
    let stdin: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("stdin.json")).unwrap()).unwrap();
    assert_eq!(stdin, webhook_body(&p));
    assert_eq!(stdin["key"], "oncalld:17:1:alice:sms");
    let to = std::fs::read_to_string(dir.path().join("to.txt")).unwrap();
    assert_eq!(to, "alice@example.com");
}

#[tokio::test]
async fn no_address_means_an_empty_oncalld_to() {
    let dir = tempfile::tempdir().unwrap();
    let sh = script(dir.path(), "record.sh", RECORD);
    let mut p = page(PageEvent::Resolved, 3, 4, "pager", "pager");
    p.to = None;
    notifier(&[&sh, dir.path()], Duration::from_secs(5))
        .send(&p)
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("to.txt")).unwrap(),
        ""
    );
}

#[tokio::test]
async fn non_zero_exit_is_retryable_with_code_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let sh = script(
        dir.path(),
        "fail.sh",
        "cat >/dev/null\necho 'gateway unreachable' >&2\necho 'more detail' >&2\nexit 3",
    );
    let err = notifier(&[&sh], Duration::from_secs(5))
        .send(&page(PageEvent::Triggered, 1, 1, "alice", "sms"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    let msg = err.message();
    assert!(msg.contains("exited with code 3"), "{msg}");
    assert!(msg.contains("gateway unreachable"), "{msg}");
    assert!(!msg.contains("more detail"), "only the first line: {msg}");
}

#[tokio::test]
async fn a_program_that_ignores_stdin_still_counts() {
    let dir = tempfile::tempdir().unwrap();
    let sh = script(dir.path(), "quiet.sh", "exit 0");
    notifier(&[&sh], Duration::from_secs(5))
        .send(&page(PageEvent::Triggered, 1, 1, "alice", "sms"))
        .await
        .unwrap();
}

#[tokio::test]
async fn missing_program_is_permanent() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-program");
    let err = notifier(&[&missing], Duration::from_secs(5))
        .send(&page(PageEvent::Triggered, 1, 1, "alice", "sms"))
        .await
        .unwrap_err();
    assert!(matches!(err, NotifyError::Permanent { .. }), "{err:?}");
}

#[test]
fn empty_command_is_refused() {
    assert!(CommandNotifier::new(vec![], Duration::from_secs(1)).is_err());
    assert!(CommandNotifier::new(vec![String::new()], Duration::from_secs(1)).is_err());
}

/// Whether the process is gone (or a zombie waiting for its new parent to reap it).
fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let sh = script(
        dir.path(),
        "hang.sh",
        r#"sleep 30 &
echo $! > "$1/bg.pid"
exec sleep 30"#,
    );
    let err = notifier(&[&sh, dir.path()], Duration::from_secs(1))
        .send(&page(PageEvent::Triggered, 1, 1, "alice", "sms"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(err.message().contains("timed out"), "{err:?}");

    // The background grandchild went with the group (bounded wait for the reaper).
    let pid: u32 = std::fs::read_to_string(dir.path().join("bg.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !is_gone(pid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        is_gone(pid),
        "background process {pid} survived the timeout"
    );
}
