#!/usr/bin/env bash
# Times a newcomer's first `./scripts/run.sh`: a fresh clone of HEAD, run with an empty home (no
# cargo tools, no crates downloaded, no npm cache), until the server answers /healthz. What the
# machine already has from Debian (the toolchain, the wasm32 standard library) is not counted:
# on a bare machine `scripts/setup.sh` adds about a minute for it. Each line of output carries
# the seconds since the start. Loopback only; it stops the server it started.
#
#   bench/first-run.sh [PORT]     # default 3999
set -u
PORT=${1:-3999}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d)
trap 'pkill -f "target/release/server --addr 127.0.0.1:$PORT" 2>/dev/null; rm -rf "$WORK"' EXIT
git clone -q "$ROOT" "$WORK/chat"
mkdir -p "$WORK/home"
start=$(date +%s)
(cd "$WORK/chat" && env -i HOME="$WORK/home" TERM=dumb LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
  ./scripts/run.sh --addr "127.0.0.1:$PORT" --data-dir "$WORK/data" 2>&1 | while IFS= read -r line; do
    printf '%5ds %s\n' $(( $(date +%s) - start )) "$line"
  done) &
while ! curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz"; do
  sleep 1
  [ $(( $(date +%s) - start )) -lt 7200 ] || { echo "not serving after 2 hours"; exit 1; }
done
echo "serving after $(( $(date +%s) - start )) s"
