#!/bin/sh
# device-cpu-bench.sh: the CPU throughput table of docs/benchmarks.md, measured on
# two pinned cores of an otherwise idle machine (the device host), VisionBench and
# PyTorch (tests/reference/bench_vmamba_cpu.py) under the same protocol, one after
# the other. Needs .device-bundle/ (scripts/device-bundle.sh); VB_CLI picks a bundled
# build (visionbench-cli-build-v4: AVX-512). Output: JSON lines.
set -u
cores=${VB_BENCH_CORES:-0,1}
. scripts/device-env.sh
cli() { vbcli "$cores" "$@"; }
py()  { taskset -c "$cores" python3 tests/reference/bench_vmamba_cpu.py "$@"; }
echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) cores=$cores"
python3 -c 'import torch; print("# torch", torch.__version__)'
small="--dims 24 --depths 1,1,2,1 --img 32 --batch 64 --classes 10"
small64="--dims 24 --depths 1,1,2,1 --img 64 --batch 32 --classes 10"
tiny_t="--dims 96 --depths 2,2,8,2 --img 64 --batch 16 --classes 10"
cli bench --model vmamba $small --warmup 2 --steps 10 --threads 2 --json
py $small --warmup 2 --steps 10 --threads 2
cli bench --model vmamba $small64 --warmup 2 --steps 10 --threads 2 --json
py $small64 --warmup 1 --steps 3 --threads 2
cli bench --model vmamba $tiny_t --warmup 1 --steps 5 --threads 2 --json
py $tiny_t --warmup 1 --steps 3 --threads 2 --mode eval
py $tiny_t --warmup 1 --steps 3 --threads 2 --mode train
[ -n "${VB_SKIP_DEFAULT:-}" ] && exit 0
# the README's default study, as a user runs it (dataset loading, evaluation and the
# database included), on the same two cores
t0=$(date +%s)
cli run ss2d-directions --db /tmp/vb-default.db --set data.path="$VB_BUNDLE/fashion-mnist" \
  > /tmp/vb-default.log 2>&1
echo "# default study: $(( $(date +%s) - t0 )) s wall (rc $?)"
grep -E "done|failed" /tmp/vb-default.log
cli compare --db /tmp/vb-default.db 1 2 3
