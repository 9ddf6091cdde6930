#!/usr/bin/env bash
# Builds the solution, runs every test project, and ends with one line: "N passed, N failed,
# N skipped", summed over the TRX results of all test runs. A project whose run crashed or left no
# results counts as one failed test, and so does a build that fails, so the line alone tells
# whether everything passed. Exits non-zero if anything failed. Extra arguments go to each
# `dotnet test` (for example --filter "FullyQualifiedName~Storage").
set -uo pipefail
cd "$(dirname "$0")"

RESULTS="${TEST_RESULTS_DIR:-TestResults}"
rm -rf "$RESULTS"
if ! dotnet build Shortener.slnx -nologo -v q; then
  echo "the solution did not build"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

passed=0
failed=0
skipped=0
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  status=0
  dotnet test "$project" --no-build --logger "trx;LogFileName=$name.trx" --results-directory "$RESULTS" "$@" || status=$?
  trx="$RESULTS/$name.trx"
  if [[ ! -f "$trx" ]]; then
    echo "$name: no test results (the test host crashed or did not start)"
    failed=$((failed + 1))
    continue
  fi

  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  attr() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  project_failed=$(($(attr failed) + $(attr error) + $(attr timeout) + $(attr aborted)))
  if [[ $status -ne 0 && $project_failed -eq 0 ]]; then
    echo "$name: dotnet test exited with $status though no test failed (a crashed test host?)"
    project_failed=1
  fi

  passed=$((passed + $(attr passed)))
  failed=$((failed + project_failed))
  skipped=$((skipped + $(attr total) - $(attr executed)))
done

echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
