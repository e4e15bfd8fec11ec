#!/usr/bin/env bash
# Stub until issue-18-ingest lands the real one (which also runs scripts/bench/ingest.sh):
# runs each scripts/bench/*.sh present, each appending its markdown rows to RESULTS.md.
# Usage: scripts/bench-peers.sh [RESULTS.md]
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-target/bench/results.md}
mkdir -p "$(dirname "$results")"
[[ -f $results ]] || printf '| measure | ordervault | peer | floor | ratio | load |\n|---|---|---|---|---|---|\n' >"$results"
for s in ingest sweep lookup; do
  if [[ -x scripts/bench/$s.sh ]]; then
    scripts/bench/"$s".sh "$results"
  fi
done
cat "$results"
