#!/usr/bin/env bash
# What recording await chains (the `await-chains` feature, on by default) costs: builds the
# report with and without it and runs corio's runtime rows and the HTTP server in
# alternating processes (with, without, without, with, …), then prints each row's median
# ratio with/without over the pairs (1.00 = free; above 1 = slower with recording).
#   benches/recording-cost.sh            7 pairs × 3 rounds (≈ 8 min on 2 cores)
#   PAIRS=3 ROUNDS=2 benches/recording-cost.sh    shorter
#   ONLY=runtime/yield_many benches/recording-cost.sh   one row (no HTTP)
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${PAIRS:-7}
ROUNDS=${ROUNDS:-3}
ONLY=${ONLY:-runtime}
if ! command -v wrk >/dev/null 2>&1 && [ "$ONLY" = runtime ]; then
  echo "installing wrk from Debian's packages..." >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq wrk >/dev/null \
    || echo "could not install wrk: no HTTP rows" >&2
fi
cargo build --release -q -p corio-benches --bin report
cargo build --release -q -p corio-benches --bin report --no-default-features \
  --target-dir target/no-await-chains
with=target/release/report
without=target/no-await-chains/release/report
out=$(mktemp -d)
run() { # run BINARY TAG PAIR
  "$1" --only "$ONLY" --runtime corio --rounds "$ROUNDS" --raw 2>/dev/null \
    | awk -v t="$2" -v p="$3" '$1=="raw"{print p, t, $2, $NF}' >>"$out/raw"
  if [ "$ONLY" = runtime ] && command -v wrk >/dev/null 2>&1; then
    "$1" --only http --runtime corio --http-rounds 1 --raw 2>/dev/null \
      | awk -v t="$2" -v p="$3" '$1=="raw"{print p, t, $2"/"$3, $4}' >>"$out/raw"
  fi
}
for p in $(seq 1 "$PAIRS"); do
  echo "pair $p/$PAIRS" >&2
  if [ $((p % 2)) = 1 ]; then run $with with "$p"; run $without without "$p";
  else run $without without "$p"; run $with with "$p"; fi
done
python3 - "$out/raw" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    p, tag, row, v = line.split()
    rows.setdefault(row, {}).setdefault(p, {})[tag] = float(v)
print(f"| row | with / without (median of {len(next(iter(rows.values())))} pairs) | min–max |")
print("|---|---|---|")
for row, pairs in rows.items():
    rs = sorted(d["with"] / d["without"] for d in pairs.values() if len(d) == 2)
    if row.endswith("/rps"):  # requests per second: higher is better, so invert
        rs = sorted(1 / r for r in rs)
        row = row[:-4] + " (time per request)"
    elif row.endswith("/cpu"):
        row = row[:-4] + " (CPU per request)"
    print(f"| {row} | {statistics.median(rs):.3f} | {rs[0]:.3f}–{rs[-1]:.3f} |")
PY
rm -rf "$out"
