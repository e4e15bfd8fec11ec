#!/usr/bin/env bash
# Crypto-shredding figures (issue 16) in the release (bench) profile: orders made unreadable per
# second (key destruction) and the physical cleanup time, separately, on SQLite and PostgreSQL,
# with the machine load before and after. Writes the figures into README.md between the
# shred-bench markers. Usage: scripts/bench-shred.sh [SQLITE_ORDERS] [PG_ORDERS]
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export SHRED_BENCH_ORDERS="${1:-1000000}" SHRED_BENCH_PG_ORDERS="${2:-200000}"
export CARGO_INCREMENTAL=0
log=target/bench-shred.log
cargo bench --bench shred --no-run
before=$(uptime)
cargo bench --bench shred 2>&1 | tee "$log" >&2
after=$(uptime)
echo "load before: $before" >&2
echo "load after:  $after" >&2
python3 - "$log" "$before" "$after" <<'PY'
import re, subprocess, sys
log, before, after = sys.argv[1:4]
load = lambda u: u.split("load average:")[1].strip()
lines = [l.strip() for l in open(log) if re.match(r"^(sqlite|postgres): ", l.strip())]
when = subprocess.check_output(["date", "-u", "+%Y-%m-%d %H:%M UTC"]).decode().strip()
block = ["<!-- shred-bench:start -->", "",
         f"`scripts/bench-shred.sh` ({when}, bench profile = release + debug info, 2 shared cores, "
         f"load average before {load(before)}, after {load(after)}):", ""]
block += [f"- {l}" for l in lines] + ["", "<!-- shred-bench:end -->"]
text = open("README.md").read()
start, end = "<!-- shred-bench:start -->", "<!-- shred-bench:end -->"
if start in text:
    text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: "\n".join(block), text, flags=re.S)
    open("README.md", "w").write(text)
print("\n".join(block))
PY
