#!/usr/bin/env bash
# Merkle anti-entropy kernel (issue 5): comparing two 1M-key replicas with Merkle trees against
# walking every key's digest (the baseline, Ratio 1.00), and building a tree from scratch.
#   bench/merkle.sh [extra BenchmarkDotNet arguments, e.g. --job short]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project bench/MerkleBench -- --filter '*MerkleComparisonBench*' "$@"
