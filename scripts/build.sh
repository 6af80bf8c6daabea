#!/usr/bin/env bash
# Builds the npm package `sse-web` into pkg/: the engine (release, size-tuned, no_std, wasm-opt
# -Oz, wasm-bindgen's `web` target) and the JS shell (src/js/). Prints the gzipped size of what a page
# loads. Needs scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
rm -rf pkg
# Size: core and alloc rebuilt with panics that abort on the spot, so no panic message, location or
# formatting code is linked (stable rustc, its own unstable flags allowed for this build only). Own
# target dir, so these flags do not invalidate the test builds.
export RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=core,alloc CARGO_TARGET_DIR=target/npm \
  RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none -Ctarget-feature=-reference-types"
wasm-pack build --release --target web --out-dir pkg --out-name sse_web -- --no-default-features --features npm \
  >/tmp/sse-wasm-pack.log 2>&1 || {
  cat /tmp/sse-wasm-pack.log >&2
  echo "build FAILED: wasm-pack build" >&2
  exit 1
}
grep -q "Optimizing wasm binaries with .wasm-opt" /tmp/sse-wasm-pack.log \
  || { echo "build FAILED: wasm-pack did not run wasm-opt" >&2; exit 1; }
cp src/js/index.js src/js/index.d.ts src/js/event_source.js src/js/share.js pkg/
# The package's own README (wasm-pack copied the repository's, which is about developing it).
cp src/js/README.md pkg/README.md
cp LICENSE-MIT LICENSE-APACHE pkg/
node - <<'JS'
const fs = require('fs');
const generated = JSON.parse(fs.readFileSync('pkg/package.json', 'utf8'));
const pkg = {
  name: 'sse-web',
  version: generated.version,
  description: 'A drop-in EventSource over fetch streams: any method, headers, body, backoff; WHATWG-exact by default. Pages, Workers, Node.',
  license: 'MIT OR Apache-2.0',
  repository: { type: 'git', url: 'git+https://github.com/sse-rs/sse.git' },
  type: 'module',
  main: './index.js',
  types: './index.d.ts',
  exports: { '.': { types: './index.d.ts', default: './index.js' }, './package.json': './package.json' },
  sideEffects: false,
  files: ['index.js', 'index.d.ts', 'event_source.js', 'share.js', 'sse_web.js', 'sse_web.d.ts', 'sse_web_bg.wasm', 'sse_web_bg.wasm.d.ts', 'snippets/', 'README.md', 'LICENSE-MIT', 'LICENSE-APACHE'],
  keywords: ['eventsource', 'sse', 'server-sent-events', 'fetch', 'wasm'],
};
fs.writeFileSync('pkg/package.json', JSON.stringify(pkg, null, 2) + '\n');
JS
[ -f pkg/package.json ] || { echo "build FAILED: pkg/package.json missing" >&2; exit 1; }
# What a page pays: the wasm and the JS, minified as any bundler ships it, gzipped.
files="pkg/index.js pkg/event_source.js pkg/sse_web.js $(find pkg/snippets -name '*.js' | sort)"
wasm_gz=$(gzip -9 -c pkg/sse_web_bg.wasm | wc -c)
js_gz=$(cat $files | terser --module --compress --mangle | gzip -9 -c | wc -c)
js_raw_gz=$(cat $files | gzip -9 -c | wc -c)
echo "size: wasm ${wasm_gz} B gzip + JS ${js_gz} B minified+gzip = $((wasm_gz + js_gz)) B (JS unminified ${js_raw_gz} B gzip)"
# What a bundler ships for a page that imports EventSource and nothing else (tree-shaken: no
# EventSourceParserStream), its runtime included; share.js is a chunk of its own.
shake=$(mktemp -d)
printf "import { EventSource } from 'sse-web';\nglobalThis.EventSource = EventSource;\n" >"$shake/entry.js"
printf "module.exports = { mode: 'production', entry: '%s/entry.js', output: { path: '%s/dist' }, resolve: { alias: { 'sse-web': '%s/pkg/' } }, performance: { hints: false } };\n" "$shake" "$shake" "$PWD" >"$shake/webpack.config.cjs"
webpack --config "$shake/webpack.config.cjs" --no-stats >/dev/null || { echo "build FAILED: webpack of an EventSource-only page" >&2; exit 1; }
! grep -q TransformStream "$shake/dist/main.js" || { echo "build FAILED: EventSourceParserStream was not tree-shaken" >&2; exit 1; }
shaken_gz=$(gzip -9 -c "$shake/dist/main.js" | wc -c)
echo "size: an EventSource-only page (webpack 5, tree-shaken, its runtime included): wasm ${wasm_gz} B + JS ${shaken_gz} B gzip = $((wasm_gz + shaken_gz)) B"
rm -rf "$shake"
# Loaded only by a source that uses `share`, on first use (src/js/share.js).
share_gz=$(terser --module --compress --mangle < pkg/share.js | gzip -9 -c | wc -c)
echo "size: share.js ${share_gz} B minified+gzip more, loaded on the first use of share"
