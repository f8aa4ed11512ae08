#!/usr/bin/env bash
# The benchmark in one command (see docs/performance.md):
#   bash bench/run.sh [--hosts 1,10,50,200] [--reps 3] [--runners ...] [--skip-above RUNNER=N] [--out PREFIX]
set -euo pipefail
cd "$(dirname "$0")/.."
bash bench/setup.sh >&2
ulimit -n 65536 2>/dev/null || true
exec bench/.venv-bench/bin/python -m bench "$@"
