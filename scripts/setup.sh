#!/usr/bin/env bash
# Installs everything `npm start` / `npm test` need on a fresh machine of this kind, and nothing
# twice: each step checks before it installs, so a warm run takes about a second.
# Why each choice: ../shared/notes/toolchain.md (versions that work offline, and the traps).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
die() { printf '\033[31msetup FAILED:\033[0m %s\n' "$*" >&2; exit 1; }

# The wasm-bindgen CLI must equal the crate version exactly; the crate is pinned with `=X`.
WB_VERSION=$(sed -n 's/^wasm-bindgen = { *version = "=\([0-9.]*\)".*/\1/p; s/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml | head -n1)
[ -n "$WB_VERSION" ] || die "could not read the pinned wasm-bindgen version (=X) from Cargo.toml"
WASM_PACK_VERSION=0.15.1
# Builds with the stable rustc here (the fuzz build itself needs RUSTC_BOOTSTRAP=1: scripts/fuzz.sh).
CARGO_FUZZ_VERSION=0.13.2
GECKODRIVER_VERSION=0.37.1

command -v cargo >/dev/null || die "cargo is missing: this machine kind ships Rust by rustup"
export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown || die "rustup could not add the wasm32 target"
fi
# The npm build rebuilds core and alloc for size (scripts/build.sh): it needs their sources.
if ! rustup component list --installed | grep -q '^rust-src'; then
  step "rustup component add rust-src"
  rustup component add rust-src || die "rustup could not add rust-src"
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
  step "cargo install wasm-bindgen-cli $WB_VERSION (about 2 min)"
  # --locked can fail when the CLI's lockfile names a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --locked --force \
    || cargo install wasm-bindgen-cli --version "$WB_VERSION" --force \
    || die "cargo install wasm-bindgen-cli $WB_VERSION failed"
fi

if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
  step "cargo install wasm-pack $WASM_PACK_VERSION (about 1.5 min)"
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked --force \
    || die "cargo install wasm-pack failed"
fi

# The parser's differential fuzz target (scripts/fuzz.sh, 30 s in `npm test`).
if [ "$(cargo-fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  step "cargo install cargo-fuzz $CARGO_FUZZ_VERSION (about 1 min)"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --force \
    || die "cargo install cargo-fuzz failed"
fi
command -v c++ >/dev/null || die "no C++ compiler (c++): the fuzz build compiles libFuzzer (apt-get install g++)"

# The three browser engines `npm test` runs in: Chromium, Firefox ESR, and WebKitGTK through its
# WebDriver (its MiniBrowser has no headless mode: it runs under Xvfb). About 50 s for the last two.
APT=()
command -v chromium >/dev/null || APT+=(chromium)
command -v chromedriver >/dev/null || APT+=(chromium-driver)
command -v firefox-esr >/dev/null || APT+=(firefox-esr)
command -v WebKitWebDriver >/dev/null || APT+=(webkit2gtk-driver)
command -v xvfb-run >/dev/null || APT+=(xvfb)
if [ "${#APT[@]}" -gt 0 ]; then
  step "apt-get install ${APT[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${APT[@]}" \
    || die "apt-get install ${APT[*]} failed"
fi

# Firefox's WebDriver is not in Debian 12.
if [ "$(geckodriver --version 2>/dev/null | awk 'NR == 1 {print $2}')" != "$GECKODRIVER_VERSION" ]; then
  step "cargo install geckodriver $GECKODRIVER_VERSION (about 2 min)"
  cargo install geckodriver --version "$GECKODRIVER_VERSION" --locked --force \
    || die "cargo install geckodriver failed"
fi

# npm packages (binaryen's wasm-opt, webpack, playwright-core, the JS peers). Re-run only when
# package.json or the lockfile changed since the last install.
stamp=node_modules/.setup-stamp
if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
  step "npm install"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi \
    || die "npm install failed"
  touch "$stamp"
fi

# wasm-pack takes the first wasm-opt on PATH without a version check; Debian's binaryen cannot read
# current Rust output, so ours (npm binaryen) must come first. npm scripts put node_modules/.bin first.
WASM_OPT=$(PATH="$PWD/node_modules/.bin:$PATH" command -v wasm-opt || true)
case "$WASM_OPT" in
  "$PWD/node_modules/.bin/wasm-opt") ;;
  *) die "wasm-opt from npm binaryen is not first on PATH (found: ${WASM_OPT:-none})" ;;
esac
step "ready (wasm-bindgen $WB_VERSION, wasm-pack $WASM_PACK_VERSION, cargo-fuzz $CARGO_FUZZ_VERSION, $(chromium --version 2>/dev/null | grep -o 'Chromium [0-9.]*'), $(firefox-esr --version 2>/dev/null | grep -o 'Firefox [0-9.a-z]*'), WebKitGTK $(dpkg-query -W -f '${Version}' webkit2gtk-driver 2>/dev/null | cut -d- -f1))"
