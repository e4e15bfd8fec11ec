#!/usr/bin/env bash
# Mutation testing of the normalizers and the support masking, on demand (not in CI):
# every mutant cargo-mutants makes of these files must be caught by a unit test, except
# the equivalent ones listed in the issue note (a mutant that cannot change behaviour).
#
#   scripts/mutants.sh                 # all targets
#   scripts/mutants.sh ebay mask       # some of: ebay bol amazon amazon_v2026 mask
#   MUTANTS_ITERATE=1 scripts/mutants.sh ebay   # only mutants not caught last time
#   cargo mutants --list -f FILE -p PKG         # what would be tried, without building
#
# Last full run (issue 14, load average 6-9 on the shared 2-core machine, all five
# targets in ~50 min):
#   target        file                                      mutants caught missed unviable
#   mask          src/support/mask.rs                            46     46      0        0
#   bol           connectors/src/bol/normalize.rs                90     67      2*      21
#   amazon_v2026  connectors/src/amazon/normalize_v2026.rs       93  84+1**     0        8
#   amazon        connectors/src/amazon/normalize.rs             87     79      0        8
#   ebay          connectors/src/ebay/normalize.rs              105     75      0       30
#   *  equivalent: the `!v.is_null()` guards on shipmentDetails/billingDetails (serde
#      reads a JSON null into `None`, so `Some(Null)` never reaches them).
#   ** addressLine3 dropped went unnoticed; now killed by a_third_address_line_is_kept.
# Unviable = the mutant does not compile (e.g. `Default::default()` for a type without
# Default); timeouts: none.
#
# It runs --in-place (reuses target/): do not edit files while it runs; an interrupted
# run restores the file it mutated. Per mutant: ~4 s build + <1 s test for a
# connectors normalizer, ~13 s build + 1.4 s test for mask (ordervault is the bigger
# crate). The first run after switching to this profile rebuilds the dependencies once
# (~20 min on a loaded machine); the first mutant of each crate builds it once (~2.5 min).
# Results go to target/mutants/<target>/mutants.out (missed.txt lists what to kill; with
# MUTANTS_ITERATE=1 the counts printed are that iteration's only).
# Needs `cargo install --locked cargo-mutants` (27.x).
set -euo pipefail
cd "$(dirname "$0")/.."
# Incremental for the mutants run only: each mutant changes one function of one crate,
# and an incremental rebuild of that crate is much cheaper than a full one. No debuginfo
# for the workspace crates (less to write and link). The same flags on every run, so
# cargo reuses what the previous run built; a plain `cargo test` afterwards rebuilds
# the two workspace crates with its own profile.
export CARGO_INCREMENTAL=1
profile=(-C "--config=profile.dev.debug=0" -C "--config=profile.dev.package.\"*\".debug=2")

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
  # The unit tests take ~1 s: a 30 s test timeout makes an endless-loop mutant cheap;
  # the build timeout covers the first, full build of the crate.
  cargo mutants --in-place --baseline skip --timeout 30 --build-timeout 600 \
    "${extra[@]}" -o "$out" -p "${PACKAGE[$t]}" -f "$file" -C --lib "${profile[@]}" || status=$?
  # 2 = a mutant was missed, 3 = a timeout; anything else (interrupted, broken build)
  # stops here rather than going on to mutate the next file.
  case $status in 0 | 2 | 3) ;; *) exit "$status" ;; esac
  for kind in caught missed unviable timeout; do
    printf '   %-9s %s\n' "$kind" "$(wc -l < "$out/mutants.out/$kind.txt" 2>/dev/null || echo 0)"
  done
done
# cargo-mutants exits 2 when a mutant was missed, 3 on a timeout.
exit $status
