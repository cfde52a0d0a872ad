#!/usr/bin/env bash
# Installs and builds the peer servers of the fan-out benchmark, from the package registries
# only: Node's ws, uWebSockets.js and Socket.IO (npm), Python's websockets and Tornado (PyPI),
# Go's gorilla/websocket (Debian). Idempotent. Prints nothing on stdout.
#
#   bench/peers/setup.sh        # every peer
#   bench/peers/setup.sh node   # Node's only (ws, uWebSockets.js, Socket.IO and its Redis adapter)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/scripts/lib.sh"
PEERS="$ROOT/bench/peers"
OUT="$ROOT/target/bench"
VENV="${CHAT_BENCH_VENV:-$HOME/.cache/chat-bench/venv}"
mkdir -p "$OUT"

command -v npm >/dev/null || apt_need nodejs npm
stamp="$PEERS/node/node_modules/.installed-lock"
if [ ! -f "$stamp" ] || ! cmp -s "$PEERS/node/package-lock.json" "$stamp"; then
  say "npm ci in bench/peers/node (ws, uWebSockets.js, Socket.IO and its Redis adapter)"
  (cd "$PEERS/node" && npm ci --no-audit --no-fund --loglevel=error >&2)
  cp "$PEERS/node/package-lock.json" "$stamp"
fi
[ "${1:-}" = node ] && exit 0

apt_need python3-venv
if [ ! -x "$VENV/bin/python" ]; then
  say "virtualenv for the Python peers in $VENV"
  python3 -m venv "$VENV"
fi
if ! cmp -s "$PEERS/python/requirements.txt" "$VENV/.installed-requirements"; then
  say "pip install websockets and Tornado"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$PEERS/python/requirements.txt" >&2
  cp "$PEERS/python/requirements.txt" "$VENV/.installed-requirements"
fi

apt_need golang-go golang-github-gorilla-websocket-dev
if [ ! -x "$OUT/gorilla-room" ] || [ "$PEERS/go/gorilla-room/main.go" -nt "$OUT/gorilla-room" ]; then
  say "go build (gorilla/websocket from Debian's packages, no module proxy)"
  (cd "$PEERS/go/gorilla-room" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$OUT/gocache" \
    go build -o "$OUT/gorilla-room" .)
fi
