#!/bin/sh
# Entrypoint of the Debian-built postgres:15 stand-in: the parts of the official image's
# docker-entrypoint.sh that docker-compose.yml relies on. First start: initdb in $PGDATA with
# $POSTGRES_USER as superuser and $POSTGRES_PASSWORD (scram-sha-256 over TCP), create
# $POSTGRES_DB; every start: run postgres as the postgres user, listening on all interfaces.
# Each of POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, POSTGRES_INITDB_ARGS may instead be read
# from a file named by the same variable with _FILE appended (a file secret).
# It never prints the password.
set -eu

# file_env VAR [DEFAULT]: VAR from $VAR or from the file named by $VAR_FILE, not both.
file_env() {
	var="$1"
	def="${2:-}"
	val="$(printenv "$var" || true)"
	file="$(printenv "${var}_FILE" || true)"
	if [ -n "$val" ] && [ -n "$file" ]; then
		echo "error: both $var and ${var}_FILE are set (they are exclusive)" >&2
		exit 1
	fi
	if [ -n "$file" ]; then
		val="$(cat "$file")"
	fi
	export "$var"="${val:-$def}"
	unset "${var}_FILE"
}

first="${1:-postgres}"
if [ "$first" = postgres ] || [ "${first#-}" != "$first" ]; then
	# Options alone (postgres -c ...) go to postgres, as in the official image.
	[ "$first" = postgres ] && [ $# -gt 0 ] || set -- postgres "$@"
	PGDATA="${PGDATA:-/var/lib/postgresql/data}"
	export PGDATA

	if [ "$(id -u)" = 0 ]; then
		# Secrets are read as root (a bind-mounted secret may be readable only by root), then
		# handed over in the environment of the unprivileged re-exec.
		file_env POSTGRES_USER postgres
		file_env POSTGRES_PASSWORD
		file_env POSTGRES_DB "$POSTGRES_USER"
		file_env POSTGRES_INITDB_ARGS
		mkdir -p "$PGDATA" /var/run/postgresql
		chown postgres:postgres "$PGDATA" /var/run/postgresql
		chmod 0700 "$PGDATA"
		exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
	fi

	file_env POSTGRES_USER postgres
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS

	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		if [ -z "$POSTGRES_PASSWORD" ]; then
			echo "error: POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) must be set" >&2
			exit 1
		fi
		pwfile="$(mktemp)"
		printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
		# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of arguments
		initdb --username="$POSTGRES_USER" --pwfile="$pwfile" \
			--auth-local=trust --auth-host=scram-sha-256 $POSTGRES_INITDB_ARGS >/dev/null
		rm -f "$pwfile"
		echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
		pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
		if [ "$POSTGRES_DB" != postgres ]; then
			# psql quotes the name (:"db"); -c would not interpolate it, stdin does.
			echo 'CREATE DATABASE :"db";' | psql -v ON_ERROR_STOP=1 -q \
				--username "$POSTGRES_USER" --dbname postgres --set db="$POSTGRES_DB"
		fi
		pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
		echo "PostgreSQL initialised in $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
	fi
	unset POSTGRES_PASSWORD
	exec "$@" -c listen_addresses='*'
fi

exec "$@"
