#!/bin/sh
# Runs a data-file validator, or skips (exit 77, which meson reports as SKIP) with the
# Debian package to install when the validator is missing.
# Usage: validate-or-skip.sh PACKAGE TOOL [ARGS...]
package=$1
tool=$2
shift 2
if ! command -v "$tool" >/dev/null 2>&1; then
  echo "SKIP: $tool not found (Debian: apt-get install $package)"
  exit 77
fi
exec "$tool" "$@"
