# device-env.sh: sourced on the device machine; unpacks .device-bundle/ (see
# device-bundle.sh) and defines `vbcli` running the bundled CLI on pinned cores.
# VB_BUNDLE_OUT names another bundle folder (device-bundle.sh honours it too)
VB_BUNDLE=$PWD/${VB_BUNDLE_OUT:-.device-bundle}
for f in "$VB_BUNDLE"/visionbench-cli*.gz "$VB_BUNDLE"/tests/*.gz "$VB_BUNDLE"/lib/*.gz; do
  [ -f "$f" ] && gunzip "$f"
done
chmod +x "$VB_BUNDLE"/visionbench-cli* "$VB_BUNDLE"/tests/* 2>/dev/null
# VB_CLI picks another bundled build (device-bundle.sh EXTRA_BUILD=... adds one)
# CUDA's libraries come from the device image
export LD_LIBRARY_PATH=$VB_BUNDLE/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
vbcli() { cores=$1; shift; taskset -c "$cores" "$VB_BUNDLE/${VB_CLI:-visionbench-cli}" "$@"; }
export VISIONBENCH_PRESETS=$PWD/data/presets
