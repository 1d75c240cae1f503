#!/usr/bin/python3
"""Paging benchmark for oncalld (run through bench/paging.sh, not by cargo test).

The real release daemon runs N HTTP checks (retries = 1) against a local target whose
per-check answer this script flips; a local webhook receiver records when each page arrives.
Both servers are asyncio, in this process; the daemon is a separate process.

  (a) latency: 200 checks flipped to failing one at a time (every 60 ms); for each incident,
      from the stored time of the transition to DOWN (check_transitions.at in the daemon's
      SQLite: the moment the probe result that made it DOWN was in) to the receiver holding
      the triggered page. The daemon commits the step (fsync) before the page leaves.
  (b) mass outage: 1,000 checks flipped to failing together, the receiver answering each
      page after 10 ms; time until all 1,000 first pages arrived.

    paging_bench.py BIN [latency|outage|both] [DIVISOR]
"""
import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time


async def serve_http(reader, writer, on_request):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            parts = line.decode("latin-1").split(" ")
            if len(parts) < 2:
                break
            path = parts[1]
            headers = {}
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                k, _, v = h.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
            n = int(headers.get("content-length", "0") or 0)
            body = await reader.readexactly(n) if n else b""
            status, close = await on_request(path, body)
            extra = "connection: close\r\n" if close else ""
            writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n{extra}\r\n".encode())
            await writer.drain()
            if close:
                break
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()


class Target:
    """GET /c/<n>: 500 when n is failing, else 200."""

    def __init__(self):
        self.failing = set()

    async def on_request(self, path, body):
        try:
            n = int(path.rsplit("/", 1)[-1])
        except ValueError:
            n = -1
        return (500 if n in self.failing else 200), True


class Receiver:
    """POST /hook: records (arrival ns, payload), answers 200 after `delay` seconds."""

    def __init__(self, delay):
        self.delay = delay
        self.pages = []
        self.triggered = asyncio.Event()
        self.want = 0

    async def on_request(self, path, body):
        at = time.time_ns()
        page = json.loads(body)
        self.pages.append((at, page))
        if page.get("event") == "triggered":
            self.want -= 1
            if self.want <= 0:
                self.triggered.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        return 200, False


def config(state, sock, checks, interval, tport, hport):
    out = [
        "[daemon]",
        f'state_dir = "{state}"',
        f'socket = "{sock}"',
        'time_zone = "UTC"',
        "",
        "[notifiers.hook]",
        'type = "webhook"',
        f'url = "http://127.0.0.1:{hport}/hook"',
        'timeout = "10s"',
        "",
        "[people.oncall]",
        'notify = [{ via = "hook", to = "ops" }]',
        "",
        "[policies.default]",
        "[[policies.default.steps]]",
        'notify = ["person:oncall"]',
        'escalate_after = "1h"',
        "",
    ]
    for i in range(checks):
        out += [
            "[[check]]",
            f'name = "c{i}"',
            'type = "http"',
            f'url = "http://127.0.0.1:{tport}/c/{i}"',
            f'interval = "{interval}"',
            "retries = 1",
            'timeout = "5s"',
            "",
        ]
    return "\n".join(out)


async def status(binary, sock):
    p = await asyncio.create_subprocess_exec(
        binary, "status", "--json", env={**os.environ, "ONCALLD_SOCKET": sock},
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out, _ = await p.communicate()
    try:
        return json.loads(out)
    except ValueError:
        return None


async def start_daemon(binary, dir, checks, interval, target, receiver):
    tsrv = await asyncio.start_server(
        lambda r, w: serve_http(r, w, target.on_request), "127.0.0.1", 0, backlog=4096)
    hsrv = await asyncio.start_server(
        lambda r, w: serve_http(r, w, receiver.on_request), "127.0.0.1", 0, backlog=4096)
    tport = tsrv.sockets[0].getsockname()[1]
    hport = hsrv.sockets[0].getsockname()[1]
    state, sock = os.path.join(dir, "state"), os.path.join(dir, "oncalld.sock")
    path = os.path.join(dir, "checks.toml")
    with open(path, "w") as f:
        f.write(config(state, sock, checks, interval, tport, hport))
    log = open(os.path.join(dir, "daemon.log"), "w")
    env = {**os.environ, "ONCALLD_LOG": "info", "NO_COLOR": "1"}
    for k in ("NOTIFY_SOCKET", "STATE_DIRECTORY", "RUNTIME_DIRECTORY"):
        env.pop(k, None)
    proc = await asyncio.create_subprocess_exec(
        binary, "run", "-c", path, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 60
    while True:
        s = await status(binary, sock) if os.path.exists(sock) else None
        if s and len(s["checks"]) == checks and all(c["state"] == "UP" for c in s["checks"]):
            break
        if proc.returncode is not None or time.monotonic() > deadline:
            raise SystemExit(f"daemon not ready; see {log.name}")
        await asyncio.sleep(0.2)
    return proc, state, (tsrv, hsrv)


def down_times(state):
    """check name -> ns of its first transition to DOWN, from the daemon's own store."""
    db = sqlite3.connect(f"file:{state}/oncalld.db?mode=ro", uri=True)
    rows = db.execute(
        "SELECT check_name, min(at) FROM check_transitions "
        "WHERE upper(to_state) = 'DOWN' GROUP BY check_name").fetchall()
    db.close()
    return dict(rows)


def first_pages(receiver):
    """check name -> ns of the first triggered page's arrival."""
    out = {}
    for at, page in receiver.pages:
        if page.get("event") == "triggered":
            out.setdefault(page["incident"]["check"], at)
    return out


def pct(sorted_ms, p):
    return sorted_ms[min(len(sorted_ms) - 1, int(round(p / 100 * (len(sorted_ms) - 1))))]


async def stop(proc, dir, name):
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 15)
    except asyncio.TimeoutError:
        proc.kill()
    keep = os.environ.get("PAGING_BENCH_LOGS")
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(os.path.join(dir, "daemon.log"), os.path.join(keep, f"{name}.log"))


async def latency(binary, n=200):
    with tempfile.TemporaryDirectory() as dir:
        target, receiver = Target(), Receiver(0)
        receiver.want = n
        proc, state, _servers = await start_daemon(binary, dir, n, "1s", target, receiver)
        for i in range(n):
            target.failing.add(i)
            await asyncio.sleep(0.06)
        await asyncio.wait_for(receiver.triggered.wait(), 60)
        await stop(proc, dir, "latency")
        downs, pages = down_times(state), first_pages(receiver)
        if os.environ.get("PAGING_BENCH_LOGS"):
            slow = sorted(((pages[c] - downs[c]) / 1e6, c) for c in pages if c in downs)[-5:]
            print("    slowest:", ", ".join(f"{c} {v:.1f} ms" for v, c in slow))
        ms = sorted((pages[c] - downs[c]) / 1e6 for c in pages if c in downs)
        print(f"(a) DOWN -> webhook page, {len(ms)} incidents (commit included): "
              f"p50 {pct(ms, 50):.2f} ms, p90 {pct(ms, 90):.2f} ms, "
              f"p99 {pct(ms, 99):.2f} ms, max {ms[-1]:.2f} ms  [target p99 < 20 ms]")


async def outage(binary, n=1000):
    with tempfile.TemporaryDirectory() as dir:
        target, receiver = Target(), Receiver(0.010)
        receiver.want = n
        proc, state, _servers = await start_daemon(binary, dir, n, "1s", target, receiver)
        flip = time.time_ns()
        target.failing.update(range(n))
        await asyncio.wait_for(receiver.triggered.wait(), 120)
        await stop(proc, dir, "outage")
        downs, pages = down_times(state), first_pages(receiver)
        last_page = max(pages.values())
        first_down, last_down = min(downs.values()), max(downs.values())
        each = sorted((pages[c] - downs[c]) / 1e6 for c in pages if c in downs)
        print(f"(b) mass outage, {len(pages)} checks, receiver answering in 10 ms: "
              f"all first pages in {(last_page - first_down) / 1e9:.2f} s from the first DOWN "
              f"({(last_page - flip) / 1e9:.2f} s from the flip; the DOWNs themselves spread "
              f"over {(last_down - first_down) / 1e9:.2f} s by the probe interval)  "
              f"[target < 5 s]")
        print(f"    per page, DOWN -> delivered: p50 {pct(each, 50):.0f} ms, "
              f"p99 {pct(each, 99):.0f} ms, max {each[-1]:.0f} ms")


def storm_config(state, sock, n, tport, hport):
    """gw, n children behind it, n independent checks; two people; group_wait 10 s."""
    out = [
        "[daemon]", f'state_dir = "{state}"', f'socket = "{sock}"', 'time_zone = "UTC"', "",
        "[notifiers.hook]", 'type = "webhook"', f'url = "http://127.0.0.1:{hport}/hook"',
        'timeout = "10s"', "",
        "[people.alice]", 'notify = [{ via = "hook", to = "alice" }]',
        "[people.bob]", 'notify = [{ via = "hook", to = "bob" }]', "",
        "[policies.default]", 'group_wait = "10s"', "[[policies.default.steps]]",
        'notify = ["person:alice", "person:bob"]', 'escalate_after = "1h"', "",
    ]
    def check(name, path, deps):
        return ["[[check]]", f'name = "{name}"', 'type = "http"',
                f'url = "http://127.0.0.1:{tport}/c/{path}"', 'interval = "1s"',
                "retries = 1", 'timeout = "5s"'] + (['depends_on = ["gw"]'] if deps else []) + [""]
    out += check("gw", 0, False)
    for i in range(1, n + 1):
        out += check(f"child{i}", i, True)
    for i in range(n + 1, 2 * n + 1):
        out += check(f"solo{i}", i, False)
    return "\n".join(out)


def incident_count(state):
    db = sqlite3.connect(f"file:{state}/oncalld.db?mode=ro", uri=True)
    n = db.execute("SELECT count(*) FROM incidents").fetchone()[0]
    db.close()
    return n


async def storm(binary, n=1000):
    """(c) gw dies, then its n children and n independent checks: pages per person."""
    with tempfile.TemporaryDirectory() as dir:
        target, receiver = Target(), Receiver(0.010)
        tsrv = await asyncio.start_server(
            lambda r, w: serve_http(r, w, target.on_request), "127.0.0.1", 0, backlog=4096)
        hsrv = await asyncio.start_server(
            lambda r, w: serve_http(r, w, receiver.on_request), "127.0.0.1", 0, backlog=4096)
        tport, hport = tsrv.sockets[0].getsockname()[1], hsrv.sockets[0].getsockname()[1]
        state, sock = os.path.join(dir, "state"), os.path.join(dir, "oncalld.sock")
        path = os.path.join(dir, "checks.toml")
        with open(path, "w") as f:
            f.write(storm_config(state, sock, n, tport, hport))
        log = open(os.path.join(dir, "daemon.log"), "w")
        env = {**os.environ, "ONCALLD_LOG": "info", "NO_COLOR": "1"}
        for k in ("NOTIFY_SOCKET", "STATE_DIRECTORY", "RUNTIME_DIRECTORY"):
            env.pop(k, None)
        proc = await asyncio.create_subprocess_exec(
            binary, "run", "-c", path, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 90
        while True:
            s = await status(binary, sock) if os.path.exists(sock) else None
            if s and len(s["checks"]) == 2 * n + 1 and all(c["state"] == "UP" for c in s["checks"]):
                break
            if proc.returncode is not None or time.monotonic() > deadline:
                raise SystemExit(f"daemon not ready; see {log.name}")
            await asyncio.sleep(0.2)
        target.failing.add(0)
        while incident_count(state) < 1:
            await asyncio.sleep(0.02)
        flip = time.time_ns()
        target.failing.update(range(1, 2 * n + 1))
        while incident_count(state) < 2 * n + 1:
            await asyncio.sleep(0.02)
        committed = (time.time_ns() - flip) / 1e9
        # Every digest is out 10 s after the first page of the window; wait past that.
        await asyncio.sleep(13)
        await stop(proc, dir, "storm")
        db = sqlite3.connect(f"file:{state}/oncalld.db?mode=ro", uri=True)
        held = db.execute("SELECT count(*) FROM incidents WHERE escalation LIKE '%unreachable%'").fetchone()[0]
        db.close()
        per = {}
        for _, page in receiver.pages:
            per.setdefault(page["recipient"], []).append(page)
        for who, pages in sorted(per.items()):
            named = sum(len(p.get("incidents", [])) or 1 for p in pages)
            kinds = ", ".join(p["text"][:60] for p in pages)
            print(f"    {who}: {len(pages)} pages naming {named} incidents: {kinds}")
        worst = max(len(p) for p in per.values())
        print(f"(c) storm: gw + {n} children behind it + {n} independent checks, group_wait 10 s: "
              f"{2 * n + 1} incidents committed {committed:.2f} s after the flip "
              f"[target < 5 s]; {held} unreachable; at most {worst} pages per person "
              f"(gw's page before the flip included) [target <= 2 after gw]")


async def main():
    binary = sys.argv[1]
    which = sys.argv[2] if len(sys.argv) > 2 else "both"
    # Optional divisor for a quick smoke run of the script itself (e.g. 10: 20 and 100 checks).
    div = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    if which in ("latency", "both"):
        await latency(binary, 200 // div)
    if which in ("outage", "both"):
        await outage(binary, 1000 // div)
    if which == "storm":
        await storm(binary, 1000 // div)


if __name__ == "__main__":
    asyncio.run(main())
