#!/usr/bin/env bash
# Sets everything up and starts Tandem on the default model pair.
# Until the desktop app lands this is an interactive chat in the terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
exec "$CARGO_TARGET_DIR/release/tandem" chat "$@"
