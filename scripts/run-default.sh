#!/usr/bin/env bash
# The README's first command: set up, build, and run the default experiment (the SS2D
# scan-direction study on Fashion-MNIST). With a display and the desktop app built, it
# opens the app; otherwise it runs the study headless with the CLI and prints the
# comparison table.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
if [ -n "${WAYLAND_DISPLAY:-}${DISPLAY:-}" ] && [ -x ./build/app/visionbench ]; then
  exec ./build/app/visionbench
fi
if [ -x ./build/app/visionbench ]; then
  echo "No display (neither WAYLAND_DISPLAY nor DISPLAY is set): running the default study headless with visionbench-cli."
else
  echo "The desktop app is not built (GTK 4 / libadwaita missing): running the default study headless with visionbench-cli."
fi
exec ./build/app/visionbench-cli run ss2d-directions "$@"
