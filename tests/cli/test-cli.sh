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

echo "1..11"
check "presets lists the three experiments" 0 "ss2d-directions.*3 runs" -- "$cli" presets
check "info --json gives the published VMamba-T counts" 0 '"params": 30249064, "macs": 4905609984' -- \
  "$cli" info --model vmamba-t --img 224 --json
check "unknown command is a usage error" 2 "unknown command" -- "$cli" frobnicate
check "unknown preset is a usage error" 2 "no preset named" -- "$cli" run no-such-preset --db "$tmp/r.db"
check "unknown --set field is a usage error" 2 "unknown field" -- \
  "$cli" run ss2d-directions --set model.nonsense=1 --db "$tmp/r.db"
check "an invalid scan mode is a usage error" 2 "model.scan" -- \
  "$cli" run ss2d-directions --set model.scan=7 --db "$tmp/r.db"
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
[ "$fails" -eq 0 ]
