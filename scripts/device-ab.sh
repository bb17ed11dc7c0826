# device-ab.sh: an A/B of one environment switch on the GPU machine, in one call: the
# bundled test programs of VB_AB_TESTS, then bf16 VMamba-T training and evaluation
# (batch 128, 3 warm-up and 10 timed steps, median) at each size of VB_AB_IMGS, without
# and with VB_AB_VAR=1, alternating, twice. E.g.
#   VB_AB_TESTS="test-cuda-ops" VB_AB_IMGS="64 128" VB_AB_VAR=VB_PARAM_SUMS_AT_ONCE \
#     sh scripts/device-ab.sh
# VB_AB_CLI=NAME compares the bundled CLI with another bundled one instead (device-bundle.sh
# build OTHER_BUILD bundles OTHER_BUILD's as visionbench-cli-OTHER_BUILD)
. scripts/device-env.sh
for t in $VB_AB_TESTS; do
  echo "# $t"; "$VB_BUNDLE/tests/$t" > /tmp/ab-test.log 2>&1; echo "rc $?"
  grep -Ev '^# (Start|End) of|^ok' /tmp/ab-test.log | tail -4; grep -c "^ok" /tmp/ab-test.log
done
for rep in 1 2; do
for img in $VB_AB_IMGS; do
  for ab in "" 1; do
    cli=visionbench-cli
    if [ -n "${VB_AB_CLI:-}" ]; then
      [ -n "$ab" ] && cli=$VB_AB_CLI
      printf '%s %s ' $img $cli
    else
      printf '%s %s=%s ' $img $VB_AB_VAR "$ab"
    fi
    env ${ab:+${VB_AB_VAR:-VB_AB_NONE}=1} "$VB_BUNDLE/$cli" bench --device cuda --precision bf16 --model vmamba-t \
      --img $img --batch 128 --classes 1000 --warmup 3 --steps 10 --json | sed 's/^{"img_per_s": \([0-9.]*\).*"peak_device_bytes": \([0-9]*\).*/\1 (peak \2)/' | tr '\n' ' '; echo
  done
done
done
