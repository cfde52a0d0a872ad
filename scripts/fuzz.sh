#!/usr/bin/env bash
# Fuzzes everything that parses client input (WebSocket frames as the rooms read them, RFC
# 6455's and the hixie drafts', the plain-text codec, JSON protocol messages, nicknames, room
# names) with cargo-fuzz (libFuzzer, AddressSanitizer), each target for a fixed time, from the
# corpus kept in fuzz/corpus/. New inputs it finds go to a scratch directory, so the repository
# is not changed; copy interesting ones into fuzz/corpus/<target>/ by hand. A crash fails the
# run and leaves its input in fuzz/artifacts/<target>/.
#
# Usage: scripts/fuzz.sh [seconds per target, default 60]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

SECONDS_EACH=${1:-60}
# cargo-fuzz needs a nightly compiler (sanitizers); rustup's is used, not the one the rest of
# the project builds with.
unset RUSTC RUSTDOC RUSTFLAGS
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "FUZZING NOT RUN: no nightly toolchain (rustup toolchain install nightly)." >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  say "cargo install cargo-fuzz"
  cargo install cargo-fuzz --locked --version 0.13.2
fi

SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
for target in ws_reader hixie_reader plain_codec client_message nickname room_name; do
  say "fuzzing $target for ${SECONDS_EACH}s"
  mkdir -p "$SCRATCH/$target"
  status=0
  (cd fuzz && cargo +nightly fuzz run "$target" "$SCRATCH/$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_EACH" -max_len=16384 -timeout=10 -rss_limit_mb=2048) \
    >"$SCRATCH/$target.log" 2>&1 || status=$?
  # libFuzzer's progress lines are many; its last words and any finding are what matter.
  grep -E "^#[0-9]+[[:space:]]+DONE|ERROR|panicked|SUMMARY|Test unit written|^error" "$SCRATCH/$target.log" || true
  if [ "$status" -ne 0 ]; then
    tail -30 "$SCRATCH/$target.log" >&2
    echo "fuzz target $target failed" >&2
    exit 1
  fi
done
echo "fuzzing: no crash in ${SECONDS_EACH}s per target"
