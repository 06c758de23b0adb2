#!/usr/bin/env bash
# Browser tests of the dashboard in headless chromium (playwright-core from web/node_modules).
# Screenshots go to $BUILD/artifacts/web/. Skipped (with a note, no TAP line) only when the
# browser or playwright-core is not installed — CI installs both (./setup).
. "$(dirname "$0")/../lib.sh"
if [ ! -x /usr/bin/chromium ] || [ ! -d web/node_modules/playwright-core ]; then
  echo "# chromium or playwright-core missing: run ./setup"
  exit 1
fi
tmp=$(mktemp -d)
ws=$tmp/ws
"$TR" init --sector saas "$ws" >/dev/null || { not_ok "init"; exit 1; }
trap 'serve_stop; rm -rf "$tmp"' EXIT
serve_start "$ws" || exit 1
token=$(cat "$ws/.tightrope/token")
cd web && node tests/dashboard.mjs "$base" "$token" "../$BUILD/artifacts/web"
