#!/usr/bin/env bash
# A throwaway Redis on loopback, from Debian's packages: the bus between server nodes.
#
#   scripts/redis.sh install        # installs redis-server if needed (the tests start their own)
#   scripts/redis.sh start [DIR]    # installs it if needed, starts it, prints its URL
#   scripts/redis.sh stop [DIR]
#
# It keeps nothing on disk (no snapshots, no append-only file): the bus holds nothing that
# matters after a restart. DIR defaults to target/redis.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/lib.sh"

DIR=${2:-$ROOT/target/redis}

# The first free port from CHAT_REDIS_PORT (default 56379).
free_port() {
  local port=${CHAT_REDIS_PORT:-56379}
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    port=$((port + 1))
  done
  echo "$port"
}

stop() {
  if [ -f "$DIR/redis.pid" ]; then
    kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true
    rm -f "$DIR/redis.pid"
  fi
}

case "${1:-}" in
  install)
    apt_need redis-server
    ;;
  start)
    apt_need redis-server
    stop
    mkdir -p "$DIR"
    port=$(free_port)
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$DIR" \
      --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"
    for _ in $(seq 50); do
      redis-cli -p "$port" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
    echo "redis://127.0.0.1:$port"
    ;;
  stop)
    stop
    ;;
  *)
    echo "usage: $0 install|start|stop [DIR]" >&2
    exit 2
    ;;
esac
