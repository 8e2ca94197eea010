#!/usr/bin/env bash
# Runs corio's benchmark report (corio vs tokio vs smol vs async-std), installing wrk if missing.
#   benches/report.sh            full report (≈ 11–12 min on 2 cores, estimated from --quick)
#   benches/report.sh --quick    quick report (≈ 70–80 s)
#   other arguments go to the report: --only <area>[/<workload>] | memory | http, --runtime <rt>
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk from Debian's packages..." >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq wrk >/dev/null \
    || echo "could not install wrk: the HTTP section will be skipped" >&2
fi
cargo run --release -p corio-benches --bin report -- "$@"
