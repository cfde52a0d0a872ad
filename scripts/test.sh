#!/usr/bin/env bash
# Sets up whatever is missing and runs every test: unit and integration tests (cargo), the
# wasm build, and the browser tests (Playwright in Chromium against the release server).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh test

LOG=$(mktemp)
trap 'rm -f "$LOG"; scripts/postgres.sh stop || true' EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "format"
if cargo fmt --version >/dev/null 2>&1; then
  cargo fmt --all --check
else
  echo "rustfmt is not installed: skipped"
fi

# Release everywhere, with the one variable cargo-leptos sets that leptos reads at compile time
# (option_env!): the tests then share every build artifact with `cargo leptos build --release`
# instead of rebuilding leptos, app and server each time.
export LEPTOS_OUTPUT_NAME=chat
step "unit tests: app (protocol, names, log)"
cargo test --release -p app --features ssr 2>&1 | tee -a "$LOG"

step "PostgreSQL on loopback, for the storage suite"
CHAT_TEST_POSTGRES_URL=$(scripts/postgres.sh start)
export CHAT_TEST_POSTGRES_URL
echo "$CHAT_TEST_POSTGRES_URL"

step "unit and integration tests: server (storage suite on SQLite and PostgreSQL; nodes on PostgreSQL and Redis; metrics scraped by Prometheus)"
# The cluster tests start Redis servers of their own: they stop, restart and cut them.
scripts/redis.sh install
# The metrics test scrapes the server with a real Prometheus of its own.
scripts/prometheus.sh install
cargo test --release -p server --features postgres-tests 2>&1 | tee -a "$LOG"

step "the terminal client against a real server (chat-cli tail, send, join in a pseudo-terminal, wss)"
cargo test --release -p chat-cli 2>&1 | tee -a "$LOG"

step "unit tests: the benchmark's load generator"
cargo test --release -p loadgen 2>&1 | tee -a "$LOG"

step "wasm client and release server, the site inside it (cargo leptos build --release --precompress)"
cargo leptos build --release --precompress

step "fuzzing what parses client input (cargo fuzz, 30 s per target)"
(unset LEPTOS_OUTPUT_NAME; scripts/fuzz.sh 30)

step "WebSocket conformance (Autobahn|Testsuite, cases 1-10, /echo and a room)"
scripts/autobahn.sh target/release/server

step "browser tests (Playwright, $CHROMIUM_PATH)"
rm -rf target/e2e-data
(cd end2end && npx playwright test) 2>&1 | tee -a "$LOG"

passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$LOG" | awk '{s+=$4} END {print s+0}')
e2e=$(grep -Eo '^ *[0-9]+ passed' "$LOG" | awk '{s+=$1} END {print s+0}')
printf '\n%d passed, 0 failed\n' "$((passed + e2e))"
