#!/usr/bin/env bash
# The CLI as a user meets it: exit codes (0 ok, 1 failure, 2 usage), one-line reasons,
# and hostile or broken files answered with a message that names the file. Speaks TAP.
set -u
cli="$1"
data="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0

check () {  # check NAME EXPECTED_STATUS PATTERN -- COMMAND...
  local name="$1" want="$2" pattern="$3"
  shift 4
  local out status
  out=$("$@" 2>&1)
  status=$?
  n=$((n + 1))
  if [ "$status" -eq "$want" ] && printf '%s' "$out" | grep -qE -- "$pattern"; then
    echo "ok $n - $name"
  else
    echo "not ok $n - $name (status $status, want $want; output: $(printf '%s' "$out" | tr '\n' ' ' | head -c 300))"
    fails=$((fails + 1))
  fi
}

flat () {  # flat COMMAND...: its output on one line, then "(N lines)"; its exit status
  local out status
  out=$("$@" 2>&1)
  status=$?
  printf '%s (%d lines)\n' "$(printf '%s' "$out" | tr '\n' ' ')" "$(printf '%s\n' "$out" | wc -l)"
  return $status
}

echo "1..44"
check "presets lists the three experiments" 0 "ss2d-directions.*3 runs" -- "$cli" presets
check "info --json gives the published VMamba-T counts" 0 '"params": 30249064, "macs": 4905609984' -- \
  "$cli" info --model vmamba-t --img 224 --json
check "info gives the activation memory in fp32 and in bf16 storage" 0 \
  'Activation memory  144.0 MiB per image .*, 96.7 MiB in bf16 storage' -- \
  "$cli" info --model vmamba-t --img 224
check "info --json gives the CLIP ViT-L/14 tower's count" 0 '"params": 303179776, "macs": 81011982336' -- \
  "$cli" info --model clip-vit-l14 --json
check "info gives the CLIP tower's working memory in fp32 and in bf16 storage" 0 \
  'Working memory     7.6 MiB per image .*, 11.1 MiB in bf16 storage' -- \
  "$cli" info --model clip-vit-l14
check "info --json gives each projector's count (LoRA r 8, alpha 16)" 0 '"model": "proj-lora", "params": 1065984, "trainable": 16384' -- \
  "$cli" info --model proj-lora --json
check "bench --precision tf32 without the GPU is a usage error" 2 "tf32 needs --device cuda" -- \
  "$cli" bench --precision tf32 --model vmamba --dims 8 --depths 1,1 --img 16 --steps 1
check "bench --precision bf16 without the GPU is a usage error" 2 "bf16 needs --device cuda" -- \
  "$cli" bench --precision bf16 --model vmamba --dims 8 --depths 1,1 --img 16 --steps 1
check "bench --precision fp16 is a usage error" 2 "must be fp32, tf32 or bf16" -- \
  "$cli" bench --precision fp16 --model vmamba --dims 8 --depths 1,1 --img 16 --steps 1
check "bench --json on the CPU gives no device peak and names its product" 0 '"peak_device_bytes": 0, .*"matmul": ' -- \
  "$cli" bench --model vmamba --dims 8 --depths 1,1 --img 16 --steps 1 --mode eval --json
check "bench --model clip-vit-l14 --precision bf16 without the GPU is a usage error" 2 "bf16 needs --device cuda" -- \
  "$cli" bench --model clip-vit-l14 --precision bf16 --batch 1 --steps 1
check "bench --model proj-lora times the merged LoRA and says how" 0 '"model": "proj-lora", "mode": "inference forward, LoRA merged", "inputs": 2, "tokens_per_input": 8' -- \
  "$cli" bench --model proj-lora --batch 2 --tokens 8 --steps 1 --json
check "bench --model proj-gated --precision bf16 without the GPU is a usage error" 2 "bf16 needs --device cuda" -- \
  "$cli" bench --model proj-gated --precision bf16 --batch 2 --tokens 8 --steps 1
check "bench --model clip-vit-l14 is eval only" 2 "frozen tower" -- \
  "$cli" bench --model clip-vit-l14 --mode train --batch 1 --steps 1
check "bench --model clip-vit-l14 comes at 224 or 336" 2 "224 or 336" -- \
  "$cli" bench --model clip-vit-l14 --img 300 --batch 1 --steps 1
check "an unknown projector is a usage error" 2 'unknown projector "proj-nope"' -- \
  "$cli" info --model proj-nope
check "unknown command is a usage error" 2 "unknown command" -- "$cli" frobnicate
check "unknown preset is a usage error" 2 "no preset named" -- "$cli" run no-such-preset --db "$tmp/r.db"
check "unknown --set field is a usage error" 2 "unknown field" -- \
  "$cli" run ss2d-directions --set model.nonsense=1 --db "$tmp/r.db"
check "an invalid scan mode is a usage error" 2 "model.scan" -- \
  "$cli" run ss2d-directions --set model.scan=7 --db "$tmp/r.db"
check "the projector study without its CIFAR-10 folder is a usage error" 2 "data.path=DIR" -- \
  "$cli" run projector-study --db "$tmp/r.db"
check "predict refuses a hostile pickle, naming file and global" 1 "hostile-os-system.pth.*(os|posix).*system|system.*hostile-os-system.pth" -- \
  "$cli" predict --weights "$data/io/hostile-os-system.pth" --scan 4dir --image "$data/io/valid.safetensors" --json
check "predict reports a truncated checkpoint by name" 1 "truncated.pth" -- \
  "$cli" predict --weights "$data/io/truncated.pth" --scan 4dir --image "$data/io/valid.safetensors"
check "predict needs --scan (it cannot be inferred)" 2 "predict needs" -- \
  "$cli" predict --weights "$data/vmamba/tiny-4dir-official.pth" --image x.png
check "a corrupt database is named" 1 "$tmp/bad.db" -- \
  bash -c "head -c 4096 /dev/urandom > '$tmp/bad.db'; '$cli' runs --db '$tmp/bad.db'"
# predict on a real checkpoint and a real image: logits for 10 classes, top-5 indices
/usr/bin/env python3 - "$tmp/img.ppm" <<'PY' 2>/dev/null || printf 'P6\n24 24\n255\n%s' "$(head -c 1728 /dev/zero | tr '\0' 'A')" > "$tmp/img.ppm"
import sys
open(sys.argv[1], "wb").write(b"P6\n24 24\n255\n" + bytes((i * 7) % 256 for i in range(24 * 24 * 3)))
PY
check "predict prints logits and top-5 as JSON" 0 '^\{"logits": \[[^]]+\], "top5": \[[0-9]+, [0-9]+, [0-9]+, [0-9]+, [0-9]+\]\}$' -- \
  "$cli" predict --weights "$data/vmamba/tiny-4dir-official.pth" --scan 4dir --image "$tmp/img.ppm" --size 24 --json

# resume: a run stopped by Ctrl-C after its first epoch continues from its checkpoint.
# Refusals (no such run, a run already done) exit 2: nothing ran, the request was wrong.
fm=/usr/share/datasets/fashion-mnist
if [ -f "$fm/train-images-idx3-ubyte.gz" ]; then
  # the first 512 + 128 images as small IDX files: loading all 70000 would dominate
  sub="$tmp/fashion-mnist"
  mkdir -p "$sub"
  idx_head () {  # idx_head SRC.gz HEADER_BYTES ITEM_BYTES N HEADER...: a short IDX file on stdout
    local src="$1" skip="$2" item="$3" count="$4"
    shift 4
    printf "$@"
    gzip -dc "$src" | tail -c +$((skip + 1)) | head -c $((item * count))
  }
  idx_head "$fm/train-images-idx3-ubyte.gz" 16 784 512 '\0\0\10\3\0\0\2\0\0\0\0\34\0\0\0\34' > "$sub/train-images-idx3-ubyte"
  idx_head "$fm/train-labels-idx1-ubyte.gz" 8 1 512 '\0\0\10\1\0\0\2\0' > "$sub/train-labels-idx1-ubyte"
  idx_head "$fm/t10k-images-idx3-ubyte.gz" 16 784 128 '\0\0\10\3\0\0\0\200\0\0\0\34\0\0\0\34' > "$sub/t10k-images-idx3-ubyte"
  idx_head "$fm/t10k-labels-idx1-ubyte.gz" 8 1 128 '\0\0\10\1\0\0\0\200' > "$sub/t10k-labels-idx1-ubyte"
  # ten short epochs, so Ctrl-C lands well before the end
  tiny=(--set model.scan=4dir --set model.dims=8 --set 'model.depths=[1, 1]' --set data.img_size=16
        --set "data.path=$sub" --set data.train_limit=64 --set data.val_limit=32
        --set train.batch_size=8 --set train.eval_batch_size=32 --set train.epochs=10
        --db "$tmp/resume.db")
  "$cli" run ss2d-directions "${tiny[@]}" > "$tmp/interrupted.out" 2>&1 &
  pid=$!
  for _ in $(seq 1200); do  # up to 60 s for the first checkpoint
    [ -f "$tmp/checkpoints/run-1/last.safetensors" ] || ! kill -0 "$pid" 2>/dev/null && break
    sleep 0.05
  done
  kill -INT "$pid" 2>/dev/null
  wait "$pid"
  interrupted_status=$?
  check "Ctrl-C after the first epoch cancels the run (exit 1)" 1 "run 1 .*: cancelled" -- \
    bash -c "cat '$tmp/interrupted.out'; exit $interrupted_status"
  check "resume finishes the cancelled run from its checkpoint" 0 "run 1 .*: done — top-1" -- \
    "$cli" resume 1 --db "$tmp/resume.db"
  check "the resumed run is done with all ten epochs" 0 "status +done.* 10 +[0-9]+\.[0-9]{4} " -- \
    flat "$cli" show 1 --db "$tmp/resume.db"
  check "resume of a done run is refused in one line (exit 2)" 2 "run 1 .*already done.*\(1 lines\)$" -- \
    flat "$cli" resume 1 --db "$tmp/resume.db"
  # --device cuda: on the GPU where one is usable; elsewhere a note, and the CPU
  dev=("${tiny[@]}")
  dev[${#dev[@]}-1]="$tmp/device.db"
  "$cli" run ss2d-directions "${dev[@]}" --set train.epochs=1 --device cuda > "$tmp/device.out" 2>&1
  device_status=$?
  if grep -q "^note: device cuda" "$tmp/device.out"; then where=cpu; else where=cuda; fi
  check "--device cuda runs there, or says why not and runs on the CPU" 0 "run 1 .*: done" -- \
    bash -c "cat '$tmp/device.out'; exit $device_status"
  check "the run records the device it ran on ($where)" 0 "device +$where " -- \
    "$cli" show 1 --db "$tmp/device.db"
  # a tf32 run: on the GPU its card says TF32; without one, strict fp32 on the CPU, said
  dev[${#dev[@]}-1]="$tmp/device-tf32.db"
  if [ "$where" = cpu ]; then want="note: device cuda.*the runs use the CPU in strict fp32"
  else want="run 1 .*: done"; fi
  check "a tf32 run uses TF32 products on the GPU, or strict fp32 on the CPU ($where)" 0 \
    "$want" -- flat "$cli" run ss2d-directions "${dev[@]}" --set train.epochs=1 --device cuda \
    --set train.precision=tf32
  # --gpus: data parallel through NCCL on the GPU; without one, the CPU, said, one device
  dev[${#dev[@]}-1]="$tmp/device-gpus.db"
  if [ "$where" = cpu ]; then want="note: device cuda.*the runs use the CPU, not data parallel.*run 1 .*: done"
  else want="run 1 .*: done"; fi
  check "--gpus 1 trains through NCCL on the GPU, or on the CPU with a note ($where)" 0 \
    "$want" -- flat "$cli" run ss2d-directions "${dev[@]}" --set train.epochs=1 --gpus 1
else
  for what in "Ctrl-C cancels" "resume finishes" "resumed run is done" "resume of a done run" \
              "--device cuda runs" "the run records the device" "a tf32 run" "--gpus 1 trains"; do
    n=$((n + 1))
    echo "ok $n - $what # SKIP Debian's dataset-fashion-mnist is not installed"
  done
fi
check "an unknown device is a usage error" 2 'device "tpu": use cpu or cuda' -- \
  "$cli" run ss2d-directions --device tpu --db "$tmp/tpu.db"
# train.precision: TF32 products and bf16 storage are GPU modes, refused for a CPU run; an unknown
# name is refused
check "a CPU run refuses train.precision tf32" 2 "train.precision tf32 needs device cuda" -- \
  "$cli" run ss2d-directions --set train.precision=tf32 --db "$tmp/prec.db"
check "an unknown train.precision is refused" 2 'train.precision "fp16": use fp32' -- \
  "$cli" run ss2d-directions --set train.precision=fp16 --db "$tmp/prec.db"
# --gpus: data parallel on GPUs only, the global batch split evenly, VMamba only
check "--gpus with --device cpu is refused" 2 "train.gpus 2 needs device cuda" -- \
  "$cli" run ss2d-directions --gpus 2 --device cpu --db "$tmp/gpus.db"
check "--gpus that does not divide the batch is refused" 2 "batch_size 16 does not split over train.gpus 3" -- \
  "$cli" run ss2d-directions --gpus 3 --db "$tmp/gpus.db"
check "bench --gpus with --device cpu is a usage error" 2 "--gpus needs --device cuda" -- \
  "$cli" bench --gpus 2 --device cpu --model vmamba --dims 8 --depths 1,1 --img 16 --steps 1
check "a malformed launcher rank is named" 1 'VB_RANK="x" is not a whole number' -- \
  env VB_RANK=x VB_WORLD_SIZE=2 "$cli" bench --gpus 1 --model vmamba --dims 8 --depths 1,1 --img 16 --steps 1
check "resume of an unknown run is a usage error" 2 "has no run 99" -- \
  "$cli" resume 99 --db "$tmp/resume.db"
# clip-profile with the small encoder its description offers: well under a second
check "clip-profile runs both sizes and compares them stage by stage" 0 \
  "224 px .*Stage +ms +% of total +MACs \(G\) +GMAC/s.*proj-lora.*336 px .*Stacked bar.* 336 px │" -- \
  flat "$cli" run clip-profile --set model.clip_layers=3 --set model.clip_width=64 \
  --set model.clip_heads=2 --db "$tmp/profile.db"
check "clip-profile refuses an unknown profile.layers" 2 'profile.layers "half"' -- \
  "$cli" run clip-profile --set profile.layers=half --db "$tmp/profile.db"
[ "$fails" -eq 0 ]
