#!/usr/bin/env bash
# JSON on the create path (issue 14): a create's request body read and its response written, its
# command encoded and decoded, its tags and result written: source-generated metadata against
# reflection (the baseline, Ratio 1.00).
#   bench/json.sh [extra BenchmarkDotNet arguments, e.g. --job short]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/JsonBench -- --filter '*CommandCodecBench*' '*ApiBodyBench*' "$@"
