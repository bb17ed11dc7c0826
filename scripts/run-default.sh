#!/usr/bin/env bash
# The README's first command: set up, build, and run the default experiment (the SS2D
# scan-direction study on Fashion-MNIST), printing the comparison table.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec ./build/app/visionbench-cli run ss2d-directions "$@"
