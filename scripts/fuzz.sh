#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time (default 30 s each).
#   scripts/fuzz.sh            # all targets, 30 s each
#   FUZZ_SECS=300 scripts/fuzz.sh api_bodies
# Installs cargo-fuzz from crates.io if missing. This toolchain is stable, so
# RUSTC_BOOTSTRAP=1 lets cargo-fuzz use the nightly-only sanitizer flags.
# Crashes land in fuzz/artifacts/<target>/; the script exits non-zero if any target failed.
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${FUZZ_SECS:-30}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
failed=()
for t in "${targets[@]}"; do
    echo "== fuzzing $t for ${secs}s"
    mkdir -p "fuzz/corpus/$t"
    if ! cargo fuzz run "$t" "fuzz/corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048; then
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz targets with findings: ${failed[*]} (see fuzz/artifacts/)" >&2
    exit 1
fi
echo "all fuzz targets ran ${secs}s without findings"
