#!/usr/bin/env bash
# Lighthouse (performance, accessibility, best practices; mobile emulation) on the inspector's
# form page, with Debian's Chromium. Installs Lighthouse into tools/lighthouse/ on first use.
# Not part of `make test` (it takes about a minute); run it after changing pages or assets.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x tools/lighthouse/node_modules/.bin/lighthouse ]; then
  (cd tools/lighthouse && npm ci --no-audit --no-fund)
fi
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
exec .venv/bin/python scripts/lighthouse.py
