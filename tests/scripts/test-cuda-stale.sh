#!/bin/sh
# test-cuda-stale.sh SCRIPT: scripts/cuda-stale.sh in a scratch tree — a CUDA object older
# than a kernels header gets its sources touched (so the next build recompiles them), an
# up-to-date build is left alone, and a tree without CUDA objects is no error.
set -u
script=$1
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
cd "$tree" || exit 1
mkdir -p kernels/cuda kernels/cpu build/kernels/cuda/libvb-kernels-cuda.a.p
echo 1..3

# no CUDA objects at all (a build without nvcc): nothing to do
rm -rf build/kernels/cuda/libvb-kernels-cuda.a.p
touch -d '2020-01-01 00:00' kernels/cuda/a.cu
old=$(date -d '2020-01-01 00:00' +%s)
"$script" build >/dev/null 2>&1 && [ "$(stat -c %Y kernels/cuda/a.cu)" = "$old" ] \
  && echo "ok 1 no CUDA objects: nothing touched" || echo "not ok 1 no CUDA objects"

# an object newer than every header: left alone
mkdir -p build/kernels/cuda/libvb-kernels-cuda.a.p
touch -d '2020-01-01 00:00' kernels/cuda/a.cu kernels/cuda/vb-cuda-private.h kernels/cpu/vb-cpu-ops.h
touch -d '2020-01-02 00:00' build/kernels/cuda/libvb-kernels-cuda.a.p/a.cu.o
"$script" build >/dev/null
[ "$(stat -c %Y kernels/cuda/a.cu)" = "$old" ] \
  && echo "ok 2 an up-to-date build is left alone" || echo "not ok 2 an up-to-date build was touched"

# a header (here the CPU ops' one, which the kernels include too) newer than an object
touch -d '2020-01-03 00:00' kernels/cpu/vb-cpu-ops.h
"$script" build >/dev/null
[ "$(stat -c %Y kernels/cuda/a.cu)" -gt "$(date -d '2020-01-03 00:00' +%s)" ] \
  && echo "ok 3 a stale object gets its sources touched" || echo "not ok 3 a stale object was missed"
