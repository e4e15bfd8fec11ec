#!/usr/bin/env bash
# Part of scripts/bench-peers.sh: one first sync of a large eBay backlog (default 1,000,000
# orders) through `ordervault connection sync` (release binary) from a sandbox started with
# --no-rate-limits, into the embedded SQLite store (BENCH_LARGE_DB=postgres for PostgreSQL).
# Reports orders/s and ordervault's peak RSS, and the sandbox's own CPU and peak RSS
# separately (it runs in its own process).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${BENCH_RESULTS:?run through scripts/bench-peers.sh}"
N="${BENCH_LARGE_ORDERS:-1000000}"
work="$(mktemp -d)"
sb=""
cleanup() { [[ -n "$sb" ]] && kill "$sb" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

/usr/bin/time -v -o "$work/sandbox.time" "$ORDERVAULT_BIN" sandbox --marketplace ebay \
  --orders "$N" --seed 5 --port 0 --no-rate-limits >"$work/sandbox.out" 2>&1 &
sb=$!
for _ in $(seq 1 3000); do grep -q '^base url' "$work/sandbox.out" && break; sleep 0.1; done
base=$(sed -n 's/^base url (--base-url): //p' "$work/sandbox.out")
[[ -n "$base" ]] || { cat "$work/sandbox.out" >&2; exit 1; }
echo '{"client_id":"sandbox-client","client_secret":"sandbox-secret","refresh_token":"sandbox-refresh-token"}' >"$work/ebay.json"

export ORDERVAULT__DATA__DIR="$work/data" ORDERVAULT__SYNC__INITIAL_LOOKBACK_DAYS=8 RUST_LOG=warn
if [[ "${BENCH_LARGE_DB:-sqlite}" == postgres ]]; then
  psql -q "$DATABASE_URL" -c "DROP DATABASE IF EXISTS ovlarge" -c "CREATE DATABASE ovlarge" >/dev/null
  export ORDERVAULT__DATABASE__URL="${DATABASE_URL%/*}/ovlarge"
fi
store="${BENCH_LARGE_DB:-sqlite}"
account=$("$ORDERVAULT_BIN" account create large | jq -r .id)
conn=$("$ORDERVAULT_BIN" connection add --account "$account" --marketplace ebay \
  --credentials-file "$work/ebay.json" --base-url "$base" \
  --auth-url "$base/identity/v1/oauth2/token" | jq -r .connection.id)
# The sandbox runs under /usr/bin/time ($sb): its own process is the child named like the
# binary (whatever ORDERVAULT_BIN is called).
bin_name=$(basename "$ORDERVAULT_BIN")
# Thousands separators whatever the locale (printf's ' flag needs a locale that has them).
thousands() { sed -E ':a;s/^([0-9]+)([0-9]{3})/\1,\2/;ta' <<<"$1"; }
# The sandbox's CPU so far is world generation; the sync's share is what it adds.
sb_cpu0=$(awk '{print ($14 + $15) / 100}' "/proc/$(pgrep -P "$sb" -x "$bin_name" || echo "$sb")/stat" 2>/dev/null || echo 0)
load=$(cut -d' ' -f1 /proc/loadavg)
/usr/bin/time -v -o "$work/sync.time" "$ORDERVAULT_BIN" connection sync "$conn" >"$work/report.json"
sbpid=$(pgrep -P "$sb" -x "$bin_name" || echo "$sb")
sb_cpu1=$(awk '{print ($14 + $15) / 100}' "/proc/$sbpid/stat")
sb_rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$sbpid/status")
orders=$(jq '.inserted' "$work/report.json")
[[ "$(jq -r .outcome "$work/report.json")" == ok ]] || { echo "sync did not end ok:" >&2; cat "$work/report.json" >&2; }
read -r wall cpu rss < <(awk -F': ' '
  /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
  /User time/ { c += $2 } /System time/ { c += $2 }
  /Maximum resident set size/ { r = $2 / 1024 }
  END { printf "%.3f %.3f %.1f\n", w, c, r }' "$work/sync.time")
rate=$(awk -v n="$orders" -v w="$wall" 'BEGIN { printf "%.0f", n / w }')
sb_sync_cpu=$(awk -v a="$sb_cpu0" -v b="$sb_cpu1" 'BEGIN { printf "%.1f", b - a }')
echo "  large: $orders orders in $wall s = $rate orders/s; ordervault CPU $cpu s, peak RSS $rss MB; sandbox CPU during the sync $sb_sync_cpu s, sandbox peak RSS $sb_rss MB; load $load" >&2
printf 'ingest_large\tfirst_sync\tordervault\t1\t%s\t%s\t%s\t%s\n' "$rate" "$cpu" "$rss" "$load" >>"$BENCH_RUNS"
printf '| first sync, %s eBay orders → %s, one run (orders/s; ordervault peak RSS; the sandbox, its own process: CPU during the sync, peak RSS) | %s orders/s (%s orders in %s s, CPU %s s); %s MB | – | sandbox: %s s CPU, %s MB | – | – | %s |\n' \
  "$(thousands "$N")" "$store" "$(thousands "$rate")" "$orders" "$wall" "$cpu" "$rss" "$sb_sync_cpu" "$sb_rss" "$load" >>"$BENCH_RESULTS"
cp "$work/report.json" "$BENCH_DIR/ingest_large_report.json"
