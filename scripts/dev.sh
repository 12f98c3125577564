#!/usr/bin/env bash
# The contributor loop: a debug build served by cargo-leptos, rebuilt and reloaded when a
# file changes. Slower pages and a large unoptimized wasm; use scripts/run.sh to run Messio.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec cargo leptos watch "$@"
