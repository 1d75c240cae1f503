#!/usr/bin/env bash
# Fleet benchmark (not part of `cargo test`): builds the release daemon, then runs
# bench/fleet_bench.py against it as a central oncalld fed by "Alertmanager":
# (a) 1,000 distinct firing alerts in one notification: time to commit and to page;
# (b) 100 repeat notifications/s for SECONDS (default 30): daemon CPU as % of one core.
# Usage: bench/fleet.sh [burst|repeats|both] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin oncalld
ulimit -n 65536 2>/dev/null || true
/usr/bin/python3 bench/fleet_bench.py "$PWD/target/release/oncalld" "${1:-both}" "${2:-30}"
