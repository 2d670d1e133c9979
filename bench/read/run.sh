#!/usr/bin/env bash
# Read-model benchmark on the large demo factory (200 machines, 600 operators, >1M assignments).
# Usage: bench/read/run.sh [iterations]
# Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/takt_bench),
#      CARGO_TARGET_DIR (default target), TAKT_PLANT_TZ (default Europe/Berlin).
# Seeds the factory once (minutes), then prints p50/p95 per query with the materialized views
# and from raw tables, the cache-hit latency and the freshness delay after a command.
set -euo pipefail
cd "$(dirname "$0")/../.."
ITERATIONS="${1:-30}"
export DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/takt_bench}"
TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --release -p takt-server --bin takt
TAKT="$TARGET/release/takt"
"$TAKT" seed --size large --seed 1 --if-empty
"$TAKT" bench-read --iterations "$ITERATIONS"
"$TAKT" read-explain
