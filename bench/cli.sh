#!/usr/bin/env bash
# Wall time of `shortener cluster status` against a running local cluster, as a user types it:
# through ./shortener (runs the built program, builds only when sources changed) against the
# baseline it replaced, `dotnet run` (which checks the build on every call), in the same run.
#
#   bench/cli.sh [--runs 10]
#
# Starts a 3-node cluster with `./shortener up` in a temporary directory, measures both commands
# with hyperfine (warm: a warm-up run each first), prints their means and the ratio, and stops the
# cluster. Target: ./shortener under 1 s.
set -euo pipefail

RUNS=10
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine is missing: apt-get install -y hyperfine" >&2; exit 2; }

DIR=$(mktemp -d)
PORT=$((20000 + RANDOM % 20000))
./shortener --version >/dev/null   # build now, if sources changed, not inside the measurement
./shortener up --data "$DIR/data" --port "$PORT" --shards 8 >"$DIR/up.log" 2>&1 &
UP=$!
trap 'kill -TERM $UP 2>/dev/null; wait $UP 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 120); do
  grep -q "Press Ctrl-C to stop" "$DIR/up.log" 2>/dev/null && break
  sleep 0.5
done
grep -q "Press Ctrl-C to stop" "$DIR/up.log" || { echo "the cluster did not start:" >&2; cat "$DIR/up.log" >&2; exit 1; }

export SHORTENER_API_KEY
SHORTENER_API_KEY=$(cat "$DIR/data/api-key")
SERVER="http://127.0.0.1:$PORT"
hyperfine --warmup 1 --runs "$RUNS" --export-json "$DIR/cli.json" \
  -n shortener "./shortener cluster status --server $SERVER" \
  -n "dotnet run" "dotnet run --project src/Shortener.Cli -c Release -- cluster status --server $SERVER" >&2
python3 - "$DIR/cli.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
fast, slow = r["shortener"]["mean"], r["dotnet run"]["mean"]
print(f"shortener cluster status: {fast:.3f} s mean (stddev {r['shortener']['stddev']:.3f}); dotnet run: {slow:.3f} s; ratio {fast / slow:.3f}; target < 1 s: {'met' if fast < 1 else 'MISSED'}")
PY
