#!/usr/bin/env bash
# Sourced by test.sh and import-rate.sh: starts a throwaway PostgreSQL server (the machine's, or
# the one scripts/tools.sh unpacked into .tools/postgres) on $POSTGRES_PORT (or a free port), its
# data in a new temporary folder (fsync off: nothing here outlives the run), exports POSTGRES_URL
# (superuser `postgres`, trust on loopback, no Unix socket) and PSQL, and stops the server when
# the calling script exits. initdb and postgres refuse to run as root: as root they run as the
# `postgres` user, created (as Debian's package would) where there is none.
source "$(dirname "${BASH_SOURCE[0]}")/local-service.sh"
bin=
for dir in "$PWD"/.tools/postgres/usr/lib/postgresql/*/bin /usr/lib/postgresql/*/bin; do
  if [ -x "$dir/postgres" ] && [ -x "$dir/psql" ]; then bin=$dir; break; fi
done
[ -n "$bin" ] || { echo "no PostgreSQL server: run scripts/tools.sh postgres" >&2; exit 1; }
run_as=()
if [ -d "$PWD/.tools/postgres/usr/lib/x86_64-linux-gnu" ] || [ -d "$PWD/.tools/postgres/usr/lib/aarch64-linux-gnu" ]; then
  run_as=(env "LD_LIBRARY_PATH=$(ls -d "$PWD"/.tools/postgres/usr/lib/*-linux-gnu | paste -sd:)")
fi
data=$(mktemp -d "${TMPDIR:-/tmp}/custody-postgres.XXXXXX")
if [ "$(id -u)" = 0 ]; then
  id -u postgres >/dev/null 2>&1 || useradd --system --user-group --no-create-home postgres
  chown postgres "$data"
  run_as=(setpriv --reuid=postgres --regid=postgres --clear-groups -- "${run_as[@]}")
fi
"${run_as[@]}" "$bin/initdb" -D "$data/db" -U postgres --auth=trust -E UTF8 --locale=C \
  >"$PWD/.tools/postgres-initdb.log" 2>&1 || { cat "$PWD/.tools/postgres-initdb.log" >&2; exit 1; }
port=${POSTGRES_PORT:-$(free_port)}
start_local_service "PostgreSQL" "$PWD/.tools/postgres.log" "$port" \
  "${run_as[@]}" "$bin/postgres" -D "$data/db" -p "$port" -c unix_socket_directories= \
  -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off
# After the server is stopped (start_local_service's trap), its data goes.
stop_server=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/; s/[; ]+$//")
# (No quotes in a trap: the next script that chains onto it reads it back with `trap -p`.)
trap "$stop_server; sleep 0.5; rm -rf $data" EXIT
export POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
# psql beside the server (the way-back test runs docs/way-back.sql with it).
export PSQL="$bin/psql"
echo "PostgreSQL at $POSTGRES_URL (data in $data)" >&2
