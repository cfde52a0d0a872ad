#!/usr/bin/env bash
# Several server nodes sharing every room, on loopback: Redis, PostgreSQL and N nodes.
#
#   scripts/cluster.sh start [N]   # builds what is missing; nodes on http://127.0.0.1:3001 … 300N
#   scripts/cluster.sh stop
#
# Each node has its own data directory and log under target/cluster/; they share the database,
# the Redis and the session secret. Arguments after N go to every node (see server --help).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DIR=$ROOT/target/cluster
FIRST_PORT=${CHAT_CLUSTER_FIRST_PORT:-3001}

stop_nodes() {
  for pidfile in "$DIR"/node-*.pid; do
    [ -f "$pidfile" ] || continue
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

case "${1:-}" in
  start)
    n=${2:-3}
    shift $(( $# >= 2 ? 2 : 1 ))
    source scripts/setup.sh build
    cargo leptos build --release --precompress
    stop_nodes
    mkdir -p "$DIR"
    redis=$(scripts/redis.sh start "$DIR/redis")
    database=$(scripts/postgres.sh start)
    secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    for i in $(seq 1 "$n"); do
      port=$((FIRST_PORT + i - 1))
      mkdir -p "$DIR/node-$i"
      target/release/server --addr "127.0.0.1:$port" \
        --data-dir "$DIR/node-$i" --database-url "$database" --redis-url "$redis" \
        --session-secret "$secret" "$@" >"$DIR/node-$i.log" 2>&1 &
      echo $! >"$DIR/node-$i.pid"
    done
    for i in $(seq 1 "$n"); do
      port=$((FIRST_PORT + i - 1))
      for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
      done
      echo "node $i: http://127.0.0.1:$port (log: $DIR/node-$i.log)"
    done
    echo "Redis: $redis"
    echo "PostgreSQL: $database"
    ;;
  stop)
    stop_nodes
    scripts/redis.sh stop "$DIR/redis"
    scripts/postgres.sh stop || true
    ;;
  *)
    echo "usage: $0 start [N] [server flags…] | stop" >&2
    exit 2
    ;;
esac
