#!/bin/sh
# cuda-stale.sh BUILD_DIR: meson 1.0 gives nvcc no depfile, so a CUDA object is not rebuilt
# when a header it includes changes, and objects built before and after disagree on
# shared structs (a field added to VbCuda moved its error message: ops compiled earlier
# read garbage there and skipped their work). When any CUDA object is older than the
# newest header the kernels include, this touches the .cu sources so that the next build
# recompiles them all. Called by setup.sh and device-bundle.sh before they build.
build=${1:-build}
objs=$build/kernels/cuda/libvb-kernels-cuda.a.p
[ -d "$objs" ] || exit 0
newest=$(ls -t kernels/cuda/*.h kernels/cpu/*.h kernels/*.h 2>/dev/null | head -n 1)
[ -n "$newest" ] || exit 0
if [ -n "$(find "$objs" -name '*.cu.o' ! -newer "$newest" | head -n 1)" ]; then
  echo "cuda-stale: CUDA objects older than $newest: recompiling them"
  touch kernels/cuda/*.cu
fi
