#!/usr/bin/env bash
# Compile-checks the `cuda` feature on a machine without a GPU: candle's CUDA kernels are
# compiled to PTX by nvcc (installed from PyPI when missing) and Tandem's CUDA code is
# type-checked with everything that uses it. Nothing is linked: linking needs the NVIDIA
# driver's libcuda, which only a machine with an NVIDIA GPU has (tests/gpu/run.sh does the
# full build and run there).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/cuda-toolkit.sh
# The kernels must be compiled for some GPU generation; 90 is the H100/H200 one.
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
echo "check-cuda: cargo check --features cuda (first run compiles candle's kernels: several minutes)" >&2
CARGO_TARGET_DIR="$CARGO_TARGET_DIR-cuda" cargo check -q -p tandem-cli -p tandem-tests --features cuda --all-targets
