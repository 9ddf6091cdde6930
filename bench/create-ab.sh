#!/usr/bin/env bash
# Creates of two builds side by side: a fresh 3-node `up` cluster of each, plaintext peers (the
# second gets a copy of the first's cluster.json, so ports and layout match), 15 s of warm-up, then
# bench/ClusterBench creates at 16 and 64 clients for 10 s each; alternating, ROUNDS rounds.
#   bench/create-ab.sh OLD_REV [ROUNDS]     e.g. bench/create-ab.sh 2bc35b3 2
set -uo pipefail
OLD_REV="$1"
ROUNDS="${2:-2}"
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
trap 'git worktree remove --force "$WORK/old" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
git worktree add -q "$WORK/old" "$OLD_REV"
(cd "$WORK/old" && dotnet build src/Shortener.Cli -c Release -v q -nologo >/dev/null)
dotnet build src/Shortener.Cli -c Release -v q -nologo >/dev/null
dotnet build bench/ClusterBench -c Release -v q -nologo >/dev/null
LOAD=(dotnet bench/ClusterBench/bin/Release/net10.0/ClusterBench.dll)
SHORT=http://127.0.0.1:28380,http://127.0.0.1:28381,http://127.0.0.1:28382

run() {
  local name="$1" dll="$2" dir="$3"
  Shortener__RateLimits__PerKeyPerSecond=0 Shortener__RateLimits__PerIpPerSecond=0 Logging__LogLevel__Default=Warning \
    env --default-signal=INT dotnet "$dll" up --data "$dir" --port 28380 --peer-port 29380 > "$WORK/$name.log" 2>&1 &
  local up=$!
  for _ in $(seq 1 240); do grep -q "Press Ctrl-C" "$WORK/$name.log" && break; sleep 0.25; done
  local key; key=$(cat "$dir/api-key")
  "${LOAD[@]}" shortener create "$SHORT" --clients 64 --duration 15 --warmup 1 --api-key "$key" >/dev/null
  for c in 16 64; do
    echo -n "$name $c clients: "; "${LOAD[@]}" shortener create "$SHORT" --clients $c --duration 10 --warmup 2 --api-key "$key" | grep "^RESULT" | tail -1
  done
  kill -INT $up; for _ in $(seq 1 120); do kill -0 $up 2>/dev/null || break; sleep 0.25; done; kill -TERM $up 2>/dev/null; wait $up 2>/dev/null
}

for round in $(seq 1 "$ROUNDS"); do
  run "old-$round" "$WORK/old/src/Shortener.Cli/bin/Release/net10.0/shortener.dll" "$WORK/old-$round"
  mkdir -p "$WORK/new-$round" && cp "$WORK/old-$round/cluster.json" "$WORK/new-$round/"
  run "new-$round" src/Shortener.Cli/bin/Release/net10.0/shortener.dll "$WORK/new-$round"
done
