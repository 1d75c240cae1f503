//! Binding the daemon's socket: stale files, a live daemon on the path, mode and group, and a
//! user outside the group refused by the kernel (with the real `oncalld status` binary).
//! (API layer's own test with an in-test backend; end-to-end tests come with the daemon.)

mod api_support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;
use std::sync::Arc;

use api_support::{Recorder, raw};
use oncalld::api::{Backend, BindError, bind, serve};

async fn serve_on(listener: tokio::net::UnixListener) -> tokio::sync::oneshot::Sender<()> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let b: Arc<dyn Backend> = Recorder::new();
    tokio::spawn(serve(listener, b, async {
        let _ = rx.await;
    }));
    tx
}

#[tokio::test]
async fn stale_socket_is_replaced_and_live_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oncalld.sock");
    // A daemon that crashed: the file stays, nobody listens.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    // A child forked by a parallel test (before its exec closes the fd) may hold the listener
    // for a moment; the socket is stale once nobody answers.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::os::unix::net::UnixStream::connect(&path).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the dropped listener still answers"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let listener = bind(&path, 0o660, None).expect("stale socket replaced");
    let _stop = serve_on(listener).await;
    let (st, _, _) = raw(&path, "GET", "/v1/status", b"").await;
    assert_eq!(st, 200);

    match bind(&path, 0o660, None) {
        Err(e @ BindError::InUse(_)) => assert_eq!(
            e.to_string(),
            format!("another oncalld is listening on {}", path.display())
        ),
        other => panic!("expected InUse, got {other:?}"),
    }
    // The first daemon is untouched by the refused attempt.
    let (st, _, _) = raw(&path, "GET", "/v1/status", b"").await;
    assert_eq!(st, 200);
}

#[tokio::test]
async fn mode_group_and_parent_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run/oncalld/oncalld.sock");
    let gid = nix::unistd::getegid();
    let group = nix::unistd::Group::from_gid(gid).unwrap().unwrap().name;
    let _listener = bind(&path, 0o660, Some(&group)).unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o660);
    assert_eq!(meta.gid(), gid.as_raw());
    let parent = std::fs::metadata(path.parent().unwrap()).unwrap();
    assert_eq!(parent.permissions().mode() & 0o777, 0o755);
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec!["oncalld.sock"],
        "no temporary file left behind"
    );
}

#[tokio::test]
async fn refuses_to_replace_a_regular_file_or_use_an_unknown_group() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oncalld.sock");
    std::fs::write(&path, "precious").unwrap();
    assert!(matches!(
        bind(&path, 0o660, None),
        Err(BindError::NotASocket(_))
    ));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
    let other = dir.path().join("other.sock");
    let err = bind(&other, 0o660, Some("no-such-group-oncalld")).unwrap_err();
    assert!(matches!(err, BindError::UnknownGroup(_)), "{err}");
}

/// Run `cmd` and return (status, stdout, stderr).
fn run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let out = cmd.output().unwrap();
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), s(&out.stdout), s(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_outside_the_group_gets_permission_denied() {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: needs root to create a second user (running as non-root)");
        return;
    }
    if Command::new("runuser").arg("--help").output().is_err() {
        println!("skipped: runuser is not installed");
        return;
    }
    let user = "oncalld-api-test";
    let _ = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            user,
        ])
        .output();
    let dir = tempfile::tempdir().unwrap();
    // Let the other user reach the socket file itself: only its mode may stop them.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("oncalld.sock");
    let listener = bind(&path, 0o660, Some("root")).unwrap();
    let _stop = serve_on(listener).await;
    let bin = env!("CARGO_BIN_EXE_oncalld");
    let p = path.to_str().unwrap().to_owned();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        run(Command::new("runuser").args(["-u", user, "--", bin, "status", "--socket", &p]))
    })
    .await
    .unwrap();
    if err.contains("Permission denied") && err.contains("oncalld.sock") && out.is_empty() {
        assert_eq!(code, Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    } else if err.contains(bin) || err.contains("cannot execute") {
        println!("skipped: {user} cannot run the test binary here: {err}");
        return;
    } else {
        panic!("expected permission denied, got {code:?}: {out} {err}");
    }
    // A member of the socket's group may act: same socket, group switched to theirs.
    let member = "oncalld-api-op";
    let ops = "oncalld-api-ops";
    let _ = Command::new("groupadd").args(["--system", ops]).output();
    let _ = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
        ])
        .args(["--groups", ops, member])
        .output();
    let gid = nix::unistd::Group::from_name(ops).unwrap().unwrap().gid;
    std::os::unix::fs::chown(&path, None, Some(gid.as_raw())).unwrap();
    let p = path.to_str().unwrap().to_owned();
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        run(Command::new("runuser").args(["-u", member, "--", bin, "status", "--socket", &p]))
    })
    .await
    .unwrap();
    assert_eq!(code, Some(2), "a group member is served: {out} {err}");
    assert!(out.contains("#17"), "{out}");
    // Root (owner) is served through the same binary.
    let p = path.to_str().unwrap().to_owned();
    let (code, _, err) =
        tokio::task::spawn_blocking(
            move || run(Command::new(bin).args(["status", "--socket", &p])),
        )
        .await
        .unwrap();
    assert_eq!(code, Some(2), "incident #17 is open: {err}");
}
