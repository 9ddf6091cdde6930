#!/usr/bin/env bash
# Click tracking benchmarks (issue 5), measured in one run on this machine:
#
#  1. Redirect throughput (wrk, 64 connections, as bench/redirect.sh) on node 1 of a 3-node
#     `shortener up` cluster with click tracking on (exactly-once, the default) against the same
#     cluster restarted on the same data with tracking off (Shortener__Clicks__Delivery=off), in
#     alternating rounds. Ratio on/off per round, median printed (target >= 0.8). Each on-round also
#     reports the backlog it left in the outboxes (tracking ships at background priority).
#  2. Click store write throughput at QUORUM on the 3 nodes: the cluster restarted with tracking on
#     drains the backlog the rounds left; clicks shipped per second while it drains.
#  3. The same in process (bench/ClickBench): one ClickStore on disk (baseline, ratio 1.00) against
#     ClickNode writing at QUORUM to three stores (ideal about 1/3: three copies of each click).
#
# Every round restarts the cluster (to switch tracking on or off) and then warms it up for --warmup
# seconds before measuring: a node restarted with tracking on spends its first 15-20 s compiling
# (tiered JIT of the click store, gRPC client and codec paths in all three processes) at a third of
# its steady redirect rate, which a short warm-up would count against tracking.
#
#   bench/clicks.sh [--duration 10] [--rounds 3] [--links 20000] [--warmup 20]
set -euo pipefail

DURATION=10
ROUNDS=3
LINKS=20000
WARMUP=20
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --links) LINKS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }

WORK=$(mktemp -d)
UP=""
cleanup() { [[ -n "$UP" ]] && kill -TERM "$UP" 2>/dev/null && wait "$UP" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

echo "building (Release)..." >&2
dotnet build src/Shortener.Cli -c Release -v q -nologo >/dev/null
dotnet build bench/RedirectBench -c Release -v q -nologo >/dev/null
dotnet build bench/ClickBench -c Release -v q -nologo >/dev/null
SHORTENER=src/Shortener.Cli/bin/Release/net10.0/shortener.dll
# Ports below the kernel's ephemeral range (32768-60999), so no client socket can hold one when the cluster restarts.
NODES=(http://127.0.0.1:28080 http://127.0.0.1:28081 http://127.0.0.1:28082)

CPUS=$(nproc)
if [[ "$CPUS" -ge 2 ]] && command -v taskset >/dev/null; then
  WRK_PIN=(taskset -c "0-$((CPUS - 2))")
  THREADS=$((CPUS - 1))
else
  WRK_PIN=()
  THREADS=2
fi

start_cluster() { # $1: delivery mode
  Shortener__Clicks__Delivery="$1" Shortener__RateLimits__PerKeyPerSecond=0 Shortener__RateLimits__PerIpPerSecond=0 Logging__LogLevel__Default=Warning \
    dotnet "$SHORTENER" up --data "$WORK/cluster" --port 28080 --peer-port 29080 > "$WORK/up.log" 2>&1 &
  UP=$!
  for _ in $(seq 1 240); do grep -q "Press Ctrl-C" "$WORK/up.log" && return 0; sleep 0.25; done
  cat "$WORK/up.log" >&2; exit 1
}

stop_cluster() {
  kill -TERM "$UP"; wait "$UP" 2>/dev/null || true; UP=""
}

# Sum of one metric over the three nodes' /metrics.
metric() {
  for n in "${NODES[@]}"; do curl -fsS "$n/metrics" 2>/dev/null | awk -v m="$1" '$1 ~ "^"m"({|$)" {print $2}'; done | awk '{s += $1} END {printf "%.0f\n", s}'
}

run_wrk() {
  CODES_FILE="$WORK/codes.txt" "${WRK_PIN[@]}" wrk -t"$THREADS" -c64 -d"$1" -s bench/redirect.lua "${NODES[0]}" > "$WORK/wrk.out"
  awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.out"
}

echo "starting a 3-node cluster and creating $LINKS links..." >&2
start_cluster exactly-once
KEY=$(cat "$WORK/cluster/api-key")
dotnet bench/RedirectBench/bin/Release/net10.0/RedirectBench.dll seed "${NODES[0]}" "$KEY" "$LINKS" "$WORK/codes.txt" >&2
run_wrk 5s >/dev/null

: > "$WORK/ratios"
for round in $(seq 1 "$ROUNDS"); do
  [[ -n "$UP" ]] || start_cluster exactly-once
  run_wrk "${WARMUP}s" >/dev/null
  on=$(run_wrk "${DURATION}s")
  backlog=$(metric shortener_clicks_outbox_depth)
  stop_cluster
  start_cluster off
  run_wrk "${WARMUP}s" >/dev/null
  off=$(run_wrk "${DURATION}s")
  stop_cluster
  awk -v a="$on" -v b="$off" 'BEGIN { print a / b }' >> "$WORK/ratios"
  echo "  round $round: tracking on $on req/s (backlog left in the outboxes: $backlog clicks), off $off req/s, ratio $(tail -1 "$WORK/ratios")"
done
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "ratio redirects tracking on/off: $(median < "$WORK/ratios" | awk '{ printf "%.3f", $1 }') (median of $ROUNDS rounds; target >= 0.8)"

echo "draining the backlog at QUORUM with the cluster idle..." >&2
start_cluster exactly-once
sleep 2
start_shipped=$(metric shortener_clicks_shipped_total)
start_depth=$(metric shortener_clicks_outbox_depth)
t0=$(date +%s.%N)
for _ in $(seq 1 600); do
  depth=$(metric shortener_clicks_outbox_depth)
  [[ "$depth" -eq 0 ]] && break
  sleep 1
done
t1=$(date +%s.%N)
shipped=$(( $(metric shortener_clicks_shipped_total) - start_shipped ))
awk -v n="$shipped" -v a="$t0" -v b="$t1" -v d="$start_depth" -v left="$depth" 'BEGIN { printf "click store writes at QUORUM on 3 nodes: %d clicks (backlog %d, left %d) in %.1f s: %.0f clicks/s\n", n, d, left, b - a, n / (b - a) }'
total=$(curl -fsS -H "X-Api-Key: $KEY" "${NODES[1]}/api/v1/stats/summary" | python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])')
echo "clicks counted over the cluster (summary from node 2): $total"
stop_cluster

echo "in process: one store against three replicas at QUORUM..." >&2
dotnet bench/ClickBench/bin/Release/net10.0/ClickBench.dll --clicks 200000 --rounds 3
