#!/usr/bin/env bash
# Installs what building Messio needs, skipping what is already there. Everything comes
# from the package registries (crates.io, npm, Debian). `setup.sh --tests` also installs
# what the test suite needs (Chromium, the end-to-end npm packages).
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=false
[[ "${1:-}" == "--tests" ]] && want_tests=true

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  say "adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

if ! command -v cargo-leptos >/dev/null || ! cargo-leptos --version 2>/dev/null | grep -q '0\.3\.10'; then
  say "installing cargo-leptos 0.3.10 (takes a while, once)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos@0.3.10 --locked --features no_downloads
fi

bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q "$bindgen_version"; then
  say "installing wasm-bindgen-cli $bindgen_version"
  cargo install wasm-bindgen-cli@"$bindgen_version" --force
fi

# The release front end is shrunk by wasm-opt from npm's binaryen (run.sh puts it on PATH).
if [[ ! -x scripts/tools/node_modules/.bin/wasm-opt ]] || [[ scripts/tools/package-lock.json -nt scripts/tools/node_modules ]]; then
  say "installing wasm-opt (npm binaryen)"
  (cd scripts/tools && npm ci --no-audit --no-fund)
fi

if $want_tests; then
  if ! command -v chromium >/dev/null; then
    say "installing Chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  fi
  if [[ ! -d end2end/node_modules ]] || [[ end2end/package-lock.json -nt end2end/node_modules ]]; then
    say "installing the end-to-end test packages"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
fi
