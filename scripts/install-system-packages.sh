#!/usr/bin/env bash
# Debian packages the product and its tests need:
#   WeasyPrint: Pango (text layout) and HarfBuzz's subsetter (fast CJK font subsetting);
#   fonts-noto-cjk: Chinese text in PDFs on a fresh machine;
#   chromium: the headless browser of the end-to-end tests (driven by Playwright, never downloaded);
#   postgresql + redis-server: the production database and the rate-limit store, for the tests;
#   libvips42: the speed reference of the photo benchmark; poppler-utils: PDF checks by hand;
#   faketime: the tests on a later day (scripts/test-later.sh).
set -euo pipefail

packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk chromium
          libvips42 poppler-utils postgresql redis-server faketime)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null; then
  SUDO="sudo"
else
  echo "Please install as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
