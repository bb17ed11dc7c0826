#!/bin/sh
# device-scan-study.sh: how long must the default ss2d-directions study train before
# 4-dir and 2-dir part ways? Runs training lengths side by side on the device host's
# CPU, two pinned cores per run, and prints each run's final line and compare table.
# Arguments: "BATCH TRAIN_LIMIT" pairs. Used to size data/presets/ss2d-directions.json; see docs/benchmarks.md.
set -u
. scripts/device-env.sh
out=${OUT:-/tmp}/scan-study && mkdir -p "$out"
fm="--set data.path=$VB_BUNDLE/fashion-mnist --set data.val_limit=2000"
i=0
[ $# -gt 0 ] || set -- "32 12000" "64 24000" "32 24000"
for spec in "$@"; do
  set -- $spec
  for scan in 4dir 2dir; do
    c="$((2 * i)),$((2 * i + 1))"
    vbcli "$c" run ss2d-directions --db "$out/b$1-n$2-$scan.db" $fm --set model.scan=$scan \
      --set train.batch_size=$1 --set data.train_limit=$2 > "$out/b$1-n$2-$scan.log" 2>&1 &
    i=$((i + 1))
  done
done
wait
python3 - "$out" <<'PY'
import glob, sqlite3, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.db")):
    for row in sqlite3.connect(f).execute(
            "SELECT epoch, train_loss, val_loss, val_top1, val_top5, img_per_s_train"
            " FROM epoch_metrics ORDER BY epoch"):
        print(f.rsplit("/", 1)[1], "epoch %d train %.6f val %.8f top1 %.2f top5 %.2f %.0f img/s" % row)
PY
