#!/usr/bin/env bash
# Sets up, builds (optimized: release server, wasm-opt'ed front end) and runs Messio on
# SQLite at http://127.0.0.1:3000 (LEPTOS_SITE_ADDR).
# `scripts/run.sh demo` also fills a sample organization with a simulated channel.
# Contributors who want a fast loop use `scripts/dev.sh` (debug build, rebuilt on save).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/scripts/tools/node_modules/.bin:$PATH"
cargo leptos build --release
target_dir=${CARGO_TARGET_DIR:-target}
export LEPTOS_OUTPUT_NAME=messio LEPTOS_WASM_OUTPUT_NAME=messio LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg
exec "$target_dir/release/messio" "$@"
