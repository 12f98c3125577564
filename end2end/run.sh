#!/usr/bin/env bash
# Runs the Socket.IO and browser end-to-end tests against a real Messio server, the fake
# Graph API (`fake-meta`), the fake Bot API (`fake-telegram`) and the fake Twilio
# (`fake-twilio`), all started here on their own ports (3900 to 3903, clear of a dev server on
# 3000) with an empty SQLite database, and always stopped on exit.
#
# Needs what `cargo leptos build` and `cargo build -p fake-meta -p fake-telegram -p fake-twilio --bins` produce, and the
# npm packages of end2end/ (`npm ci`). Run from anywhere: `bash end2end/run.sh`.
# Extra arguments go to Playwright, e.g. `bash end2end/run.sh --grep "live"`.
# E2E_SUITES=socket (or browser) runs only that suite; the default runs both.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
fail() { printf '\033[1;31mend2end: %s\033[0m\n' "$*" >&2; }

target_dir=${CARGO_TARGET_DIR:-target}
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
# MESSIO_BIN / FAKE_META_BIN / LEPTOS_SITE_ROOT point at another build (say, a copy kept
# apart from a target folder that someone is rebuilding).
messio_bin=${MESSIO_BIN:-$target_dir/debug/messio}
fake_bin=${FAKE_META_BIN:-$target_dir/debug/fake-meta}
telegram_bin=${FAKE_TELEGRAM_BIN:-$target_dir/debug/fake-telegram}
twilio_bin=${FAKE_TWILIO_BIN:-$target_dir/debug/fake-twilio}

site_host=127.0.0.1
site_port=3900
fake_port=3901
telegram_port=3902
twilio_port=3903
export MESSIO_URL="http://$site_host:$site_port"
export FAKE_META_URL="http://$site_host:$fake_port"
export FAKE_TELEGRAM_URL="http://$site_host:$telegram_port"
export FAKE_TWILIO_URL="http://$site_host:$twilio_port"

# cargo-leptos writes the site to `site-root` (target/site) under the workspace, whatever
# CARGO_TARGET_DIR says; fall back to the target folder in case that ever changes.
site_root=${LEPTOS_SITE_ROOT:-target/site}
if [[ ! -d "$site_root/pkg" && -d "$target_dir/site/pkg" ]]; then
  site_root="$target_dir/site"
fi

for bin in "$messio_bin" "$fake_bin" "$telegram_bin" "$twilio_bin"; do
  if [[ ! -x "$bin" ]]; then
    fail "$bin is missing: run \`cargo leptos build\` and \`cargo build -p fake-meta -p fake-telegram -p fake-twilio --bins\` first"
    exit 1
  fi
done
suites=${E2E_SUITES:-socket browser}
want() { [[ " $suites " == *" $1 "* ]]; }
if want browser && [[ ! -d "$site_root/pkg" ]]; then
  fail "$site_root/pkg is missing (the compiled front end): run \`cargo leptos build\` first"
  exit 1
fi
if [[ ! -d end2end/node_modules/@playwright/test || ! -d end2end/node_modules/socket.io-client ]]; then
  say "installing the end-to-end test packages"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

# Something already answering on our ports would be tested instead of this build.
for url in "$MESSIO_URL/healthz" "$FAKE_META_URL/_fake/health" "$FAKE_TELEGRAM_URL/_fake/health" "$FAKE_TWILIO_URL/_fake/health"; do
  if curl -s -o /dev/null --max-time 2 "$url"; then
    fail "something is already listening at ${url%/*}; stop it first (these tests use ports $site_port, $fake_port, $telegram_port and $twilio_port)"
    exit 1
  fi
done

work=$(mktemp -d -t messio-e2e.XXXXXX)
data_dir="$work/data"
server_log="$work/messio.log"
fake_log="$work/fake-meta.log"
telegram_log="$work/fake-telegram.log"
twilio_log="$work/fake-twilio.log"
server_pid=""
fake_pid=""
telegram_pid=""
twilio_pid=""
show_logs=false

print_logs() {
  echo "---- last 200 lines of the Messio server log ($server_log) ----" >&2
  tail -n 200 "$server_log" >&2 2>/dev/null || true
  echo "---- last 60 lines of the fake Graph API log ($fake_log) ----" >&2
  tail -n 60 "$fake_log" >&2 2>/dev/null || true
  echo "---- last 60 lines of the fake Bot API log ($telegram_log) ----" >&2
  tail -n 60 "$telegram_log" >&2 2>/dev/null || true
  echo "---- last 60 lines of the fake Twilio log ($twilio_log) ----" >&2
  tail -n 60 "$twilio_log" >&2 2>/dev/null || true
  echo "---- end of logs ----" >&2
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ $status -ne 0 ]] || $show_logs; then
    print_logs
  fi
  for pid in "$server_pid" "$fake_pid" "$telegram_pid" "$twilio_pid"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
    fi
  done
  for pid in "$server_pid" "$fake_pid" "$telegram_pid" "$twilio_pid"; do
    if [[ -n "$pid" ]]; then
      # Give each a few seconds to stop gracefully, then insist.
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [[ $status -eq 0 ]]; then
    rm -rf "$work"
  else
    rm -rf "$data_dir"
    echo "end2end: logs kept in $work" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting the fake Graph API on $FAKE_META_URL"
FAKE_META_ADDR="$site_host:$fake_port" \
  FAKE_META_APP_ID=1234567890 \
  FAKE_META_APP_SECRET=fake-app-secret \
  FAKE_META_WEBHOOK_URL="$MESSIO_URL/api/webhooks/messenger" \
  RUST_LOG=${FAKE_META_LOG:-info} \
  "$fake_bin" >"$fake_log" 2>&1 &
fake_pid=$!

say "starting the fake Bot API on $FAKE_TELEGRAM_URL"
FAKE_TELEGRAM_ADDR="$site_host:$telegram_port" \
  RUST_LOG=${FAKE_TELEGRAM_LOG:-info} \
  "$telegram_bin" >"$telegram_log" 2>&1 &
telegram_pid=$!

say "starting the fake Twilio on $FAKE_TWILIO_URL"
FAKE_TWILIO_ADDR="$site_host:$twilio_port" \
  RUST_LOG=${FAKE_TWILIO_LOG:-info} \
  "$twilio_bin" >"$twilio_log" 2>&1 &
twilio_pid=$!

say "starting Messio on $MESSIO_URL (data in $data_dir)"
# Always the fresh SQLite database, whatever a .env or the shell says (the server reads .env
# but never lets it override what is set here).
DATABASE_URL="sqlite://$data_dir/messio.db" \
  LEPTOS_SITE_ADDR="$site_host:$site_port" \
  LEPTOS_OUTPUT_NAME=messio \
  LEPTOS_WASM_OUTPUT_NAME=messio \
  LEPTOS_SITE_ROOT="$site_root" \
  LEPTOS_SITE_PKG_DIR=pkg \
  MESSIO_DATA_DIR="$data_dir" \
  MESSIO_PUBLIC_URL="$MESSIO_URL" \
  META_APP_ID=1234567890 \
  META_APP_SECRET=fake-app-secret \
  META_VERIFY_TOKEN=e2e-verify \
  META_GRAPH_URL="$FAKE_META_URL/v21.0" \
  META_DIALOG_URL="$FAKE_META_URL/v21.0/dialog/oauth" \
  TELEGRAM_API_URL="$FAKE_TELEGRAM_URL" \
  TWILIO_API_URL="$FAKE_TWILIO_URL" \
  TWILIO_MESSAGING_URL="$FAKE_TWILIO_URL" \
  RUST_LOG=${MESSIO_LOG:-info,sqlx=warn,tower_http=info} \
  "$messio_bin" >"$server_log" 2>&1 &
server_pid=$!

wait_for() {
  local name=$1 url=$2 pid=$3 seconds=$4
  for _ in $(seq 1 $((seconds * 4))); do
    if curl -sf -o /dev/null --max-time 2 "$url"; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      fail "$name exited before answering at $url"
      return 1
    fi
    sleep 0.25
  done
  fail "$name did not answer at $url within ${seconds}s"
  return 1
}
wait_for "the fake Graph API" "$FAKE_META_URL/_fake/health" "$fake_pid" 30
wait_for "the fake Bot API" "$FAKE_TELEGRAM_URL/_fake/health" "$telegram_pid" 30
wait_for "the fake Twilio" "$FAKE_TWILIO_URL/_fake/health" "$twilio_pid" 30
wait_for "the Messio server" "$MESSIO_URL/healthz" "$server_pid" 90
say "all are up"

failed=()

if want socket; then
  say "Socket.IO tests (node --test)"
  if ! (cd end2end && node --test --test-reporter=spec tests/socket.test.mjs); then
    failed+=("Socket.IO tests")
  fi
fi

if want browser; then
  # A clean fake for the browser tests (tokens, expiries, sends of the socket tests forgotten).
  curl -sf -o /dev/null -X POST "$FAKE_META_URL/_fake/reset" || { fail "could not reset the fake Graph API"; failed+=("fake reset"); }
  say "browser tests (Playwright, Chromium at /usr/bin/chromium)"
  if ! (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 ./node_modules/.bin/playwright test "$@"); then
    failed+=("browser tests")
  fi
fi

if [[ ${#failed[@]} -gt 0 ]]; then
  fail "failed: ${failed[*]}"
  show_logs=true
  exit 1
fi
say "end-to-end tests passed"
