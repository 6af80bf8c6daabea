#!/usr/bin/env bash
# Runs every suite against the real sse-testserver and ends with one line `N passed, N failed`.
# A suite that should run but executes zero tests fails the run (wasm-bindgen-test silently skips
# a file built for another environment). Needs scripts/setup.sh first (`npm test` does both).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver)}
# Not exported: wasm-bindgen-test-runner takes GECKODRIVER (then SAFARIDRIVER) over every other
# driver it is given, so each goes only to its own engine's suite.
GECKODRIVER=${GECKODRIVER:-$(command -v geckodriver)}
export -n GECKODRIVER SAFARIDRIVER
WEBKIT_WEBDRIVER=${WEBKIT_WEBDRIVER:-$(command -v WebKitWebDriver)}
export WASM_BINDGEN_TEST_WEBDRIVER_JSON=${WASM_BINDGEN_TEST_WEBDRIVER_JSON:-$ROOT/scripts/webdriver.json}
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-240}
PORT=${SSE_TEST_PORT:-8787}
export SSE_TESTSERVER="http://127.0.0.1:$PORT"
LOGS=$(mktemp -d)
passed=0
failed=0
bad=()

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# check NAME CMD...: a check (fmt, clippy, build) counts as one test.
check() {
  local name=$1; shift
  bold "$name"
  if "$@" >"$LOGS/$name.log" 2>&1; then
    passed=$((passed + 1)); echo "ok"
  else
    failed=$((failed + 1)); bad+=("$name"); tail -n 60 "$LOGS/$name.log"
  fi
}

# suite NAME MODE CMD...: runs tests and adds up every `test result:` line. MODE `each` demands
# that every result line ran tests (one per target that must run), `sum` only that some ran.
suite() {
  local name=$1 mode=$2; shift 2
  bold "$name"
  "$@" 2>&1 | tee "$LOGS/$name.log" | grep -E '^(test result:|test .* FAILED|error|failures:)' | tail -n 40
  local rc=${PIPESTATUS[0]}
  local p f zero
  p=$(grep -Eo 'test result: [A-Za-z]+\. [0-9]+ passed' "$LOGS/$name.log" | awk '{s+=$4} END {print s+0}')
  f=$(grep -E 'test result:' "$LOGS/$name.log" | grep -Eo '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
  zero=$(grep -Ec 'test result: [A-Za-z]+\. 0 passed; 0 failed' "$LOGS/$name.log")
  passed=$((passed + p)); failed=$((failed + f)); SUITE_PASSED=$p
  if [ "$rc" -ne 0 ] || [ "$p" -eq 0 ] || { [ "$mode" = each ] && [ "$zero" -gt 0 ]; }; then
    [ "$f" -gt 0 ] || failed=$((failed + 1))
    bad+=("$name (exit $rc, $p passed, $f failed, $zero empty targets)")
    [ "$rc" -ne 0 ] && tail -n 40 "$LOGS/$name.log"
  fi
}

check fmt cargo fmt --all -- --check
# The Yew and Leptos example apps are browser apps: they are checked and built for wasm32 only.
NOT_HOST=(--exclude yew-counter --exclude leptos-counter)
check clippy-host cargo clippy --workspace "${NOT_HOST[@]}" --all-targets -- -D warnings
check clippy-wasm32 cargo clippy --target wasm32-unknown-unknown -p sse-web -p sse-web-core -p yew-counter -p leptos-counter --all-targets -- -D warnings
check cargo-doc env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace "${NOT_HOST[@]}"
check typescript tsc --noEmit --strict --target es2022 --lib es2022,dom --module nodenext --moduleResolution nodenext tests/types/usage.ts
check clippy-wasm32-npm cargo clippy --target wasm32-unknown-unknown -p sse-web --no-default-features --features npm -- -D warnings
check fuzz-parser bash scripts/fuzz.sh 30
check publish-dry-run bash scripts/publish-check.sh

# The scenario server every client suite talks to.
bold "sse-testserver on port $PORT"
if cargo build -q -p sse-testserver; then
  target/debug/sse-testserver --port "$PORT" >"$LOGS/testserver.log" 2>&1 &
  SERVER_PID=$!
  trap 'kill $SERVER_PID 2>/dev/null' EXIT
  for _ in $(seq 100); do
    curl -fs "$SSE_TESTSERVER/log?token=ready" >/dev/null 2>&1 && break
    sleep 0.1
  done
  if curl -fs "$SSE_TESTSERVER/log?token=ready" >/dev/null; then echo "up"; else
    failed=$((failed + 1)); bad+=("testserver did not start"); cat "$LOGS/testserver.log"; fi
else
  failed=$((failed + 1)); bad+=("testserver build")
fi

suite cargo-test sum cargo test --workspace "${NOT_HOST[@]}"

# The browser suites in every engine: the test binaries are built once and run in each. WebKitGTK's
# MiniBrowser has no headless mode (it runs under Xvfb), and the runner stops after the first file
# that fails there, so each file runs on its own. Each engine must run as many tests as Chromium
# (the scenario table names what an engine skips in its runners' lines, below).
declare -A WASM_COUNT
suite wasm-chromium each wasm-pack test --headless --chrome --test web_page --test web_worker
WASM_COUNT[chromium]=$SUITE_PASSED
suite wasm-firefox each env GECKODRIVER="$GECKODRIVER" wasm-pack test --headless --firefox --test web_page --test web_worker
WASM_COUNT[firefox]=$SUITE_PASSED
suite wasm-webkit-page each xvfb-run -a wasm-pack test --headless --safari --safaridriver "$WEBKIT_WEBDRIVER" --test web_page
WASM_COUNT[webkit]=$SUITE_PASSED
suite wasm-webkit-worker each xvfb-run -a wasm-pack test --headless --safari --safaridriver "$WEBKIT_WEBDRIVER" --test web_worker
WASM_COUNT[webkit]=$((WASM_COUNT[webkit] + SUITE_PASSED))
suite wasm-node each wasm-pack test --node --test web_node

check npm-package-build bash scripts/build.sh
grep -h '^size:' "$LOGS/npm-package-build.log" || true

check demo-webpack-build webpack --config webpack.config.js --no-stats
check examples-build bash scripts/build-examples.sh

# node:test prints `# pass N` and `# fail N`.
bold "node-and-browsers (npm package, demo e2e, examples, real installs; every engine)"
# A scenario that fails may leave a stream open: time out, and exit when the tests are done.
node --test --test-concurrency=1 --test-timeout=120000 --test-force-exit tests/node/ >"$LOGS/node.log" 2>&1
rc=$?
grep -E '^not ok|^# (pass|fail)' "$LOGS/node.log"
p=$(awk '/^# pass/ {print $3}' "$LOGS/node.log"); f=$(awk '/^# fail/ {print $3}' "$LOGS/node.log")
p=${p:-0}; f=${f:-0}
passed=$((passed + p)); failed=$((failed + f))
if [ "$rc" -ne 0 ] || [ "$p" -eq 0 ]; then
  [ "$f" -gt 0 ] || failed=$((failed + 1))
  bad+=("npm-package-node (exit $rc, $p passed, $f failed)"); tail -n 60 "$LOGS/node.log"
fi
# The browser tests are named `... [ENGINE]`, one per engine.
declare -A NODE_COUNT
for e in chromium firefox webkit; do
  NODE_COUNT[$e]=$(grep -Ec "^ok [0-9]+ - .*\[$e\]\$" "$LOGS/node.log")
done

# Every runner of the scenario table (tests/scenarios) posts its count to the server; each must
# have run (a runner also fails itself when it ran fewer than the table minus its named skips).
bold "scenario table"
TABLE_RUNNERS=("sse-web-native" "web-js (node)" "web-js (package)" "web-rust (node)")
for e in chromium firefox webkit; do
  for r in "web-js (page, $e)" "web-js (worker, $e)" "web-rust (page, $e)" "web-rust (worker, $e)"; do TABLE_RUNNERS+=("$r"); done
done
curl -fs "$SSE_TESTSERVER/log?token=scenario-table" >"$LOGS/table.json" || echo '[]' >"$LOGS/table.json"
node -e 'for (const r of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))) console.log(r.body)' "$LOGS/table.json" | tee "$LOGS/table.txt"
for r in "${TABLE_RUNNERS[@]}"; do
  if grep -qF "scenario table: $r ran" "$LOGS/table.txt"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); bad+=("scenario table: no count from $r"); fi
done

bold "engines"
for e in chromium firefox webkit; do
  echo "$e: ${WASM_COUNT[$e]:-0} wasm-bindgen tests (page, worker), ${NODE_COUNT[$e]:-0} browser scenarios of the built package"
  if [ "${WASM_COUNT[$e]:-0}" -lt "${WASM_COUNT[chromium]:-0}" ] || [ "${NODE_COUNT[$e]:-0}" -lt "${NODE_COUNT[chromium]:-0}" ] || [ "${NODE_COUNT[$e]:-0}" -eq 0 ]; then
    failed=$((failed + 1)); bad+=("$e ran fewer tests than chromium")
  fi
done

bold "summary"
for b in "${bad[@]}"; do echo "FAILED: $b"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
