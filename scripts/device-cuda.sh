#!/bin/sh
# device-cuda.sh: the CUDA backend's checks and timings on the GPU machine, in one call:
# every CUDA op against its CPU op and the whole model against the CPU backend (the
# bundled test programs), compute-sanitizer memcheck and racecheck, then VMamba-T
# throughput on the GPU (VB_SKIP_BENCH=1 leaves it out; VB_BENCH_PRECISIONS and
# VB_BENCH_SCANS narrow it) and the projectors' forward times (VB_SKIP_PROJECTORS=1 leaves
# them out), and the CLIP tower's (VB_SKIP_CLIP=1). The device image has CUDA but none of Debian's
# libraries, so the programs are built here and bundled first:
#   ninja -C build && scripts/device-bundle.sh build      then on the device:
#   sh scripts/device-cuda.sh
set -u
. scripts/device-env.sh
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
status=0
for t in "$VB_BUNDLE"/tests/test-*; do
  echo "# $(basename "$t")"
  "$t" 2>&1 | grep -Ev '^# (Start|End) of' || status=1
done
if [ -z "${VB_SKIP_SANITIZER:-}" ]; then
  san=/usr/local/cuda/bin/compute-sanitizer
  for tool in memcheck racecheck; do
    echo "# compute-sanitizer --tool $tool test-cuda-scan, test-cuda-ss2d"
    "$san" --tool "$tool" --error-exitcode 3 "$VB_BUNDLE/tests/test-cuda-scan" \
      -p /vb/cuda/selective-scan 2>&1 | tail -2 || status=1
    "$san" --tool "$tool" --error-exitcode 3 "$VB_BUNDLE/tests/test-cuda-ss2d" 2>&1 | tail -2 ||
      status=1
  done
  # every op of small models, every scan mode, d_state 2 on odd maps, and the recorded
  # graph replayed
  echo "# compute-sanitizer --tool memcheck test-vmamba-gpu (small models, every op, graphs)"
  "$san" --tool memcheck --error-exitcode 3 "$VB_BUNDLE/tests/test-vmamba-gpu" \
    -p /vb/vmamba-gpu/scan-modes -p /vb/vmamba-gpu/odd-size-d-state-2 \
    -p /vb/vmamba-gpu/graph-replay -p /vb/vmamba-gpu/bf16-storage 2>&1 | tail -2 || status=1
  # our Hopper kernels (TMA, mbarriers, wgmma): the products with their epilogues and the
  # attention, memcheck on those kernels alone. (racecheck cannot instrument them: under it
  # they stop with "Internal Sanitizer Error: failed to handle a hardware exception"; the
  # tests run them twice for the same bits instead)
  for k in gemm_kernel attention_sm90_kernel; do
    echo "# compute-sanitizer --tool memcheck --kernel-name kns=$k test-cuda-vit"
    "$san" --tool memcheck --kernel-name "kns=$k" --error-exitcode 3 \
      "$VB_BUNDLE/tests/test-cuda-vit" -p /cuda/vit/bf16/linear -p /cuda/vit/bf16/attention \
      2>&1 | tail -1 || status=1
  done
  echo "# compute-sanitizer --tool memcheck test-cuda-bf16"
  "$san" --tool memcheck --error-exitcode 3 "$VB_BUNDLE/tests/test-cuda-bf16" 2>&1 | tail -2 ||
    status=1
fi
if [ -z "${VB_SKIP_BENCH:-}" ]; then
  # protocol of BENCHMARKS.md: synthetic input resident on the device, warm-up then timed
  # steps, median; strict fp32 (the parity mode), tf32 (TF32 tensor-core products) and bf16
  # (bf16 storage of the block products' operands, fp32 accumulation; other products TF32)
  for img in 224 128 64; do
    for prec in ${VB_BENCH_PRECISIONS:-fp32 tf32 bf16}; do
      for scan in ${VB_BENCH_SCANS:-4dir 2dir}; do
        printf '%s %s %s ' "$img" "$prec" "$scan"
        "$VB_BUNDLE/visionbench-cli" bench --device cuda --precision $prec --model vmamba-t \
          --scan $scan --img $img --batch 128 --classes 1000 --warmup 3 --steps 10 --json |
          sed 's/^{"img_per_s": \([0-9.]*\).*"peak_device_bytes": \([0-9]*\).*"mode": "\([a-z]*\).*/\3 \1 (peak \2 B)/' |
          tr '\n' ' '
        echo
      done
    done
  done
fi
if [ -z "${VB_SKIP_PROJECTORS:-}" ]; then
  # the projectors' inference forward over 200 × 576 feature tokens (BENCHMARKS.md's PyTorch
  # eager figures: Linear 0.349, LowRank 0.228, MLP 1.632, Gated 1.047, LoRA 0.810 ms in bf16)
  for proj in proj-linear proj-lowrank proj-mlp proj-gated proj-lora; do
    for prec in bf16 tf32; do
      printf '%s %s ' "$proj" "$prec"
      "$VB_BUNDLE/visionbench-cli" bench --device cuda --precision $prec --model $proj \
        --batch 200 --tokens 576 --warmup 8 --steps 20 --json |
        sed 's/^{"ms": \([0-9.]*\).*"peak_device_bytes": \([0-9]*\).*/\1 ms (peak \2 B)/'
    done
  done
fi
if [ -z "${VB_SKIP_CLIP:-}" ]; then
  # the CLIP ViT-L/14 tower's forward (BENCHMARKS.md's PyTorch bf16 figures: 2382 img/s at
  # 224, batch 64; 1036 at 336, batch 32): the whole tower, then LLaVA's path (--llava)
  for shape in ${VB_CLIP_SHAPES:-224:64 336:32}; do
    img=${shape%:*} batch=${shape#*:}
    for path in "" --llava; do
      printf 'clip-vit-l14 %s batch %s bf16 %s ' "$img" "$batch" "${path:-whole}"
      "$VB_BUNDLE/visionbench-cli" bench --device cuda --precision bf16 --model clip-vit-l14 \
        --img "$img" --batch "$batch" --mode eval --warmup 8 --steps 20 $path --json |
        sed 's/^{"img_per_s": \([0-9.]*\).*"peak_device_bytes": \([0-9]*\).*/\1 img\/s (peak \2 B)/'
    done
  done
fi
exit $status
