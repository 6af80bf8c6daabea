#!/usr/bin/env bash
# Builds the sse-web wasm package (release, size-tuned, wasm-opt -Oz) into pkg/ and prints its
# gzipped size. Needs scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
wasm-pack build --release --target bundler --out-dir pkg --out-name sse_web -- --no-default-features --features npm >/tmp/sse-wasm-pack.log 2>&1 || {
  cat /tmp/sse-wasm-pack.log >&2
  echo "build FAILED: wasm-pack build" >&2
  exit 1
}
[ -f pkg/package.json ] || { echo "build FAILED: pkg/package.json missing (wasm-opt failure?)" >&2; exit 1; }
grep -q "Optimizing wasm binaries with .wasm-opt" /tmp/sse-wasm-pack.log \
  || { echo "build FAILED: wasm-pack did not run wasm-opt" >&2; exit 1; }
wasm=$(stat -c %s pkg/sse_web_bg.wasm)
wasm_gz=$(gzip -9 -c pkg/sse_web_bg.wasm | wc -c)
js_gz=$(cat pkg/*.js | gzip -9 -c | wc -c)
echo "size: wasm ${wasm} B raw, ${wasm_gz} B gzip; JS glue ${js_gz} B gzip; total $((wasm_gz + js_gz)) B gzip"
