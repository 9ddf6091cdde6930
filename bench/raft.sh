#!/usr/bin/env bash
# Raft benchmarks (issue 3):
#   1. the engine alone, in memory, 3 replicas against 1 (the baseline), batching on;
#   2. the engine with its WAL on the real disk, 1/16/256 proposers, against the disk's raw fsync rate.
#   bench/raft.sh [--seconds 5] [--entries 300000] [--dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER=5
ENTRIES=300000
DIR_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) SECONDS_PER="$2"; shift 2 ;;
    --entries) ENTRIES="$2"; shift 2 ;;
    --dir) DIR_ARGS=(--dir "$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
dotnet build bench/RaftBench -c Release -v q -nologo >/dev/null
BIN=bench/RaftBench/bin/Release/net10.0/RaftBench.dll
dotnet "$BIN" engine --entries "$ENTRIES"
echo
dotnet "$BIN" wal --seconds "$SECONDS_PER" "${DIR_ARGS[@]}"
