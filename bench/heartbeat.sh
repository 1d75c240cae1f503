#!/usr/bin/env bash
# Heartbeat ping benchmark (not part of `cargo test`), against the REAL daemon:
#   10,000 heartbeat checks (period 1m, grace 5m by default), each pinged once a minute at a
#   steady rate (10,000 / 60 s = 167 pings/s), through `daemon.listen` on 127.0.0.1:
#   0. the first ping of every check (NEW -> UP: a state change, saved before its answer), as
#   a burst from 64 connections, so that the phases after it see the steady state (UP);
#   1. over 8 keep-alive HTTP/1.1 connections; 2. a fresh TCP connection per ping;
#   3. a burst: 10,000 pings from 64 connections as fast as they are answered (pings that
#   arrive together share one commit). The commits of each phase are counted from /metrics.
#   Printed: round trip p50/p99/max (target p99 < 5 ms), the daemon's CPU-s per 1,000 pings
#   (target <= the HTTP probe's cost per 1,000 checks, 0.037-0.044 CPU-s, README Benchmarks)
#   and RSS, against the same daemon with the heartbeat checks left out (target growth
#   < 16 MiB).
# The client is bench/ping_bench.rs (a Cargo example, its own process).
# If this build has no heartbeat checks yet (`check-config` refuses `type = "heartbeat"`), the
# pings go to the same daemon without them and every answer is the expected 404: the HTTP path
# is measured without the engine's part.
# Usage: bench/heartbeat.sh [SECONDS per phase, default 60]
#   PROFILE=debug bench/heartbeat.sh 20   (use the debug build: no release target; figures
#   are then the debug build's, several times slower)
#   BIN=path/to/oncalld bench/heartbeat.sh 20   (an A/B run: that daemon binary and the client
#   built before; nothing is built)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
profile=${PROFILE:-release}
if [ -n "${BIN:-}" ]; then
  :
elif [ "$profile" = release ]; then
  cargo build --release --bin oncalld --example ping_bench
else
  cargo build --bin oncalld --example ping_bench
fi
bin=${BIN:-$PWD/target/$profile/oncalld}
client=$PWD/target/$profile/examples/ping_bench
mkdir -p target
work=$(mktemp -d "$PWD/target/bench-heartbeat.XXXXXX")
daemon=""
cleanup() {
  [ -n "$daemon" ] && kill "$daemon" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || true
n=10000
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# $1: file; $2: "yes" to include the heartbeat checks.
write_config() {
  {
    printf '[daemon]\nstate_dir = "%s"\nsocket = "%s"\ntime_zone = "UTC"\nlisten = "127.0.0.1:%s"\n\n' \
      "$work/state-$2" "$work/oncalld.sock" "$port"
    printf '[[check]]\nname = "local"\ntype = "command"\ncommand = ["true"]\ninterval = "1m"\n\n'
    if [ "$2" = yes ]; then
      for i in $(seq 1 $n); do
        # Compact: the file must stay under the 1 MiB config limit (grace: its 5m default).
        printf '[[check]]\nname="j%05d"\ntype="heartbeat"\ntoken="hb-bench-token-%05d"\nperiod="1m"\n' "$i" "$i"
      done
    fi
    printf '[notifiers.log]\ntype = "console"\n\n[people.alice]\nnotify = [{ via = "log" }]\n\n'
    printf '[policies.default]\n[[policies.default.steps]]\nnotify = ["person:alice"]\nescalate_after = "1h"\n'
  } > "$1"
}
for i in $(seq 1 $n); do printf 'hb-bench-token-%05d\n' "$i"; done > "$work/tokens"

# Starts the daemon on $1; returns once the listener answers.
start() {
  "$bin" run -c "$1" 2>"$work/daemon.log" &
  daemon=$!
  for _ in $(seq 200); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "the daemon did not start"; tail -n 20 "$work/daemon.log"; exit 1
}
stop() { kill "$daemon"; wait "$daemon" 2>/dev/null || true; daemon=""; }
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$daemon/status"; }

write_config "$work/plain.toml" no
write_config "$work/heartbeat.toml" yes
if [ "${FLOOR:-}" = 1 ]; then
  config=$work/plain.toml expect=404
  echo "== FLOOR=1: the same pings against the daemon without heartbeat checks (every answer 404):"
  echo "   the listener's HTTP path alone, no heartbeat work"
elif "$bin" check-config -c "$work/heartbeat.toml" >"$work/check.out" 2>&1; then
  config=$work/heartbeat.toml expect=200
  echo "== 10,000 heartbeat checks"
else
  config=$work/plain.toml expect=404
  grep -v warning "$work/check.out" | head -n 3
  echo "== NOTE: this build has no heartbeat checks: the same pings against the daemon without"
  echo "   them (every answer 404); the engine's part of a ping is not measured"
fi

echo "== RSS of the same daemon without the heartbeat checks (after 5 s)"
start "$work/plain.toml"; sleep 5; base=$(rss); stop
echo "RSS without heartbeat checks: $base MiB"

start "$config"; sleep 5
echo "RSS with the config under test, before any ping: $(rss) MiB"
args=(--addr "127.0.0.1:$port" --tokens "$work/tokens" --rate $((n / 60)) --duration "$secs" --pid "$daemon" --expect "$expect")
commits() { curl -fsS "http://127.0.0.1:$port/metrics" | awk '/^oncalld_store_commits_total / {print $2}'; }
burst() {
  "$client" --addr "127.0.0.1:$port" --tokens "$work/tokens" --rate 1000000 --duration 0.01 \
    --threads 64 --pid "$daemon" --expect "$expect"
}
# $1: what; the rest: the command. Prints the commits it made (1.5 s after it, for the flush).
counted() {
  local what=$1 c0 c1
  shift
  c0=$(commits)
  "$@"
  sleep 1.5
  c1=$(commits)
  [ -n "$c0" ] && [ -n "$c1" ] && echo "$what: $((c1 - c0)) commits"
}
echo; echo "== 0. first ping of every check (NEW -> UP), a burst of $n from 64 connections"
counted "first pings" burst
echo; echo "== 1. keep-alive (8 connections), $secs s"
counted "keep-alive" "$client" "${args[@]}"
echo; echo "== 2. a fresh connection per ping, $secs s"
counted "fresh" "$client" "${args[@]}" --fresh
echo; echo "== 3. a burst: $n pings from 64 keep-alive connections, each sent as soon as the last is answered"
counted "burst" burst
echo; echo "== idle CPU of the daemon over 10 s (subtract from the above)"
t0=$(awk '{print $14+$15}' "/proc/$daemon/stat"); sleep 10; t1=$(awk '{print $14+$15}' "/proc/$daemon/stat")
echo "idle: $(( t1 - t0 )) ticks (1/100 s) in 10 s"
echo "RSS after the pings: $(rss) MiB (without heartbeat checks: $base MiB)"
