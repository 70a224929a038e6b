#!/usr/bin/env bash
# Installs what Tandem needs beyond Rust, Python and Node (the desktop app's system
# libraries from Debian, the UI's npm packages), builds the UI, the app and the `tandem`
# command, and fetches models.
#   scripts/setup.sh [MODEL_ID ...]   (default: the default pair)
# Build outputs and models live in caches outside the clone so repeated runs are incremental:
#   CARGO_TARGET_DIR  (default ~/.cache/tandem/target)
#   TANDEM_MODELS_DIR (default ~/.cache/tandem/models)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

need_apt=()
command -v cc >/dev/null || need_apt+=(build-essential)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
# The desktop app (Tauri 2 on WebKitGTK), and what its end-to-end test runs it under.
pkg-config --exists webkit2gtk-4.1 2>/dev/null || need_apt+=(libwebkit2gtk-4.1-dev libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev)
command -v Xvfb >/dev/null || need_apt+=(xvfb)
command -v WebKitWebDriver >/dev/null || need_apt+=(webkit2gtk-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

echo "setup: building the UI"
(cd ui && { [ -d node_modules ] && npm ls >/dev/null 2>&1 || npm ci --no-audit --no-fund --loglevel=error; } && npm run -s build)

# The test script builds with the dev profile (optimised dependencies, debug assertions
# on) so that the tests and the fetching binary share one build.
profile="${TANDEM_PROFILE:-release}"
bin_dir="$CARGO_TARGET_DIR/$([ "$profile" = dev ] && echo debug || echo "$profile")"
echo "setup: building the tandem command and the desktop app ($profile)"
cargo build --profile "$profile" -q -p tandem-cli -p tandem-app

models=("$@")
[ ${#models[@]} -gt 0 ] || models=(qwen2.5-coder-0.5b-instruct qwen2.5-coder-1.5b-instruct)
for id in "${models[@]}"; do
  "$bin_dir/tandem" models fetch "$id"
done
