#!/usr/bin/env bash
# Builds the Yew and Leptos example apps (examples/*-counter) for wasm32 into their dist/ folders:
# the app's wasm and JS (wasm-bindgen's `web` target) and its index.html. Needs scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
cargo build -q --target wasm32-unknown-unknown -p yew-counter -p leptos-counter
for app in yew-counter leptos-counter; do
  out="examples/$app/dist"
  rm -rf "$out"
  wasm-bindgen --target web --no-typescript --out-name app --out-dir "$out" "target/wasm32-unknown-unknown/debug/$app.wasm"
  cp "examples/$app/index.html" "$out/"
done
echo "built examples/yew-counter/dist and examples/leptos-counter/dist"
