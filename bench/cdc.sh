#!/usr/bin/env bash
# Change data capture, measured in one run on one fresh 3-node cluster (`shortener up`) and a
# local redis-server (Debian's; no persistence):
#
#  1. The time from a create's 201 to its event in the Redis stream, at a fixed rate of creates
#     (bench/CdcBench, open loop), on the fresh cluster. Prints p50/p99 (target: p99 < 50 ms at
#     1,000 creates/s).
#  2. Creates with a Redis sink attached against creates without, in alternating rounds
#     (bench/ClusterBench, closed loop, 16 and 64 clients over the three endpoints). Prints the
#     median of the rounds' ratios with/without (target >= 0.9).
#
#   bench/cdc.sh [--rounds 6] [--duration 10] [--rates 1000] [--latency-duration 20] [--skip-ab] [--env NAME=VALUE]
#   (--rates 300,600,1000 measures the latency at each rate in turn; --env sets an option on every
#   node, e.g. --env Shortener__Sinks__WriteIntervalMs=25)
set -euo pipefail

ROUNDS=6
DURATION=10
RATES=1000
LATENCY_DURATION=20
AB=1
ENVS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --rates) RATES="$2"; shift 2 ;;
    --skip-ab) AB=0; shift ;;
    --env) ENVS+=("$2"); shift 2 ;;
    --latency-duration) LATENCY_DURATION="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install -y redis-server" >&2; exit 2; }
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill -INT "$p" 2>/dev/null || true; done; sleep 2; for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

dotnet build src/Shortener.Cli -c Release -v q -nologo >/dev/null
dotnet build bench/ClusterBench -c Release -v q -nologo >/dev/null
dotnet build bench/CdcBench -c Release -v q -nologo >/dev/null
SHORTENER=(dotnet src/Shortener.Cli/bin/Release/net10.0/shortener.dll)
LOAD=(dotnet bench/ClusterBench/bin/Release/net10.0/ClusterBench.dll)
CDC=(dotnet bench/CdcBench/bin/Release/net10.0/CdcBench.dll)
SHORT=http://127.0.0.1:28380,http://127.0.0.1:28381,http://127.0.0.1:28382
REDIS_PORT=26379

redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" > "$WORK/redis.log" 2>&1 &
PIDS+=($!)
env Shortener__RateLimits__PerKeyPerSecond=0 Shortener__RateLimits__PerIpPerSecond=0 Logging__LogLevel__Default=Warning "${ENVS[@]}" \
  env --default-signal=INT "${SHORTENER[@]}" up --data "$WORK/cluster" --port 28380 --peer-port 29380 > "$WORK/up.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 240); do grep -q "Press Ctrl-C" "$WORK/up.log" && break; sleep 0.25; done
grep -q "Press Ctrl-C" "$WORK/up.log" || { echo "the cluster did not start:" >&2; cat "$WORK/up.log" >&2; exit 1; }
KEY=$(cat "$WORK/cluster/api-key")
sinks() { "${SHORTENER[@]}" sinks "$@" --server http://127.0.0.1:28380 --api-key "$KEY" >/dev/null; }

echo "warming up (creates at 64 clients, 30 s)"
"${LOAD[@]}" shortener create "$SHORT" --clients 64 --duration 30 --warmup 1 --api-key "$KEY" >/dev/null

# The latency first, on the fresh cluster; then the sink is removed for the A/B.
sinks add redis --name latency --url "redis://127.0.0.1:$REDIS_PORT" --stream bench.latency
for rate in ${RATES//,/ }; do
  echo "latency: creates at $rate/s for $LATENCY_DURATION s with a Redis sink"
  "${CDC[@]}" "$SHORT" "127.0.0.1:$REDIS_PORT" bench.latency --api-key "$KEY" --rate "$rate" --duration "$LATENCY_DURATION" --warmup 5
done
sinks remove latency

RESULTS="$WORK/results"
: > "$RESULTS"
[[ $AB -eq 1 ]] || ROUNDS=0
measure() {
  echo "round $2: $1 a sink"
  "${LOAD[@]}" shortener create "$SHORT" --clients 16,64 --duration "$DURATION" --warmup 2 --api-key "$KEY" | grep '^RESULT' | sed "s/^RESULT/RESULT $1 $2/" | tee -a "$RESULTS"
}
with_sink() {
  sinks add redis --name "bench-$1" --url "redis://127.0.0.1:$REDIS_PORT" --stream "bench.$1"
  measure with "$1"
  sinks remove "bench-$1"
}
# Alternating which goes first (ABBA), so a drift of the machine during a round weighs on both alike.
for round in $(seq 1 "$ROUNDS"); do
  if (( round % 2 )); then measure without "$round"; with_sink "$round"; else with_sink "$round"; measure without "$round"; fi
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# The ratio is the median of the rounds' own ratios: a round's two halves run back to back, so a
# drift of the machine's speed between rounds (a third, here) cancels out within each.
for clients in 16 64; do
  [[ $AB -eq 1 ]] || break
  without=$(awk -v c="$clients" '$1 == "RESULT" && $2 == "without" && $6 == c {print $7}' "$RESULTS" | median)
  with=$(awk -v c="$clients" '$1 == "RESULT" && $2 == "with" && $6 == c {print $7}' "$RESULTS" | median)
  ratios=$(awk -v c="$clients" '$1 == "RESULT" && $6 == c {rate[$2, $3] = $7; rounds[$3] = 1}
    END {for (r in rounds) if (rate["without", r] > 0) printf "%.4f\n", rate["with", r] / rate["without", r]}' "$RESULTS")
  echo "per-round ratios $clients clients: $(echo "$ratios" | sort -n | paste -sd' ')"
  echo "ratio with-sink/without creates $clients clients: $(echo "$ratios" | median | awk '{printf "%.3f", $1}') (median of $ROUNDS rounds' ratios; medians $with/s with, $without/s without)"
done
