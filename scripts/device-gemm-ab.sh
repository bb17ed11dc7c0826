#!/bin/sh
# device-gemm-ab.sh: the forward product A/B on two pinned cores of the device host:
# the own thin-product kernel (AVX-512 build and AVX2 build) against OpenBLAS
# (VB_GEMM=openblas), same binary, same cores, one after the other; then PyTorch's eval
# on the same cores. Needs .device-bundle/ made by
#   scripts/device-bundle.sh build build-v4     (build-v4: meson -Dcpu_isa=x86-64-v4)
set -u
cores=${VB_BENCH_CORES:-0,1}
. scripts/device-env.sh
echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) cores=$cores"
vt="--dims 96 --depths 2,2,8,2 --img 64 --batch 16 --classes 10"
small="--dims 24 --depths 1,1,2,1 --img 32 --batch 64 --classes 10"
small64="--dims 24 --depths 1,1,2,1 --img 64 --batch 32 --classes 10"
for model in "$vt" "$small" "$small64"; do
  for variant in "visionbench-cli-build-v4 own" "visionbench-cli-build-v4 openblas" \
                 "visionbench-cli own"; do
    set -- $variant
    echo "# $1 VB_GEMM=$2: $model"
    VB_CLI=$1 VB_GEMM=$2 vbcli "$cores" bench --model vmamba $model --warmup 2 --steps 7 \
      --threads 2 --json
  done
done
taskset -c "$cores" python3 tests/reference/bench_vmamba_cpu.py $vt --warmup 1 --steps 3 \
  --threads 2 --mode eval
