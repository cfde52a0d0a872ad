#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the tests, from Debian's packages.
#
#   scripts/postgres.sh start   # installs it if needed, starts it, prints its URL
#   scripts/postgres.sh stop
#
# Its data lives in target/pg and is thrown away on start: tests create their own databases.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/lib.sh"

DIR="$ROOT/target/pg"

# The first free port from CHAT_TEST_PG_PORT (default 55432): another checkout's test server may
# hold the first one.
free_port() {
  local port=${CHAT_TEST_PG_PORT:-55432}
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    port=$((port + 1))
  done
  echo "$port"
}

# PostgreSQL refuses to run as root: as root, run it as the postgres user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$bin" ] || { say "PostgreSQL is not installed"; return 1; }
  echo "$bin"
}

case "${1:-}" in
  start)
    apt_need postgresql
    bin=$(pg_bin)
    if [ -f "$DIR/data/postmaster.pid" ]; then
      as_pg "$bin/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
    mkdir -p "$DIR"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$DIR"
    as_pg "$bin/initdb" -D "$DIR/data" -U chat -A trust -E UTF8 >"$DIR/initdb.log"
    port=$(free_port)
    as_pg "$bin/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
      -o "-p $port -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    echo "postgres://chat@127.0.0.1:$port/postgres"
    ;;
  stop)
    bin=$(pg_bin)
    [ -f "$DIR/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
