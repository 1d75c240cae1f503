//! Heartbeat ping benchmark: the client side. Sends pings at a steady rate to a running
//! daemon's TCP listener (`daemon.listen`), over keep-alive connections or a fresh connection
//! per ping, and prints the round trip p50/p99/max and, given the daemon's pid, its CPU
//! seconds per 1,000 pings and its RSS.
//!
//! Run through `bench/heartbeat.sh`. By hand:
//! `ping_bench --addr 127.0.0.1:9810 --tokens FILE [--rate 167] [--duration 60]
//!  [--fresh] [--threads 8] [--pid PID] [--expect 200]`
//! (`--tokens`: one token per line; pings go round them in order.)

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Opts {
    addr: SocketAddr,
    tokens: Arc<Vec<String>>,
    rate: f64,
    duration: Duration,
    fresh: bool,
    threads: usize,
    pid: Option<u32>,
    expect: u16,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let o = opts()?;
    let before = Sample::of(o.pid);
    let total = (o.rate * o.duration.as_secs_f64()).round() as usize;
    let start = Instant::now() + Duration::from_millis(50);
    let o = Arc::new(o);
    let workers: Vec<_> = (0..o.threads)
        .map(|w| {
            let o = o.clone();
            std::thread::spawn(move || worker(&o, w, total, start))
        })
        .collect();
    let mut times = Vec::with_capacity(total);
    let mut errors = 0usize;
    for w in workers {
        let (t, e) = w.join().map_err(|_| "a worker panicked")?;
        times.extend(t);
        errors += e;
    }
    let after = Sample::of(o.pid);
    report(&o, &mut times, errors, before, after);
    Ok(())
}

fn opts() -> Result<Opts, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let val = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let num = |name: &str, default: f64| val(name).and_then(|v| v.parse().ok()).unwrap_or(default);
    let file = val("--tokens").ok_or("--tokens FILE is required")?;
    let tokens: Vec<String> = std::fs::read_to_string(file)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if tokens.is_empty() {
        return Err("no tokens".into());
    }
    Ok(Opts {
        addr: val("--addr").ok_or("--addr IP:PORT is required")?.parse()?,
        tokens: Arc::new(tokens),
        rate: num("--rate", 10_000.0 / 60.0),
        duration: Duration::from_secs_f64(num("--duration", 60.0)),
        fresh: args.iter().any(|a| a == "--fresh"),
        threads: num("--threads", 8.0).max(1.0) as usize,
        pid: val("--pid").and_then(|p| p.parse().ok()),
        expect: num("--expect", 200.0) as u16,
    })
}

/// Pings number `w`, `w + threads`, ... each sent at its slot (`start + i / rate`); the round
/// trip is timed from the write (connect included with `--fresh`) to the end of the answer.
fn worker(o: &Opts, w: usize, total: usize, start: Instant) -> (Vec<Duration>, usize) {
    let mut times = Vec::new();
    let mut errors = 0;
    let mut conn: Option<(TcpStream, BufReader<TcpStream>)> = None;
    for i in (w..total).step_by(o.threads) {
        let slot = start + Duration::from_secs_f64(i as f64 / o.rate);
        if let Some(wait) = slot.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let token = &o.tokens[i % o.tokens.len()];
        let t = Instant::now();
        match ping_once(o, &mut conn, token) {
            Ok(status) if status == o.expect => times.push(t.elapsed()),
            _ => {
                errors += 1;
                conn = None;
            }
        }
        if o.fresh {
            conn = None;
        }
    }
    (times, errors)
}

fn ping_once(
    o: &Opts,
    conn: &mut Option<(TcpStream, BufReader<TcpStream>)>,
    token: &str,
) -> std::io::Result<u16> {
    if conn.is_none() {
        let s = TcpStream::connect(o.addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        let r = BufReader::new(s.try_clone()?);
        *conn = Some((s, r));
    }
    let Some((s, r)) = conn.as_mut() else {
        return Err(std::io::ErrorKind::NotConnected.into());
    };
    let close = if o.fresh { "Connection: close\r\n" } else { "" };
    let req = format!("GET /ping/{token} HTTP/1.1\r\nHost: bench\r\n{close}\r\n");
    s.write_all(req.as_bytes())?;
    read_response(r)
}

/// Reads one answer (Content-Length body) and returns its status.
fn read_response(r: &mut impl BufRead) -> std::io::Result<u16> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut len = 0usize;
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line.trim().is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok(status)
}

/// The daemon's CPU time (utime + stime) and RSS from /proc.
#[derive(Clone, Copy)]
struct Sample {
    cpu_s: f64,
    rss_kib: u64,
}

impl Sample {
    fn of(pid: Option<u32>) -> Option<Sample> {
        let pid = pid?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name (which is in parentheses and may hold spaces).
        let rest = stat.rsplit_once(')')?.1;
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
        let hz = 100.0; // USER_HZ on Linux
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let rss_kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        Some(Sample {
            cpu_s: ticks / hz,
            rss_kib,
        })
    }
}

fn report(
    o: &Opts,
    times: &mut [Duration],
    errors: usize,
    before: Option<Sample>,
    after: Option<Sample>,
) {
    times.sort();
    let pct = |p: f64| {
        if times.is_empty() {
            return 0.0;
        }
        let i = ((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1;
        times[i].as_secs_f64() * 1000.0
    };
    let mode = if o.fresh { "fresh" } else { "keep-alive" };
    println!(
        "{mode}: {} pings ({} errors) at {:.0}/s over {} tokens: round trip p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        times.len(),
        errors,
        o.rate,
        o.tokens.len(),
        pct(0.50),
        pct(0.99),
        times.last().map_or(0.0, |t| t.as_secs_f64() * 1000.0)
    );
    if let (Some(b), Some(a)) = (before, after) {
        let per_1000 = (a.cpu_s - b.cpu_s) / (times.len() + errors).max(1) as f64 * 1000.0;
        println!(
            "{mode}: daemon CPU {:.2} s in all, {per_1000:.3} CPU-s per 1,000 pings; RSS {:.1} -> {:.1} MiB",
            a.cpu_s - b.cpu_s,
            b.rss_kib as f64 / 1024.0,
            a.rss_kib as f64 / 1024.0
        );
    }
}
