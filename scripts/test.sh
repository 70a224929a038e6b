#!/usr/bin/env bash
# Runs every test: unit, property and real-model tests across the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
TANDEM_PROFILE=dev scripts/setup.sh qwen2.5-coder-0.5b-instruct qwen2.5-coder-1.5b-instruct smollm2-135m-instruct
source scripts/env.sh
# One test at a time: the real-model tests each use both cores, and running them side
# by side only makes every one of them slower.
cargo test --workspace --no-fail-fast -- --test-threads=1
