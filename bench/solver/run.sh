#!/usr/bin/env bash
# Side-by-side solver benchmark (see README.md). Usage:
#   bench/solver/run.sh [--time-limit S] [--workers N] [--skip-build] [INSTANCE ...]
# Environment: TAKT_BIN (a binary accepting `solve FILE --json ...` and `build-bench FILE`;
# default: builds the optimizer's takt-solve-worker in release mode), TAKT_VENV (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/takt/venv), TAKT_DATA (default ../shared/data).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${TAKT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/takt/venv}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import ortools, pyjobshop' 2>/dev/null; then
  "$venv/bin/pip" install --quiet "ortools==9.15.6755" pyjobshop
fi
# The Rust side loads the same wheel's libortools.so.9.
export ORTOOLS_LIB_DIR="${ORTOOLS_LIB_DIR:-$("$venv/bin/python" -c 'import ortools,os;print(os.path.dirname(ortools.__file__))')/.libs}"

if [ -z "${TAKT_BIN:-}" ]; then
  (cd "$root" && cargo build --release --quiet -p takt-optimizer --bin takt-solve-worker)
  target="${CARGO_TARGET_DIR:-$root/target}"
  TAKT_BIN="$target/release/takt-solve-worker"
fi

data_args=()
if [ -n "${TAKT_DATA:-}" ]; then data_args=(--data "$TAKT_DATA"); fi
exec "$venv/bin/python" "$here/bench.py" --takt "$TAKT_BIN" "${data_args[@]}" "$@"
