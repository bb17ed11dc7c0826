#!/bin/sh
# Runs a widget test program under a private X server and a private session bus, as GTK's
# CI does. Without xvfb-run the test is skipped (exit 77, which meson reports as SKIP).
if ! command -v xvfb-run >/dev/null 2>&1; then
  echo "SKIP: xvfb-run not found: widget tests need an X server (Debian: apt-get install xvfb xauth)"
  exit 77
fi
if command -v dbus-run-session >/dev/null 2>&1; then
  exec dbus-run-session -- xvfb-run -a -s "-screen 0 1600x1200x24 -noreset" "$@"
fi
exec xvfb-run -a -s "-screen 0 1600x1200x24 -noreset" "$@"
