#!/usr/bin/env bash
# The two-node benchmark: one room shared by two nodes of a server through Redis, its senders on
# one node and its receivers on the other, the offered rate raised until it is not kept up with.
# This server (two nodes on PostgreSQL and Redis) and Socket.IO with its Redis adapter, one after
# the other; then the benchmark's section of docs/BENCHMARKS.md.
#
#   bench/two-nodes.sh                                  # both servers
#   bench/two-nodes.sh --servers chat --scale 0.1 --no-report
#
# Everything (nodes, Redis, PostgreSQL) is pinned to core 0 and the load generator to core 1;
# everything runs on loopback and stops by itself.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

SERVERS=chat,socketio
SCALE=1
SECONDS_EACH=5
REPORT=1
while [ $# -gt 0 ]; do
  case "$1" in
    --servers) SERVERS=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --no-report) REPORT=""; shift ;;
    *) echo "unknown argument $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done

source scripts/setup.sh build >&2
bench/peers/setup.sh node
scripts/redis.sh install
export LEPTOS_OUTPUT_NAME=chat
cargo build --release -p server -p loadgen >&2

OUT=target/bench
RESULTS=$OUT/two-nodes-scale-$SCALE.jsonl
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)"
if [ "$(nproc)" -ge 2 ]; then SERVER_CPU=(taskset -c 0); LOAD_CPU=(taskset -c 1); else SERVER_CPU=(); LOAD_CPU=(); fi
PORT_A=39201
PORT_B=39202

PIDS=()
REDIS_DIR=$ROOT/$OUT/two-nodes-redis
stop() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
  scripts/redis.sh stop "$REDIS_DIR"
}
trap stop EXIT

wait_port() {
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on port $1:" >&2
  cat "$OUT"/two-nodes-*.log >&2
  return 1
}

IFS=, read -ra servers <<<"$SERVERS"
for server in "${servers[@]}"; do
  redis=$("${SERVER_CPU[@]}" scripts/redis.sh start "$REDIS_DIR")
  engine_pids=$(cat "$REDIS_DIR/redis.pid")
  case "$server" in
    chat)
      label=chat
      dialect=plain
      database=$(scripts/postgres.sh start)
      postmaster=$(head -n 1 target/pg/data/postmaster.pid)
      # Its backends, forked later, inherit the core.
      taskset -a -p -c 0 "$postmaster" >/dev/null
      secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
      for node in a b; do
        port=PORT_${node^^}
        data=$(mktemp -d)
        # Flood control and the per-address caps are for the open internet; the peer has none.
        "${SERVER_CPU[@]}" target/release/server --addr "127.0.0.1:${!port}" --data-dir "$data" \
          --database-url "$database" --redis-url "$redis" --session-secret "$secret" \
          --messages-per-second 1000000 --message-burst 1000000 --max-connections-per-address 1000000 \
          --new-rooms-per-hour 1000000 --new-sessions-per-minute 1000000 \
          >"$OUT/two-nodes-$node.log" 2>&1 &
        PIDS+=($!)
      done
      ;;
    socketio)
      label=Socket.IO
      dialect=socket-io
      for node in a b; do
        port=PORT_${node^^}
        "${SERVER_CPU[@]}" node bench/peers/node/socketio-room.js "${!port}" "$redis" \
          >"$OUT/two-nodes-$node.log" 2>&1 &
        PIDS+=($!)
      done
      ;;
    *) echo "unknown server $server (chat, socketio)" >&2; exit 2 ;;
  esac
  wait_port "$PORT_A"
  wait_port "$PORT_B"
  # The database's processes are read once the nodes have connected to it.
  sleep 1
  if [ "$server" = chat ]; then
    engine_pids="$engine_pids,$postmaster,$(pgrep -P "$postmaster" | paste -sd,)"
  fi
  echo "== $label: two nodes (pids ${PIDS[*]}), engines $engine_pids" >&2
  "${LOAD_CPU[@]}" target/release/loadgen run --target "127.0.0.1:$PORT_A" --second-target "127.0.0.1:$PORT_B" \
    --server-pid "$(IFS=,; echo "${PIDS[*]}"),$engine_pids" --label "$label" --dialect "$dialect" \
    --scenarios f --scale "$SCALE" --seconds "$SECONDS_EACH" --out "$RESULTS" \
    || echo "loadgen failed against $label" >&2
  stop
  if [ "$server" = chat ]; then scripts/postgres.sh stop; fi
done

if [ -n "$REPORT" ]; then
  cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)
  machine="$(nproc) cores ($cpu), $(free -g | awk '/^Mem:/ {print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), Linux $(uname -r), $(${RUSTC:-rustc} -V | cut -d' ' -f1-2), $(redis-server --version | cut -d' ' -f1-3), PostgreSQL $(psql --version | cut -d' ' -f3)"
  npm_version() { node -p "require('./bench/peers/node/node_modules/$1/package.json').version"; }
  versions="Node $(node -v | tr -d v) with Socket.IO $(npm_version socket.io), @socket.io/redis-adapter $(npm_version @socket.io/redis-adapter), node-redis $(npm_version redis)"
  target/release/loadgen report --results "$RESULTS" --markdown docs/BENCHMARKS.md --svg "$OUT/two-nodes.svg" \
    --machine "$machine" --versions "$versions" --command "bench/two-nodes.sh" --date "$(date -u +%F)"
  echo "wrote docs/BENCHMARKS.md" >&2
fi
