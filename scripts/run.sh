#!/usr/bin/env bash
# Sets up whatever is missing, builds the release server and site, and runs the chat server on
# http://127.0.0.1:3000 (arguments are passed to the server: --addr, --data-dir; see --help).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh build
cargo leptos build --release
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
exec target/release/server "$@"
