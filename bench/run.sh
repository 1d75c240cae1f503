#!/usr/bin/env bash
# Probe benchmark (not part of `cargo test`): the real scheduler and HTTP probe against a local
# server in a separate process. Usage: bench/run.sh [--duration SECONDS] (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=60
if [ "${1:-}" = "--duration" ]; then duration="$2"; fi
cargo build --release --example probe_bench
bin=target/release/examples/probe_bench
ulimit -n 65536 2>/dev/null || true
for args in "--checks 1000" "--checks 10000" "--checks 1000 --hang 100"; do
  echo "== $args"
  # shellcheck disable=SC2086
  "$bin" $args --duration "$duration"
  echo
done
