#!/usr/bin/env bash
# A scripted outage for the README: runs the real daemon against a local HTTP target, breaks
# the target, lets the page escalate, acknowledges and notes through the CLI, fixes the target,
# then prints `oncalld postmortem 1` and `oncalld report --since 1h`.
# Usage: bench/example_outage.sh [OUT.md]  (also writes the output as Markdown to OUT.md)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-}"
cargo build -q --bin oncalld
bin="$PWD/target/debug/oncalld"
dir=$(mktemp -d)
daemon=""; server=""
cleanup() {
  [ -n "$daemon" ] && kill "$daemon" 2>/dev/null || true
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

# The target: answers every GET with the status written in $dir/status.
echo 200 >"$dir/status"
cat >"$dir/target.py" <<'PY'
import http.server, sys
status_file = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        code = int(open(status_file).read().strip())
        body = b"ok\n" if code == 200 else b"upstream unavailable\n"
        self.send_response(code)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY
python3 "$dir/target.py" "$dir/status" >"$dir/port" &
server=$!
for _ in $(seq 1 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
port=$(cat "$dir/port")

cat >"$dir/oncalld.toml" <<TOML
[daemon]
state_dir = "$dir/state"
socket = "$dir/oncalld.sock"
time_zone = "Europe/Paris"

[[check]]
name = "website"
type = "http"
url = "http://127.0.0.1:$port/"
interval = "1s"
retry_interval = "1s"
retries = 2
timeout = "2s"

[notifiers.log]
type = "console"

[people.alice]
notify = [{ via = "log", to = "alice@example.com" }]
[people.bob]
notify = [{ via = "log", to = "bob@example.com" }]

[schedules.primary]
time_zone = "Europe/Paris"
rotation = ["alice"]
shift = "1w"
start = "2026-11-23T09:00"

[policies.default]
[[policies.default.steps]]
notify = ["schedule:primary"]
escalate_after = "5s"
[[policies.default.steps]]
notify = ["person:bob"]
escalate_after = "30m"
TOML

export ONCALLD_SOCKET="$dir/oncalld.sock"
"$bin" run -c "$dir/oncalld.toml" 2>"$dir/daemon.log" &
daemon=$!
for _ in $(seq 1 200); do [ -S "$ONCALLD_SOCKET" ] && break; sleep 0.05; done
sleep 3                                       # a few good probes first

echo 503 >"$dir/status"                      # the outage
until "$bin" show 1 >/dev/null 2>&1; do sleep 0.2; done
sleep 7                                       # nobody acks: escalates to bob after 5 s
"$bin" ack 1 -m "looking at it" >/dev/null
"$bin" note 1 "upstream app server returns 503; its disk is full" >/dev/null
sleep 2
"$bin" note 1 "root cause: log rotation was disabled on app-1, /var filled up" >/dev/null
"$bin" note 1 "resolution: freed /var/log on app-1 and restarted the app" >/dev/null
echo 200 >"$dir/status"                      # fixed
until "$bin" show 1 --json | grep -q '"state": *"resolved"'; do sleep 0.2; done
"$bin" note 1 "todo: re-enable logrotate on app-1 and add it to the base image" >/dev/null
"$bin" note 1 "todo: add a disk check for /var on every app server" >/dev/null
"$bin" note 1 "lesson: the HTTP check caught it, but a disk check would have warned a day earlier" >/dev/null
sleep 1

pm=$("$bin" postmortem 1)
report=$("$bin" report --since 1h)
echo "$pm"
echo
echo "$report"
if [ -n "$out" ]; then
  {
    echo "# Example: a postmortem and a report from a scripted outage"
    echo
    echo "Produced by \`bench/example_outage.sh docs/EXAMPLE-POSTMORTEM.md\`: the real daemon probes a"
    echo "local HTTP target every second (Europe/Paris time); the script makes the target answer 503,"
    echo "lets the page escalate from alice to bob, acknowledges and adds notes with the CLI, then"
    echo "makes the target answer 200 again. Nothing below was edited by hand."
    echo
    echo "## \`oncalld postmortem 1\`"
    echo
    echo '````markdown'
    echo "$pm"
    echo '````'
    echo
    echo "## \`oncalld report --since 1h\`"
    echo
    echo '```text'
    echo "$report"
    echo '```'
  } >"$out"
fi
