#!/usr/bin/env bash
# What mutual TLS between cluster peers costs (issue 16): a 3-node `shortener up` cluster whose peer
# URLs are https:// (mutual TLS, as `up` makes it) against the same cluster with http:// peer URLs
# (the nodes then run with --plaintext-peers, plain HTTP/2 on loopback). Rounds alternate TLS then
# plaintext; each starts a fresh cluster, waits for every shard's leader (up prints its banner),
# warms up, and drives bench/ClusterBench creates and linearizable reads as bench/cluster.sh does,
# then stops the cluster (SIGINT to up) and deletes its data. The plaintext cluster's cluster.json
# is the TLS round's one with "https://" replaced by "http://", written before its first `up` so
# that up takes it as an existing cluster (same ports, shard count and layout).
# Prints, per op and concurrency, each mode's ops/s and p50/p99 (means over the rounds), the ratio
# TLS/plaintext, and the CPU seconds the three node processes used per 1,000 operations.
#
#   bench/peer-tls.sh [--rounds 2] [--duration 10] [--warmup 20] [--clients 16,64]
set -euo pipefail

ROUNDS=2
DURATION=10
WARMUP=20
CLIENTS=16,64
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."

WORK=$(mktemp -d)
UP=
stop_cluster() {
  [[ -n "$UP" ]] || return 0
  local nodes
  nodes=$(pgrep -P "$UP" || true)
  kill -INT "$UP" 2>/dev/null || true
  for _ in $(seq 1 120); do kill -0 "$UP" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$UP" 2>/dev/null && { echo "up ignored SIGINT for 30 s; sending SIGTERM" >&2; kill -TERM "$UP" 2>/dev/null || true; }
  wait "$UP" 2>/dev/null || true
  for _ in $(seq 1 40); do
    local alive=0
    for p in $nodes; do kill -0 "$p" 2>/dev/null && alive=1; done
    [[ $alive -eq 0 ]] && break
    sleep 0.25
  done
  for p in $nodes; do kill "$p" 2>/dev/null || true; done
  UP=
}
cleanup() { stop_cluster; rm -rf "$WORK"; }
trap cleanup EXIT

echo "building (Release)..." >&2
dotnet build src/Shortener.Cli -c Release -v q -nologo >/dev/null
dotnet build bench/ClusterBench -c Release -v q -nologo >/dev/null
SHORTENER=src/Shortener.Cli/bin/Release/net10.0/shortener.dll
LOAD=(dotnet bench/ClusterBench/bin/Release/net10.0/ClusterBench.dll)
PORT=28380
PEER_PORT=29380
SHORT=http://127.0.0.1:$PORT,http://127.0.0.1:$((PORT + 1)),http://127.0.0.1:$((PORT + 2))
TICKS=$(getconf CLK_TCK)
RESULTS="$WORK/results"
: > "$RESULTS"

# run_mode MODE DIR ROUND: one fresh cluster in DIR, measured; its lines tagged "MODE ROUND".
run_mode() {
  local mode="$1" dir="$2" round="$3"
  echo "round $round, $mode: starting a 3-node cluster..." >&2
  # A background job of a script starts with SIGINT ignored; env gives it back its default so that
  # up's Ctrl-C handler (a graceful stop of all nodes) takes the SIGINT sent at the end.
  Shortener__RateLimits__PerKeyPerSecond=0 Shortener__RateLimits__PerIpPerSecond=0 Logging__LogLevel__Default=Warning \
    env --default-signal=INT dotnet "$SHORTENER" up --data "$dir" --port "$PORT" --peer-port "$PEER_PORT" > "$WORK/up-$mode-$round.log" 2>&1 &
  UP=$!
  for _ in $(seq 1 240); do grep -q "Press Ctrl-C" "$WORK/up-$mode-$round.log" && break; sleep 0.25; done
  grep -q "Press Ctrl-C" "$WORK/up-$mode-$round.log" || { cat "$WORK/up-$mode-$round.log" >&2; exit 1; }
  local want=https
  [[ $mode == tls ]] || want=http
  grep -q "\"$want://127.0.0.1:$PEER_PORT\"" "$dir/cluster.json" || { echo "$dir/cluster.json has no $want peer URLs" >&2; exit 1; }
  local key nodes
  key=$(cat "$dir/api-key")
  # CPU counts the three node processes only (not `up`, which only watches them).
  nodes=$(pgrep -P "$UP" | tr '\n' ',' | sed 's/,$//')
  [[ $(echo "$nodes" | tr ',' '\n' | grep -c .) -eq 3 ]] || { echo "expected 3 node processes under up, got '$nodes'" >&2; exit 1; }
  echo "  nodes: $nodes; warming up (${WARMUP} s of creates and ${WARMUP} s of reads)..." >&2
  "${LOAD[@]}" shortener create "$SHORT" --clients 64 --duration "$WARMUP" --warmup 1 --api-key "$key" >/dev/null
  "${LOAD[@]}" shortener read "$SHORT" --clients 64 --duration "$WARMUP" --warmup 1 --api-key "$key" >/dev/null
  for op in create read; do
    echo "  measuring $op at $CLIENTS clients, ${DURATION} s each..." >&2
    "${LOAD[@]}" shortener "$op" "$SHORT" --clients "$CLIENTS" --duration "$DURATION" --warmup 3 --api-key "$key" --pids "$nodes" --clock-ticks "$TICKS" \
      | sed "s/^/$mode $round /" | tee -a "$RESULTS" | sed 's/^/    /' >&2
  done
  stop_cluster
}

for round in $(seq 1 "$ROUNDS"); do
  A="$WORK/tls-$round"
  B="$WORK/plain-$round"
  run_mode tls "$A" "$round"
  mkdir -p "$B"
  sed 's#"https://#"http://#g' "$A/cluster.json" > "$B/cluster.json"
  rm -rf "$A"
  run_mode plaintext "$B" "$round"
  rm -rf "$B"
done

# Lines: MODE ROUND RESULT shortener op clients rps p50 p99 errors
#        MODE ROUND CPU shortener op clients node_cpu_ms_per_op load_cpu_ms_per_op
mean() { awk -v m="$1" -v k="$2" -v o="$3" -v c="$4" -v f="$5" '$1 == m && $3 == k && $5 == o && $6 == c { s += $f; n++ } END { if (n) printf "%.2f", s / n; else print "nan" }' "$RESULTS"; }
echo
echo "peer TLS vs plaintext peers, 3-node shortener up cluster, means over $ROUNDS rounds (${DURATION} s each)"
printf '%-7s %7s | %10s %7s %7s | %10s %7s %7s | %9s | %10s %10s | %6s\n' \
  op clients "plain op/s" "p50 ms" "p99 ms" "tls op/s" "p50 ms" "p99 ms" "tls/plain" "plain cpu" "tls cpu" errors
for op in create read; do
  for c in ${CLIENTS//,/ }; do
    pr=$(mean plaintext RESULT "$op" "$c" 7); tr=$(mean tls RESULT "$op" "$c" 7)
    errors=$(awk -v o="$op" -v c="$c" '$3 == "RESULT" && $5 == o && $6 == c { s += $10 } END { print s + 0 }' "$RESULTS")
    printf '%-7s %7s | %10.0f %7s %7s | %10.0f %7s %7s | %9s | %10s %10s | %6s\n' "$op" "$c" \
      "$pr" "$(mean plaintext RESULT "$op" "$c" 8)" "$(mean plaintext RESULT "$op" "$c" 9)" \
      "$tr" "$(mean tls RESULT "$op" "$c" 8)" "$(mean tls RESULT "$op" "$c" 9)" \
      "$(awk -v a="$tr" -v b="$pr" 'BEGIN { printf "%.3f", a / b }')" \
      "$(mean plaintext CPU "$op" "$c" 7)" "$(mean tls CPU "$op" "$c" 7)" "$errors"
  done
done
echo "(cpu: CPU seconds of the three node processes per 1,000 operations, = ms per op; errors: both modes, all rounds)"
echo
echo "per round, ops/s (ratio tls/plain):"
for round in $(seq 1 "$ROUNDS"); do
  for op in create read; do
    for c in ${CLIENTS//,/ }; do
      awk -v r="$round" -v o="$op" -v c="$c" '$2 == r && $3 == "RESULT" && $5 == o && $6 == c { v[$1] = $7 }
        END { printf "  round %s %-6s %3s clients: plain %s, tls %s (%.3f)\n", r, o, c, v["plaintext"], v["tls"], v["tls"] / v["plaintext"] }' "$RESULTS"
    done
  done
done
