#!/usr/bin/env bash
# Find an installed Chromium for the browser tests; install Debian's package only when none is found.
set -eu
for c in "${CHROMIUM:-}" /usr/bin/chromium "$(command -v chromium 2>/dev/null || true)" \
         "$(command -v chromium-browser 2>/dev/null || true)" "$(command -v google-chrome 2>/dev/null || true)"; do
  if [ -n "$c" ] && [ -x "$c" ]; then echo "chromium: $c"; exit 0; fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium: none found, installing Debian's package"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "error: no Chromium found. Install it (Debian/Ubuntu: sudo apt-get install chromium) or set CHROMIUM=/path" >&2
exit 1
