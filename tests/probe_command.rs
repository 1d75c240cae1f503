//! Command probes (the Nagios plugin API) with real shell scripts in a temp dir, and with
//! Debian's monitoring-plugins against a listener started by the test.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use oncalld::config::ProbeConfig;
use oncalld::probe::{ProbeResult, Probes, Status, run_probe};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

async fn run(argv: &[&str], timeout: Duration) -> ProbeResult {
    let cfg = ProbeConfig::Command {
        command: argv.iter().map(|s| s.to_string()).collect(),
    };
    let p = Probes::new().build(&cfg);
    run_probe(p.as_ref(), timeout).await
}

const T: Duration = Duration::from_secs(5);

#[tokio::test]
async fn exit_codes_map_to_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(
        dir.path(),
        "plugin",
        r#"echo "said $1"; echo second line; exit $1"#,
    );
    let s = s.to_str().unwrap();
    for (code, status) in [
        ("0", Status::Ok),
        ("1", Status::Warning),
        ("2", Status::Critical),
        ("3", Status::Unknown),
        ("7", Status::Unknown),
    ] {
        let r = run(&[s, code], T).await;
        assert_eq!(r.status, status, "exit {code}: {r:?}");
        if code == "7" {
            assert_eq!(r.message, "said 7 (exit code 7)");
        } else {
            assert_eq!(r.message, format!("said {code}"));
        }
    }
}

#[tokio::test]
async fn perfdata_is_parsed_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(
        dir.path(),
        "plugin",
        "echo 'LOAD OK - fine | load1=0.5;5;10;0 load5=0.25;4;8;0'; exit 0",
    );
    let r = run(&[s.to_str().unwrap()], T).await;
    assert_eq!(r.status, Status::Ok);
    assert_eq!(r.message, "LOAD OK - fine");
    assert_eq!(r.perfdata.len(), 2);
    assert_eq!(r.perfdata[1].label, "load5");
    assert_eq!(r.perfdata[1].value, 0.25);
    assert_eq!(r.perfdata[1].crit.as_deref(), Some("8"));
    assert_eq!(
        r.to_string(),
        "OK - LOAD OK - fine | load1=0.5;5;10;0 load5=0.25;4;8;0"
    );
}

#[tokio::test]
async fn output_is_capped_at_4_kib() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(
        dir.path(),
        "plugin",
        "head -c 10000 /dev/zero | tr '\\0' 'a'; echo; exit 0",
    );
    let r = run(&[s.to_str().unwrap()], T).await;
    assert_eq!(r.status, Status::Ok);
    assert_eq!(r.message.len(), 4096);
}

#[tokio::test]
async fn stderr_is_shown_when_stdout_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(dir.path(), "plugin", "echo oops >&2; exit 2");
    let r = run(&[s.to_str().unwrap()], T).await;
    assert_eq!(r.status, Status::Critical);
    assert_eq!(r.message, "(no output) stderr: oops");
}

#[tokio::test]
async fn spawn_failure_is_unknown() {
    let r = run(&["/nonexistent/plugin"], T).await;
    assert_eq!(r.status, Status::Unknown);
    assert!(
        r.message.starts_with("cannot run /nonexistent/plugin: "),
        "{}",
        r.message
    );
    assert!(r.message.contains("No such file"), "{}", r.message);
}

fn alive(pid: i32) -> bool {
    // A zombie is dead for our purpose (it waits for init to reap it).
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("bg.pid");
    let s = script(
        dir.path(),
        "plugin",
        &format!("sleep 30 & echo $! > {}; sleep 30", pidfile.display()),
    );
    let r = run(&[s.to_str().unwrap()], Duration::from_millis(500)).await;
    assert_eq!(r.status, Status::Critical);
    assert_eq!(r.message, "timed out after 500ms");
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SIGKILL was sent before the probe returned; give the kernel a moment to finish it.
    let mut gone = false;
    for _ in 0..100 {
        if !alive(pid) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "background child {pid} survived the timeout");
}

const PLUGINS: &str = "/usr/lib/nagios/plugins";

#[tokio::test]
async fn nagios_check_tcp() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let check_tcp = format!("{PLUGINS}/check_tcp");
    let r = run(&[&check_tcp, "-H", "127.0.0.1", "-p", &port], T).await;
    assert_eq!(r.status, Status::Ok, "{r:?}");
    assert!(r.message.starts_with("TCP OK"), "{}", r.message);
    assert_eq!(r.perfdata[0].label, "time");
    assert_eq!(r.perfdata[0].unit, "s");

    drop(l);
    let r = run(&[&check_tcp, "-H", "127.0.0.1", "-p", &port], T).await;
    assert_eq!(r.status, Status::Critical, "{r:?}");
}

#[tokio::test]
async fn nagios_check_http() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let status = std::sync::Arc::new(std::sync::Mutex::new("200 OK"));
    let st = status.clone();
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = l.accept().await.unwrap();
            let line = *st.lock().unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let resp =
                    format!("HTTP/1.1 {line}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    let check_http = format!("{PLUGINS}/check_http");
    let argv = [
        check_http.as_str(),
        "-I",
        "127.0.0.1",
        "-p",
        &port,
        "-u",
        "/",
    ];
    let r = run(&argv, T).await;
    assert_eq!(r.status, Status::Ok, "{r:?}");
    assert!(r.message.starts_with("HTTP OK"), "{}", r.message);
    assert!(r.perfdata.iter().any(|p| p.label == "time"), "{r:?}");

    *status.lock().unwrap() = "503 Service Unavailable";
    let r = run(&argv, T).await;
    assert_eq!(r.status, Status::Critical, "{r:?}");
    assert!(r.message.contains("503"), "{}", r.message);
}
