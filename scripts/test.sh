#!/usr/bin/env bash
# The README's second command: set up, build, and run the whole test suite. Ends with a
# line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
out=$(mktemp)
meson test -C build --print-errorlogs --num-processes 2 "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
count() { awk -v k="$1" '$1 == k":" { print $2 }' "$out" | tail -n 1; }
ok=$(count Ok); expfail=$(count "Expected"); fail=$(count Fail); timeout=$(count Timeout)
skip=$(count Skipped); unexp=$(count "Unexpected")
passed=$(( ${ok:-0} ))
failed=$(( ${fail:-0} + ${timeout:-0} ))
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
rm -f "$out"
echo "${passed} passed, ${failed} failed, ${skip:-0} skipped"
exit $status
