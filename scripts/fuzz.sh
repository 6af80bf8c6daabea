#!/usr/bin/env bash
# A bounded differential fuzz run of the sse-web-core parser against the plain reference reader
# (crates/sse-web-core/tests/reference). `npm run fuzz` (60 s), `bash scripts/fuzz.sh SECONDS`;
# `npm test` runs it for 30 s. Exits non-zero on a mismatch, a panic, a crash or a hang, and says
# where libFuzzer saved the input (crates/sse-web-core/fuzz/artifacts/, ignored by git).
#
# - Seeds: crates/sse-web-core/fuzz/seeds/parser_differential (written by fuzz/make_seeds.py), read
#   only. libFuzzer writes the inputs it finds into its FIRST corpus directory: here a temporary
#   one, deleted at the end, so a run never changes the tree.
# - No sanitizer (-s none): the target is safe Rust that compares outputs and panics on a
#   difference (the one `unsafe` in the parser is guarded by a debug assertion, and cargo-fuzz
#   builds with debug assertions and overflow checks on). ASan would add ~20 s to a cold build
#   and halve the executions per second without checking anything more here.
# - cargo-fuzz passes nightly flags; the stable toolchain accepts them with RUSTC_BOOTSTRAP=1.
#   The build lives in crates/sse-web-core/fuzz/target (its own flags, so sharing the workspace's
#   target dir would save nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export RUSTC_BOOTSTRAP=1

SECONDS_TO_RUN=${1:-60}
case "$SECONDS_TO_RUN" in
  '' | *[!0-9]* | 0) echo "usage: scripts/fuzz.sh SECONDS (a positive whole number)" >&2; exit 2 ;;
esac
TARGET=parser_differential
FLAGS=(-s none)

fail() { printf 'fuzz FAILED: %s\n' "$*" >&2; exit 1; }
command -v cargo-fuzz >/dev/null || fail "cargo-fuzz is not installed: run scripts/setup.sh"
ROOT=$PWD
cd crates/sse-web-core # cargo fuzz finds fuzz/ from here; the paths below are relative to it
SEEDS=fuzz/seeds/$TARGET
[ -n "$(ls -A "$SEEDS" 2>/dev/null)" ] || fail "no seed corpus in crates/sse-web-core/$SEEDS"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
seeds_sum() { (cd "$SEEDS" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum); }
before=$(seeds_sum)

start=$(date +%s)
cargo fuzz build "${FLAGS[@]}" "$TARGET" >"$WORK/build.log" 2>&1 || {
  tail -n 40 "$WORK/build.log" >&2
  fail "the fuzz target did not build"
}
echo "fuzz: built $TARGET in $(($(date +%s) - start)) s"

# The first corpus directory is the one libFuzzer writes to: the temporary one. -max_len is fixed
# (not guessed from the largest seed); -timeout: one input taking 10 s is a hang, and fails.
mkdir "$WORK/corpus"
set +e
cargo fuzz run "${FLAGS[@]}" "$TARGET" "$WORK/corpus" "$SEEDS" -- \
  -max_total_time="$SECONDS_TO_RUN" -max_len=8192 -timeout=10 -dict="fuzz/$TARGET.dict" \
  >"$WORK/run.log" 2>&1
rc=$?
set -e

if [ "$rc" -ne 0 ]; then
  # The panic (the assertion with both sides), libFuzzer's summary, and where the input is.
  awk '/panicked at/ {p = 1} /^stack backtrace/ {p = 0} p' "$WORK/run.log" | head -n 40 >&2
  grep -E "^SUMMARY|^==[0-9]+== ERROR|Test unit written to|ALARM" "$WORK/run.log" >&2 || true
  grep -q "panicked at\|^SUMMARY" "$WORK/run.log" || tail -n 40 "$WORK/run.log" >&2
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$WORK/run.log" | tail -n 1)
  if [ -n "$artifact" ]; then
    echo "fuzz: replay it: cd crates/sse-web-core && RUSTC_BOOTSTRAP=1 cargo fuzz run ${FLAGS[*]} $TARGET $(realpath --relative-to=. "$artifact")" >&2
    artifact=$(realpath --relative-to="$ROOT" "$artifact")
  fi
  fail "$TARGET found a mismatch, a crash or a hang (exit $rc); the input is saved at ${artifact:-(none written)}"
fi

[ "$(seeds_sum)" = "$before" ] || fail "the run changed the seed corpus in crates/sse-web-core/$SEEDS"
grep -E "INITED|^Done" "$WORK/run.log" || true
echo "fuzz: $TARGET ran $SECONDS_TO_RUN s with no mismatch or crash ($(ls "$WORK/corpus" | wc -l) new inputs found, not kept)"
