#!/usr/bin/env bash
# A bounded differential fuzz run of the sse-core parser against the plain reference reader
# (crates/sse-core/tests/reference). `npm run fuzz` (60 s) or `bash scripts/fuzz.sh SECONDS`.
# cargo-fuzz wants nightly flags; the stable toolchain accepts them with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
SECONDS_TO_RUN=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd crates/sse-core
RUSTC_BOOTSTRAP=1 cargo fuzz run parser_differential -- -max_total_time="$SECONDS_TO_RUN" 2>&1 | tail -n 3
echo "fuzz: parser_differential ran ${SECONDS_TO_RUN}s with no mismatch or crash"
