#!/usr/bin/env bash
# Mutation testing of the normalizers and the support masking, on demand (not in CI):
# every mutant cargo-mutants makes of these files must be caught by a unit test, except
# the equivalent ones listed in the issue note (a mutant that cannot change behaviour).
#
#   scripts/mutants.sh                 # all targets
#   scripts/mutants.sh ebay mask       # some of: ebay bol amazon amazon_v2026 mask
#   MUTANTS_ITERATE=1 scripts/mutants.sh ebay   # only mutants not caught last time
#
# It runs --in-place (reuses target/, ~25-60 s per mutant on a shared 2-core machine):
# do not edit files while it runs; an interrupted run restores the file it mutated.
# Results go to target/mutants/<target>/mutants.out (missed.txt lists what to kill).
# Needs `cargo install --locked cargo-mutants`.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0

command -v cargo-mutants >/dev/null || {
  echo "cargo-mutants is not installed: cargo install --locked cargo-mutants" >&2
  exit 2
}

declare -A FILE=(
  [ebay]=connectors/src/ebay/normalize.rs
  [bol]=connectors/src/bol/normalize.rs
  [amazon]=connectors/src/amazon/normalize.rs
  [amazon_v2026]=connectors/src/amazon/normalize_v2026.rs
  [mask]=src/support/mask.rs
)
declare -A PACKAGE=(
  [ebay]=ordervault-connectors
  [bol]=ordervault-connectors
  [amazon]=ordervault-connectors
  [amazon_v2026]=ordervault-connectors
  [mask]=ordervault
)

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ebay bol amazon amazon_v2026 mask)
out_root=target/mutants
status=0
for t in "${targets[@]}"; do
  file=${FILE[$t]:-}
  [ -n "$file" ] || { echo "unknown target $t (ebay bol amazon amazon_v2026 mask)" >&2; exit 2; }
  out=$out_root/$t
  mkdir -p "$out"
  extra=()
  [ "${MUTANTS_ITERATE:-0}" = 1 ] && extra+=(--iterate)
  echo "== $t: $file"
  # Only the crate's unit tests: they are where the normalizers and masking are tested,
  # and building the integration tests for every mutant would cost minutes each.
  cargo mutants --in-place --baseline skip --timeout 120 --build-timeout 600 \
    "${extra[@]}" -o "$out" -p "${PACKAGE[$t]}" -f "$file" -C --lib || status=$?
  # 2 = a mutant was missed, 3 = a timeout; anything else (interrupted, broken build)
  # stops here rather than going on to mutate the next file.
  case $status in 0 | 2 | 3) ;; *) exit "$status" ;; esac
  for kind in caught missed unviable timeout; do
    printf '   %-9s %s\n' "$kind" "$(wc -l < "$out/mutants.out/$kind.txt" 2>/dev/null || echo 0)"
  done
done
# cargo-mutants exits 2 when a mutant was missed, 3 on a timeout.
exit $status
