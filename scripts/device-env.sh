# device-env.sh: sourced on the device machine; unpacks .device-bundle/ (see
# device-bundle.sh) and defines `vbcli` running the bundled CLI on pinned cores.
[ -f .device-bundle/lib/libopenblas.so.0.gz ] && gunzip .device-bundle/lib/libopenblas.so.0.gz
VB_BUNDLE=$PWD/.device-bundle
# VB_CLI picks another bundled build (device-bundle.sh EXTRA_BUILD=... adds one)
vbcli() { cores=$1; shift; LD_LIBRARY_PATH=$VB_BUNDLE/lib taskset -c "$cores" "$VB_BUNDLE/${VB_CLI:-visionbench-cli}" "$@"; }
export VISIONBENCH_PRESETS=$PWD/data/presets
