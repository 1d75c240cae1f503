#!/usr/bin/env bash
# Paging benchmark (not part of `cargo test`): builds the release daemon, then runs
# bench/paging_bench.py: (a) DOWN -> webhook page latency p50/p99 over 200 incidents,
# (b) a mass outage of 1,000 checks with the receiver answering in 10 ms.
# (c) `storm`: gw down, then 1,000 checks behind it and 1,000 independent ones, group_wait 10 s.
# Usage: bench/paging.sh [latency|outage|both|storm]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin oncalld
ulimit -n 65536 2>/dev/null || true
/usr/bin/python3 bench/paging_bench.py "$PWD/target/release/oncalld" "${1:-both}"
