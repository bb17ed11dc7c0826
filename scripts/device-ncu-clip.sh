# device-ncu-clip.sh: where the CLIP tower's bf16 forward spends its time, kernel by kernel
# (ncu's gpu__time_duration at its base clocks, so totals run above the bench's); one
# forward of VB_CLIP_IMG px (224) on VB_CLIP_BATCH images (64). The first forward also
# rounds the weights to bf16 (the to_bf16 rows: once per model, not per forward).
#   scripts/device-bundle.sh build, then on the device: sh scripts/device-ncu-clip.sh
. scripts/device-env.sh
img=${VB_CLIP_IMG:-224} batch=${VB_CLIP_BATCH:-64}
/usr/local/cuda/bin/ncu --metrics gpu__time_duration.sum --csv --print-units base \
  "$VB_BUNDLE/visionbench-cli" bench --device cuda --precision bf16 --model clip-vit-l14 \
  --img "$img" --batch "$batch" --mode eval --warmup 0 --steps 1 ${VB_CLIP_LLAVA:+--llava} \
  > "$OUT/ncu-clip-$img.csv" 2> "$OUT/ncu-clip-$img.err"
tail -3 "$OUT/ncu-clip-$img.err"
python3 - "$OUT/ncu-clip-$img.csv" <<'PY'
import csv, collections, sys
hdr = None
agg = collections.defaultdict(lambda: [0.0, 0])
for r in csv.reader(open(sys.argv[1])):
    if hdr is None:
        if 'Kernel Name' in r: hdr = r
        continue
    d = dict(zip(hdr, r))
    if d.get('Metric Name') != 'gpu__time_duration.sum': continue
    name = d['Kernel Name'].split('(')[0][:100]
    agg[name][0] += float(d['Metric Value'].replace(',', '')) / 1e6   # ncu groups digits
    agg[name][1] += 1
tot = sum(v[0] for v in agg.values())
print("total ms (one forward)", round(tot, 2))
for k, v in sorted(agg.items(), key=lambda kv: -kv[1][0])[:30]:
    print(f"{v[0]:8.3f} ms {v[1]:5d}x  {k}")
PY
