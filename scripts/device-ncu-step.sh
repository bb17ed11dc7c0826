. scripts/device-env.sh
VB_NO_GRAPHS=1 /usr/local/cuda/bin/ncu --metrics gpu__time_duration.sum --csv --print-units base \
  "$VB_BUNDLE/visionbench-cli" bench --device cuda --precision bf16 --model vmamba-t --img 224 \
  --batch 128 --classes 1000 --warmup 1 --steps 1 --mode train > $OUT/ncu.csv 2> $OUT/ncu.err
tail -3 $OUT/ncu.err
python3 - <<'PY'
import csv, collections, os
rows = list(csv.reader(open(os.environ['OUT'] + '/ncu.csv')))
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
