#!/usr/bin/env bash
# Sets up, builds and runs Messio on SQLite at http://127.0.0.1:3000 (LEPTOS_SITE_ADDR).
# `scripts/run.sh demo` also fills a sample organization with a simulated channel.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo leptos build
target_dir=${CARGO_TARGET_DIR:-target}
export LEPTOS_OUTPUT_NAME=messio LEPTOS_WASM_OUTPUT_NAME=messio LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg
exec "$target_dir/debug/messio" "$@"
