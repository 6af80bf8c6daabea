#!/usr/bin/env bash
# The parser benchmark: sse-web-core against eventsource-stream (Rust, criterion, same run) and
# eventsource-parser (npm, Node, TextDecoder) on the same generated corpora in 16 KiB chunks.
# Prints MB/s and the ratios; then the two EventSourceParserStreams (sse-web's, from pkg/, and
# eventsource-parser's) in Node (scripts/bench-stream.mjs). Not part of `npm test` (timings belong
# in benchmarks, not tests).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
[ -d node_modules/eventsource-parser ] || npm ci --no-audit --no-fund
CORPORA=$(mktemp -d)
trap 'rm -rf "$CORPORA"' EXIT
cargo run -q --release -p sse-testserver -- --write-corpora "$CORPORA"
cargo bench -q -p sse-web-core --bench parser -- --output-format bencher 2>/dev/null | grep '^test ' >"$CORPORA/rust.txt"
node scripts/bench-parser-node.mjs "$CORPORA" >"$CORPORA/node.jsonl"
python3 - "$CORPORA" <<'PY'
import json, os, re, sys
d = sys.argv[1]
ns = {}
for line in open(os.path.join(d, "rust.txt")):
    m = re.match(r"test (\S+)/(\S+) \.\.\. bench:\s+([\d,]+) ns/iter", line)
    if m:
        ns[(m.group(1), m.group(2))] = int(m.group(3).replace(",", ""))
node = {j["corpus"]: j["mbps"] for j in map(json.loads, open(os.path.join(d, "node.jsonl")))}
print("| corpus | MB | sse-web-core MB/s | eventsource-stream MB/s | eventsource-parser MB/s | vs eventsource-stream | vs eventsource-parser |")
print("|---|---:|---:|---:|---:|---:|---:|")
ok = True
for c in ["llm", "multiline", "large", "llm-crlf"]:
    size = os.path.getsize(os.path.join(d, c + ".sse"))
    ours = size / ns[(c, "sse-web-core")] * 1e3
    es = size / ns[(c, "eventsource-stream")] * 1e3
    ep = node[c]
    r1, r2 = ours / es, ours / ep
    ok &= r1 >= 5 and r2 >= 2
    print(f"| {c} | {size/1e6:.1f} | {ours:.0f} | {es:.0f} | {ep:.0f} | {r1:.1f}x | {r2:.1f}x |")
print("targets (>= 5x eventsource-stream, >= 2x eventsource-parser):", "met" if ok else "NOT met")
PY
[ -f pkg/index.js ] || bash scripts/build.sh
node scripts/bench-stream.mjs "$CORPORA"
