#!/usr/bin/env bash
# Sets up and runs every test: formatting and lints, the store conformance suite on SQLite
# and PostgreSQL, the server's HTTP tests against the fake Graph API, and the browser and
# Socket.IO tests against a running server.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

bash scripts/setup.sh --tests
bash scripts/services.sh

say "formatting and lints"
cargo fmt --all --check
cargo clippy -p app -p server -p fake-meta -p fake-telegram -p fake-twilio -p socket-client -p messio-bench --all-targets --features app/ssr -- -D warnings
cargo clippy -p app --features hydrate --target wasm32-unknown-unknown -- -D warnings

say "the product links no test kit"
if cargo tree -p server --edges normal,build --prefix none | grep -qE '^(fake-meta|fake-telegram|fake-twilio|socket-client|messio-bench) '; then
  echo "the server crate depends on a test-kit crate outside [dev-dependencies]" >&2
  exit 1
fi

say "unit, store conformance and HTTP tests (SQLite and PostgreSQL)"
cargo test -p app -p server -p fake-meta -p fake-telegram -p fake-twilio -p socket-client -p messio-bench --features app/ssr

say "building the site"
cargo leptos build
cargo build -p fake-meta -p fake-telegram -p fake-twilio --bins

say "browser and Socket.IO tests"
bash end2end/run.sh
