#!/usr/bin/python3
"""Fleet benchmark for oncalld (run through bench/fleet.sh, not by cargo test).

A central oncalld (the real release daemon) with `[sources.prom] type = "alertmanager"` on its
TCP listener, paging one person through a local webhook receiver; this script plays
Alertmanager, posting its webhook payloads (version "4") over a keep-alive connection.

  (a) burst: 1,000 distinct firing alerts in ONE notification. Printed: the time until the 200
      (oncalld answers only once the step is committed: all 1,000 incidents are in SQLite), and
      until the receiver holds all 1,000 first pages. Target: both < 5 s.
  (b) repeats: 100 notifications/s for 30 s, each repeating alerts that are already open
      (Alertmanager's repeat_interval / group_interval flushes), with 1 and with 10 alerts per
      notification. Printed: the daemon's CPU seconds (utime + stime from /proc/PID/stat)
      over the run as a percentage of one core. Target: < 5 %.

    fleet_bench.py BIN [burst|repeats|both] [SECONDS]
"""
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paging_bench import Receiver, serve_http, status  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
N = 1000


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config(state, sock, listen, hport):
    return "\n".join([
        "[daemon]",
        f'state_dir = "{state}"',
        f'socket = "{sock}"',
        f'listen = "127.0.0.1:{listen}"',
        'time_zone = "UTC"',
        "",
        "[sources.prom]",
        'type = "alertmanager"',
        f'token = "{TOKEN}"',
        'policy = "default"',
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
    ])


def alert(i, status="firing"):
    return {
        "status": status,
        "labels": {"alertname": "InstanceDown", "instance": f"node-{i}:9100",
                   "job": "node", "severity": "critical", "team": "web"},
        "annotations": {"summary": f"node-{i}:9100 of job node is down"},
        "startsAt": "2026-12-02T10:00:00.000Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus:9090/graph?g0.expr=up%3D%3D0&node={i}",
        "fingerprint": f"{i:016x}",
    }


def notification(alerts):
    return json.dumps({
        "receiver": "oncalld", "status": "firing", "version": "4",
        "groupKey": '{}:{alertname="InstanceDown"}', "truncatedAlerts": 0,
        "groupLabels": {"alertname": "InstanceDown"},
        "commonLabels": {"alertname": "InstanceDown", "job": "node"},
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    }).encode()


class Client:
    """One keep-alive HTTP/1.1 connection, as Alertmanager's webhook client keeps."""

    def __init__(self, port):
        self.port = port
        self.reader = self.writer = None

    async def post(self, body):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = (f"POST /v1/alertmanager/prom HTTP/1.1\r\nHost: oncalld\r\n"
                f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        await self.writer.drain()
        line = await self.reader.readline()
        code = int(line.split()[1])
        length = 0
        while True:
            h = await self.reader.readline()
            if h in (b"\r\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            if k.strip().lower() == "content-length":
                length = int(v.strip())
            if k.strip().lower() == "connection" and v.strip().lower() == "close":
                self.writer = None
        if length:
            await self.reader.readexactly(length)
        return code


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start(binary, dir, receiver):
    hsrv = await asyncio.start_server(
        lambda r, w: serve_http(r, w, receiver.on_request), "127.0.0.1", 0, backlog=4096)
    hport = hsrv.sockets[0].getsockname()[1]
    listen = free_port()
    state, sock = os.path.join(dir, "state"), os.path.join(dir, "oncalld.sock")
    path = os.path.join(dir, "checks.toml")
    with open(path, "w") as f:
        f.write(config(state, sock, listen, hport))
    log = open(os.path.join(dir, "daemon.log"), "w")
    env = {**os.environ, "ONCALLD_LOG": "info", "NO_COLOR": "1"}
    for k in ("NOTIFY_SOCKET", "STATE_DIRECTORY", "RUNTIME_DIRECTORY"):
        env.pop(k, None)
    proc = await asyncio.create_subprocess_exec(
        binary, "run", "-c", path, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 30
    while not (os.path.exists(sock) and await status(binary, sock)):
        if proc.returncode is not None or time.monotonic() > deadline:
            raise SystemExit(f"daemon not ready; see {log.name}")
        await asyncio.sleep(0.1)
    return proc, listen, hsrv


async def burst(binary, dir):
    receiver = Receiver(0)
    receiver.want = N
    proc, listen, _srv = await start(binary, dir, receiver)
    body = notification([alert(i) for i in range(N)])
    client = Client(listen)
    t0 = time.monotonic()
    code = await client.post(body)
    committed = time.monotonic() - t0
    assert code == 200, code
    await asyncio.wait_for(receiver.triggered.wait(), 120)
    paged = time.monotonic() - t0
    s = await status(binary, os.path.join(dir, "oncalld.sock"))
    opened = len(s["incidents"]) if s else -1
    print(f"(a) {N} distinct firing alerts in one notification ({len(body) / 1024:.0f} KiB): "
          f"200 (all {opened} incidents committed) after {committed:.2f} s; "
          f"all {N} first pages at the webhook after {paged:.2f} s  [target < 5 s]")
    return proc, client


async def repeats(binary, dir, proc, client, seconds, per):
    rate = 100
    total = rate * seconds
    bodies = [notification([alert((k * per + j) % N) for j in range(per)])
              for k in range(N // per)]
    await asyncio.sleep(1)  # the burst's pages settle
    cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
    codes = {}
    for k in range(total):
        due = t0 + k / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        code = await client.post(bodies[k % len(bodies)])
        codes[code] = codes.get(code, 0) + 1
    wall = time.monotonic() - t0
    cpu = cpu_seconds(proc.pid) - cpu0
    s = await status(binary, os.path.join(dir, "oncalld.sock"))
    opened = len(s["incidents"]) if s else -1
    print(f"(b) {total} repeat notifications of {per} open alert(s) in {wall:.1f} s "
          f"({total / wall:.0f}/s, answers {codes}): daemon CPU {cpu:.2f} s = "
          f"{100 * cpu / wall:.2f} % of one core; open incidents still {opened}  "
          f"[target < 5 %]")


async def main():
    binary = sys.argv[1]
    which = sys.argv[2] if len(sys.argv) > 2 else "both"
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    with tempfile.TemporaryDirectory() as dir:
        proc, client = await burst(binary, dir)
        if which in ("repeats", "both"):
            for per in (1, 10):
                await repeats(binary, dir, proc, client, seconds, per)
        proc.terminate()
        await proc.wait()


if __name__ == "__main__":
    asyncio.run(main())
