//! Probe benchmark: N HTTP checks (interval 10 s) run by the crate's real scheduler against a
//! local HTTP server in a *separate process*, for a fixed time. Prints the checks done, this
//! process's CPU seconds per 1,000 checks (getrusage), its peak RSS (VmHWM) and the schedule
//! lag (started - due) p50/p99.
//!
//! Run through `bench/run.sh` (release build). By hand:
//! `probe_bench --checks 1000 [--hang 100] [--duration 60] [--tcp]`; `--tcp` runs TCP-connect
//! checks instead of HTTP ones against the same server: the floor of one fresh connection.
//! `probe_bench serve PORTS HANG` is the server side, started by the bench itself.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use oncalld::config::{CheckConfig, HttpProbe, PageOn, ProbeConfig};
use oncalld::daemon::scheduler::Scheduler;
use oncalld::probe::Status;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Checks per server port (spreads the 4-tuples the client needs over several ports).
const CHECKS_PER_PORT: usize = 1000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        let ports: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
        let hang: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
        return serve(ports, hang);
    }
    let opt = |name: &str, default: u64| -> u64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let checks = opt("--checks", 1000) as usize;
    let hang = opt("--hang", 0) as usize;
    let duration = Duration::from_secs(opt("--duration", 60));
    // The same runtime as `oncalld run` (src/main.rs).
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(measure(
            checks,
            hang,
            duration,
            args.iter().any(|a| a == "--tcp"),
        ))
}

/// The server process: `ports` HTTP listeners answering 200 then closing, and `hang`
/// listeners that accept and never answer. Prints the ports on one line; exits when its
/// stdin closes (the bench ended).
fn serve(ports: usize, hang: usize) -> Result<(), Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let mut line = Vec::new();
        for _ in 0..ports {
            let l = TcpListener::bind("127.0.0.1:0").await?;
            line.push(format!("h{}", l.local_addr()?.port()));
            tokio::spawn(answer_forever(l));
        }
        for _ in 0..hang {
            let l = TcpListener::bind("127.0.0.1:0").await?;
            line.push(format!("x{}", l.local_addr()?.port()));
            tokio::spawn(async move {
                let mut held = Vec::new();
                while let Ok((s, _)) = l.accept().await {
                    held.push(s);
                }
            });
        }
        println!("{}", line.join(" "));
        let _ = tokio::task::spawn_blocking(|| std::io::stdin().lines().count()).await;
        Ok(())
    })
}

async fn answer_forever(l: TcpListener) {
    while let Ok((mut s, _)) = l.accept().await {
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let resp = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
            let _ = s.write_all(resp).await;
        });
    }
}

fn check(i: usize, url: String) -> CheckConfig {
    CheckConfig {
        name: format!("http-{i}"),
        probe: ProbeConfig::Http(HttpProbe {
            url,
            method: "GET".into(),
            headers: Default::default(),
            expect_status: vec![200],
            max_latency: None,
            body_contains: None,
            tls_verify: true,
            ca_file: None,
            cert_expiry: None,
            zone: jiff::tz::TimeZone::UTC,
        }),
        interval: Duration::from_secs(10),
        timeout: Duration::from_secs(5),
        retries: 3,
        retry_interval: Duration::from_secs(10),
        recoveries: 1,
        policy: "default".into(),
        auto_resolve: true,
        page_on: PageOn::Critical,
        depends_on: Vec::new(),
        flap: None,
    }
}

async fn measure(
    n: usize,
    hang: usize,
    duration: Duration,
    tcp_only: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let ports = n.div_ceil(CHECKS_PER_PORT).max(1);
    let mut server = Command::new(std::env::current_exe()?)
        .args(["serve", &ports.to_string(), &hang.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(server.stdout.take().ok_or("no stdout")?).read_line(&mut line)?;
    let (ok_ports, hang_ports): (Vec<&str>, Vec<&str>) =
        line.split_whitespace().partition(|p| p.starts_with('h'));
    let checks: Vec<CheckConfig> = (0..n)
        .map(|i| {
            let url = if i < hang_ports.len() {
                format!("http://127.0.0.1:{}/", &hang_ports[i][1..])
            } else {
                format!(
                    "http://127.0.0.1:{}/health",
                    &ok_ports[i % ok_ports.len()][1..]
                )
            };
            let mut c = check(i, url);
            if tcp_only {
                let address = c
                    .probe
                    .target()
                    .trim_start_matches("http://")
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .to_string();
                c.probe = ProbeConfig::Tcp { address };
            }
            c
        })
        .collect();

    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let cpu0 = cpu_seconds();
    let scheduler = Scheduler::start(&checks, HashMap::new(), tx);
    drop(checks);
    let mut lags: Vec<u32> = Vec::new();
    let mut by_status: HashMap<Status, u64> = HashMap::new();
    let deadline = tokio::time::sleep(duration);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => break,
            Some(r) = rx.recv() => {
                lags.push(r.lag().as_micros().min(u32::MAX as u128) as u32);
                *by_status.entry(r.result.status).or_default() += 1;
            }
        }
    }
    let (user1, sys1) = cpu_seconds();
    let (user, sys) = (user1 - cpu0.0, sys1 - cpu0.1);
    let cpu = user + sys;
    let rss = peak_rss_kib();
    drop(scheduler);
    drop(server.stdin.take());
    let _ = server.wait();

    lags.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lags.is_empty() {
            return 0.0;
        }
        let i = ((lags.len() as f64 - 1.0) * p).round() as usize;
        f64::from(lags[i]) / 1000.0
    };
    let done = lags.len() as f64;
    println!(
        "checks: {n} ({hang} hanging), interval 10s, ran {}s",
        duration.as_secs()
    );
    println!("checks done: {} {:?}", lags.len(), by_status);
    println!(
        "CPU: {cpu:.3} s total (user {user:.3}, system {sys:.3}), {:.4} CPU-s per 1,000 checks",
        if done > 0.0 { cpu / done * 1000.0 } else { 0.0 }
    );
    println!("peak RSS (VmHWM): {:.1} MiB", rss as f64 / 1024.0);
    println!(
        "schedule lag: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}

/// User and system CPU seconds of this process so far.
fn cpu_seconds() -> (f64, f64) {
    // SAFETY: getrusage only writes the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(ru.ru_utime), t(ru.ru_stime))
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
