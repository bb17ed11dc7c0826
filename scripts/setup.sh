#!/usr/bin/env bash
# Installs what VisionBench needs from Debian 12's archive (only what is missing) and
# builds it into ./build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential meson ninja-build pkg-config
  libglib2.0-dev libgdk-pixbuf-2.0-dev libsqlite3-dev libjson-glib-dev
  libopenblas-dev zlib1g-dev
  dataset-fashion-mnist
  # the desktop app (optional at build time) and its headless widget tests
  libgtk-4-dev libadwaita-1-dev libcairo2-dev libpango1.0-dev
  xvfb xauth dbus-daemon
  # validators for the desktop file and the AppStream metainfo (data/ tests)
  desktop-file-utils appstream
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing from Debian: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The CUDA backend builds wherever CUDA's nvcc is installed (GPU or not); it lives
# outside Debian's archive, at /usr/local/cuda, often not on PATH.
[ -x /usr/local/cuda/bin/nvcc ] && export PATH="/usr/local/cuda/bin:$PATH"
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=debugoptimized
fi
./scripts/cuda-stale.sh build
ninja -C build
