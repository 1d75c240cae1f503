#!/usr/bin/env bash
# Report benchmark (not part of `cargo test`): a store of 100,000 incidents and 1,000,000
# timeline events, then `report --since 365d` and the postmortem of a 10,000-event incident,
# timed in-process (report::gather) and through the real daemon and CLI.
# Usage: bench/report.sh [DIR] (default: target/report-bench; the database is reused).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-target/report-bench}"
cargo build --release --example report_bench --bin oncalld
bin=target/release/oncalld
out=$(target/release/examples/report_bench "$dir")
echo "$out"
big=$(echo "$out" | sed -n 's/^big_incident=//p')

echo "== through the daemon and the CLI"
sock="$dir/oncalld.sock"
"$bin" run -c "$dir/bench.toml" 2>"$dir/daemon.log" &
daemon=$!
trap 'kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
  rc=0; ONCALLD_SOCKET="$sock" "$bin" status >/dev/null 2>&1 || rc=$?
  if [ -S "$sock" ] && [ "$rc" -ne 1 ]; then break; fi
  sleep 0.05
done
ms() { echo $(( ($2 - $1) / 1000000 )); }
for run in 1 2 3; do
  t0=$(date +%s%N)
  ONCALLD_SOCKET="$sock" "$bin" report --since 365d >"$dir/report.txt"
  t1=$(date +%s%N)
  echo "oncalld report --since 365d run $run: $(ms "$t0" "$t1") ms (CLI process included)"
done
for run in 1 2 3; do
  t0=$(date +%s%N)
  ONCALLD_SOCKET="$sock" "$bin" postmortem "$big" -o "$dir/postmortem.md" >/dev/null
  t1=$(date +%s%N)
  echo "oncalld postmortem $big run $run: $(ms "$t0" "$t1") ms ($(wc -l <"$dir/postmortem.md") lines)"
done
echo "== report (head)"
head -n 12 "$dir/report.txt"
