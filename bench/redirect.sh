#!/usr/bin/env bash
# Redirect throughput of a Shortener node against a bare Kestrel endpoint that answers 302 from
# an in-memory dictionary, measured in the same run on the same machine with wrk.
#
#   bench/redirect.sh [--links 100000] [--duration 10] [--rounds 5] [--connections 64] [--threads 2]
#
# The two servers are measured in alternating rounds (node, bare, node, bare, ...) so drift in the
# machine's speed hits both alike. Throughput and p99 are medians over the rounds; the ratio is the
# median of the per-round ratios (each pairs two runs adjacent in time). With two or more
# CPUs, each server is pinned to the last CPU and wrk to the others (taskset), so the load
# generator and the server under test do not compete for a core; both servers get the same.
# Prints both throughputs, their ratio (target >= 0.9) and the p99 latencies. The node records
# clicks as configured by default (exactly-once); DELIVERY=off bench/redirect.sh measures the
# redirect path without click tracking (bench/clicks.sh measures what tracking costs).
set -euo pipefail

LINKS=100000
DURATION=10
ROUNDS=5
CONNECTIONS=64
THREADS=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --links) LINKS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }

CPUS=$(nproc)
if [[ "$CPUS" -ge 2 ]] && command -v taskset >/dev/null; then
  SERVER_CPU=$((CPUS - 1))
  SERVER_PIN=(taskset -c "$SERVER_CPU")
  WRK_PIN=(taskset -c "0-$((CPUS - 2))")
  [[ "$THREADS" -gt $((CPUS - 1)) ]] && THREADS=$((CPUS - 1))
else
  SERVER_PIN=()
  WRK_PIN=()
fi

WORK=$(mktemp -d)
NODE_PORT=18180
BARE_PORT=18181
KEY="bench-key-$(date +%s)-0123456789"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

echo "building (Release)..." >&2
dotnet build src/Shortener.Cli -c Release -v q -nologo >/dev/null
dotnet build bench/RedirectBench -c Release -v q -nologo >/dev/null
SHORTENER=src/Shortener.Cli/bin/Release/net10.0/shortener.dll
BENCH=bench/RedirectBench/bin/Release/net10.0/RedirectBench.dll

wait_ready() {
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "server at $1 did not come up" >&2; exit 1
}

# wrk prints "Requests/sec: N"; the Lua done() hook prints p99 in microseconds.
run_wrk() {
  CODES_FILE="$WORK/codes.txt" "${WRK_PIN[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1" -s bench/redirect.lua "$2" > "$WORK/wrk.out"
  local rps p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.out")
  p99=$(awk '/^p99_us/ {print $2}' "$WORK/wrk.out")
  errors=$(awk '/^errors/ {print $2}' "$WORK/wrk.out")
  echo "$rps $p99 $errors"
}

echo "starting the node..." >&2
SHORTENER_API_KEY="$KEY" \
Shortener__RateLimits__PerKeyPerSecond=0 Shortener__RateLimits__PerIpPerSecond=0 \
Logging__LogLevel__Default=Warning Shortener__Clicks__Delivery="${DELIVERY:-exactly-once}" \
  "${SERVER_PIN[@]}" dotnet "$SHORTENER" serve --data "$WORK/data" --urls "http://127.0.0.1:$NODE_PORT" > "$WORK/node.log" 2>&1 &
PIDS+=($!)
wait_ready "http://127.0.0.1:$NODE_PORT/readyz"

echo "creating $LINKS links through the API..." >&2
dotnet "$BENCH" seed "http://127.0.0.1:$NODE_PORT" "$KEY" "$LINKS" "$WORK/codes.txt"

echo "starting the bare Kestrel baseline..." >&2
"${SERVER_PIN[@]}" dotnet "$BENCH" bare "http://127.0.0.1:$BARE_PORT" "$WORK/codes.txt" > "$WORK/bare.log" 2>&1 &
PIDS+=($!)
wait_ready "http://127.0.0.1:$BARE_PORT/$(head -1 "$WORK/codes.txt" | cut -d' ' -f1)" || true

echo "warming up both (10 s each, so tiered JIT has settled)..." >&2
sleep 2
run_wrk 10s "http://127.0.0.1:$NODE_PORT" >/dev/null
run_wrk 10s "http://127.0.0.1:$BARE_PORT" >/dev/null

echo "measuring $ROUNDS alternating rounds of ${DURATION} s each, $CONNECTIONS connections, $THREADS wrk threads..." >&2
: > "$WORK/node.rounds"
: > "$WORK/bare.rounds"
: > "$WORK/ratios"
for round in $(seq 1 "$ROUNDS"); do
  run_wrk "${DURATION}s" "http://127.0.0.1:$NODE_PORT" >> "$WORK/node.rounds"
  run_wrk "${DURATION}s" "http://127.0.0.1:$BARE_PORT" >> "$WORK/bare.rounds"
  node_now=$(tail -1 "$WORK/node.rounds" | cut -d' ' -f1)
  bare_now=$(tail -1 "$WORK/bare.rounds" | cut -d' ' -f1)
  awk -v a="$node_now" -v b="$bare_now" 'BEGIN { print a / b }' >> "$WORK/ratios"
  echo "  round $round: node $node_now req/s, bare $bare_now req/s, ratio $(tail -1 "$WORK/ratios")" >&2
done
# Median throughput and median p99 over the rounds; errors summed.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
NODE_RPS=$(cut -d' ' -f1 "$WORK/node.rounds" | median)
NODE_P99=$(cut -d' ' -f2 "$WORK/node.rounds" | median)
NODE_ERR=$(awk '{ s += $3 } END { print s }' "$WORK/node.rounds")
BARE_RPS=$(cut -d' ' -f1 "$WORK/bare.rounds" | median)
BARE_P99=$(cut -d' ' -f2 "$WORK/bare.rounds" | median)
BARE_ERR=$(awk '{ s += $3 } END { print s }' "$WORK/bare.rounds")

RATIO=$(median < "$WORK/ratios" | awk '{ printf "%.3f", $1 }')
printf '%-28s %12s %10s %8s\n' "server" "requests/s" "p99 ms" "errors"
printf '%-28s %12.0f %10.2f %8d\n' "shortener node (GET /{code})" "$NODE_RPS" "$(awk -v u="$NODE_P99" 'BEGIN{print u/1000}')" "$NODE_ERR"
printf '%-28s %12.0f %10.2f %8d\n' "bare Kestrel + dictionary" "$BARE_RPS" "$(awk -v u="$BARE_P99" 'BEGIN{print u/1000}')" "$BARE_ERR"
echo "ratio node/bare: $RATIO (median of per-round ratios; target >= 0.9)"
echo "(${LINKS} links, median of ${ROUNDS} rounds of ${DURATION} s, ${CONNECTIONS} connections, ${THREADS} wrk threads, servers pinned: ${SERVER_PIN[*]:-no})"
