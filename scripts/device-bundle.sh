#!/bin/sh
# device-bundle.sh: copies the built CLI, the shared libraries it needs (all but glibc's
# own; OpenBLAS gzipped to fit the transfer limit) and Debian's Fashion-MNIST into
# .device-bundle/, so the `device` machine, whose image has none of Debian's packages,
# can run the same binary on the same data. .device-bundle/ (VB_BUNDLE_OUT names another
# folder) is git-ignored.
#   scripts/device-bundle.sh [BUILD_DIR [EXTRA_BUILD_DIR...]]   then, there: . scripts/device-env.sh
# Each extra build's CLI is bundled as visionbench-cli-DIR (VB_CLI selects it there), e.g.
# build-v4 configured with -Dcpu_isa=x86-64-v4 for the device host's AVX-512.
set -eu
build=${1:-build}
out=${VB_BUNDLE_OUT:-.device-bundle}
# CUDA objects carry no header dependencies: rebuild stale ones before bundling them
"$(dirname "$0")/cuda-stale.sh" "$build"
ninja -C "$build" >/dev/null
rm -rf "$out" && mkdir -p "$out/lib" "$out/fashion-mnist"
cp "$build/app/visionbench-cli" "$out/"
shift 2>/dev/null || true
for extra in "$@"; do cp "$extra/app/visionbench-cli" "$out/visionbench-cli-$(basename "$extra")"; done
# the CUDA tests (built where nvcc exists) travel too; CUDA's own libraries do not: the
# device image has them
mkdir -p "$out/tests"
# (VB_BUNDLE_TESTS="test-dist-gpu ..." takes only those: the transfer is limited)
for t in "$build"/tests/kernels/test-cuda-* "$build"/tests/engine/test-vmamba-gpu \
         "$build"/tests/engine/test-clip-gpu "$build"/tests/engine/test-dist-gpu; do
  case " ${VB_BUNDLE_TESTS:-$(basename "$t")} " in *" $(basename "$t") "*) ;; *) continue ;; esac
  [ -f "$t" ] && [ -x "$t" ] && cp "$t" "$out/tests/"
done
# debug information stays here: the transfer is limited
strip --strip-debug "$out"/visionbench-cli* "$out"/tests/* 2>/dev/null || true
for bin in "$build/app/visionbench-cli" "$out"/tests/*; do [ -f "$bin" ] && ldd "$bin"; done |
  awk '$3 ~ /^\// {print $3}' | sort -u |
  grep -Ev '/(libc|libm|libmvec|libpthread|libdl|librt|ld-linux[^/]*)\.so' |
  grep -Ev '/(libcudart|libcublas|libcublasLt)\.so' |
  while read -r lib; do cp -L "$lib" "$out/lib/"; done
# the CLI and the test programs each carry the CUDA kernels' fat binaries: those and the
# larger libraries travel gzipped (device-env.sh unpacks them)
for f in "$out"/visionbench-cli* "$out"/tests/* "$out"/lib/*; do
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -gt 500000 ] && gzip -1 "$f"
done
# Debian's Fashion-MNIST; VB_BUNDLE_NO_DATA=1 leaves it out, VB_BUNDLE_SUBSET=N takes the
# first N training and N/4 test images only (room for the GPU test programs)
fm=/usr/share/datasets/fashion-mnist
idx_head () {  # idx_head SRC.gz OUT HEADER_BYTES ITEM_BYTES N: the first N items as an IDX file
  { gzip -dc "$1" | head -c "$3" | head -c 4
    printf "%08x" "$5" | sed 's/../\\x&/g' | xargs -0 printf
    gzip -dc "$1" | tail -c +9 | head -c $(($3 - 8))
    gzip -dc "$1" | tail -c +$(($3 + 1)) | head -c $(($4 * $5)); } | gzip -1 > "$2"
}
if [ -n "${VB_BUNDLE_SUBSET:-}" ]; then
  n=$VB_BUNDLE_SUBSET
  idx_head "$fm/train-images-idx3-ubyte.gz" "$out/fashion-mnist/train-images-idx3-ubyte.gz" 16 784 "$n"
  idx_head "$fm/train-labels-idx1-ubyte.gz" "$out/fashion-mnist/train-labels-idx1-ubyte.gz" 8 1 "$n"
  idx_head "$fm/t10k-images-idx3-ubyte.gz" "$out/fashion-mnist/t10k-images-idx3-ubyte.gz" 16 784 $((n / 4))
  idx_head "$fm/t10k-labels-idx1-ubyte.gz" "$out/fashion-mnist/t10k-labels-idx1-ubyte.gz" 8 1 $((n / 4))
elif [ -z "${VB_BUNDLE_NO_DATA:-}" ]; then
  cp "$fm"/*.gz "$out/fashion-mnist/"
fi
du -sh "$out"
