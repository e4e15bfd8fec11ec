#!/usr/bin/env bash
# Benchmarks anyone can rerun: ordervault through its release binary, the way a user runs it,
# side by side with the tools a seller or an engineer would pick instead, on the same data and
# the same PostgreSQL, interleaved (A B A B A B), with the raw floor of each measure and the
# machine's load recorded per run. Writes a table of ratios into README.md.
#
# Usage: scripts/bench-peers.sh            (every part)
#        BENCH_PARTS="ingest" scripts/bench-peers.sh
#
# Parts live in scripts/bench/<part>.sh (ingest; sweep and lookup when present). Each one
# appends rows to "$BENCH_RESULTS" in this format (a markdown table row, ratios computed by
# the part itself):
#   | measure | ordervault | peer | floor | ordervault ÷ peer | ordervault ÷ floor | load (1-min) |
# and may write per-run lines to "$BENCH_RUNS" (kept in target/bench/, not in README).
#
# Needs: python3 (venv), PostgreSQL at $DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
# psql, curl, /usr/bin/time. Installs dlt and pganonymize from PyPI into target/bench-venv.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export BENCH_DIR="$PWD/target/bench"
export BENCH_VENV="$PWD/target/bench-venv"
export BENCH_RESULTS="$BENCH_DIR/results.md"
export BENCH_RUNS="$BENCH_DIR/runs.tsv"
export ORDERVAULT_BIN="${ORDERVAULT_BIN:-$PWD/target/release/ordervault}"
mkdir -p "$BENCH_DIR"
: > "$BENCH_RESULTS"
printf 'part\tmeasure\ttool\trun\tvalue\tcpu_s\tpeak_rss_mb\tload_1min\n' > "$BENCH_RUNS"

if [[ ! -x "$BENCH_VENV/bin/python" ]]; then
  python3 -m venv "$BENCH_VENV"
fi
"$BENCH_VENV/bin/pip" install --quiet --disable-pip-version-check \
  'dlt[postgres]' pganonymize psycopg2-binary requests >&2
if [[ -z "${ORDERVAULT_SKIP_BUILD:-}" ]]; then
  cargo build --release --bin ordervault >&2
fi

for part in ${BENCH_PARTS:-ingest ingest_large sweep lookup}; do
  script="scripts/bench/$part.sh"
  if [[ -x "$script" ]]; then
    echo "== $part" >&2
    "$script"
  else
    echo "== $part: $script not present, skipped" >&2
  fi
done

"$BENCH_VENV/bin/python" - "$BENCH_RESULTS" <<'PY'
import os, platform, re, subprocess, sys
rows = [l.rstrip("\n") for l in open(sys.argv[1]) if l.startswith("|")]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
machine = f"{os.cpu_count()} cores ({cpu}), {int(mem)//1024//1024} GiB RAM"
when = subprocess.check_output(["date", "-u", "+%Y-%m-%d %H:%M UTC"]).decode().strip()
dlt = subprocess.run([os.environ["BENCH_VENV"] + "/bin/python", "-c", "import dlt; print(dlt.__version__)"],
                     capture_output=True, text=True).stdout.strip() or "?"
table = ["", f"Last run: {when} on {machine}; dlt {dlt}. Three interleaved runs each; medians, "
         "with the range in brackets; load is the 1-minute load average `uptime` showed before each run.", "",
         "| measure | ordervault | peer | floor | ordervault ÷ peer | ordervault ÷ floor | load (1-min) |",
         "|---|---|---|---|---|---|---|"] + rows + [""]
start, end = "<!-- peers:start -->", "<!-- peers:end -->"
block = start + "\n" + "\n".join(table) + "\n" + end
readme = open("README.md").read()
if start in readme:
    readme = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, readme, flags=re.S)
else:
    readme += "\n" + block + "\n"
open("README.md", "w").write(readme)
print("\n".join(table))
PY
