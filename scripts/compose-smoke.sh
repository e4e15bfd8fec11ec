#!/usr/bin/env bash
# Runs docker-compose.yml for real, with rootful podman + podman-compose, and checks that orders
# flow into PostgreSQL through it. Called by .ci/run; needs root. Steps:
#   1. installs podman, podman-compose, runc and debootstrap from Debian's packages if missing;
#   2. writes a containers.conf (runc, cgroupfs, ulimits within the host's hard limits) under the
#      image cache and points CONTAINERS_CONF at it, so the host's podman set-up is untouched;
#   3. makes the base images locally, as nothing can be pulled here: debian:bookworm-slim from
#      `debootstrap --variant=minbase bookworm` (tarball cached in $ORDERVAULT_IMAGE_CACHE, default
#      /var/cache/ordervault-images, so reruns skip it), postgres:15 from Debian's postgresql-15
#      (scripts/images/postgres), and ordervault from the already-built debug binary
#      (BUILDER=prebuilt, BINARY=target/debug/ordervault; built with cargo if missing);
#   4. brings the stack up with a throw-away master key owned by the image's uid 10001, polls
#      PostgreSQL and /healthz (podman-compose ignores `condition: service_healthy`);
#   5. in the ordervault container: an eBay sandbox on the container's loopback, an account, a
#      token, a connection; waits for serve's sync workers to bring its orders in, then counts
#      them over the HTTP API and in PostgreSQL;
#   6. tears everything down (containers, pod, volume, secrets), also on failure.
# Exits non-zero, with the containers' logs, when any step fails. Image builds use the host's
# network (Debian's packages, as the host's own apt does); the containers talk only to each
# other on the network podman creates and to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE_DIR="${ORDERVAULT_IMAGE_CACHE:-/var/cache/ordervault-images}"
PROJECT="${ORDERVAULT_SMOKE_PROJECT:-ordervault-smoke}"
BINARY=target/debug/ordervault
APP_UID=10001
SANDBOX_ORDERS=60
SANDBOX_PORT=9901
WAIT_SECS=120

log() { echo "compose-smoke: $*" >&2; }
die() {
  log "FAILED: $*"
  exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (rootful podman)"

# --- 1. tools ---------------------------------------------------------------------------------
missing=()
for tool in podman podman-compose runc debootstrap curl; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman podman-compose runc debootstrap curl >/dev/null
fi

# --- 2. containers.conf -----------------------------------------------------------------------
mkdir -p "$CACHE_DIR"
# The host's hard limits cap what a container may get; podman's defaults ask for more.
hard_nofile="$(ulimit -Hn)"
hard_nproc="$(ulimit -Hu)"
cap() { if [ "$1" = unlimited ] || [ "$1" -gt "$2" ]; then echo "$2"; else echo "$1"; fi; }
nofile="$(cap "$hard_nofile" 20000)"
nproc="$(cap "$hard_nproc" 32768)"
export CONTAINERS_CONF="$CACHE_DIR/containers.conf"
cat >"$CONTAINERS_CONF" <<EOF
# Written by ordervault's scripts/compose-smoke.sh; used only through CONTAINERS_CONF.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
# crun refuses this host's hybrid cgroup layout; runc runs on it.
runtime = "runc"
# No systemd here.
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF

# --- 3. images --------------------------------------------------------------------------------
started=$SECONDS
base_tar="$CACHE_DIR/debian-bookworm-minbase.tar"
if ! podman image exists docker.io/library/debian:bookworm-slim; then
  if [ ! -s "$base_tar" ]; then
    log "debootstrap --variant=minbase bookworm (once; cached in $base_tar)"
    rootfs="$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$CACHE_DIR/debootstrap.log" 2>&1 ||
      { tail -n 20 "$CACHE_DIR/debootstrap.log" >&2; rm -rf "$rootfs"; die "debootstrap failed"; }
    # Like the official image: updates and security fixes too, no package cache.
    printf 'deb http://deb.debian.org/debian %s main\n' bookworm bookworm-updates >"$rootfs/etc/apt/sources.list"
    echo 'deb http://deb.debian.org/debian-security bookworm-security main' >>"$rootfs/etc/apt/sources.list"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar --numeric-owner -C "$rootfs" -cf "$base_tar.tmp" .
    mv "$base_tar.tmp" "$base_tar"
    rm -rf "$rootfs"
  fi
  log "importing $base_tar as debian:bookworm-slim"
  podman import --quiet --change 'CMD ["bash"]' "$base_tar" docker.io/library/debian:bookworm-slim >/dev/null
fi

build() { # build LOG ARGS...: podman build, its output kept in LOG and shown when it fails
  out="$CACHE_DIR/$1"
  shift
  podman build --format docker --pull=never --network=host "$@" >"$out" 2>&1 ||
    { tail -n 30 "$out" >&2; die "podman build $* failed"; }
}
log "building postgres:15 from Debian's postgresql-15"
build build-postgres.log -t docker.io/library/postgres:15 scripts/images/postgres

if [ ! -x "$BINARY" ]; then
  log "no $BINARY yet; building it"
  cargo build --bin ordervault
fi
log "building ordervault:latest from $BINARY"
build build-ordervault.log --build-arg BUILDER=prebuilt --build-arg BINARY="$BINARY" \
  -t localhost/ordervault:latest .
# Each new binary leaves the image it replaced and its copy stage untagged and childless
# ("dangling"); prune drops those and keeps the cached layers that tagged images still build on.
podman image prune -f >/dev/null
log "images ready in $((SECONDS - started)) s"

# --- 4. up ------------------------------------------------------------------------------------
secrets="$(mktemp -d)"
compose() { podman-compose -p "$PROJECT" -f docker-compose.yml "$@"; }
pg="${PROJECT}_postgres_1"
app="${PROJECT}_ordervault_1"
teardown() {
  status=$?
  if [ "$status" != 0 ]; then
    log "logs of $pg:"
    podman logs --tail 40 "$pg" >&2 2>&1 || true
    log "logs of $app:"
    podman logs --tail 40 "$app" >&2 2>&1 || true
    if [ -s "$secrets/cli.log" ]; then
      log "log of the CLI commands run in $app:"
      tail -n 20 "$secrets/cli.log" >&2
    fi
  fi
  log "tearing down"
  compose down -v -t 5 >/dev/null 2>&1 || true
  podman pod rm -f "pod_$PROJECT" >/dev/null 2>&1 || true
  podman volume rm -f "${PROJECT}_pgdata" >/dev/null 2>&1 || true
  podman volume rm -f "${PROJECT}_keyring" >/dev/null 2>&1 || true
  rm -rf "$secrets"
  exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# A fresh key, owned by the image's fixed uid as README says: the file secret is a bind mount
# that keeps the host's owner and mode (0600).
"$BINARY" keys generate --out "$secrets/master.key" >/dev/null
chown "$APP_UID:$APP_UID" "$secrets/master.key"
echo ordervault-dev-password >"$secrets/postgres_password"
chmod 0600 "$secrets/postgres_password"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export ORDERVAULT_PORT="$port" ORDERVAULT_SECRETS_DIR="$secrets"
compose down -v -t 5 >/dev/null 2>&1 || true # leftovers of an interrupted run
up_started=$SECONDS
log "podman-compose up (ordervault on 127.0.0.1:$port)"
compose up -d --no-build >"$secrets/up.log" 2>&1 || { cat "$secrets/up.log" >&2; die "podman-compose up failed"; }

wait_for() { # wait_for WHAT COMMAND...: polls COMMAND once a second for WAIT_SECS
  what="$1"
  shift
  for _ in $(seq 1 "$WAIT_SECS"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  die "$what not up after $WAIT_SECS s"
}
# Over TCP: on first start the init server listens on the socket only.
wait_for "PostgreSQL" podman exec "$pg" pg_isready -q -h 127.0.0.1 -U ordervault -d ordervault
wait_for "ordervault /healthz" curl -fsS "http://127.0.0.1:$port/healthz"
log "stack healthy in $((SECONDS - up_started)) s: $(curl -fsS "http://127.0.0.1:$port/healthz")"
restarts="$(podman inspect --format '{{.RestartCount}}' "$app")"
log "ordervault container restarts: $restarts"

# --- 5. orders through a sandbox, into PostgreSQL ---------------------------------------------
# The CLI runs inside the ordervault container (its configuration, its network); its log lines go
# to a file that is shown only when a step fails. The sync itself is done by the sync workers of
# the running `serve`, as in production.
in_app() { podman exec "$app" "$@" 2>>"$secrets/cli.log"; }
podman exec -d "$app" sh -c "exec ordervault sandbox --marketplace ebay --orders $SANDBOX_ORDERS \
  --port $SANDBOX_PORT --no-rate-limits >/tmp/sandbox.out 2>&1" >/dev/null
wait_for "the eBay sandbox" in_app grep -q 'connection file for it' /tmp/sandbox.out
in_app sh -c "sed -n '/connection file for it/{n;p;}' /tmp/sandbox.out >/tmp/ebay.json"

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
account="$(in_app ordervault account create "Smoke shop" --retention-days 30 | json_field id)"
token="$(in_app ordervault token create --role backoffice --account "$account" --label smoke)"
in_app ordervault connection add --account "$account" --marketplace ebay \
  --credentials-file /tmp/ebay.json --base-url "http://127.0.0.1:$SANDBOX_PORT" \
  --auth-url "http://127.0.0.1:$SANDBOX_PORT/identity/v1/oauth2/token" --interval 10s >/dev/null

api_count() {
  curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/orders/new?limit=500" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["orders"]))'
}
orders_synced() { [ "$(api_count)" -gt 0 ]; }
wait_for "orders from the sandbox (synced by serve)" orders_synced
api_orders="$(api_count)"
# Read after the API: a later poll may only add orders, so PostgreSQL holds at least as many.
pg_orders="$(podman exec "$pg" psql -U ordervault -d ordervault -tAq \
  -c "SELECT count(*) FROM acct_$account.orders")"
log "orders: $api_orders over the API, $pg_orders rows in PostgreSQL schema acct_$account (sandbox world: $SANDBOX_ORDERS)"
[ "$pg_orders" -ge "$api_orders" ] || die "PostgreSQL holds fewer orders than the API returned"
[ "$(podman inspect --format '{{.RestartCount}}' "$app")" = "$restarts" ] || die "ordervault restarted during the run"
log "passed in $SECONDS s"
