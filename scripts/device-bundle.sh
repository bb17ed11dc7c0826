#!/bin/sh
# device-bundle.sh: copies the built CLI, the shared libraries it needs (all but glibc's
# own; OpenBLAS gzipped to fit the transfer limit) and Debian's Fashion-MNIST into
# .device-bundle/, so the `device` machine, whose image has none of Debian's packages,
# can run the same binary on the same data. .device-bundle/ is git-ignored.
#   scripts/device-bundle.sh [BUILD_DIR [EXTRA_BUILD_DIR...]]   then, there: . scripts/device-env.sh
# Each extra build's CLI is bundled as visionbench-cli-DIR (VB_CLI selects it there), e.g.
# build-v4 configured with -Dcpu_isa=x86-64-v4 for the device host's AVX-512.
set -eu
build=${1:-build}
out=.device-bundle
rm -rf "$out" && mkdir -p "$out/lib" "$out/fashion-mnist"
cp "$build/app/visionbench-cli" "$out/"
shift 2>/dev/null || true
for extra in "$@"; do cp "$extra/app/visionbench-cli" "$out/visionbench-cli-$(basename "$extra")"; done
# the CUDA tests (built where nvcc exists) travel too; CUDA's own libraries do not: the
# device image has them
mkdir -p "$out/tests"
for t in "$build"/tests/kernels/test-cuda-* "$build"/tests/engine/test-vmamba-gpu; do [ -f "$t" ] && [ -x "$t" ] && cp "$t" "$out/tests/"; done
for bin in "$build/app/visionbench-cli" "$out"/tests/*; do [ -f "$bin" ] && ldd "$bin"; done |
  awk '$3 ~ /^\// {print $3}' | sort -u |
  grep -Ev '/(libc|libm|libmvec|libpthread|libdl|librt|ld-linux[^/]*)\.so' |
  grep -Ev '/(libcudart|libcublas|libcublasLt)\.so' |
  while read -r lib; do cp -L "$lib" "$out/lib/"; done
gzip -1 "$out/lib/libopenblas.so.0"
# the data set only for the CPU studies (VB_BUNDLE_NO_DATA=1: GPU checks, which need room)
[ -n "${VB_BUNDLE_NO_DATA:-}" ] || cp /usr/share/datasets/fashion-mnist/*.gz "$out/fashion-mnist/"
du -sh "$out"
