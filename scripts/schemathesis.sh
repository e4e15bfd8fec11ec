#!/usr/bin/env bash
# OpenAPI conformance: starts `ordervault serve` on a temporary SQLite store with an
# admin, a backoffice and a support token, and runs schemathesis against
# /api/v1/openapi.json with each token, a bounded number of examples per operation
# (one worker: hypothesis raced on its lambda cache with two, a tool error, not an API one).
# Fails on any 5xx, on a status the document does not list, and on a response that does
# not match its schema. schemathesis is installed into a venv under target/.
#
#   scripts/schemathesis.sh            # SCHEMATHESIS_EXAMPLES=25 by default
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

EXAMPLES="${SCHEMATHESIS_EXAMPLES:-25}"
# A fixed seed keeps CI reproducible; SCHEMATHESIS_SEED=random explores further.
SEED="${SCHEMATHESIS_SEED:-12}"
VENV=target/schemathesis-venv
if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check 'schemathesis>=4,<5'
fi

# `.ci/run` sets ORDERVAULT_PREBUILT=1: the test command has just built the binary (a plain
# `cargo build` would rebuild every dependency with other features, minutes on 2 cores).
if [ "${ORDERVAULT_PREBUILT:-0}" != 1 ] || [ ! -x target/debug/ordervault ]; then
  cargo build -q --bin ordervault
fi
BIN="$PWD/target/debug/ordervault"
TMP="$(mktemp -d)"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export ORDERVAULT__DATA__DIR="$TMP/data"
export ORDERVAULT__DATABASE__URL=""
export ORDERVAULT__SERVER__BIND="127.0.0.1:$PORT"
export ORDERVAULT__METRICS__BIND=""
export ORDERVAULT__SYNC__ENABLED=false
export ORDERVAULT__PSEUDONYMIZE__ENABLED=false
# Generated webhook URLs name random hosts: no DNS look-ups for them (the address rule
# itself is covered by tests/it/hardening.rs). No order exists, so nothing is delivered.
export ORDERVAULT__FORWARD__ALLOW_PRIVATE_TARGETS=true
# Enough support lookups for every generated example.
export ORDERVAULT__SUPPORT__RATE_LIMIT_PER_MINUTE=100000
export RUST_LOG=warn
unset ORDERVAULT_MASTER_KEY

ACCOUNT="$("$BIN" account create "Schema shop" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')"
ADMIN="$("$BIN" token create --role admin 2>/dev/null)"
BACKOFFICE="$("$BIN" token create --role backoffice --account "$ACCOUNT" 2>/dev/null)"
SUPPORT="$("$BIN" token create --role support 2>/dev/null)"

"$BIN" serve >"$TMP/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

seed_args=()
if [ "$SEED" != random ]; then seed_args=(--seed "$SEED"); fi

status=0
# Admin last: its run reads account ids from GET /accounts (the document now describes
# that answer) and closes those accounts, the shop included, which revokes the
# backoffice token; run first, it left the backoffice run nothing but 401s.
for role in backoffice support admin; do
  case "$role" in
    admin) token="$ADMIN" ;;
    backoffice) token="$BACKOFFICE" ;;
    support) token="$SUPPORT" ;;
  esac
  echo "schemathesis: $role token, $EXAMPLES examples per operation" >&2
  # From the temp dir: schemathesis keeps its cache in the working directory.
  (cd "$TMP" && "$ROOT/$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
    --url "http://127.0.0.1:$PORT/api/v1" \
    --header "Authorization: Bearer $token" \
    --max-examples "$EXAMPLES" \
    --phases examples,coverage,fuzzing \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --generation-database none \
    --workers 1 \
    "${seed_args[@]}" \
    --no-color) || status=1
done
if [ "$status" -ne 0 ]; then
  echo "schemathesis found mismatches; serve log: " >&2
  tail -n 50 "$TMP/serve.log" >&2
fi
exit "$status"
