#!/usr/bin/env bash
# RFC 6455 conformance: Autobahn|Testsuite's fuzzingclient, cases 1 to 10, against `/echo` and
# against a room with one client (the relay dialect, whose members get exactly the frames sent).
# Fails when any case FAILED; writes target/autobahn/summary.md and the HTML reports beside it.
#
# Usage: scripts/autobahn.sh [server binary]   (default: target/release/server, built if missing)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

OUT=$PWD/target/autobahn
SERVER_BIN=${1:-target/release/server}
VENV=${AUTOBAHN_VENV:-$HOME/.cache/chat-autobahn/venv}

# Autobahn|Testsuite is Python 2 only.
PY27=${PYTHON27:-}
if [ -z "$PY27" ]; then
  for candidate in "$(pyenv root 2>/dev/null || echo /nonexistent)/versions/2.7.18/bin/python" \
    "$(command -v python2.7 || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then PY27=$candidate; break; fi
  done
fi
if [ -z "$PY27" ]; then
  echo "AUTOBAHN NOT RUN: no Python 2.7 here (looked for pyenv's 2.7.18 and python2.7;" \
    "set PYTHON27 to its path). The conformance suite needs it." >&2
  exit 1
fi

if [ ! -x "$VENV/bin/wstest" ]; then
  say "Autobahn|Testsuite into $VENV (Python $("$PY27" -c 'import platform; print(platform.python_version())'))"
  "$PY27" -m pip install --user -q 'virtualenv<20.22' 2>&1 | grep -v DEPRECATION || true
  rm -rf "$VENV"
  "$PY27" -m virtualenv -q "$VENV"
  "$VENV/bin/pip" install -q autobahntestsuite 2>&1 | grep -v DEPRECATION || true
  [ -x "$VENV/bin/wstest" ] || { echo "installing autobahntestsuite failed" >&2; exit 1; }
fi

if [ ! -x "$SERVER_BIN" ]; then
  say "building the server"
  cargo build --release -p server
fi

rm -rf "$OUT"
mkdir -p "$OUT/data"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The suite's cases 9 and 10 send messages of up to 16 MiB, 1000 at a time: the room's size and
# rate limits are raised for this run only (their own tests are in server/tests/it).
"$SERVER_BIN" --addr "127.0.0.1:$PORT" --data-dir "$OUT/data" \
  --max-message-bytes 16777216 --messages-per-second 1000000 --message-burst 1000000 \
  >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$PORT/healthz', timeout=1)" 2>/dev/null && break
  sleep 0.1
done

cat >"$OUT/spec.json" <<EOF
{
  "outdir": "$OUT/reports",
  "servers": [
    {"agent": "echo", "url": "ws://127.0.0.1:$PORT/echo"},
    {"agent": "room", "url": "ws://127.0.0.1:$PORT/chat/autobahn", "protocols": ["chat.v1.relay"]}
  ],
  "cases": ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "8.*", "9.*", "10.*"],
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
EOF
say "wstest -m fuzzingclient (cases 1-10, two agents)"
(cd "$OUT" && "$VENV/bin/wstest" -m fuzzingclient -s spec.json >wstest.log 2>&1) ||
  { tail -20 "$OUT/wstest.log" >&2; exit 1; }

python3 - "$OUT/reports/index.json" "$OUT/summary.md" <<'EOF'
import collections, json, sys
index = json.load(open(sys.argv[1]))
lines, failed = [], []
for agent in sorted(index):
    cases = index[agent]
    behavior = collections.Counter(c["behavior"] for c in cases.values())
    close = collections.Counter(c["behaviorClose"] for c in cases.values())
    lines.append(f"- {agent}: {len(cases)} cases; behaviour "
                 + ", ".join(f"{k} {v}" for k, v in sorted(behavior.items()))
                 + "; closing " + ", ".join(f"{k} {v}" for k, v in sorted(close.items())))
    for case_id, c in sorted(cases.items(), key=lambda kv: [int(x) for x in kv[0].split(".")]):
        if c["behavior"] not in ("OK", "INFORMATIONAL"):
            lines.append(f"  - {case_id}: {c['behavior']} (closing {c['behaviorClose']})")
        if c["behavior"] in ("FAILED", "UNIMPLEMENTED") or c["behaviorClose"] in ("FAILED", "FAILED BY CLIENT", "WRONG_CODE", "UNCLEAN"):
            failed.append(f"{agent} {case_id}")
text = "\n".join(lines) + "\n"
open(sys.argv[2], "w").write(text)
print(text, end="")
if failed:
    print("FAILED: " + ", ".join(failed))
    sys.exit(1)
EOF
echo "autobahn: no case failed (reports: $OUT/reports/index.html)"
