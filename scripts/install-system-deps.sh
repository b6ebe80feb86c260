#!/usr/bin/env bash
# Debian packages that the tests need: Chromium for the browser tests (Playwright drives it;
# Playwright's own browser download does not work here); FriBiDi, which Pillow's raqm text
# layout loads at run time (the Pillow wheel bundles raqm and HarfBuzz; without FriBiDi it
# falls back to a layout that prints Persian reversed and unjoined); cairo, which draws the
# SVG agency logo on receipts (cairosvg). Installs only what is missing.
set -euo pipefail

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
for package in libfribidi0 libcairo2; do
  installed "$package" || packages+=("$package")
done

if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "Installing Debian packages: ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}"
