#!/usr/bin/env bash
# Installs whatever building and testing need and is missing, then exports the environment the
# other scripts use. Idempotent: every step checks first and skips what is already there.
#
#   source scripts/setup.sh build   # toolchain, wasm target, cargo-leptos, wasm-bindgen, sass, wasm-opt
#   source scripts/setup.sh test    # the same, plus Chromium for Playwright
#
# Two kinds of machine are supported:
#   - a developer machine with rustup and internet: `rustup target add wasm32-unknown-unknown`;
#   - a machine that reaches only the package registries (crates.io, npm, PyPI, Debian): Debian's
#     rustc-web toolchain, with the wasm32 standard library built once from Debian's rust source.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WHAT=${1:-build}
CARGO_LEPTOS_VERSION=0.3.11

source "$ROOT/scripts/lib.sh"

# --- Rust toolchain able to build wasm32 -------------------------------------------------------

debian_std_stamp() { echo "$(/usr/bin/rustc --print sysroot)/lib/rustlib/wasm32-unknown-unknown/lib/.std-stamp"; }

use_debian_rust() {
  apt_need rustc-web cargo-web rust-web-src rust-web-llvm lld-22
  export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
  local stamp; stamp=$(debian_std_stamp)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(/usr/bin/rustc -vV)" ]; then
    return 0
  fi
  # What a libstd-rust-dev-wasm32 package would ship: std for wasm32 built from Debian's source.
  say "building the wasm32 standard library for $(/usr/bin/rustc -V) (once)"
  local tmp; tmp=$(mktemp -d)
  mkdir -p "$tmp/src"
  printf '[package]\nname = "wasm_std_probe"\nversion = "0.0.0"\nedition = "2021"\n[lib]\npath = "src/lib.rs"\n' >"$tmp/Cargo.toml"
  echo '#![no_std]' >"$tmp/src/lib.rs"
  (cd "$tmp" && RUSTC_BOOTSTRAP=1 RUSTFLAGS=-Cembed-bitcode=yes \
    cargo build --quiet --release --target wasm32-unknown-unknown \
      -Zbuild-std=std,panic_abort,panic_unwind,proc_macro,test)
  local dest; dest=$(dirname "$stamp")
  as_root mkdir -p "$dest"
  find "$tmp/target/wasm32-unknown-unknown/release/deps" -maxdepth 1 \( -name 'lib*.rlib' -o -name 'lib*.rmeta' \) \
    ! -name 'libwasm_std_probe*' -exec cp {} "$dest/" \;
  /usr/bin/rustc -vV | as_root tee "$stamp" >/dev/null
  rm -rf "$tmp"
}

# The oldest rustc that builds cargo-leptos $CARGO_LEPTOS_VERSION from its lock file.
MIN_RUST_MINOR=96

rustup_is_recent() {
  command -v rustup >/dev/null && command -v rustc >/dev/null || return 1
  local minor
  minor=$(rustc -V | sed -n 's/^rustc 1\.\([0-9]*\)\..*/\1/p')
  [ -n "$minor" ] && [ "$minor" -ge "$MIN_RUST_MINOR" ]
}

choose_rust() {
  # Once this machine has Debian's wasm-capable toolchain, keep using it: switching compilers
  # rebuilds everything.
  if [ -x /usr/bin/rustc ] && [ -f "$(debian_std_stamp)" ]; then
    use_debian_rust
  elif rustup_is_recent && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    :
  elif rustup_is_recent && timeout 120 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then
    say "added the wasm32-unknown-unknown target with rustup"
  else
    say "no rustup toolchain >= 1.$MIN_RUST_MINOR with wasm32 here: using Debian's rustc-web toolchain"
    use_debian_rust
  fi
}

# --- Build tools ------------------------------------------------------------------------------

tool_version_is() { # command expected-version
  command -v "$1" >/dev/null && "$1" --version 2>/dev/null | grep -qw "$2"
}

install_cargo_leptos() {
  tool_version_is cargo-leptos "$CARGO_LEPTOS_VERSION" && return 0
  # no_downloads: find sass, wasm-opt and wasm-bindgen on PATH instead of fetching binaries.
  # Unoptimised and without debug info: it only runs cargo and the tools above, so its own
  # speed does not show (a release build of the site took 2 min 46 s with an optimised one and
  # 2 min 50 s with this), and it builds in 7 min (on an idle 2-core machine) instead of 15 or
  # more, the longest step of a first setup after the server's own release build.
  say "cargo install cargo-leptos $CARGO_LEPTOS_VERSION, unoptimised (first time only)"
  CARGO_PROFILE_DEV_DEBUG=0 CARGO_PROFILE_DEV_DEBUG_ASSERTIONS=false CARGO_PROFILE_DEV_OVERFLOW_CHECKS=false \
    CARGO_INCREMENTAL=0 cargo install --quiet --debug cargo-leptos --version "$CARGO_LEPTOS_VERSION" \
    --locked --features no_downloads
}

install_wasm_bindgen() {
  # cargo-leptos runs whichever wasm-bindgen is on PATH: it must match the crate exactly.
  local version
  version=$(grep -A1 '^name = "wasm-bindgen"$' "$ROOT/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')
  [ -n "$version" ] || { say "no wasm-bindgen in Cargo.lock"; return 1; }
  tool_version_is wasm-bindgen "$version" && return 0
  # Unoptimised too: it builds in 1 min instead of 4, and binds the release wasm in 2.2 s
  # instead of 0.5. Without --locked: the CLI's own lock file names a crate version the index
  # no longer has.
  say "cargo install wasm-bindgen-cli $version, unoptimised (first time only)"
  CARGO_PROFILE_DEV_DEBUG=0 CARGO_PROFILE_DEV_DEBUG_ASSERTIONS=false CARGO_PROFILE_DEV_OVERFLOW_CHECKS=false \
    CARGO_INCREMENTAL=0 cargo install --quiet --debug wasm-bindgen-cli --version "$version" --force
}

# The Debian packages besides the toolchain: npm if missing, Chromium for the browser tests.
install_packages() {
  local want=()
  command -v npm >/dev/null || want+=(nodejs npm)
  if [ "$WHAT" = test ] && [ ! -x "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null; then
    want+=(chromium)
  fi
  [ ${#want[@]} -eq 0 ] || apt_need "${want[@]}"
}

install_node_tools() {
  local dir="$ROOT/end2end" stamp="$ROOT/end2end/node_modules/.installed-lock"
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    say "npm ci in end2end/ (sass, wasm-opt, Playwright; no browser download)"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --no-update-notifier --loglevel=error)
    cp "$dir/package-lock.json" "$stamp"
  fi
}

# Runs the steps given (function names) side by side, and fails if any of them failed. The
# downloads cost no CPU; two compiles together fill each other's single-threaded stretches (the
# last crate, the link), though on 2 cores that gains little: a first setup is bound by CPU.
side_by_side() {
  local pids=() names=() failed=()
  for step in "$@"; do
    # shellcheck disable=SC2086 # a step may be several functions, run in order
    ( for f in ${step//+/ }; do "$f" || exit 1; done; say "done: $step ($SECONDS s)" ) &
    pids+=($!)
    names+=("$step")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed+=("${names[$i]}")
  done
  [ ${#failed[@]} -eq 0 ] || { say "failed: ${failed[*]}"; return 1; }
}

export PATH="$HOME/.cargo/bin:$PATH"
choose_rust
# apt first, then npm: one apt at a time, and npm may come from it.
side_by_side install_cargo_leptos install_wasm_bindgen install_packages+install_node_tools
export PATH="$ROOT/end2end/node_modules/.bin:$PATH"
if [ "$WHAT" = test ] && [ ! -x "${CHROMIUM_PATH:-}" ]; then
  CHROMIUM_PATH=$(command -v chromium)
  export CHROMIUM_PATH
fi
say "ready ($(${RUSTC:-rustc} -V))"
