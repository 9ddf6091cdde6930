#!/usr/bin/env bash
# Whole-cluster benchmarks, measured in one run on this machine:
#
#  1. Link creation and linearizable reads through the HTTP API of a 3-node Shortener cluster
#     (`shortener up`, fsync on) against etcd 3.4 (Debian etcd-server, 3 members on loopback, fsync
#     on) doing puts of the same size and linearizable ranges, at 1, 16 and 64 closed-loop clients
#     spread over the three endpoints. Both are driven by bench/ClusterBench (one load generator).
#     Prints throughput and p50/p99 per concurrency and the ratio shortener/etcd (target >= 1.0).
#  2. Redirect throughput (wrk, as bench/redirect.sh) on node 1 of the cluster against a single
#     node (`shortener serve`), in alternating rounds. Ratio cluster/single (target >= 0.9).
#
#   bench/cluster.sh [--duration 10] [--warmup 20] [--clients 1,16,64] [--rounds 3] [--links 50000] [--skip-redirect]
set -euo pipefail

DURATION=10
WARMUP=20
CLIENTS=1,16,64
ROUNDS=3
LINKS=50000
REDIRECT=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --links) LINKS="$2"; shift 2 ;;
    --skip-redirect) REDIRECT=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
command -v etcd >/dev/null || { echo "etcd is missing: apt-get install -y etcd-server" >&2; exit 2; }
[[ $REDIRECT -eq 0 ]] || command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }

WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

echo "building (Release)..." >&2
dotnet build src/Shortener.Cli -c Release -v q -nologo >/dev/null
dotnet build bench/ClusterBench -c Release -v q -nologo >/dev/null
dotnet build bench/RedirectBench -c Release -v q -nologo >/dev/null
SHORTENER=src/Shortener.Cli/bin/Release/net10.0/shortener.dll
LOAD=(dotnet bench/ClusterBench/bin/Release/net10.0/ClusterBench.dll)

# --- etcd: 3 members on loopback ---------------------------------------------------------------
echo "starting etcd $(etcd --version | head -1 | awk '{print $3}') (3 members)..." >&2
CLUSTER="e1=http://127.0.0.1:23801,e2=http://127.0.0.1:23802,e3=http://127.0.0.1:23803"
for i in 1 2 3; do
  etcd --name "e$i" --data-dir "$WORK/etcd$i" \
    --listen-client-urls "http://127.0.0.1:2379$i" --advertise-client-urls "http://127.0.0.1:2379$i" \
    --listen-peer-urls "http://127.0.0.1:2380$i" --initial-advertise-peer-urls "http://127.0.0.1:2380$i" \
    --initial-cluster "$CLUSTER" --initial-cluster-state new --initial-cluster-token bench > "$WORK/etcd$i.log" 2>&1 &
  PIDS+=($!)
done
ETCD=http://127.0.0.1:23791,http://127.0.0.1:23792,http://127.0.0.1:23793
for _ in $(seq 1 50); do ETCDCTL_API=3 etcdctl --endpoints "$ETCD" endpoint health >/dev/null 2>&1 && break; sleep 0.2; done

# --- shortener: 3 node processes -------------------------------------------------------------------
echo "starting a 3-node shortener cluster..." >&2
Shortener__RateLimits__PerKeyPerSecond=0 Shortener__RateLimits__PerIpPerSecond=0 Logging__LogLevel__Default=Warning \
  dotnet "$SHORTENER" up --data "$WORK/cluster" --port 28080 --peer-port 29080 > "$WORK/up.log" 2>&1 &
UP=$!
PIDS+=($UP)
for _ in $(seq 1 240); do grep -q "Press Ctrl-C" "$WORK/up.log" && break; sleep 0.25; done
grep -q "Press Ctrl-C" "$WORK/up.log" || { cat "$WORK/up.log" >&2; exit 1; }
KEY=$(cat "$WORK/cluster/api-key")
SHORT=http://127.0.0.1:28080,http://127.0.0.1:28081,http://127.0.0.1:28082
# CPU per operation counts every process of each system: `up` and its node processes; etcd's members.
SHORT_PIDS=$(echo "$UP" $(pgrep -P "$UP") | tr ' ' ',')
ETCD_PIDS=$(echo "${PIDS[@]:0:3}" | tr ' ' ',')
TICKS=$(getconf CLK_TCK)

# JIT and caches warm before anything counts (the nodes are .NET and start cold; etcd is native).
echo "warming up (${WARMUP} s of creates and ${WARMUP} s of reads on each)..." >&2
"${LOAD[@]}" shortener create "$SHORT" --clients 64 --duration "$WARMUP" --warmup 1 --api-key "$KEY" >/dev/null
"${LOAD[@]}" shortener read "$SHORT" --clients 64 --duration "$WARMUP" --warmup 1 --api-key "$KEY" >/dev/null
"${LOAD[@]}" etcd create "$ETCD" --clients 64 --duration 5 --warmup 1 >/dev/null
"${LOAD[@]}" etcd read "$ETCD" --clients 64 --duration 5 --warmup 1 >/dev/null

RESULTS="$WORK/results"
: > "$RESULTS"
for op in create read; do
  for target in etcd shortener; do
    echo "measuring $target $op at $CLIENTS clients, ${DURATION} s each..." >&2
    if [[ $target == etcd ]]; then
      "${LOAD[@]}" etcd "$op" "$ETCD" --clients "$CLIENTS" --duration "$DURATION" --warmup 3 --pids "$ETCD_PIDS" --clock-ticks "$TICKS" >> "$RESULTS"
    else
      "${LOAD[@]}" shortener "$op" "$SHORT" --clients "$CLIENTS" --duration "$DURATION" --warmup 3 --api-key "$KEY" --pids "$SHORT_PIDS" --clock-ticks "$TICKS" >> "$RESULTS"
    fi
  done
done

printf '\n%-10s %-8s %8s %14s %10s %10s %8s %14s %14s\n' "system" "op" "clients" "ops/s" "p50 ms" "p99 ms" "errors" "cpu ms/op" "load cpu ms/op"
grep '^RESULT' "$RESULTS" | while read -r _ target op clients rps p50 p99 errors; do
  read -r sys load < <(awk -v t="$target" -v o="$op" -v c="$clients" '$1 == "CPU" && $2 == t && $3 == o && $4 == c {print $5, $6}' "$RESULTS")
  printf '%-10s %-8s %8s %14s %10s %10s %8s %14s %14s\n' "$target" "$op" "$clients" "$rps" "$p50" "$p99" "$errors" "$sys" "$load"
done
echo
# CPU per operation at the highest concurrency, over all of each system's processes.
TOP=${CLIENTS##*,}
cpu() { awk -v t="$1" -v o="$2" -v c="$TOP" -v f="$3" '$1 == "CPU" && $2 == t && $3 == o && $4 == c {print $f}' "$RESULTS"; }
echo "cpu ms per op shortener create: $(cpu shortener create 5) (load generator: $(cpu shortener create 6); $TOP clients)"
echo "cpu ms per op etcd put: $(cpu etcd create 5) (load generator: $(cpu etcd create 6); $TOP clients)"
echo
for op in create read; do
  for c in ${CLIENTS//,/ }; do
    s=$(awk -v o="$op" -v c="$c" '$1 == "RESULT" && $2 == "shortener" && $3 == o && $4 == c {print $5}' "$RESULTS")
    e=$(awk -v o="$op" -v c="$c" '$1 == "RESULT" && $2 == "etcd" && $3 == o && $4 == c {print $5}' "$RESULTS")
    awk -v o="$op" -v c="$c" -v s="$s" -v e="$e" 'BEGIN { printf "ratio shortener/etcd %-6s %3s clients: %.2f (target >= 1.0)\n", o, c, s / e }'
  done
done

kill "${PIDS[@]:0:3}" 2>/dev/null || true

[[ $REDIRECT -eq 1 ]] || exit 0

# --- redirects: cluster node 1 against a single node ---------------------------------------------
CPUS=$(nproc)
if [[ "$CPUS" -ge 2 ]] && command -v taskset >/dev/null; then
  WRK_PIN=(taskset -c "0-$((CPUS - 2))")
  THREADS=$((CPUS - 1))
else
  WRK_PIN=()
  THREADS=2
fi

echo "starting a single node..." >&2
SHORTENER_API_KEY="$KEY" Shortener__RateLimits__PerKeyPerSecond=0 Shortener__RateLimits__PerIpPerSecond=0 Logging__LogLevel__Default=Warning \
  dotnet "$SHORTENER" serve --data "$WORK/single" --urls http://127.0.0.1:28180 > "$WORK/single.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -fsS -o /dev/null http://127.0.0.1:28180/readyz 2>/dev/null && break; sleep 0.2; done

echo "creating $LINKS links on each..." >&2
dotnet bench/RedirectBench/bin/Release/net10.0/RedirectBench.dll seed http://127.0.0.1:28080 "$KEY" "$LINKS" "$WORK/cluster-codes.txt"
dotnet bench/RedirectBench/bin/Release/net10.0/RedirectBench.dll seed http://127.0.0.1:28180 "$KEY" "$LINKS" "$WORK/single-codes.txt"

run_wrk() {
  CODES_FILE="$1" "${WRK_PIN[@]}" wrk -t"$THREADS" -c64 -d"$2" -s bench/redirect.lua "$3" > "$WORK/wrk.out"
  awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.out"
}

run_wrk "$WORK/cluster-codes.txt" 10s http://127.0.0.1:28080 >/dev/null
run_wrk "$WORK/single-codes.txt" 10s http://127.0.0.1:28180 >/dev/null
: > "$WORK/ratios"
for round in $(seq 1 "$ROUNDS"); do
  c=$(run_wrk "$WORK/cluster-codes.txt" "${DURATION}s" http://127.0.0.1:28080)
  s=$(run_wrk "$WORK/single-codes.txt" "${DURATION}s" http://127.0.0.1:28180)
  awk -v a="$c" -v b="$s" 'BEGIN { print a / b }' >> "$WORK/ratios"
  echo "  round $round: cluster node $c req/s, single node $s req/s, ratio $(tail -1 "$WORK/ratios")"
done
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "ratio redirects cluster/single: $(median < "$WORK/ratios" | awk '{ printf "%.3f", $1 }') (median of $ROUNDS rounds; target >= 0.9)"
