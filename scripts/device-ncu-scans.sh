#!/bin/sh
# device-ncu-scans.sh: the SS2D scans of one VMamba-T training step at 224 (bf16 storage),
# per kernel, from ncu's CSV (nanoseconds, parsed in Python: ncu's text output groups
# digits with commas, which awk reads as the first group only), at ncu's locked base
# clocks and at the GPU's own (boost) clocks. A warm-up and a timed step are profiled and
# halved (VB_NCU_CLOCKS="base" measures at one of them). Bundle first: VB_BUNDLE_TESTS=none VB_BUNDLE_NO_DATA=1 scripts/device-bundle.sh build
. scripts/device-env.sh
for cc in ${VB_NCU_CLOCKS:-base none}; do
  VB_NO_GRAPHS=1 /usr/local/cuda/bin/ncu --clock-control $cc --kernel-name regex:scan_ --csv \
    --print-units base --metrics gpu__time_duration.sum "$VB_BUNDLE/${VB_CLI:-visionbench-cli}" bench \
    --device cuda --precision ${VB_PRECISION:-bf16} --model vmamba-t --img 224 --batch 128 \
    --classes 1000 --warmup 1 --steps 1 --mode train > /tmp/scans-$cc.csv 2>/dev/null
  python3 - /tmp/scans-$cc.csv $cc <<'PY'
import csv, sys, collections
rows = list(csv.reader(open(sys.argv[1])))
hdr = next(i for i, r in enumerate(rows) if 'Kernel Name' in r)
h = rows[hdr]
agg = collections.defaultdict(float)
grids = collections.defaultdict(lambda: [0.0, 0])
for r in rows[hdr + 1:]:
    d = dict(zip(h, r))
    if d.get('Metric Name') == 'gpu__time_duration.sum':
        assert d.get('Metric Unit') in ('ns', 'nsecond'), d.get('Metric Unit')
        name = d['Kernel Name'].split('(')[0].replace('void ', '')
        ms = float(d['Metric Value'].replace(',', '')) / 2e6
        agg[name.split('<')[0]] += ms
        g = grids[(name, d.get('Grid Size', '?'), d.get('Block Size', '?'))]
        g[0] += ms
        g[1] += 1
print(f"clocks {sys.argv[2]}: " + ", ".join(f"{k} {v:.3f} ms" for k, v in sorted(agg.items())) + f"; all {sum(agg.values()):.3f} ms a step")
# per stage: launches of one kernel with one grid (two steps profiled: counts halved)
for (name, grid, block), (ms, n) in sorted(grids.items(), key=lambda kv: -kv[1][0]):
    print(f"  {ms:7.3f} ms  {n // 2:3d}x  {ms / max(n // 2, 1) * 1000:7.1f} us  grid {grid} block {block}  {name}")
PY
done
