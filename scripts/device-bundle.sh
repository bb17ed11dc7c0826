#!/bin/sh
# device-bundle.sh: copies the built CLI, the shared libraries it needs (all but glibc's
# own; OpenBLAS gzipped to fit the transfer limit) and Debian's Fashion-MNIST into
# .device-bundle/, so the `device` machine, whose image has none of Debian's packages,
# can run the same binary on the same data. .device-bundle/ is git-ignored.
#   scripts/device-bundle.sh [BUILD_DIR]     then, there: . scripts/device-env.sh
set -eu
build=${1:-build}
out=.device-bundle
rm -rf "$out" && mkdir -p "$out/lib" "$out/fashion-mnist"
cp "$build/app/visionbench-cli" "$out/"
ldd "$build/app/visionbench-cli" | awk '$3 ~ /^\// {print $3}' |
  grep -Ev '/(libc|libm|libmvec|libpthread|libdl|librt|ld-linux[^/]*)\.so' |
  while read -r lib; do cp -L "$lib" "$out/lib/"; done
gzip -1 "$out/lib/libopenblas.so.0"
cp /usr/share/datasets/fashion-mnist/*.gz "$out/fashion-mnist/"
du -sh "$out"
