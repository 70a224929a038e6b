#!/usr/bin/env bash
# Runs every test: unit, property and real-model tests across the workspace, the UI's
# component tests, and the desktop app end to end under Xvfb (screenshots in test-output/e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
TANDEM_PROFILE=dev scripts/setup.sh qwen2.5-coder-0.5b-instruct qwen2.5-coder-1.5b-instruct smollm2-135m-instruct
source scripts/env.sh
# One test at a time: the real-model tests each use both cores, and running them side
# by side only makes every one of them slower.
cargo test --workspace --no-fail-fast -- --test-threads=1
# The GPU backend cannot run here, but it must keep compiling: nvcc comes from PyPI.
scripts/check-cuda.sh
(cd ui && npm test --silent)
# tauri-driver bridges WebDriver to the app's WebKitWebDriver; kept in cargo's bin folder.
command -v tauri-driver >/dev/null || cargo install tauri-driver --version '^2' --locked -q
tests/e2e/run.sh "$CARGO_TARGET_DIR/debug/tandem-app" "$CARGO_TARGET_DIR/debug/tandem"
