# device-ncu-step.sh: where one bf16 VMamba-T training step's kernel time goes, per kernel
# name (ncu's gpu__time_duration at its base clocks, ops launched one by one), for each
# image size of VB_STEP_IMGS (default 224); the step's bench figure with and without the
# CUDA graph alongside, so that kernel time and launch gaps can be told apart.
. scripts/device-env.sh
for img in ${VB_STEP_IMGS:-224}; do
  for graphs in "" 1; do
    printf 'img %s graphs %s: ' "$img" "${graphs:+off}"
    env ${graphs:+VB_NO_GRAPHS=1} "$VB_BUNDLE/visionbench-cli" bench --device cuda --precision bf16 \
      --model vmamba-t --img $img --batch 128 --classes 1000 --warmup 3 --steps 10 --json |
      sed 's/^{"img_per_s": \([0-9.]*\).*/\1 img\/s/'
  done
  VB_NO_GRAPHS=1 /usr/local/cuda/bin/ncu --metrics gpu__time_duration.sum --csv --print-units base \
    "$VB_BUNDLE/visionbench-cli" bench --device cuda --precision bf16 --model vmamba-t --img $img \
    --batch 128 --classes 1000 --warmup 1 --steps 1 --mode train > $OUT/ncu-$img.csv 2> $OUT/ncu-$img.err
  tail -3 $OUT/ncu-$img.err
  VB_CSV=$OUT/ncu-$img.csv python3 - <<'PY'
import csv, collections, os
rows = list(csv.reader(open(os.environ['VB_CSV'])))
hdr = None
agg = collections.defaultdict(lambda: [0.0, 0])
ids = set()
for r in rows:
    if hdr is None:
        if 'Kernel Name' in r: hdr = r
        continue
    d = dict(zip(hdr, r))
    if d.get('Metric Name') != 'gpu__time_duration.sum': continue
    ids.add(d['ID'])
    name = d['Kernel Name'].split('(')[0][:90]
    agg[name][0] += float(d['Metric Value'].replace(',', '')) / 1e6  # ncu groups digits
    agg[name][1] += 1
# two steps were profiled (warm-up + timed): halve
tot = sum(v[0] for v in agg.values())
print("kernels", len(ids), "total ms (2 steps)", round(tot, 2))
for k, v in sorted(agg.items(), key=lambda kv: -kv[1][0])[:45]:
    print(f"{v[0]/2:8.3f} ms/step {v[1]//2:5d}x  {k}")
PY
done
