#!/bin/sh
# device-dist.sh: data-parallel training through NCCL on a GPU machine, in one call: the
# NCCL test program (a world of one against one device, two GPUs against one), the
# scaling benchmark (VMamba-T, bf16, 1 → all GPUs at 128 images per GPU), a real training
# run on two GPUs against one, the same run as two processes launched as a cluster
# launcher would (VB_RANK, VB_WORLD_SIZE, VB_NCCL_ID_FILE), a lost rank (one process killed
# mid-run: the other must stop with a message and leave a usable checkpoint) and a failed
# rank (one GPU of a two-GPU process out of memory: the run must fail with its message).
# Build and bundle here first (the bundle needs Fashion-MNIST, a subset will do):
#   ninja -C build && VB_BUNDLE_SUBSET=5000 scripts/device-bundle.sh build
# then on the machine: sh scripts/device-dist.sh (VB_SKIP_TESTS=1, VB_SKIP_BENCH=1,
# VB_SKIP_RUNS=1 and VB_RUNS="compare lost failed", which of the runs, narrow it)
set -u
. scripts/device-env.sh
# NVLink multicast stays off (the machine's rule; the engine sets it too)
export NCCL_NVLS_ENABLE=0
# NCCL from the CUDA toolkit or, failing that, PyTorch's wheel
if ! ls /usr/local/cuda/lib64/libnccl.so.2 >/dev/null 2>&1 && [ -z "${VB_NCCL_LIBRARY:-}" ]; then
  lib=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib", "libnccl.so.2"))' 2>/dev/null)
  [ -n "$lib" ] && export VB_NCCL_LIBRARY=$lib
fi
echo "# NCCL: ${VB_NCCL_LIBRARY:-libnccl.so.2 from the loader path}"
nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader
nvidia-smi topo -m 2>/dev/null | head -4
gpus=$(nvidia-smi -L | wc -l)
status=0

if [ -z "${VB_SKIP_TESTS:-}" ]; then
  echo "# test-dist-gpu"
  "$VB_BUNDLE/tests/test-dist-gpu" 2>&1 | grep -Ev '^# (Start|End) of|GLib-GIO-DEBUG' || status=1
fi

if [ -z "${VB_SKIP_BENCH:-}" ]; then
  # BENCHMARKS.md's protocol per GPU: synthetic input resident, 3 warm-up and 10 timed
  # steps, median; --gpus N: N ranks of 128 images each, gradients averaged through NCCL
  for img in ${VB_BENCH_IMGS:-224 64}; do
    for n in 0 $(seq 1 "$gpus"); do
      printf '%s gpus=%s ' "$img" "$n"
      "$VB_BUNDLE/visionbench-cli" bench --device cuda --precision bf16 --model vmamba-t \
        --img "$img" --batch 128 --classes 1000 --warmup 3 --steps 10 --mode train \
        --gpus "$n" --json |
        sed 's/^{"img_per_s": \([0-9.]*\), "median_s": \([0-9.]*\).*"peak_device_bytes": \([0-9]*\), "gpus": \([0-9]*\), "per_gpu_img_per_s": \([0-9.]*\).*/world \1 img\/s, per GPU \5, median step \2 s, peak \3 B/'
    done
  done
fi

# wait_or_dump PID SECONDS WHAT: waits for PID to end (counted from $start); past SECONDS
# prints its threads' stacks and kills it
wait_or_dump () {
  while kill -0 "$1" 2>/dev/null && [ $(( $(date +%s) - start )) -lt "$2" ]; do sleep 1; done
  if kill -0 "$1" 2>/dev/null; then
    echo "$3: still running $2 s after the start; its threads:"
    /usr/local/cuda/bin/cuda-gdb -p "$1" -batch -ex "thread apply all bt 14" 2>&1 |
      grep -E "^#|^Thread" | head -90
    kill -9 "$1"
  fi
}

# the runs, each a function; VB_RUNS names which (default: all three)
compare_runs () {
  for n in 0 2; do
    "$VB_BUNDLE/visionbench-cli" run ss2d-directions --device cuda --gpus "$n" $common \
      --set model.scan=4dir --db "$run/g$n.db" 2>&1 | tail -4
  done
  for r in 0 1; do
    VB_RANK=$r VB_WORLD_SIZE=2 VB_LOCAL_RANK=$r VB_NCCL_ID_FILE=$run/nccl.id \
      timeout -s KILL 300 "$VB_BUNDLE/visionbench-cli" run ss2d-directions --gpus 1 $common \
      --set model.scan=4dir --db "$run/p.db" > "$run/p$r.log" 2>&1 &
  done
  wait
  tail -3 "$run/p0.log"; echo "(process 1:)"; tail -2 "$run/p1.log"
}

lost_rank () {
  echo "# a lost rank: process 1 killed mid-run"
  for r in 0 1; do
    VB_DIST_TIMEOUT_S=30 VB_RANK=$r VB_WORLD_SIZE=2 VB_LOCAL_RANK=$r VB_NCCL_ID_FILE=$run/lost.id \
      "$VB_BUNDLE/visionbench-cli" run ss2d-directions --gpus 1 $common --set model.scan=4dir \
      --set train.epochs=1000 --db "$run/lost.db" > "$run/l$r.log" 2>&1 &
    eval "pid$r=\$!"
  done
  sleep 12
  kill -9 "$pid1"
  start=$(date +%s)
  # VB_DIST_TIMEOUT_S=30: process 0 must be gone within about 40 s
  wait_or_dump "$pid0" 90 "process 0, after the kill"
  wait "$pid0"; rc=$?
  echo "process 0 exited with $rc, $(( $(date +%s) - start )) s after the kill"
  tail -3 "$run/l0.log"
  "$VB_BUNDLE/visionbench-cli" show 1 --db "$run/lost.db" 2>&1 | grep -E "status|checkpoint"
  # the checkpoint it kept resumes the run (on one GPU now; interrupted after 10 s)
  timeout -s INT 10 "$VB_BUNDLE/visionbench-cli" resume 1 --db "$run/lost.db" 2>&1 | tail -3
}

failed_rank () {
  echo "# a failed rank in one process: GPU 1 held by another program, rank 1 runs out of memory"
  python3 -c "
import torch, time
free, total = torch.cuda.mem_get_info(1)
x = torch.empty(int(free - (1 << 30)), dtype=torch.uint8, device='cuda:1')
time.sleep(75)" &
  hold=$!
  sleep 12
  start=$(date +%s)
  "$VB_BUNDLE/visionbench-cli" run ss2d-directions --gpus 2 $common \
    --set model.scan=4dir --set train.batch_size=2048 --set data.img_size=64 \
    --db "$run/oom.db" > "$run/oom.log" 2>&1 &
  pid=$!
  wait_or_dump "$pid" 45 "the run with a failing rank (the failure hung)"
  wait "$pid"
  echo "exit $?, $(( $(date +%s) - start )) s"
  tail -3 "$run/oom.log"
  "$VB_BUNDLE/visionbench-cli" show 1 --db "$run/oom.db" 2>&1 | grep -E "status|checkpoint"
  kill "$hold" 2>/dev/null
  wait "$hold" 2>/dev/null
}

if [ -z "${VB_SKIP_RUNS:-}" ] && [ "$gpus" -ge 2 ]; then
  export VISIONBENCH_DATA_DIR=$VB_BUNDLE/fashion-mnist
  run=$(mktemp -d)
  common="--set data.path=$VB_BUNDLE/fashion-mnist --set train.precision=bf16 --set train.epochs=3"
  for what in ${VB_RUNS:-compare lost failed}; do
    case $what in
      compare) compare_runs ;;
      lost) lost_rank ;;
      failed) failed_rank ;;
    esac
  done
  rm -rf "$run"
fi
exit $status
