#!/usr/bin/env bash
# Where a cluster's CPU goes under creates, by thread name, without a profiler's distortion:
# starts a fresh 3-node cluster (`shortener up`) from a Release build, warms it with creates at 64
# clients, then reads every node thread's user + system time from /proc/<pid>/task/*/stat before
# and after 10 s of 64-client creates. Prints ClusterBench's RESULT line and the ticks (10 ms) per
# thread name, summed over the three nodes; CPU per create = total ticks * 10 / (creates/s * 10).
# For an A/B, run it alternately on two builds copied aside (--bin) or with an env var (--env).
#
#   bench/threads.sh [--bin src/Shortener.Cli/bin/Release/net10.0] [--warmup 40] [--env NAME=VALUE]
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=src/Shortener.Cli/bin/Release/net10.0
WARMUP=40
ENVS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) BIN="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --env) ENVS+=("$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

[[ -f "$BIN/shortener.dll" ]] || dotnet build src/Shortener.Cli -c Release -v q -nologo >/dev/null
dotnet build bench/ClusterBench -c Release -v q -nologo >/dev/null
LOAD=(dotnet bench/ClusterBench/bin/Release/net10.0/ClusterBench.dll)

WORK=$(mktemp -d)
UP=
cleanup() { [[ -z "$UP" ]] || kill "$UP" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

env Shortener__RateLimits__PerKeyPerSecond=0 Shortener__RateLimits__PerIpPerSecond=0 Logging__LogLevel__Default=Warning "${ENVS[@]}" \
  dotnet "$BIN/shortener.dll" up --data "$WORK/cluster" --port 28080 --peer-port 29080 > "$WORK/up.log" 2>&1 &
UP=$!
for _ in $(seq 1 240); do grep -q "Press Ctrl-C" "$WORK/up.log" && break; sleep 0.25; done
grep -q "Press Ctrl-C" "$WORK/up.log" || { cat "$WORK/up.log" >&2; exit 1; }
KEY=$(cat "$WORK/cluster/api-key")
NODES=http://127.0.0.1:28080,http://127.0.0.1:28081,http://127.0.0.1:28082

"${LOAD[@]}" shortener create "$NODES" --clients 64 --duration "$WARMUP" --warmup 1 --api-key "$KEY" >/dev/null

# name|ticks|pid|tid for every node thread; the name may hold spaces, so fields are counted after ')'.
snapshot() {
  for p in $(pgrep -P "$UP"); do
    for t in /proc/"$p"/task/*; do
      [[ -e "$t/stat" ]] && echo "$(cat "$t/comm" 2>/dev/null)|$(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}')|$p|${t##*/}"
    done
  done
}
snapshot > "$WORK/before"
"${LOAD[@]}" shortener create "$NODES" --clients 64 --duration 10 --warmup 0 --api-key "$KEY" | grep '^RESULT'
snapshot > "$WORK/after"

awk -F'|' '
  NR == FNR { if ($2 != "") before[$3 "/" $4] = $2; next }
  $2 != "" { name = $1; sub(/[0-9 ]+$/, "", name); used[name] += $2 - before[$3 "/" $4]; total += $2 - before[$3 "/" $4] }
  END {
    for (n in used) printf "%6d ticks %5.1f%%  %s\n", used[n], 100 * used[n] / total, n | "sort -nr"
    close("sort -nr")
    printf "%6d ticks in all\n", total
  }' "$WORK/before" "$WORK/after"
