#!/usr/bin/env bash
# Support lookup over HTTP on PostgreSQL, as support staff's page makes it (issue 18, point 4):
# the release binary's `serve`, a support token, exact order-number lookups one after another
# over one keep-alive connection (1 in 10 an unknown number), p50/p90/p99 — against the floor
# of what one lookup must do at least: the order's SELECT and a durable (committed, fsynced)
# audit INSERT, run by pgbench on the same server and tables. Interleaved A B A B A B.
#
# Usage: scripts/bench/lookup.sh [RESULTS.md]
#   Appends `| measure | ordervault | peer | floor | ratio | load |` rows to RESULTS.md
#   (default target/bench/results.md).
# Env: DATABASE_URL (server; database ov_bench_lookup is dropped and created on it),
#      LOOKUP_ORDERS (100000 in the account), LOOKUPS (3000 per run), LOOKUP_RUNS (3),
#      OV_BIN (default target/release/ordervault, built if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
results=${1:-target/bench/results.md}
mkdir -p target/bench "$(dirname "$results")"
N=${LOOKUP_ORDERS:-100000}
LOOKUPS=${LOOKUPS:-3000}
RUNS=${LOOKUP_RUNS:-3}
server=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
server=${server%/*}
db=ov_bench_lookup
url="$server/$db"
bin=${OV_BIN:-target/release/ordervault}
if [[ ! -x $bin ]]; then
  CARGO_INCREMENTAL=0 cargo build --release --bin ordervault
fi
load1() { cut -d' ' -f1 /proc/loadavg; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

psql "$server/postgres" -v ON_ERROR_STOP=1 -qAt -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
work=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(free_port)
metrics_port=$(free_port)
cat >"$work/ordervault.toml" <<TOML
[data]
dir = "$work/data"
[database]
url = "$url"
[keys]
master_key_file = "$work/master.key"
[log]
level = "warn"
[server]
bind = "127.0.0.1:$port"
[metrics]
bind = "127.0.0.1:$metrics_port"
[support]
rate_limit_per_minute = 1000000
[pseudonymize]
enabled = false
TOML
export ORDERVAULT_CONFIG=$work/ordervault.toml
"$bin" keys generate --out "$work/master.key" >/dev/null
# The catalog's data_keys and the account's orders grow from empty while seeding. Without
# statistics the planner looks a key up by (account, kind) and filters on scope, walking every
# key of the account for each lookup, and finds stored orders as badly (README, "Where the
# sweep's time goes"): seeding and the sweep turn quadratic. autoanalyze prevents that on a
# default server; this one runs with autovacuum off, so the loop below does what autoanalyze
# would while seeding.
analyze_keys() { psql "$url" -qAt -c "ANALYZE" >/dev/null 2>&1 || true; }
seed() { # account orders [extra args]
  local a=$1 n=$2 apid; shift 2
  ( while sleep 3; do analyze_keys; done ) &
  apid=$!
  "$bin" bench seed --account "$a" --orders "$n" "$@" >/dev/null
  kill "$apid" 2>/dev/null; wait "$apid" 2>/dev/null || true
  analyze_keys
}
account=$("$bin" account create "lookup-bench" --retention-days 30 |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "seeding $N orders" >&2
seed "$account" "$N" --fulfilled-days-ago 1
token=$("$bin" token create --role support --label "lookup bench" 2>/dev/null)
psql "$url" -qAt -c "VACUUM ANALYZE acct_$account.orders" -c "VACUUM ANALYZE ordervault.support_audit"

"$bin" serve >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done

# The floor: what a lookup cannot do without. One pgbench client, one transaction per lookup
# (the SELECT and the INSERT each commit on their own, as in ordervault).
cat >"$work/floor.sql" <<SQL
\set n random(0, $((N * 10 / 9)))
SELECT * FROM acct_$account.orders WHERE order_number = 'B' || lpad(:n::text, 9, '0');
INSERT INTO ordervault.support_audit (token_id, account_id, order_number, marketplace, result, matches, at) VALUES ('floor', '$account', 'B' || lpad(:n::text, 9, '0'), NULL, 'found', 1, 0);
SQL

client() { # prints "p50 p90 p99 max" in ms
  python3 - "$port" "$token" "$account" "$LOOKUPS" "$N" <<'PY'
import http.client, random, statistics, sys, time
port, token, account, count, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
conn = http.client.HTTPConnection("127.0.0.1", int(port))
headers = {"Authorization": f"Bearer {token}"}
rng = random.Random(7)
lat = []
for i in range(count + 100):
    k = rng.randrange(n) if i % 10 else n + rng.randrange(n)  # 1 in 10 unknown
    t0 = time.perf_counter()
    conn.request("GET", f"/api/v1/support/accounts/{account}/orders/B{k:09d}", headers=headers)
    r = conn.getresponse(); r.read()
    dt = (time.perf_counter() - t0) * 1000
    if r.status not in (200, 404):
        sys.exit(f"lookup answered {r.status}")
    if i >= 100:  # the first 100 warm the connection and caches
        lat.append(dt)
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(f"{q(0.5):.2f} {q(0.9):.2f} {q(0.99):.2f} {lat[-1]:.2f}")
PY
}
floor() {
  rm -f "$work"/pgbench_log.*
  (cd "$work" && pgbench -n -c 1 -t "$LOOKUPS" -f floor.sql -l "$url" >/dev/null 2>&1)
  python3 - "$work" <<'PY'
import glob, sys
lat = sorted(int(l.split()[2]) / 1000 for f in glob.glob(sys.argv[1] + "/pgbench_log.*") for l in open(f))
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(f"{q(0.5):.2f} {q(0.9):.2f} {q(0.99):.2f} {lat[-1]:.2f}")
PY
}

tsv=target/bench/lookup.tsv
printf 'run\ttool\tp50_ms\tp90_ms\tp99_ms\tmax_ms\tload_before\tload_after\n' >"$tsv"
for run in $(seq 1 "$RUNS"); do
  for tool in ordervault floor; do
    lb=$(load1)
    if [[ $tool == ordervault ]]; then r=$(client); else r=$(floor); fi
    la=$(load1)
    printf '%s\t%s\t%s\t%s\t%s\n' "$run" "$tool" "$(tr ' ' '\t' <<<"$r")" "$lb" "$la" >>"$tsv"
    echo "  run $run $tool: p50 p90 p99 max = $r ms (load $lb -> $la)" >&2
  done
done

python3 - "$tsv" "$results" "$N" "$LOOKUPS" <<'PY'
import csv, statistics, sys
tsv, results, n, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = list(csv.DictReader(open(tsv), delimiter="\t"))
out = []
runs = sorted({r["run"] for r in rows})
for run in runs:
    ov = next(r for r in rows if r["run"] == run and r["tool"] == "ordervault")
    fl = next(r for r in rows if r["run"] == run and r["tool"] == "floor")
    out.append(f"| support lookup over HTTP, PostgreSQL, p50 / p99 ({n:,} orders, {count:,} lookups), run {run} "
               f"| {ov['p50_ms']} / {ov['p99_ms']} ms | – | SELECT + durable audit INSERT: {fl['p50_ms']} / {fl['p99_ms']} ms "
               f"| – | p50 {float(ov['p50_ms'])/float(fl['p50_ms']):.2f}×, p99 {float(ov['p99_ms'])/float(fl['p99_ms']):.2f}× floor "
               f"| {ov['load_before']}→{ov['load_after']} / {fl['load_before']}→{fl['load_after']} |")
with open(results, "a") as f:
    f.write("\n".join(out) + "\n")
print("\n".join(out))
PY
