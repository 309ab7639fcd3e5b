#!/usr/bin/env bash
# Before/after benchmark (issue 16: performance must not regress). Runs the quick local and
# cluster benchmarks (`node dist/bench/run.js --quick --only=local,cluster`) N times on each of two
# checkouts, alternating (A B, then B A, ...) so a drift in the machine's load hits both alike,
# then prints every figure's median on each side and head/base (bench/compare.ts).
#
# usage: scripts/bench-compare.sh BASE_DIR HEAD_DIR [N] [OUT_DIR]
#   BASE_DIR, HEAD_DIR: checkouts with node_modules and a built dist/ (npx tsc -p tsconfig.json)
#   N: runs on each side (default 3); one quick run took about 5 minutes on 2 loaded cores
#   OUT_DIR: where each run's results.json, times and output go (default a new folder in /tmp)
# Each run writes bench/results.json and bench/RESULTS.md in its checkout; the script puts the
# checkout's own copies back after every run, so both checkouts end as they began.
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
base=$(cd "$1" && pwd)
head=$(cd "$2" && pwd)
n=${3:-3}
out=${4:-$(mktemp -d /tmp/bench-compare.XXXXXX)}
mkdir -p "$out"
for dir in "$base" "$head"; do
  [ -f "$dir/dist/bench/run.js" ] || { echo "$dir has no dist/bench/run.js: build it first (npx tsc -p tsconfig.json)" >&2; exit 2; }
done
# The summary runs from the head checkout (the base may predate bench/compare.ts).
[ -f "$head/dist/bench/compare.js" ] || { echo "$head has no dist/bench/compare.js: build it first" >&2; exit 2; }

# One run in checkout $1, named $2 in $out: results.json, .time (wall user sys), .log.
run_one () {
  local dir=$1 name=$2 saved
  saved=$(mktemp -d)
  for f in results.json RESULTS.md; do [ -f "$dir/bench/$f" ] && cp -p "$dir/bench/$f" "$saved/$f"; done
  echo "$(date -u +%H:%M:%S) $name in $dir; load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/runs.txt"
  (cd "$dir" && /usr/bin/time -f '%e %U %S' -o "$out/$name.json.time" npx node dist/bench/run.js --quick --only=local,cluster) > "$out/$name.log" 2>&1 || echo "$name: run failed (see $out/$name.log)" | tee -a "$out/runs.txt"
  [ -f "$dir/bench/results.json" ] && cp "$dir/bench/results.json" "$out/$name.json"
  for f in results.json RESULTS.md; do
    if [ -f "$saved/$f" ]; then cp -p "$saved/$f" "$dir/bench/$f"; else rm -f "$dir/bench/$f"; fi
  done
  rm -rf "$saved"
}

for i in $(seq 1 "$n"); do
  if [ $((i % 2)) -eq 1 ]; then
    run_one "$base" "base-$i"; run_one "$head" "head-$i"
  else
    run_one "$head" "head-$i"; run_one "$base" "base-$i"
  fi
done
echo "$(date -u +%H:%M:%S) done; load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/runs.txt"

bases=(); heads=()
for i in $(seq 1 "$n"); do
  [ -f "$out/base-$i.json" ] && bases+=("$out/base-$i.json")
  [ -f "$out/head-$i.json" ] && heads+=("$out/head-$i.json")
done
(cd "$head" && npx node dist/bench/compare.js --base "${bases[@]}" --head "${heads[@]}") | tee "$out/compare.txt"
echo "runs, logs and this table: $out"
