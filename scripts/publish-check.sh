#!/usr/bin/env bash
# The crates meant for users can be published (issue #20), offline once setup and the builds have
# fetched the dependencies:
#  1. the publishable members are exactly sse-web-core, sse-web, sse-web-native (every other member
#     says `publish = false`);
#  2. each package holds its README and both licenses, the copies equal to the root's, and
#     nothing but what the crate builds from;
#  3. each is packaged as `cargo publish` packages it and built from its tarball: `cargo package`
#     of the three at once puts the packaged sse-web-core in a local registry overlay, so sse-web
#     and sse-web-native are verified against that tarball, not the path (host; sse-web-core and
#     sse-web also for wasm32);
#  4. each README's install lines and example programs build as a user's crate would: a scratch
#     crate whose [dependencies] are the README's, patched to the verified tarballs, with each
#     README program as a binary (sse-web: examples/stream.rs, which README.md must quote exactly).
# `cargo publish --workspace --dry-run` does 3 too but also asks the registry whether the versions
# are taken (so it needs the network, and fails once they are published): `--online` runs it too.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# A target dir of its own: cargo fingerprints a registry crate by its version, not its files, so
# a verify build here reuses an earlier sse-web-core 0.1.0 whatever changed; fresh_overlay below
# forgets our own crates in this dir only.
TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-target}")/publish-check
export CARGO_TARGET_DIR=$TARGET_DIR

# crate, its README, the programs a user would build from it ("readme": the README's blocks with a
# `fn main`), and the target they are for.
CRATES=(sse-web-core sse-web sse-web-native)
declare -A README=([sse-web-core]=crates/sse-web-core/README.md [sse-web]=README.md
  [sse-web-native]=crates/sse-web-native/README.md)
declare -A PROGRAMS=([sse-web-core]=readme [sse-web]=examples/stream.rs [sse-web-native]=readme)
declare -A TARGET=([sse-web-core]=host [sse-web]=wasm32-unknown-unknown [sse-web-native]=host)
WASM_VERIFIED=(sse-web-core sse-web)

fail() { echo "publish-check FAILED: $*" >&2; exit 1; }
step() { printf '\n-- %s\n' "$*"; }

# Markdown code blocks, for the checks below: `blocks README LANG` prints each block whose info
# string starts with LANG as JSON lines.
blocks() {
  node -e '
    const [file, lang] = process.argv.slice(1);
    const lines = require("fs").readFileSync(file, "utf8").split("\n");
    let open = null, body = [];
    for (const line of lines) {
      const fence = /^```(.*)$/.exec(line);
      if (open === null && fence) { open = fence[1].trim(); body = []; }
      else if (open !== null && line === "```") {
        if (open.split(",")[0] === lang) console.log(JSON.stringify(body.join("\n") + "\n"));
        open = null;
      } else if (open !== null) body.push(line);
    }' "$1" "$2"
}

step "publishable members"
members=$(cargo metadata --no-deps --format-version 1 --offline | node -e '
  const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
  for (const p of m.packages) if (p.publish === null) console.log(p.name, p.version, p.manifest_path);')
echo "$members"
[ "$(echo "$members" | awk '{print $1}' | sort)" = "$(printf '%s\n' "${CRATES[@]}" | sort)" ] \
  || fail "the publishable members are not ${CRATES[*]}: add publish = false, or add the crate here"
declare -A DIR VERSION
while read -r name version manifest; do
  DIR[$name]=$(dirname "$manifest"); VERSION[$name]=$version
done <<<"$members"

step "licenses and READMEs"
grep -qx 'Copyright (c) the sse-web authors' LICENSE-MIT || fail "LICENSE-MIT: no copyright line"
grep -q 'Version 2.0, January 2004' LICENSE-APACHE || fail "LICENSE-APACHE is not the Apache 2.0 text"
for c in "${CRATES[@]}"; do
  d=${DIR[$c]}
  for f in LICENSE-MIT LICENSE-APACHE; do
    cmp -s "$ROOT/$f" "$d/$f" || fail "$c: ${d#"$ROOT"/}/$f differs from the root's $f (copy it)"
  done
  grep -qE '^license = "MIT OR Apache-2.0"|^license.workspace = true' "$d/Cargo.toml" \
    || fail "$c: no license in Cargo.toml"
  grep -qx 'readme = "README.md"' "$d/Cargo.toml" || fail "$c: Cargo.toml lacks readme = \"README.md\""
  [ "$d/README.md" -ef "$ROOT/${README[$c]}" ] || fail "$c: its README is not ${README[$c]}"
done
for c in sse-web-core sse-web-native; do
  grep -qF '#![doc = include_str!("../README.md")]' "${DIR[$c]}/src/lib.rs" \
    || fail "$c: the crate docs are not its README (so its examples are not doctests)"
done
# README.md (sse-web's page on crates.io) quotes the example the crate docs include, exactly.
quoted=$(blocks README.md rust | node -e '
  const want = require("fs").readFileSync(process.argv[1], "utf8");
  const got = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean).map(JSON.parse);
  console.log(got.includes(want) ? "yes" : "no");' examples/stream.rs)
[ "$quoted" = yes ] || fail "README.md has no \`\`\`rust block equal to examples/stream.rs (paste the file)"
echo "licenses equal the root's in ${CRATES[*]}; README.md quotes examples/stream.rs"

step "package contents"
for c in "${CRATES[@]}"; do
  list=$(cargo package --list --allow-dirty --offline -p "$c" 2>/dev/null) || fail "cargo package --list -p $c"
  for f in README.md LICENSE-MIT LICENSE-APACHE Cargo.toml; do
    grep -qx "$f" <<<"$list" || fail "$c: the package lacks $f"
  done
  extra=$(grep -vxE '\.cargo_vcs_info\.json|Cargo\.(toml|toml\.orig|lock)|README\.md|LICENSE-(MIT|APACHE)|src/.*|examples/stream\.rs' <<<"$list" || true)
  [ -z "$extra" ] || fail "$c: the package holds files it does not build from: $extra"
  echo "$c: $(wc -l <<<"$list") files"
done

# Cargo says which tests, examples and benches stay home: expected, not worth a line each.
quiet() { grep -vE '^warning: ignoring (test|example|benchmark) `' || true; }

# cargo unpacks the overlay's tarballs (the crates packaged here, by name and version) into
# registry/src/-HASH/ and reuses an unpacked copy of the same version next time, even when the
# tarball changed: the verify would build against a stale sse-web-core. Remove our own copies.
fresh_overlay() {
  rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/sse-web*-[0-9]*
  find "$TARGET_DIR" -path '*/.fingerprint/sse-web*' -prune -exec rm -rf {} + 2>/dev/null || true
}

step "cargo package (host): ${CRATES[*]}"
fresh_overlay
pkgs=(); for c in "${CRATES[@]}"; do pkgs+=(-p "$c"); done
log=$(mktemp)
cargo package "${pkgs[@]}" --allow-dirty --offline --locked >"$log" 2>&1 || { cat "$log"; fail "cargo package"; }
quiet <"$log"
# Each verified: built from the unpacked tarball, not the workspace's sources.
verified() {
  for c in "$@"; do
    grep -q "Verifying $c v${VERSION[$c]}" "$log" \
      && grep -qF "Compiling $c v${VERSION[$c]} ($TARGET_DIR/package/$c-${VERSION[$c]})" "$log" \
      || fail "$c was not built from its tarball"
  done
}
verified "${CRATES[@]}"

step "cargo package (wasm32): ${WASM_VERIFIED[*]}"
pkgs=(); for c in "${WASM_VERIFIED[@]}"; do pkgs+=(-p "$c"); done
fresh_overlay
cargo package "${pkgs[@]}" --target wasm32-unknown-unknown --allow-dirty --offline --locked >"$log" 2>&1 \
  || { cat "$log"; fail "cargo package --target wasm32-unknown-unknown"; }
quiet <"$log"
verified "${WASM_VERIFIED[@]}"

step "the READMEs as a user's crate"
for c in "${CRATES[@]}"; do
  user=$TARGET_DIR/package/readme-$c
  rm -rf "$user"; mkdir -p "$user/src/bin"
  # The install lines: the README's toml block that names the crate.
  deps=$(blocks "${README[$c]}" toml | node -e '
    const name = process.argv[1];
    const got = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean).map(JSON.parse);
    const b = got.find(b => b.startsWith("[dependencies]") && new RegExp("^" + name + " *=", "m").test(b));
    if (b) process.stdout.write(b);' "$c")
  [ -n "$deps" ] || fail "${README[$c]}: no \`\`\`toml block with [dependencies] and a $c line"
  patch="$c = { path = \"../$c-${VERSION[$c]}\" }"
  [ "$c" = sse-web-core ] || patch+=$'\n'"sse-web-core = { path = \"../sse-web-core-${VERSION[sse-web-core]}\" }"
  printf '[package]\nname = "readme-%s"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[workspace]\n\n%s\n\n[patch.crates-io]\n%s\n' \
    "$c" "$deps" "$patch" >"$user/Cargo.toml"
  n=0
  if [ "${PROGRAMS[$c]}" = readme ]; then
    while read -r block; do
      n=$((n + 1)); node -e 'process.stdout.write(JSON.parse(process.argv[1]))' "$block" >"$user/src/bin/readme-$c-$n.rs"
    done < <(blocks "${README[$c]}" rust | grep -F 'fn main' || true)
  else
    n=1; cp "${PROGRAMS[$c]}" "$user/src/bin/readme-$c-1.rs"
  fi
  [ "$n" -gt 0 ] || fail "${README[$c]}: no example program (a \`\`\`rust block with fn main)"
  # The workspace's versions, so that it resolves offline; the target dir is shared for speed.
  cp Cargo.lock "$user/"
  target=(); [ "${TARGET[$c]}" = host ] || target=(--target "${TARGET[$c]}")
  if ! out=$(cd "$user" && cargo check --offline --bins "${target[@]}" --target-dir "$TARGET_DIR" \
    --message-format short 2>&1); then
    echo "$out"; fail "$c: the README's dependencies and programs do not build"
  fi
  ! grep -E '^src/bin/.*(warning|error)' <<<"$out" || fail "$c: the README's programs have warnings"
  echo "$c: $n program(s) built with the README's [dependencies]$([ -z "${target[*]}" ] || echo " for ${TARGET[$c]}")"
done

if [ "${1:-}" = --online ]; then
  step "cargo publish --workspace --dry-run"
  cargo publish --workspace --dry-run --allow-dirty --locked 2>&1 | quiet
fi
rm -f "$log"
echo
echo "publish-check: ${CRATES[*]} packaged, verified and built as a user's crate"
