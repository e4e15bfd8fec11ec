#!/usr/bin/env bash
# Where a PostgreSQL sweep's time goes (issue 18): seeds N due orders once into a template
# database (kept between runs), then per run copies it (CREATE DATABASE … TEMPLATE, so every run
# starts from the same files and keys), turns the statement log on for that copy only, runs
# `ordervault pseudonymize` (release binary; under `perf record` with PERF=1), then the floor
# (`UPDATE <the 9 columns> = NULL WHERE <due>` + `VACUUM FULL`) on a copy of the same rows in the
# same database, and prints server time per statement shape, the sweep's report and the load.
#
# Needs a local server whose log this user can read (PG_LOG, default the Debian path) and
# superuser rights (ALTER DATABASE … SET log_min_duration_statement).
# Env: DATABASE_URL (server), SWEEP_ORDERS (200000), OV_BIN (target/release/ordervault),
#      PROFILE_DIR (target/bench/profile), PERF (0), RESEED (0: reuse the template).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${SWEEP_ORDERS:-200000}
server=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
server=${server%/*}
bin=$(realpath "${OV_BIN:-target/release/ordervault}")
dir=$(realpath -m "${PROFILE_DIR:-target/bench/profile}")
pg_log=${PG_LOG:-$(ls /var/log/postgresql/postgresql-*-main.log | head -1)}
template=ov_profile_seed
db=ov_profile_run
mkdir -p "$dir"
psql_at() { psql "$server/$1" -v ON_ERROR_STOP=1 -qAt "${@:2}"; }
config() { # data-dir database
  cat <<TOML
[data]
dir = "$1"
[database]
url = "$server/$2"
[keys]
master_key_file = "$dir/master.key"
[log]
level = "warn"
TOML
}

cols="shipping_ct email_ct phone_ct billing_ct notes_ct billing_email_ct buyer_ct pickup_ct email_index"
set_null=$(for c in $cols; do printf '%s = NULL, ' "$c"; done)
set_null=${set_null%, }
cutoff_ms=$(( ($(date +%s) - 30 * 86400) * 1000 ))
due="pseudonymized_at IS NULL AND ((fulfilled_at IS NOT NULL AND fulfilled_at <= $cutoff_ms) \
OR (cancelled_at IS NOT NULL AND cancelled_at <= $cutoff_ms) \
OR (fulfilled_at IS NULL AND cancelled_at IS NULL AND placed_at <= $cutoff_ms))"

if [[ ${RESEED:-0} == 1 || ! -f $dir/account ]] ||
  [[ $(psql_at postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$template'") == 0 ]]; then
  psql_at postgres -c "DROP DATABASE IF EXISTS $template" -c "CREATE DATABASE $template"
  rm -rf "$dir/seed-data" "$dir/master.key"
  config "$dir/seed-data" "$template" >"$dir/seed.toml"
  export ORDERVAULT_CONFIG=$dir/seed.toml
  "$bin" keys generate --out "$dir/master.key" >/dev/null
  "$bin" account create sweep-profile --retention-days 30 |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' >"$dir/account"
  ( while sleep 3; do psql_at "$template" -c ANALYZE >/dev/null 2>&1 || true; done ) &
  apid=$!
  "$bin" bench seed --account "$(cat "$dir/account")" --orders "$N" >/dev/null
  kill "$apid"; wait "$apid" 2>/dev/null || true
  a=$(cat "$dir/account")
  psql_at "$template" -c "CREATE TABLE public.plain (LIKE acct_$a.orders INCLUDING ALL)" \
    -c "INSERT INTO public.plain SELECT * FROM acct_$a.orders" -c "VACUUM ANALYZE" -c CHECKPOINT
fi
account=$(cat "$dir/account")

psql_at postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db TEMPLATE $template" \
  -c "ALTER DATABASE $db SET log_min_duration_statement = 0"
rm -rf "$dir/run-data" && cp -a "$dir/seed-data" "$dir/run-data"
config "$dir/run-data" "$db" >"$dir/run.toml"
export ORDERVAULT_CONFIG=$dir/run.toml
psql_at "$db" -c CHECKPOINT
log_from=$(($(wc -l <"$pg_log") + 1))
lb=$(cut -d' ' -f1 /proc/loadavg)
if [[ ${PERF:-0} == 1 ]]; then
  perf record -F 499 -g -o "$dir/perf.data" -- "$bin" pseudonymize --account "$account" >"$dir/report.json"
else
  /usr/bin/time -v "$bin" pseudonymize --account "$account" >"$dir/report.json" 2>"$dir/time.txt"
fi
la=$(cut -d' ' -f1 /proc/loadavg)
tail -n +"$log_from" "$pg_log" >"$dir/statements.log"
t0=$(date +%s.%N)
psql_at "$db" -c "UPDATE public.plain SET $set_null WHERE $due" -c "VACUUM FULL public.plain" >/dev/null
t1=$(date +%s.%N)
lf=$(cut -d' ' -f1 /proc/loadavg)

python3 - "$dir/statements.log" "$dir/report.json" <<'PY'
import collections, json, re, sys
stats = collections.defaultdict(lambda: [0, 0.0])
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"duration: ([\d.]+) ms  (statement|execute)[^:]*: (.*)", line)
    if m:
        key = re.sub(r"\s+", " ", m.group(3))[:110]
        stats[key][0] += 1
        stats[key][1] += float(m.group(1))
print("server time per statement shape (ms, count):")
for key, (n, ms) in sorted(stats.items(), key=lambda kv: -kv[1][1])[:12]:
    print(f"{ms:10.1f} {n:5d}x  {key}")
r = json.load(open(sys.argv[2]))["accounts"][0]
print(f"sweep: {r['duration_ms']} ms; UPDATE phase {r['cleanup_ms'] - r['purge_ms']} ms, "
      f"keys {r['shred_ms']} ms, purge {r['purge_ms']} ms, {r['batches']} batches, {r['pseudonymized']} orders")
PY
python3 -c "print(f'floor (UPDATE + VACUUM FULL on a copy, after the sweep): {$t1 - $t0:.2f} s')"
echo "1-min load: sweep $lb -> $la, floor $la -> $lf"
