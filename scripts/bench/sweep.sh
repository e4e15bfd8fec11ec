#!/usr/bin/env bash
# The PostgreSQL pseudonymization sweep, driven as a user drives it, interleaved with a peer
# and the raw floors on the same rows in the same run (issue 18, points 3-4):
#   ordervault   `ordervault pseudonymize --account A` (release binary, its own process) on
#                N due orders seeded with `ordervault bench seed` (the ingest path)
#   pganonymize  the same 9 personal columns cleared (`clear` provider) on a plain copy
#   UPDATE       `UPDATE … SET <the 9 columns> = NULL WHERE <due>` on a plain copy
#   UPDATE + VACUUM FULL   the same, then `VACUUM FULL` of the copy
# Every copy is the seeded account's own table (LIKE … INCLUDING ALL, so the same indexes),
# made before the sweep. Rounds run ordervault, pganonymize, UPDATE, UPDATE + VACUUM FULL in
# turn, SWEEP_RUNS times (A B A B A B); each run records the 1-minute load before and after.
#
# Usage: scripts/bench/sweep.sh [RESULTS.md]
#   Appends `| measure | ordervault | peer | floor | ordervault ÷ peer | ordervault ÷ floor | load |`
#   rows (the seven columns of scripts/bench-peers.sh's table) to RESULTS.md
#   (default target/bench/results.md) and keeps raw numbers in target/bench/sweep.tsv.
# Env: DATABASE_URL (server; a database ov_bench_sweep is dropped and created on it),
#      SWEEP_ORDERS (200000), SWEEP_RUNS (3), OV_BIN (default $ORDERVAULT_BIN as
#      scripts/bench-peers.sh sets it, else target/release/ordervault, built if missing), BENCH_VENV (target/bench-venv; pganonymize is installed there).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
results=${1:-target/bench/results.md}
mkdir -p target/bench "$(dirname "$results")"
N=${SWEEP_ORDERS:-200000}
RUNS=${SWEEP_RUNS:-3}
server=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
server=${server%/*}
db=ov_bench_sweep
url="$server/$db"
bin=${OV_BIN:-${ORDERVAULT_BIN:-target/release/ordervault}}
venv=${BENCH_VENV:-target/bench-venv}

if [[ ! -x $bin ]]; then
  CARGO_INCREMENTAL=0 cargo build --release --bin ordervault
fi
if [[ ! -x $venv/bin/pganonymize ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pganonymize
fi

psql_server() { psql "$server/postgres" -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_db() { psql "$url" -v ON_ERROR_STOP=1 -qAt "$@"; }
load1() { cut -d' ' -f1 /proc/loadavg; }
now_s() { date +%s.%N; }

psql_server -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/ordervault.toml" <<TOML
[data]
dir = "$work/data"
[database]
url = "$url"
[keys]
master_key_file = "$work/master.key"
[log]
level = "warn"
TOML
export ORDERVAULT_CONFIG=$work/ordervault.toml
"$bin" keys generate --out "$work/master.key" >/dev/null

cols="shipping_ct email_ct phone_ct billing_ct notes_ct billing_email_ct buyer_ct pickup_ct email_index"
set_null=$(for c in $cols; do printf '%s = NULL, ' "$c"; done)
set_null=${set_null%, }
# Due under the 30-day retention the accounts get (the seed fulfils orders 60 days ago).
cutoff_ms=$(( ($(date +%s) - 30 * 86400) * 1000 ))
due="pseudonymized_at IS NULL AND ((fulfilled_at IS NOT NULL AND fulfilled_at <= $cutoff_ms) \
OR (cancelled_at IS NOT NULL AND cancelled_at <= $cutoff_ms) \
OR (fulfilled_at IS NULL AND cancelled_at IS NULL AND placed_at <= $cutoff_ms))"

# The catalog's data_keys and the account's orders grow from empty while seeding. ordervault's
# own lookups no longer depend on statistics (README, "Where the time went, and what changed"),
# but the table copies and the raw floors below do: the loop does what autoanalyze would on a
# default server (this one runs with autovacuum off), so every tool sees analyzed tables.
analyze_keys() { psql "$url" -qAt -c "ANALYZE" >/dev/null 2>&1 || true; }
seed() { # account orders [extra args]
  local a=$1 n=$2 apid; shift 2
  ( while sleep 3; do analyze_keys; done ) &
  apid=$!
  "$bin" bench seed --account "$a" --orders "$n" "$@" >/dev/null
  kill "$apid" 2>/dev/null; wait "$apid" 2>/dev/null || true
  analyze_keys
}

tsv=target/bench/sweep.tsv
printf 'run\ttool\trows\tseconds\trows_per_s\tload_before\tload_after\tdetail\n' >"$tsv"
record() { # run tool rows seconds load_before load_after detail
  local rate
  rate=$(python3 -c "print(round($3 / $4))")
  printf '%s\t%s\t%s\t%.3f\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$rate" "$5" "$6" "$7" >>"$tsv"
  printf '  %-22s %7s rows in %6.2f s = %6s rows/s (load %s -> %s) %s\n' "$2" "$3" "$4" "$rate" "$5" "$6" "$7" >&2
}

for run in $(seq 1 "$RUNS"); do
  echo "== round $run of $RUNS: seeding $N due orders" >&2
  account=$("$bin" account create "sweep-bench-$run" --retention-days 30 |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  seed "$account" "$N"
  schema="acct_$account"
  for copy in pganonymize update update_vf; do
    psql_db -c "DROP TABLE IF EXISTS public.plain_$copy" \
      -c "CREATE TABLE public.plain_$copy (LIKE $schema.orders INCLUDING ALL)" \
      -c "INSERT INTO public.plain_$copy SELECT * FROM $schema.orders"
  done
  psql_db -c "VACUUM ANALYZE $schema.orders" -c "VACUUM ANALYZE public.plain_pganonymize" \
    -c "VACUUM ANALYZE public.plain_update" -c "VACUUM ANALYZE public.plain_update_vf" -c "CHECKPOINT"
  due_rows=$(psql_db -c "SELECT count(*) FROM $schema.orders WHERE $due")

  # A: ordervault, as an operator runs it.
  lb=$(load1); t0=$(now_s)
  "$bin" pseudonymize --account "$account" >"$work/report.json"
  t1=$(now_s); la=$(load1)
  detail=$(python3 - "$work/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["accounts"][0]
print(f"sweep {r['duration_ms']} ms: cleanup {r['cleanup_ms']} ms (of which VACUUM {r.get('purge_ms', '?')} ms), "
      f"key destruction {r['shred_ms']} ms, "
      f"{r['batches']} batches, {r['day_keys_destroyed']} day keys destroyed, pseudonymized {r['pseudonymized']}")
PY
)
  done_rows=$(python3 -c "import json; print(json.load(open('$work/report.json'))['pseudonymized'])")
  if [[ $done_rows != "$due_rows" ]]; then
    echo "ordervault pseudonymized $done_rows of $due_rows due rows" >&2
    exit 1
  fi
  record "$run" ordervault "$due_rows" "$(python3 -c "print($t1 - $t0)")" "$lb" "$la" "$detail"

  # B: pganonymize clears the same columns on its copy.
  {
    echo "tables:"
    echo "  - plain_pganonymize:"
    echo "      primary_key: id"
    echo "      search: \"$due\""
    echo "      fields:"
    for c in $cols; do
      echo "        - $c:"
      echo "            provider:"
      echo "              name: clear"
    done
  } >"$work/pganonymize.yml"
  lb=$(load1); t0=$(now_s)
  "$venv/bin/pganonymize" --schema "$work/pganonymize.yml" --dbname "$db" \
    --host 127.0.0.1 --port 5432 --user postgres >"$work/pganonymize.log" 2>&1
  t1=$(now_s); la=$(load1)
  left=$(psql_db -c "SELECT count(*) FROM public.plain_pganonymize WHERE email_ct IS NOT NULL OR shipping_ct IS NOT NULL")
  if [[ $left != 0 ]]; then
    echo "pganonymize left $left rows with personal columns" >&2
    cat "$work/pganonymize.log" >&2
    exit 1
  fi
  record "$run" pganonymize "$due_rows" "$(python3 -c "print($t1 - $t0)")" "$lb" "$la" "clear provider"

  # Floors: the raw statement, then the raw statement and the rewrite.
  lb=$(load1); t0=$(now_s)
  psql_db -c "UPDATE public.plain_update SET $set_null WHERE $due"
  t1=$(now_s); la=$(load1)
  record "$run" update "$due_rows" "$(python3 -c "print($t1 - $t0)")" "$lb" "$la" ""

  lb=$(load1); t0=$(now_s)
  psql_db -c "UPDATE public.plain_update_vf SET $set_null WHERE $due" -c "VACUUM FULL public.plain_update_vf" >/dev/null
  t1=$(now_s); la=$(load1)
  record "$run" update_vacuum_full "$due_rows" "$(python3 -c "print($t1 - $t0)")" "$lb" "$la" ""

  "$bin" account close "$account" >/dev/null
done

python3 - "$tsv" "$results" "$N" <<'PY'
import csv, statistics, sys
tsv, results, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = list(csv.DictReader(open(tsv), delimiter="\t"))
by_run = {}
for r in rows:
    by_run.setdefault(r["run"], {})[r["tool"]] = r
def rate(r): return float(r["rows_per_s"])
out = []
for run, t in sorted(by_run.items()):
    ov, pg, up, vf = t["ordervault"], t["pganonymize"], t["update"], t["update_vacuum_full"]
    load = " / ".join(f"{x['load_before']}→{x['load_after']}" for x in (ov, pg, up, vf))
    out.append(f"| pseudonymize {n:,} due orders, PostgreSQL, run {run} (rows/s) | {rate(ov):,.0f} ({float(ov['seconds']):.1f} s) "
               f"| pganonymize clear: {rate(pg):,.0f} ({float(pg['seconds']):.1f} s) "
               f"| UPDATE: {rate(up):,.0f}; UPDATE + VACUUM FULL: {rate(vf):,.0f} ({float(vf['seconds']):.1f} s) "
               f"| {rate(ov)/rate(pg):.2f}× | {rate(ov)/rate(vf):.2f}× UPDATE + VACUUM FULL | {load} |")
med = lambda tool: statistics.median(rate(t[tool]) for t in by_run.values())
out.append(f"| pseudonymize {n:,} due orders, PostgreSQL, median of {len(by_run)} (rows/s) | {med('ordervault'):,.0f} "
           f"| pganonymize clear: {med('pganonymize'):,.0f} | UPDATE: {med('update'):,.0f}; UPDATE + VACUUM FULL: {med('update_vacuum_full'):,.0f} "
           f"| {med('ordervault')/med('pganonymize'):.2f}× | {med('ordervault')/med('update_vacuum_full'):.2f}× UPDATE + VACUUM FULL "
           f"| 1-min load before→after, per tool: ordervault / pganonymize / UPDATE / UPDATE + VACUUM FULL |")
with open(results, "a") as f:
    f.write("\n".join(out) + "\n")
print("\n".join(out))
PY
