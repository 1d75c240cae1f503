//! End to end, real daemon: `[daemon] listen` serves `/metrics` and the ping routes over TCP,
//! nothing of the control API, and never logs a ping's token (even at debug level).

mod daemon_support;
mod support;

use std::process::Command;

use daemon_support::Daemon;

const CONFIG: &str = r#"
[[check]]
name = "true"
type = "command"
command = ["true"]
interval = "1s"

[notifiers.log]
type = "console"

[people.alice]
notify = [{ via = "log" }]

[policies.default]
[[policies.default.steps]]
notify = ["person:alice"]
escalate_after = "1h"
"#;

/// (status code, body) of `curl -sS URL`.
fn get(args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "-m", "10", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

#[test]
fn listen_serves_metrics_and_pings_only() {
    let mut d = Daemon::unstarted(CONFIG, "UTC");
    let port = support::free_port();
    let file = std::fs::read_to_string(&d.config).unwrap();
    let file = file.replacen(
        "time_zone = \"UTC\"\n",
        &format!("time_zone = \"UTC\"\nlisten = \"127.0.0.1:{port}\"\n"),
        1,
    );
    std::fs::write(&d.config, file).unwrap();
    let log = std::fs::File::create(&d.log).unwrap();
    d.spawn_with(log.into(), "debug");
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");

    let (code, body) = get(&[&url("/metrics")]);
    assert_eq!(code, 200);
    assert!(body.contains("oncalld_"), "{body}");
    let secret = "Zq8rUnknownToken1234";
    for p in [format!("/ping/{secret}"), format!("/ping/{secret}/fail")] {
        let (code, _) = get(&[&url(&p)]);
        assert_eq!(code, 404, "{p}");
    }
    let (code, _) = get(&[&url(&format!("/ping/{secret}/999"))]);
    assert_eq!(code, 400);
    for p in ["/v1/status", "/v1/checks", "/v1/reload"] {
        let (code, _) = get(&["-X", "POST", &url(p)]);
        assert_eq!(code, 404, "{p}");
        let (code, _) = get(&[&url(p)]);
        assert_eq!(code, 404, "{p}");
    }
    flood_does_not_delay_probes(port);
    d.stop();
    let log = d.log_text();
    assert!(log.contains("Ping refused: unknown token."), "{log}");
    assert!(!log.contains(secret), "a token was logged:\n{log}");
}

/// The `true` check's OK probes so far, from `/metrics` on the listener.
fn probes(port: u16) -> u64 {
    let (_, body) = get(&[&format!("http://127.0.0.1:{port}/metrics")]);
    body.lines()
        .find(|l| l.starts_with("oncalld_probes_total{check=\"true\",result=\"OK\"}"))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

/// 5,000 pings (unknown token: the HTTP path) from 8 keep-alive connections while the 1 s
/// check runs: its probes keep their pace.
fn flood_does_not_delay_probes(port: u16) {
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let before = probes(port);
    let started = std::time::Instant::now();
    let flood: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                support::get_loop(addr, "/ping/Zq8rUnknownToken1234", 625, 404)
            })
        })
        .collect();
    for t in flood {
        t.join().unwrap();
    }
    // Let at least 3 s of probing be measured.
    while started.elapsed() < std::time::Duration::from_secs(3) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let elapsed = started.elapsed().as_secs();
    let done = probes(port) - before;
    println!("flood of 5,000 pings: {done} probes in {elapsed} s");
    assert!(
        done + 1 >= elapsed,
        "the 1 s check ran {done} times in {elapsed} s under the flood"
    );
}
