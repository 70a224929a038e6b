#!/usr/bin/env bash
# The end-to-end test of the desktop app: starts Xvfb and tauri-driver, runs e2e.py
# against the built app with a fresh data folder, and stops them again.
#   tests/e2e/run.sh APP_BINARY TANDEM_BINARY
# Screenshots: test-output/e2e/ (in the repository).
set -euo pipefail
cd "$(dirname "$0")/../.."
app="$(realpath "$1")"; tandem="$(realpath "$2")"
shots="$PWD/test-output/e2e"
rm -rf "$shots"; mkdir -p "$shots"
data="$(mktemp -d)"
# A display number nobody uses.
n=90; while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do n=$((n + 1)); done
display=":$n"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$data"; }
trap cleanup EXIT

# -noreset: the server stays as it is when the first app closes, for the restarted one.
Xvfb "$display" -screen 0 1280x860x24 -nolisten tcp -noreset >"$shots/xvfb.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do [ -S "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
[ -S "/tmp/.X11-unix/X$n" ] || { echo "e2e: Xvfb did not start on $display" >&2; cat "$shots/xvfb.log" >&2; exit 1; }
DISPLAY="$display" TANDEM_DATA_DIR="$data" tauri-driver --port 4444 --native-port 4445 >"$shots/driver.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/4444) 2>/dev/null && break
  sleep 0.1
done
APP="$app" TANDEM="$tandem" SHOTS="$shots" TANDEM_DATA_DIR="$data" python3 tests/e2e/e2e.py
