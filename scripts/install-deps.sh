#!/usr/bin/env bash
# Installs what `make demo` and `make test` need and is missing:
# Debian/Ubuntu packages through apt (when root), the Rust toolchain check.
set -euo pipefail

# libxml2-utils: xmllint validates GEXF exports in the tests.
# mesa-vulkan-drivers: lavapipe, the software Vulkan driver wgpu uses without a GPU.
# xvfb, xauth, xdotool: a virtual display for the viewer's tests.
# libturbojpeg0-dev: libjpeg-turbo's TurboJPEG library (found with pkg-config,
#   linked by the turbojpeg crate) for fast DCT-scaled JPEG thumbnailing.
# pkg-config: how the turbojpeg crate's build finds that library.
# fonts-dejavu-core: a system font covering Latin, Greek, Cyrillic, Arabic and
#   Hebrew for the labels (found through fontdb; without any font labels are
#   skipped) and the viewer's panels.
# fonts-droid-fallback: Chinese, Japanese and Korean names (1.8 MB).
# fonts-noto-color-emoji: emoji in tag and cluster names on the map.
# poppler-utils: pdftotext/pdfinfo check the PDF export in the tests.
# ffmpeg: encodes recorded tours (export --format video), ffprobe checks
#   them; it also decodes AVIF images (no AVIF decoder builds here, see CRATES.md).
# libheif-examples: heif-convert decodes HEIC (and AVIF); heif-enc makes the
#   tests' HEIC file.
# chromium: the tests load the deep-zoom web map in headless Chromium.
packages=(libxml2-utils mesa-vulkan-drivers xvfb xauth xdotool libturbojpeg0-dev pkg-config
          fonts-dejavu-core fonts-droid-fallback fonts-noto-color-emoji poppler-utils
          ffmpeg libheif-examples chromium)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
# nodejs, npm: the export tests load the GEXF with graphology-gexf (the parser
#   of sigma.js and Gephi Lite), installed by the test itself from npm. Taken
#   from apt only when no node/npm is on the PATH (nvm and others count).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "warning: missing packages ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  fi
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo (Rust 1.89 or newer) is missing: install it from https://rustup.rs and run again" >&2
  exit 1
fi
