#!/usr/bin/python3
"""Whole-daemon footprint benchmark (run through bench/run.sh, not by cargo test).

The real release daemon (`oncalld run`) with N HTTP checks (interval 10 s, timeout 5 s,
retries 3, retry_interval 10 s), as a sysadmin would run it: SQLite store, socket, listener,
one console notifier. The targets are served by `probe_bench serve` (a separate Rust process,
one listener per 1,000 checks answering 200 then closing); with --hang H, H of the checks point
at listeners that accept and never answer (they time out, go DOWN and open incidents).

Measured from /proc on the daemon's PID only: CPU (utime + stime) over the measured window,
per 1,000 checks done in that window (from `oncalld_probes_total` on /metrics, read outside the
CPU window), and peak RSS
(VmHWM) at the end, which includes start-up. The first WARMUP seconds (every check's first
probe, the hanging ones' incidents) are not in the CPU figure.

    daemon_bench.py ONCALLD PROBE_BENCH N [--hang H] [--duration S] [--warmup S]
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

CHECKS_PER_PORT = 1000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(state, sock, listen, urls):
    out = [
        "[daemon]",
        f'state_dir = "{state}"',
        f'socket = "{sock}"',
        f'listen = "127.0.0.1:{listen}"',
        'time_zone = "UTC"',
        "",
        "[defaults]",
        'interval = "10s"',
        'timeout = "5s"',
        "retries = 3",
        'retry_interval = "10s"',
        "",
        "[notifiers.log]",
        'type = "console"',
        "",
        "[people.oncall]",
        'notify = [{ via = "log" }]',
        "",
        "[policies.default]",
        "[[policies.default.steps]]",
        'notify = ["person:oncall"]',
        'escalate_after = "1h"',
        "",
    ]
    for i, url in enumerate(urls):
        out += ["[[check]]", f'name = "http-{i}"', 'type = "http"', f'url = "{url}"', ""]
    return "\n".join(out)


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def probes_total(listen):
    with urllib.request.urlopen(f"http://127.0.0.1:{listen}/metrics", timeout=10) as r:
        text = r.read().decode()
    return sum(float(m) for m in re.findall(r"^oncalld_probes_total\{[^}]*\} (\S+)$", text, re.M))


def main():
    args = sys.argv[1:]
    binary, probe_bench, n = args[0], args[1], int(args[2])

    def opt(name, default):
        return float(args[args.index(name) + 1]) if name in args else default

    hang = int(opt("--hang", 0))
    duration = opt("--duration", 60)
    warmup = opt("--warmup", 20)
    ports = max(1, -(-n // CHECKS_PER_PORT))
    server = subprocess.Popen([probe_bench, "serve", str(ports), str(hang)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline().split()
    ok = [p[1:] for p in line if p.startswith("h")]
    hung = [p[1:] for p in line if p.startswith("x")]
    urls = [f"http://127.0.0.1:{hung[i]}/" if i < hang
            else f"http://127.0.0.1:{ok[i % len(ok)]}/c/{i}" for i in range(n)]
    dir = tempfile.mkdtemp(prefix="oncalld-footprint-")
    state, sock, listen = os.path.join(dir, "state"), os.path.join(dir, "s.sock"), free_port()
    path = os.path.join(dir, "checks.toml")
    with open(path, "w") as f:
        f.write(config(state, sock, listen, urls))
    env = {**os.environ, "ONCALLD_LOG": "warn", "NO_COLOR": "1"}
    for k in ("NOTIFY_SOCKET", "STATE_DIRECTORY", "RUNTIME_DIRECTORY"):
        env.pop(k, None)
    log = open(os.path.join(dir, "daemon.log"), "w")
    daemon = subprocess.Popen([binary, "run", "-c", path], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=log)
    try:
        time.sleep(warmup)
        if daemon.poll() is not None:
            raise SystemExit(f"daemon exited; see {log.name}")
        probes0 = probes_total(listen)
        cpu0 = proc_cpu(daemon.pid)
        time.sleep(duration)
        cpu1 = proc_cpu(daemon.pid)
        probes1 = probes_total(listen)
        hwm, rss = proc_status(daemon.pid, "VmHWM"), proc_status(daemon.pid, "VmRSS")
        done = probes1 - probes0
        per = (cpu1 - cpu0) / done * 1000 if done else float("nan")
        label = f"{n} checks" + (f", {hang} hanging" if hang else "")
        print(f"{label}: {int(done)} checks in {duration:.0f} s, "
              f"CPU {cpu1 - cpu0:.2f} s = {per:.3f} CPU-s per 1,000 checks, "
              f"peak RSS {hwm / 1024:.1f} MiB (now {rss / 1024:.1f} MiB)")
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        server.stdin.close()
        server.wait()
        shutil.rmtree(dir, ignore_errors=True)


if __name__ == "__main__":
    main()
