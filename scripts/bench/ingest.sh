#!/usr/bin/env bash
# Part of scripts/bench-peers.sh (which sets BENCH_*, ORDERVAULT_BIN and the venv): the first
# sync of a seller's eBay backlog into PostgreSQL.
#
#   A  ordervault, as a user runs it: `ordervault sandbox`, `account create`,
#      `connection add`, `connection sync` (release binary, PostgreSQL store, fresh database)
#   B  dlt's rest_api source (offset paginator, 200 per page, csv loader) into the same
#      PostgreSQL, fresh database, same window
#   F  the floor: the same pages fetched with python requests and thrown away
#
# interleaved A B F, three times, against one eBay sandbox started with --no-rate-limits
# (so each tool goes as fast as it can), then one ordervault run against a sandbox with
# eBay's real quota (100,000 calls a day, reported by the rate-limit endpoint), whose calls
# are counted by the sandbox's own report. Every process is measured with /usr/bin/time -v
# (wall, user+sys CPU, peak RSS); `uptime`'s 1-minute load is recorded before each run.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${BENCH_RESULTS:?run through scripts/bench-peers.sh}"
N="${BENCH_INGEST_ORDERS:-20000}"
RUNS="${BENCH_INGEST_RUNS:-3}"
PY="$BENCH_VENV/bin/python"
PG_ROOT="${DATABASE_URL%/*}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

load1() { cut -d' ' -f1 /proc/loadavg; }
fresh_db() {
  psql -q "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
}

# Starts an eBay sandbox; prints its base URL.
start_sandbox() {
  local out="$work/sandbox-$1.out"
  shift
  "$ORDERVAULT_BIN" sandbox --marketplace ebay --orders "$N" --seed 18 --port 0 "$@" >"$out" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 600); do
    if grep -q '^base url' "$out"; then
      sed -n 's/^base url (--base-url): //p' "$out"
      return
    fi
    sleep 0.1
  done
  echo "sandbox did not start" >&2
  cat "$out" >&2
  exit 1
}

creds="$work/ebay.json"
echo '{"client_id":"sandbox-client","client_secret":"sandbox-secret","refresh_token":"sandbox-refresh-token"}' >"$creds"

token_for() {
  curl -sf -u sandbox-client:sandbox-secret -d grant_type=refresh_token \
    -d refresh_token=sandbox-refresh-token \
    --data-urlencode scope=https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly \
    "$1/identity/v1/oauth2/token" | jq -r .access_token
}

# /usr/bin/time -v output → "wall_s cpu_s rss_mb"
measured() {
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
    /User time/ { c += $2 } /System time/ { c += $2 }
    /Maximum resident set size/ { r = $2 / 1024 }
    END { printf "%.3f %.3f %.1f\n", w, c, r }' "$1"
}

record() { # tool run orders wall cpu rss load
  local rate
  rate=$(awk -v n="$3" -v w="$4" 'BEGIN { printf "%.1f", n / w }')
  printf 'ingest\tfirst_sync\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$rate" "$5" "$6" "$7" >>"$BENCH_RUNS"
  printf 'ingest\torders\t%s\t%s\t%s\t\t\t\n' "$1" "$2" "$3" >>"$BENCH_RUNS"
  echo "  $1 run $2: $3 orders in $4 s = $rate orders/s, CPU $5 s, peak RSS $6 MB, load $7" >&2
}

# A: ordervault through its CLI. Echoes the stored order count on the last line.
run_ordervault() { # base_url run label
  local base="$1" run="$2" dir="$work/ov-$2" load
  fresh_db ovbench
  mkdir -p "$dir"
  export ORDERVAULT__DATABASE__URL="$PG_ROOT/ovbench" ORDERVAULT__DATA__DIR="$dir" \
    ORDERVAULT__SYNC__INITIAL_LOOKBACK_DAYS=8 RUST_LOG=warn
  local account conn
  account=$("$ORDERVAULT_BIN" account create bench | jq -r .id)
  conn=$("$ORDERVAULT_BIN" connection add --account "$account" --marketplace ebay \
    --credentials-file "$creds" --base-url "$base" \
    --auth-url "$base/identity/v1/oauth2/token" | jq -r .connection.id)
  load=$(load1)
  /usr/bin/time -v -o "$work/time" "$ORDERVAULT_BIN" connection sync "$conn" >"$work/report.json"
  local orders
  orders=$(psql -tA "$PG_ROOT/ovbench" -c "SELECT count(*) FROM acct_$account.orders")
  read -r wall cpu rss < <(measured "$work/time")
  record "${3:-ordervault}" "$run" "$orders" "$wall" "$cpu" "$rss" "$load"
  unset ORDERVAULT__DATABASE__URL ORDERVAULT__DATA__DIR ORDERVAULT__SYNC__INITIAL_LOOKBACK_DAYS
}

window() { # → "from to" as eBay timestamps: the last 8 days, ending 2 minutes ago (as ordervault)
  "$PY" -c '
import datetime as d
now = d.datetime.now(d.timezone.utc)
f = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
print(f(now - d.timedelta(days=8)), f(now - d.timedelta(minutes=2)))'
}

cat >"$work/dlt_ebay.py" <<'PY'
"""dlt's rest_api source over eBay getOrders into PostgreSQL, as an engineer would set it up."""
import sys
import dlt
from dlt.sources.rest_api import rest_api_source

base, token, frm, to, dsn, workdir = sys.argv[1:7]
source = rest_api_source({
    "client": {
        "base_url": base + "/sell/fulfillment/v1/",
        "auth": {"type": "bearer", "token": token},
        "paginator": {"type": "offset", "limit": 200, "offset_param": "offset",
                      "limit_param": "limit", "total_path": "total"},
    },
    "resources": [{
        "name": "orders",
        "endpoint": {"path": "order", "params": {"filter": f"lastmodifieddate:[{frm}..{to}]"},
                     "data_selector": "orders"},
        "primary_key": "orderId",
        "write_disposition": "merge",
    }],
})
pipeline = dlt.pipeline(pipeline_name="ebay_bench", pipelines_dir=workdir,
                        destination=dlt.destinations.postgres(dsn), dataset_name="ebay")
pipeline.run(source, loader_file_format="csv")
PY

cat >"$work/floor.py" <<'PY'
"""The floor: the same getOrders pages, fetched over one keep-alive connection and dropped."""
import sys
import requests

base, token, frm, to = sys.argv[1:5]
s = requests.Session()
s.headers["Authorization"] = "Bearer " + token
url = base + "/sell/fulfillment/v1/order"
params = {"filter": f"lastmodifieddate:[{frm}..{to}]", "limit": 200, "offset": 0}
total = s.get(url, params=params).json()["total"]
for offset in range(200, total, 200):
    params["offset"] = offset
    r = s.get(url, params=params)
    r.raise_for_status()
    _ = r.content
print(total)
PY

run_dlt() { # base run
  local base="$1" run="$2" load token from to
  fresh_db dltbench
  token=$(token_for "$base")
  read -r from to < <(window)
  rm -rf "$work/dlt"
  load=$(load1)
  # dlt insists on a password; the benchmark server trusts local connections, so any will do.
  /usr/bin/time -v -o "$work/time" "$PY" "$work/dlt_ebay.py" "$base" "$token" "$from" "$to" \
    "$(sed 's|^postgres://\([^:@/]*\)@|postgres://\1:bench@|' <<<"$PG_ROOT")/dltbench" "$work/dlt" >"$work/dlt.log" 2>&1 || { cat "$work/dlt.log" >&2; exit 1; }
  local orders
  orders=$(psql -tA "$PG_ROOT/dltbench" -c "SELECT count(*) FROM ebay.orders")
  read -r wall cpu rss < <(measured "$work/time")
  record dlt "$run" "$orders" "$wall" "$cpu" "$rss" "$load"
}

run_floor() { # base run
  local base="$1" run="$2" load token from to orders
  token=$(token_for "$base")
  read -r from to < <(window)
  load=$(load1)
  orders=$(/usr/bin/time -v -o "$work/time" "$PY" "$work/floor.py" "$base" "$token" "$from" "$to")
  read -r wall cpu rss < <(measured "$work/time")
  record floor "$run" "$orders" "$wall" "$cpu" "$rss" "$load"
}

echo "ingest: $N eBay orders, $RUNS interleaved runs (ordervault, dlt, floor)" >&2
open_base=$(start_sandbox open --no-rate-limits)
for run in $(seq 1 "$RUNS"); do
  run_ordervault "$open_base" "$run"
  run_dlt "$open_base" "$run"
  run_floor "$open_base" "$run"
done

# Against eBay's real quota: the rate-limit report counts every order call the sync made.
limited_base=$(start_sandbox limited)
run_ordervault "$limited_base" 1 ordervault_limited
used=$(curl -sf -H "Authorization: Bearer $(token_for "$limited_base")" \
  "$limited_base/developer/analytics/v1_beta/user_rate_limit/?api_context=sell&api_name=fulfillment" |
  jq -r '.rateLimits[0].resources[0].rates[0] | "\(.count) of \(.limit)"')
printf 'ingest\tquota_used\tordervault_limited\t1\t%s\t\t\t\n' "$used" >>"$BENCH_RUNS"

"$PY" - "$BENCH_RUNS" "$N" >>"$BENCH_RESULTS" <<'PY'
import csv, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t") if r["part"] == "ingest"]
n = int(sys.argv[2])
def of(tool, measure="first_sync"):
    return [r for r in rows if r["tool"] == tool and r["measure"] == measure]
def med(vals):
    return statistics.median(vals) if vals else float("nan")
def span(vals, fmt):
    return f"{fmt(med(vals))} [{fmt(min(vals))}–{fmt(max(vals))}]" if vals else "–"
def orders(tool):
    return [float(r["value"]) for r in of(tool, "orders")]
rate = {t: [float(r["value"]) for r in of(t)] for t in ("ordervault", "dlt", "floor", "ordervault_limited")}
cpu_k = {t: [float(r["cpu_s"]) * 1000 / o * 1000 for r, o in zip(of(t), orders(t))] for t in ("ordervault", "dlt", "floor")}
rss = {t: [float(r["peak_rss_mb"]) for r in of(t)] for t in ("ordervault", "dlt", "floor")}
load = [float(r["load_1min"]) for r in rows if r["measure"] == "first_sync"]
loads = f"{min(load):.2f}–{max(load):.2f}"
ratio = lambda a, b: f"{med(a) / med(b):.2f}×" if a and b else "–"
i = lambda v: f"{v:,.0f}"
one = lambda v: f"{v:,.1f}"
print(f"| first sync, {n:,} eBay orders → PostgreSQL, unlimited sandboxes (orders/s) | {span(rate['ordervault'], i)} | dlt `rest_api`, csv loader: {span(rate['dlt'], i)} | paging without storing: {span(rate['floor'], i)} | {ratio(rate['ordervault'], rate['dlt'])} | {ratio(rate['ordervault'], rate['floor'])} | {loads} |")
print(f"| client CPU per 1,000 orders (ms, user + sys) | {span(cpu_k['ordervault'], i)} | {span(cpu_k['dlt'], i)} | {span(cpu_k['floor'], i)} | {ratio(cpu_k['ordervault'], cpu_k['dlt'])} | – | {loads} |")
print(f"| peak RSS of the client process (MB) | {span(rss['ordervault'], one)} | {span(rss['dlt'], one)} | {span(rss['floor'], one)} | {ratio(rss['ordervault'], rss['dlt'])} | – | {loads} |")
used = next((r["value"] for r in rows if r["measure"] == "quota_used"), "?")
lim = [r for r in rows if r["tool"] == "ordervault_limited" and r["measure"] == "first_sync"]
lim_load = lim[0]["load_1min"] if lim else "?"
print(f"| the same first sync against eBay's quota (100,000 calls/day, reported): orders/s; calls spent | {span(rate['ordervault_limited'], i)}; {used} calls | – | – | – | – | {lim_load} |")
PY
