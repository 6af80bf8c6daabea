#!/usr/bin/env bash
# Builds the wasm package and the demo, then serves the demo and every test endpoint from
# sse-testserver on one origin, and prints the URL once it answers. Needs scripts/setup.sh first
# (`npm start`). PORT (default 8080) is the demo's port; the server also listens on PORT+1 (a
# second origin) and PORT+2 (TLS, HTTP/2).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
PORT=${PORT:-8080}
bash scripts/build.sh
webpack --config webpack.config.js --no-stats
cargo build -q --release -p sse-testserver
# Where cargo put it: CARGO_TARGET_DIR (or the build.target-dir setting) when set, else target/.
target_dir=$(cargo metadata --format-version 1 --no-deps | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).target_directory))')
"$target_dir/release/sse-testserver" --port "$PORT" --static www &
server=$!
trap 'kill $server 2>/dev/null' INT TERM
for _ in $(seq 100); do
  if curl -fs -o /dev/null "http://127.0.0.1:$PORT/"; then
    echo
    echo "  sse demo: http://127.0.0.1:$PORT/"
    echo
    break
  fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
curl -fs -o /dev/null "http://127.0.0.1:$PORT/" || echo "sse demo: the server did not answer on port $PORT (PORT=... picks another)" >&2
wait "$server"
