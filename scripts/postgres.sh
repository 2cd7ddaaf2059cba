#!/usr/bin/env bash
# Sourced by test.sh and import-rate.sh: starts a throwaway PostgreSQL server (the machine's, or
# the one scripts/tools.sh unpacked into .tools/postgres) on $POSTGRES_PORT (or a free port) with
# its data in .tools/postgres-run (wiped first; fsync off: nothing here outlives the run), exports
# POSTGRES_URL (superuser `postgres`, trust on loopback) and PSQL and stops the server when the calling
# script exits. initdb and postgres refuse to run as root: as root they run as the `postgres`
# user, or `nobody` where there is none.
source "$(dirname "${BASH_SOURCE[0]}")/local-service.sh"
bin=$( (ls -d "$PWD"/.tools/postgres/usr/lib/postgresql/*/bin /usr/lib/postgresql/*/bin 2>/dev/null || true) | head -n 1)
[ -x "$bin/postgres" ] || { echo "no PostgreSQL server: run scripts/tools.sh postgres" >&2; exit 1; }
if [ -d "$PWD/.tools/postgres/usr/lib/x86_64-linux-gnu" ]; then
  export LD_LIBRARY_PATH="$PWD/.tools/postgres/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
run_as=()
if [ "$(id -u)" = 0 ]; then
  postgres_user=$(id -u postgres 2>/dev/null || id -u nobody)
  run_as=(setpriv --reuid="$postgres_user" --regid="$(id -g "$postgres_user")" --clear-groups --)
fi
data="$PWD/.tools/postgres-run"
rm -rf "$data" && mkdir -p "$data"
[ "$(id -u)" = 0 ] && chown "$postgres_user" "$data"
"${run_as[@]}" "$bin/initdb" -D "$data/db" -U postgres --auth=trust -E UTF8 --locale=C \
  >"$PWD/.tools/postgres-initdb.log" 2>&1 || { cat "$PWD/.tools/postgres-initdb.log" >&2; exit 1; }
port=${POSTGRES_PORT:-$(free_port)}
start_local_service "PostgreSQL" "$PWD/.tools/postgres.log" "$port" \
  "${run_as[@]}" "$bin/postgres" -D "$data/db" -p "$port" -k "$data" \
  -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off
export POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
# psql beside the server (the way-back test runs docs/way-back.sql with it).
export PSQL="$bin/psql"
echo "PostgreSQL at $POSTGRES_URL" >&2
