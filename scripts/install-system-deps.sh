#!/usr/bin/env bash
# Debian packages that the tests need: Chromium for the browser tests (Playwright drives it;
# Playwright's own browser download does not work here); FriBiDi, which Pillow's raqm text
# layout loads at run time (the Pillow wheel bundles raqm and HarfBuzz; without FriBiDi it
# falls back to a layout that prints Persian reversed and unjoined); cairo, which draws the
# SVG agency logo on receipts (cairosvg); for the kiosk's Kivy app, the libraries its wheel's
# bundled SDL2 loads at run time (X11, GL — Mesa's software renderer where there is no GPU
# driver — and mtdev for touchscreens), and Xvfb with xauth, a virtual screen for its UI
# tests; poppler-utils (pdftotext, pdftoppm), with which the tests read delivered PDFs back.
# Installs only what is missing. With the argument `runtime` (make demo), only what
# the server and the kiosk need to run: no Chromium, no Xvfb.
set -euo pipefail
purpose="${1:-tests}"

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

packages=()
wanted=(libfribidi0 libcairo2 libgl1 libgl1-mesa-dri libegl1 libx11-6 libxext6 libxrender1
        libxcursor1 libxi6 libxrandr2 libxss1 libxfixes3 libx11-xcb1 libmtdev1)
if [ "$purpose" != "runtime" ]; then
  command -v chromium >/dev/null 2>&1 || packages+=(chromium)
  wanted+=(xvfb xauth poppler-utils)
fi
for package in "${wanted[@]}"; do
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
