#!/bin/sh
# device-ncu-kernels.sh: why a kernel is slow — ncu's speed-of-light, occupancy, launch and
# warp-state sections for the kernels of a VMamba-T training step at 224 (bf16 storage;
# VB_NCU_BENCH="--model clip-vit-l14 --img 224 --batch 64 --mode eval": other bench
# arguments) whose names match VB_NCU_KERNELS (a regular expression), the first VB_NCU_COUNT launches
# of each (after skipping VB_NCU_SKIP of them). The report goes to $OUT/ncu-kernels.txt, a
# digest to stdout. VB_NCU_STALLS=1 adds each stall reason's cycles per issued instruction.
# Bundle first: VB_BUNDLE_TESTS=none VB_BUNDLE_NO_DATA=1 scripts/device-bundle.sh build
. scripts/device-env.sh
VB_NO_GRAPHS=1 /usr/local/cuda/bin/ncu --kernel-name "regex:${VB_NCU_KERNELS:-dw_|scan_backward}" \
  --launch-skip "${VB_NCU_SKIP:-0}" --launch-count "${VB_NCU_COUNT:-6}" \
  --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats \
  --section MemoryWorkloadAnalysis --section SchedulerStats --section InstructionStats \
  ${VB_NCU_STALLS:+--metrics "regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio"} \
  "$VB_BUNDLE/${VB_CLI:-visionbench-cli}" bench --device cuda --precision bf16 \
  ${VB_NCU_BENCH:---model vmamba-t --img 224 --batch 128 --classes 1000 --mode train} \
  --warmup 1 --steps 1 >> "$OUT/ncu-kernels.txt" 2>&1
grep -E "^  [a-z_<].*\(|stalled_.* [0-9.]*[1-9]|Duration|DRAM Throughput|Memory Throughput|Achieved Occupancy|Registers Per|Theoretical Occupancy|Stall|Warp Cycles Per Issued|L1/TEX Hit|L2 Hit|Block Limit Reg|Issue Slots|Executed Ipc|Eligible Warps|Active Warps Per|Executed Instructions  " \
  "$OUT/ncu-kernels.txt" | head -150
