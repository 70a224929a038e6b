#!/usr/bin/env bash
# Sets everything up (system packages, UI, app, the default model pair) and starts the
# Tandem desktop app. Without a display it says so and offers the terminal chat.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "start: no display to open a window on; for a chat in this terminal run:" >&2
  echo "  $CARGO_TARGET_DIR/release/tandem chat" >&2
  exit 1
fi
exec "$CARGO_TARGET_DIR/release/tandem-app" "$@"
