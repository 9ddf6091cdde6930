#!/usr/bin/env bash
# Builds the solution, runs every test project, and ends with one line: "N passed, N failed,
# N skipped", counted from the TRX results of all test runs. Exits non-zero if anything failed
# or did not build. Extra arguments go to each `dotnet test` (e.g. --filter "FullyQualifiedName~Storage").
set -uo pipefail
cd "$(dirname "$0")"

RESULTS="${TEST_RESULTS_DIR:-TestResults}"
rm -rf "$RESULTS"
status=0
if ! dotnet build Shortener.slnx -nologo -v q; then
  echo "the solution did not build"
  echo "0 passed, 0 failed, 0 skipped"
  exit 1
fi

for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  dotnet test "$project" --no-build --logger "trx;LogFileName=$name.trx" --results-directory "$RESULTS" "$@" || status=$?
done

passed=0
failed=0
skipped=0
shopt -s nullglob
for trx in "$RESULTS"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  attr() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(attr passed)))
  failed=$((failed + $(attr failed) + $(attr error) + $(attr timeout) + $(attr aborted)))
  skipped=$((skipped + $(attr total) - $(attr executed)))
done

if [[ $status -ne 0 && $failed -eq 0 ]]; then
  echo "dotnet test exited with $status though no test failed (a crashed test host?)"
fi
echo "$passed passed, $failed failed, $skipped skipped"
if [[ $status -ne 0 || $failed -ne 0 ]]; then
  exit 1
fi
