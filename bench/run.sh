#!/usr/bin/env bash
# Footprint benchmark (not part of `cargo test`).
#   bench/run.sh [--duration SECONDS]          the whole daemon (`oncalld run`, bench/daemon_bench.py):
#       CPU per 1,000 checks and peak RSS for N = 1,000 and 10,000 HTTP checks, each without and
#       with 10% of the targets accepting and never answering.
#   bench/run.sh --probe [--duration SECONDS]  the scheduler and HTTP probe alone
#       (bench/probe_bench.rs): CPU per 1,000 checks, peak RSS, schedule lag.
# BIN=path/to/oncalld runs a given daemon binary (A/B runs).
set -euo pipefail
cd "$(dirname "$0")/.."
probe=0
duration=60
while [ $# -gt 0 ]; do
  case "$1" in
    --probe) probe=1 ;;
    --duration) duration="$2"; shift ;;
    *) echo "usage: bench/run.sh [--probe] [--duration SECONDS]" >&2; exit 2 ;;
  esac
  shift
done
cargo build --release --example probe_bench
pb=target/release/examples/probe_bench
ulimit -n 65536 2>/dev/null || true
if [ "$probe" = 1 ]; then
  for args in "--checks 1000" "--checks 10000" "--checks 1000 --hang 100"; do
    echo "== $args"
    # shellcheck disable=SC2086
    "$pb" $args --duration "$duration"
    echo
  done
  exit 0
fi
if [ -z "${BIN:-}" ]; then
  cargo build --release --bin oncalld
  BIN=target/release/oncalld
fi
for args in "1000" "1000 --hang 100" "10000" "10000 --hang 1000"; do
  # shellcheck disable=SC2086
  /usr/bin/python3 bench/daemon_bench.py "$BIN" "$pb" $args --duration "$duration"
done
