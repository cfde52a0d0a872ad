#!/usr/bin/env bash
# The fan-out benchmark: this server and each peer in bench/peers, one at a time, under the same
# load from bench/loadgen, the server pinned to core 0 and the load generator to core 1; then the
# benchmark's section of docs/BENCHMARKS.md and its plot, docs/fanout.svg.
#
#   bench/run.sh                                   # every server, every scenario
#   bench/run.sh --servers chat,uws --scenarios a --scale 0.1 --no-report
#
# Servers: chat (this one), ws, uws, socketio, gorilla, websockets, tornado.
# Scenarios: a, e, b (one room of 2,000), d (100 rooms of 100), c (19,000 idle).
# Everything runs on loopback and stops by itself.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

SERVERS=chat,ws,uws,socketio,gorilla,websockets,tornado
SCENARIOS=a,e,b,d,c
SCALE=1
SECONDS_EACH=10
REPORT=1
while [ $# -gt 0 ]; do
  case "$1" in
    --servers) SERVERS=$2; shift 2 ;;
    --scenarios) SCENARIOS=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --no-report) REPORT=""; shift ;;
    *) echo "unknown argument $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done

source scripts/setup.sh build >&2
bench/peers/setup.sh
export LEPTOS_OUTPUT_NAME=chat
cargo build --release -p server -p loadgen >&2

OUT=target/bench
VENV="${CHAT_BENCH_VENV:-$HOME/.cache/chat-bench/venv}"
# One file per scale: a quick small run does not replace the real one's figures.
RESULTS=$OUT/results-scale-$SCALE.jsonl
mkdir -p "$OUT"
# Every connection is a file: servers and generator get all the hard limit allows.
ulimit -n "$(ulimit -Hn)"
PORT=39100
if [ "$(nproc)" -ge 2 ]; then SERVER_CPU=(taskset -c 0); LOAD_CPU=(taskset -c 1); else SERVER_CPU=(); LOAD_CPU=(); fi

label() {
  case "$1" in
    chat) echo chat ;; ws) echo "Node ws" ;; uws) echo uWebSockets.js ;; socketio) echo Socket.IO ;;
    gorilla) echo "Go gorilla" ;; websockets) echo "Python websockets" ;; tornado) echo Tornado ;;
    *) echo "unknown server $1" >&2; return 1 ;;
  esac
}

# Starts server $1 on $PORT in the background; sets SERVER_PID.
start() {
  local data
  case "$1" in
    chat)
      data=$(mktemp -d)
      # Flood control and the per-address caps are for the open internet; the peers have none.
      "${SERVER_CPU[@]}" target/release/server --addr "127.0.0.1:$PORT" --data-dir "$data" \
        --messages-per-second 1000000 --message-burst 1000000 --max-connections-per-address 1000000 \
        --new-rooms-per-hour 1000000 --new-sessions-per-minute 1000000 \
        >"$OUT/server.log" 2>&1 &
      ;;
    ws) "${SERVER_CPU[@]}" node bench/peers/node/ws-room.js "$PORT" >"$OUT/server.log" 2>&1 & ;;
    uws) "${SERVER_CPU[@]}" node bench/peers/node/uws-room.js "$PORT" >"$OUT/server.log" 2>&1 & ;;
    socketio) "${SERVER_CPU[@]}" node bench/peers/node/socketio-room.js "$PORT" >"$OUT/server.log" 2>&1 & ;;
    gorilla) "${SERVER_CPU[@]}" "$OUT/gorilla-room" "$PORT" >"$OUT/server.log" 2>&1 & ;;
    websockets) "${SERVER_CPU[@]}" "$VENV/bin/python" bench/peers/python/websockets_room.py "$PORT" >"$OUT/server.log" 2>&1 & ;;
    tornado) "${SERVER_CPU[@]}" "$VENV/bin/python" bench/peers/python/tornado_room.py "$PORT" >"$OUT/server.log" 2>&1 & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$1 did not start:" >&2
  cat "$OUT/server.log" >&2
  return 1
}

SERVER_PID=""
stop() {
  [ -n "$SERVER_PID" ] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap stop EXIT

IFS=, read -ra servers <<<"$SERVERS"
for server in "${servers[@]}"; do
  name=$(label "$server")
  dialect=plain
  [ "$server" = socketio ] && dialect=socket-io
  # A fresh server for each group of scenarios, so that one's leftovers do not weigh on the next:
  # after (e) a server may still be announcing the storm's leaves (this one announces a dropped
  # member after a grace period of 3 s), which would land in (b)'s first step.
  for group in a,e b d c; do
    wanted=$(tr ',' '\n' <<<"$group" | grep -xF -f <(tr ',' '\n' <<<"$SCENARIOS") | paste -sd, || true)
    [ -n "$wanted" ] || continue
    PORT=$((PORT + 1))
    start "$server"
    echo "== $name: $wanted (pid $SERVER_PID, port $PORT)" >&2
    "${LOAD_CPU[@]}" target/release/loadgen run --target "127.0.0.1:$PORT" --server-pid "$SERVER_PID" \
      --label "$name" --dialect "$dialect" --scenarios "$wanted" --scale "$SCALE" --seconds "$SECONDS_EACH" \
      --out "$RESULTS" || echo "loadgen failed against $name ($wanted)" >&2
    stop
  done
done

if [ -n "$REPORT" ]; then
  cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)
  machine="$(nproc) cores ($cpu), $(free -g | awk '/^Mem:/ {print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), Linux $(uname -r), $(${RUSTC:-rustc} -V | cut -d' ' -f1-2)"
  npm_version() { node -p "require('./bench/peers/node/node_modules/$1/package.json').version"; }
  versions="Node $(node -v | tr -d v) with ws $(npm_version ws), uWebSockets.js $(npm_version @trufflesuite/uws-js-unofficial), Socket.IO $(npm_version socket.io); $(go version | cut -d' ' -f3) with gorilla/websocket $(dpkg-query -W -f='${Version}' golang-github-gorilla-websocket-dev); $("$VENV/bin/python" -V) with websockets $("$VENV/bin/python" -c 'import websockets; print(websockets.__version__)'), Tornado $("$VENV/bin/python" -c 'import tornado; print(tornado.version)')"
  target/release/loadgen report --results "$RESULTS" --markdown docs/BENCHMARKS.md --svg docs/fanout.svg \
    --machine "$machine" --versions "$versions" --command "bench/run.sh" --date "$(date -u +%F)"
  echo "wrote docs/BENCHMARKS.md and docs/fanout.svg" >&2
fi
