#!/usr/bin/env bash
# The page on a slow phone: loads a room page in Chromium with DevTools' "Fast 3G" network and a
# 4x slower CPU, each time in a new browser context (nothing cached), and prints when the HTML,
# the first paint, the wasm and the live (hydrated) page came, and the bytes on the wire.
#
#   bench/page-load.sh [RUNS]    # default 7; needs `cargo leptos build --release --precompress`
#
# The server runs on loopback with a data directory of its own, and stops with the script.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUNS=${1:-7}
PORT=39600
OUT=target/bench/page-load
rm -rf "$OUT" && mkdir -p "$OUT"
[ -x target/release/server ] || { echo "no target/release/server: run cargo leptos build --release --precompress" >&2; exit 1; }
[ -d end2end/node_modules/@playwright ] || { echo "no Playwright: run scripts/setup.sh test" >&2; exit 1; }

target/release/server --addr "127.0.0.1:$PORT" --data-dir "$OUT/data" >"$OUT/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
  sleep 0.1
done
NODE_PATH="$ROOT/end2end/node_modules" CHROMIUM_PATH=${CHROMIUM_PATH:-$(command -v chromium)} \
  node bench/page_load.cjs "http://127.0.0.1:$PORT/r/lobby" "$RUNS"
