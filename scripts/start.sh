#!/usr/bin/env bash
# Builds the wasm package and the demo, then serves the demo and every test endpoint from
# sse-testserver on one origin, and prints the URL. Needs scripts/setup.sh first (`npm start`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
PORT=${PORT:-8080}
bash scripts/build.sh
webpack --config webpack.config.js --no-stats
cargo build -q --release -p sse-testserver
echo
echo "  sse demo: http://127.0.0.1:$PORT/"
echo
exec target/release/sse-testserver --port "$PORT" --static www
