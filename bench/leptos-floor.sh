#!/usr/bin/env bash
# What Leptos weighs before the chat adds anything: builds `bench/leptos-floor` (a one-component
# client, then the building blocks the chat's page is made of, added one at a time) with the
# page's size profile and the same wasm-bindgen and `wasm-opt -Oz` steps, and prints each wasm's
# size raw and gzipped, beside the chat's own when it is built.
#
#   bench/leptos-floor.sh      # needs what `scripts/setup.sh` installs (wasm32 std, wasm-bindgen, wasm-opt)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT/bench/leptos-floor"
export PATH="$ROOT/end2end/node_modules/.bin:$PATH"
OUT="$ROOT/target/leptos-floor"
mkdir -p "$OUT"
weigh() { # name wasm
  wasm-bindgen --target web --no-typescript --out-dir "$OUT/$1" --out-name floor "$2"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$OUT/$1/floor_bg.wasm" -o "$OUT/$1.wasm"
  printf '| %s | %s B | %s B |\n' "$1" "$(stat -c %s "$OUT/$1.wasm")" "$(gzip -9 -c "$OUT/$1.wasm" | wc -c)"
}
echo "| the client | raw | gzip -9 |"
echo "|---|---|---|"
for features in "" list list,router list,resource list,router,resource list,router,resource,ten; do
  # The same `--cfg erase_components` as the page (the workspace's .cargo/config.toml).
  RUSTFLAGS="--cfg erase_components" CARGO_TARGET_DIR="$OUT/target" \
    cargo build --quiet --locked --release --target wasm32-unknown-unknown --features "$features"
  weigh "${features:-one button}" "$OUT/target/wasm32-unknown-unknown/release/leptos_floor.wasm"
done
site="$ROOT/target/site/pkg/chat.wasm"
if [ -f "$site" ]; then
  printf '| the chat (target/site) | %s B | %s B |\n' "$(stat -c %s "$site")" "$(gzip -9 -c "$site" | wc -c)"
fi
