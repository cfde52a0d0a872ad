#!/usr/bin/env bash
# Sets up whatever is missing, builds the release server and site, and runs the chat server on
# http://127.0.0.1:3000 (arguments are passed to the server: --addr, --data-dir; see --help).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh build
# --precompress: the site is built before the server, which embeds it (with a Brotli and a gzip
# copy of each file); the binary then runs from anywhere, without target/site beside it.
cargo leptos build --release --precompress
exec target/release/server "$@"
